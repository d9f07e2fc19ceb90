"""Activation kernels on NumPy arrays."""
import numpy as np


def relu(x):
    """max(x, 0), elementwise, in x's dtype."""
    return np.maximum(x, 0)


def softmax(x, axis=-1):
    """exp(x - max) / sum(exp(x - max)) along ``axis``.

    Subtracting the row maximum first keeps exp() from overflowing; it does not change the
    result because softmax(x) = softmax(x - c) for any constant c.
    """
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e
