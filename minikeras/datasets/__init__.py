"""Datasets with Keras's ``load_data()`` signature."""
from . import digits  # noqa: F401

__all__ = ["digits"]
