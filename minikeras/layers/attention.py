"""Attention layers: MultiHeadAttention, Attention."""
__all__ = []
