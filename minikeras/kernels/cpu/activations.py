"""Activation kernels on arrays: relu on NumPy arrays; the softmax family on NumPy or CuPy
arrays (the array module comes from the array)."""
import numpy as np

from ..arrays import array_module


def relu(x):
    """max(x, 0), elementwise, in x's dtype."""
    return np.maximum(x, 0)


def softmax(x, axis=-1):
    """exp(x - max) / sum(exp(x - max)) along ``axis`` (an int or a tuple of ints).

    Subtracting the maximum first keeps exp() from overflowing; it does not change the
    result because softmax(x) = softmax(x - c) for any constant c.
    """
    e = array_module(x).exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def log_softmax(x, axis=-1):
    """log(softmax(x)) = (x - max) - log(sum(exp(x - max))) along ``axis``: no exp that
    overflows, and no log of a probability rounded to zero."""
    xp = array_module(x)
    z = x - x.max(axis=axis, keepdims=True)
    return z - xp.log(xp.exp(z).sum(axis=axis, keepdims=True))
