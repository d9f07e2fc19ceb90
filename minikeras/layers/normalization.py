"""Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization."""
__all__ = []
