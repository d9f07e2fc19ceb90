"""Normalization ops under the names of ``keras.ops``: moments, batch_normalization, ..."""
__all__ = []
