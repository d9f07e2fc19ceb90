"""Activation kernels on arrays: relu on NumPy arrays; the other elementwise activations, erf
and the softmax family on NumPy or CuPy arrays (the array module comes from the array).

The elementwise activations are the formulas their ops compute, written once here so that
the CUDA table can hold a kernel under the same name: ``sigmoid(x)`` and
``sigmoid_grad(g, y)``, where ``g`` is dL/dy and the gradient returns dL/dx. A gradient that
is simplest written with the output (sigmoid, tanh) takes ``y``; the others take ``x``.
"""
import math

import numpy as np

from ..arrays import array_module
from .jit import jit

__all__ = ["relu", "relu_grad", "relu6", "relu6_grad", "hard_sigmoid", "hard_sigmoid_grad",
           "leaky_relu", "leaky_relu_grad", "sigmoid", "sigmoid_grad", "tanh", "tanh_grad",
           "erf", "gelu", "gelu_grad", "softmax", "log_softmax"]

# Python floats (never NumPy float64 scalars) so that float32 stays float32.
_SQRT_2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_CUBIC = 0.044715


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


def relu6(x):
    """min(max(x, 0), 6), elementwise."""
    return array_module(x).clip(x, 0, 6)


def relu6_grad(g, x):
    """dL/dx of y = relu6(x): g · [0 < x < 6]."""
    return g * ((x > 0) & (x < 6)).astype(g.dtype)


def hard_sigmoid(x):
    """relu6(x + 3) / 6 = clip(x/6 + 1/2, 0, 1), elementwise."""
    return array_module(x).clip(x / 6.0 + 0.5, 0, 1)


def hard_sigmoid_grad(g, x):
    """dL/dx of y = hard_sigmoid(x): g · [-3 < x < 3] / 6."""
    return g * ((x > -3) & (x < 3)).astype(g.dtype) / 6.0


def leaky_relu(x, negative_slope):
    """x where x > 0, else negative_slope · x."""
    return array_module(x).where(x > 0, x, x * negative_slope)


def leaky_relu_grad(g, x, negative_slope):
    """dL/dx of y = leaky_relu(x): g · (1 where x > 0, else negative_slope)."""
    return g * array_module(x).where(x > 0, 1.0, negative_slope).astype(g.dtype)


def sigmoid(x, out=None):
    """1 / (1 + e⁻ˣ) in four passes over one array: -x, e^(-x), 1 + e^(-x), its reciprocal.
    The array is ``out`` when given (``x`` itself for in place), else a new one.

    Where x < -88 (float32; -709 in float64) e^(-x) overflows to inf, and 1 / (1 + inf) = 0
    is the right limit, so the overflow warning is silenced rather than avoided. (The form
    that never overflows, from e^(-|x|) and a ``where``, takes nine passes and four
    temporaries: 2.2x the time on a (64, 128) block.)"""
    xp = array_module(x)
    y = xp.empty_like(x) if out is None else out     # (x of a float dtype)
    with np.errstate(over="ignore"):
        xp.negative(x, out=y)
        xp.exp(y, out=y)
        y += 1
        xp.reciprocal(y, out=y)
    return y


def sigmoid_grad(g, y):
    """dL/dx of y = sigmoid(x), from the output: g · y · (1 - y)."""
    return g * y * (1 - y)


def tanh(x):
    """tanh x, elementwise."""
    return array_module(x).tanh(x)


def tanh_grad(g, y):
    """dL/dx of y = tanh(x), from the output: g · (1 - y²)."""
    return g * (1 - y * y)


def _erf_table(limit=6.0, pieces=12, degree=12):
    """Chebyshev coefficients of erf(a)/a on ``pieces`` equal slices of [0, limit].

    NumPy has no erf, so minikeras builds one: on each slice erf(a)/a (smooth and even) is
    interpolated at ``degree + 1`` Chebyshev points from Python's ``math.erf``, once, at
    import. Evaluating the polynomials gives erf to about 2e-15 (relative) in float64.
    Beyond ``limit`` erf(a) rounds to 1 in float64.
    """
    cheb = np.polynomial.chebyshev
    width = limit / pieces
    table = np.empty((pieces, degree + 1))
    for k in range(pieces):
        centre = (k + 0.5) * width

        def f(s, centre=centre):
            a = centre + 0.5 * width * s
            return np.array([math.erf(v) / v for v in a])
        table[k] = cheb.chebinterpolate(f, degree)
    return table, width, limit


_ERF_TABLE, _ERF_WIDTH, _ERF_LIMIT = _erf_table()
_erf_coefficients = {}  # (array module, dtype) -> the table as an array of that module and dtype


def erf(x):
    """erf(x) elementwise on a float array, in x's dtype (a vectorised evaluation of the
    piecewise Chebyshev interpolant of :func:`_erf_table`, with Clenshaw's recurrence)."""
    return _erf(x, array_module(x))


def _erf(x, xp):
    # xp is given: for a 0-d array, x / √2 in gelu is a NumPy scalar, not an array
    table = _erf_coefficients.get((xp.__name__, x.dtype))
    if table is None:
        table = _erf_coefficients[xp.__name__, x.dtype] = xp.asarray(_ERF_TABLE, dtype=x.dtype)
    pieces, n = table.shape
    a = xp.abs(x)
    inside = xp.where(a < _ERF_LIMIT, a, 0)          # NaN, inf and large |x| read slice 0
    k = xp.minimum((inside / _ERF_WIDTH).astype(np.intp), pieces - 1)     # which slice
    s = (inside - (k * _ERF_WIDTH + 0.5 * _ERF_WIDTH).astype(x.dtype)) / (0.5 * _ERF_WIDTH)
    b1 = xp.zeros_like(x)
    b2 = xp.zeros_like(x)
    for j in range(n - 1, 0, -1):
        b1, b2 = table[k, j] + 2 * s * b1 - b2, b1
    ratio = table[k, 0] + s * b1 - b2                                # erf(|x|)/|x|
    return xp.where(a >= _ERF_LIMIT, xp.sign(x), x * ratio).astype(x.dtype, copy=False)


def gelu(x, approximate):
    """x·Φ(x) = x/2 · (1 + erf(x/√2)); with ``approximate``, the tanh form
    x/2 · (1 + tanh(√(2/π)·(x + 0.044715·x³)))."""
    if approximate:
        u = _SQRT_2_OVER_PI * (x + _GELU_CUBIC * (x * x * x))
        return 0.5 * x * (1 + array_module(x).tanh(u))
    return 0.5 * x * (1 + _erf(x / _SQRT_2, array_module(x)))


def gelu_grad(g, x, approximate):
    """dL/dx of y = gelu(x): g · (Φ(x) + x·φ(x)), φ(x) = e^(-x²/2)/√(2π); with
    ``approximate``, g · ((1 + t)/2 + x/2 · (1 - t²) · √(2/π)·(1 + 3·0.044715·x²)), where
    t = tanh(√(2/π)·(x + 0.044715·x³))."""
    xp = array_module(x)
    if approximate:
        t = xp.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * (x * x * x)))
        du = _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * (x * x))
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
    cdf = 0.5 * (1 + _erf(x / _SQRT_2, xp))
    pdf = _INV_SQRT_2PI * xp.exp(-0.5 * (x * x))
    return g * (cdf + x * pdf)


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
