"""Embedding and Masking."""
__all__ = []
