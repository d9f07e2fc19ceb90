"""Activation kernels on arrays: relu on NumPy arrays; the softmax family on NumPy or CuPy
arrays (the array module comes from the array)."""
import numpy as np

from ..arrays import array_module
from .jit import jit

__all__ = ["relu", "relu_grad", "softmax", "log_softmax"]


def relu(x):
    """max(x, 0), elementwise, in x's dtype (NaN stays NaN).

    ``np.maximum(x, 0)`` is the formula; on contiguous float NumPy arrays a Numba loop gives
    the same numbers in less than half the time (it skips NumPy's NaN-aware maximum).
    """
    if (type(x) is np.ndarray and x.dtype in (np.float32, np.float64)
            and x.flags.c_contiguous):
        out = np.empty_like(x)
        jit(_relu_loop)(x.reshape(-1), out.reshape(-1), x.dtype.type(0))
        return out
    return np.maximum(x, 0)


def _relu_loop(x, out, zero):
    for i in range(x.size):
        v = x[i]
        out[i] = zero if v <= zero else v    # -0 gives 0; NaN is not <= 0: it stays NaN


def _relu_grad_loop(g, x, out, zero, one):
    for i in range(g.size):
        out[i] = g[i] * (one if x[i] > zero else zero)


def relu_grad(g, x):
    """dL/dx of y = max(x, 0): g · [x > 0], elementwise, in g's dtype.

    NumPy makes the mask as a boolean array, then the product: two passes and two new
    arrays. On contiguous float NumPy arrays of one dtype this is one Numba loop that reads
    each cell once and gives the same numbers (the mask is multiplied, so an infinite g
    still gives NaN where the unit is cut, as ``g * mask`` does).
    """
    if (type(g) is np.ndarray and type(x) is np.ndarray and g.dtype == x.dtype
            and g.dtype in (np.float32, np.float64) and g.shape == x.shape
            and g.flags.c_contiguous and x.flags.c_contiguous):
        out = np.empty_like(g)
        jit(_relu_grad_loop)(g.reshape(-1), x.reshape(-1), out.reshape(-1),
                             g.dtype.type(0), g.dtype.type(1))
        return out
    return g * (x > 0)


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
