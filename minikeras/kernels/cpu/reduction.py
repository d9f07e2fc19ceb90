"""Reductions on NumPy arrays: the sum, the maximum and the minimum over axes.

Each is NumPy's own reduction, called as the ops called it before the table had these
names (so the numbers and the speed are NumPy's). They are in the table because the CUDA
table has kernels of the same names (``kernels/cuda/reduction.py``): an op calls
``backend.kernels.reduce_sum`` and runs on either device.
"""
import numpy

__all__ = ["reduce_sum", "reduce_max", "reduce_min"]


def reduce_sum(x, axis=None, keepdims=False, dtype=None):
    """Σ x over ``axis`` (None: every axis; an int or a tuple), in ``dtype`` if given."""
    return numpy.sum(x, axis=axis, keepdims=keepdims, dtype=dtype)


def reduce_max(x, axis=None, keepdims=False):
    """max x over ``axis``; a NaN anywhere in a group gives NaN."""
    return numpy.max(x, axis=axis, keepdims=keepdims)


def reduce_min(x, axis=None, keepdims=False):
    """min x over ``axis``; a NaN anywhere in a group gives NaN."""
    return numpy.min(x, axis=axis, keepdims=keepdims)
