"""Pooling under the names of ``keras.ops``: max_pool, average_pool."""
__all__ = []
