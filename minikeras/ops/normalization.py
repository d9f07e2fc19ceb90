"""Normalization ops under the names of ``keras.ops``: ``moments`` (the mean and the biased
variance over some axes), ``batch_normalization`` (normalize with given statistics),
``layer_normalization`` and ``rms_normalization`` (per sample, over some axes), plus
``standardize``, the fused normalization with the batch's own statistics that the
normalization layers (BatchNormalization in training, LayerNormalization,
GroupNormalization) are built on.

Notation, for the axes reduced: N = the number of elements reduced into one statistic,
μ = (1/N) Σ x, σ² = (1/N) Σ (x - μ)² (biased: divided by N, as Keras), and Σ below always
means the sum over those axes, broadcast back to x's shape.
"""
import numpy as np

from .. import backend
from ..autograd import Function, OpError
from ..tensor import Tensor
from .core import cast, check_axis, convert_to_tensor, expand_to_input, reshape, unbroadcast
from .math import reciprocal, sqrt, square
from .reduction import _count, _float_input
from .reduction import mean as _mean
from .reduction import var as _var

__all__ = ["moments", "batch_normalization", "layer_normalization", "rms_normalization"]


def _axes(axes, ndim, opname):
    """``axes`` (an int or a sequence, negative allowed) as a sorted tuple of axes >= 0."""
    if isinstance(axes, Tensor):
        axes = axes.numpy().tolist()
    if ndim == 0:
        raise OpError(f"ops.{opname}: needs a tensor of rank 1 or more, got a scalar.")
    return tuple(sorted(check_axis(axes, ndim, opname)))


# --------------------------------------------------------------------------- moments
class Moments(Function):
    """Two outputs: μ = (1/N) Σ x and σ² = (1/N) Σ (x - μ)² over ``axes``.

    dμ/dx_i = 1/N.   dσ²/dx_i = 2 (x_i - μ) / N (the terms through μ add up to zero,
    because Σ (x - μ) = 0). So, with g_μ and g_σ² the gradients of the two outputs,
    dL/dx = g_μ / N + g_σ² · 2 (x - μ) / N.

    Rule: dL/dx = expand(g0) / n + expand(g1) · 2 · (x - mean(x)) / n
    """
    n_outputs = 2

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        xp = backend.xp
        mu = xp.mean(x, axis=self.axes, keepdims=True)
        # The centred form, not E[x²] - μ²: it never goes negative through cancellation.
        d = x - mu
        variance = xp.mean(d * d, axis=self.axes, keepdims=True)
        if not self.keepdims:
            mu, variance = mu.squeeze(self.axes), variance.squeeze(self.axes)
        return mu, variance

    def backward(self, g_mean, g_variance):
        x = self.inputs[0]
        n = _count(x.shape, self.axes)
        gx = None
        if g_mean is not None:
            gx = expand_to_input(g_mean, x, self.axes, self.keepdims) * (1.0 / n)
        if g_variance is not None:
            centered = x - _mean(x, axis=self.axes, keepdims=True)
            term = expand_to_input(g_variance, x, self.axes, self.keepdims) * centered * (2.0 / n)
            gx = term if gx is None else gx + term
        return gx


def moments(x, axes, keepdims=False, synchronized=False):
    """The mean and the variance of ``x`` over ``axes`` (``keras.ops.moments``).

    The variance is the biased one (divided by N, not N - 1), as batch normalization uses.
    ``synchronized`` asks for statistics across all devices of a distributed run; minikeras
    computes on one device, whose statistics are already the global ones, so it changes
    nothing. Returns ``(mean, variance)``; with ``keepdims=True`` the reduced axes stay as
    size 1.
    """
    x = _float_input(x)
    return Moments(_axes(axes, x.ndim, "moments"), bool(keepdims))(x)


# --------------------------------------------------------------------------- standardize
class Standardize(Function):
    """x̂ = (x - μ) / √(σ² + ε), μ and σ² the mean and biased variance of x over ``axes``
    (the batch's own statistics): the core of batch, layer and group normalization.

    With s = 1/√(σ² + ε) and g = dL/dx̂, the chain rule through μ and σ² gives the classic
    hand-derived backward

        dL/dx = (1/N) · s · (N·g - Σ g - x̂ · Σ (g·x̂))
              = s · (g - mean(g) - x̂ · mean(g·x̂)),

    one formula instead of the ~10 nodes the composed ops would record. (The two subtracted
    terms are the gradient's paths through μ and through σ².)

    ``forward`` keeps the statistics on the node (``mean``, ``variance``, keepdims-shaped
    arrays), so BatchNormalization updates its moving averages without computing them twice.

    Rule: dL/dx = s · (g - mean(g) - z · mean(g · z)), s = 1/√(var(x) + ε), means over axes
    """

    def __init__(self, axes, epsilon):
        self.axes, self.epsilon = axes, epsilon

    def forward(self, x):
        xhat, self.mean, self.variance, self.inv_std = backend.kernels.standardize_forward(
            x, self.axes, self.epsilon)
        return xhat

    def backward(self, g):
        # s recomputed from x with ops, so that the result can be differentiated again
        axes = self.axes
        x, xhat = self.inputs[0], self.output()
        s = reciprocal(sqrt(_var(x, axis=axes, keepdims=True) + self.epsilon))
        return s * (g - _mean(g, axis=axes, keepdims=True)
                    - xhat * _mean(g * xhat, axis=axes, keepdims=True))

    def backward_arrays(self, g):
        """The same formula on arrays, with the 1/√(σ² + ε) the forward pass kept."""
        return (backend.kernels.standardize_backward(g, self.output().data, self.inv_std,
                                                     self.axes),)


def standardize(x, axes, epsilon=1e-3):
    """(x - μ) / √(σ² + ε) with the mean μ and biased variance σ² of ``x`` over ``axes``.

    Not a Keras name (``keras.ops.normalize`` is the L2 normalization, a different thing);
    the normalization layers call it. :func:`standardize_with_stats` also returns the
    statistics it used.
    """
    return standardize_with_stats(x, axes, epsilon)[0]


def standardize_with_stats(x, axes, epsilon=1e-3):
    """``(x̂, mean, variance)``: the standardized tensor and the statistics it used, as
    backend arrays with the reduced axes kept as size 1 (outside the tape)."""
    x = _float_input(x)
    fn = Standardize(_axes(axes, x.ndim, "standardize"), float(epsilon))
    y = fn(x)
    return y, fn.mean, fn.variance


# --------------------------------------------------------------------------- batch_normalization
class BatchNorm(Function):
    """y = (x - m) · s · γ + β with s = 1/√(v + ε): normalization with *given* statistics
    m and v (and optional scale γ and offset β), all broadcast against x.

    dy/dx = s·γ.   dy/dm = -s·γ.   dy/dv = (x - m)·γ·(-½)·s³ (since ds/dv = -½ (v + ε)^(-3/2)).
    dy/dβ = 1.   dy/dγ = (x - m)·s.
    The gradients of the broadcast inputs are summed back to their shapes (unbroadcast).
    Inputs: x, m, v, then β if ``has_offset``, then γ if ``has_scale``.

    Rule: dL/dx = unbroadcast(g · s · gamma, x) with s = 1/√(variance + ε); dL/dmean = unbroadcast(-g · s · gamma, mean); dL/dvariance = unbroadcast(-½ · g · s³ · gamma · (x - mean), variance); dL/dbeta = unbroadcast(g, beta); dL/dgamma = unbroadcast(g · (x - mean) · s, gamma)
    """
    public_name = "batch_normalization"

    def __init__(self, epsilon, has_offset, has_scale):
        self.epsilon, self.has_offset, self.has_scale = epsilon, has_offset, has_scale

    def forward(self, x, mean, variance, *rest):
        xp = backend.xp
        factor = 1.0 / xp.sqrt(variance + self.epsilon)
        if self.has_scale:
            factor = factor * rest[-1]
        y = (x - mean) * factor
        if self.has_offset:
            y = y + rest[0]
        return y

    def backward(self, g):
        x, m, v = self.inputs[:3]
        offset = self.inputs[3] if self.has_offset else None
        scale = self.inputs[-1] if self.has_scale else None
        need = self.needs_grad
        s = reciprocal(sqrt(v + self.epsilon))
        gs = g * s if scale is None else g * s * scale
        centered = x - m if (need[2] or (scale is not None and need[-1])) else None
        grads = [unbroadcast(gs, x) if need[0] else None,
                 unbroadcast(-gs, m) if need[1] else None,
                 unbroadcast(gs * centered * (s * s) * -0.5, v) if need[2] else None]
        if offset is not None:
            grads.append(unbroadcast(g, offset) if need[3] else None)
        if scale is not None:
            grads.append(unbroadcast(g * centered * s, scale) if need[-1] else None)
        return tuple(grads)


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """Normalize ``x`` with the given statistics (``keras.ops.batch_normalization``):
    ``(x - mean) / sqrt(variance + epsilon) * scale + offset``.

    ``mean``, ``variance``, ``offset`` and ``scale`` are vectors of length ``x.shape[axis]``
    (one value per channel), broadcast along that axis. ``offset`` and ``scale`` may be None.
    """
    x = _float_input(x)
    if x.ndim == 0:
        raise OpError("ops.batch_normalization: needs a tensor of rank 1 or more, got a scalar.")
    (axis,) = check_axis(int(axis), x.ndim, "batch_normalization")
    channels = x.shape[axis]
    broadcast = tuple(channels if i == axis else 1 for i in range(x.ndim))
    inputs = [x]
    for what, t in (("mean", mean), ("variance", variance), ("offset", offset),
                    ("scale", scale)):
        if t is None:
            continue
        t = convert_to_tensor(t)
        if t.shape != (channels,):
            raise OpError(f"ops.batch_normalization: `{what}` must be a vector of shape "
                          f"({channels},), the size of axis {axis} of x (shape {x.shape}); "
                          f"got shape {t.shape}.")
        if t.dtype != x.dtype:
            t = cast(t, x.dtype)
        inputs.append(t if axis == x.ndim - 1 else reshape(t, broadcast))
    return BatchNorm(float(epsilon), offset is not None, scale is not None)(*inputs)



# --------------------------------------------------------------------------- per-sample norms
def _along_axes(w, x, axes, what, opname):
    """A gamma/beta/scale argument as a tensor of x's dtype that broadcasts along ``axes``:
    Keras reshapes it to x's rank (sizes on ``axes``, 1 elsewhere) unless it already has
    that rank or the only axis is the last one."""
    w = convert_to_tensor(w)
    if w.dtype != x.dtype:
        w = cast(w, x.dtype)
    if w.ndim == x.ndim or axes == (x.ndim - 1,):
        return w
    shape = tuple(n if i in axes else 1 for i, n in enumerate(x.shape))
    if w.size != int(np.prod(shape)):
        raise OpError(f"ops.{opname}: `{what}` of shape {w.shape} does not fit the normalized "
                      f"axes {axes} of x (shape {x.shape}): expected {w.size} to be the product "
                      f"of their sizes, {int(np.prod(shape))}.")
    return reshape(w, shape)


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, rms_scaling=False):
    """``(x - μ) / sqrt(σ² + epsilon) * gamma + beta`` with μ and σ² the mean and biased
    variance of each sample over ``axis`` (an int or a list) (``keras.ops.layer_normalization``).
    ``epsilon`` defaults to ``keras.config.epsilon()`` (1e-7); the LayerNormalization layer
    passes its own (1e-3).

    ``rms_scaling=True`` is Keras's deprecated variant: x / sqrt(σ² + epsilon) * gamma, not
    centred but still divided by the variance (not the mean square); see
    :func:`rms_normalization` for the real RMS normalization.
    """
    x = _float_input(x)
    eps = backend.epsilon() if epsilon is None else float(epsilon)
    axes = _axes(axis, x.ndim, "layer_normalization")
    if rms_scaling:
        y = x / sqrt(_var(x, axis=axes, keepdims=True) + eps)
    else:
        y = standardize(x, axes, eps)
    if gamma is not None:
        y = y * _along_axes(gamma, x, axes, "gamma", "layer_normalization")
    if beta is not None and not rms_scaling:
        y = y + _along_axes(beta, x, axes, "beta", "layer_normalization")
    return y


def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """``x / sqrt(mean(x²) + epsilon) * scale``, the mean of the squares taken over ``axis``
    (``keras.ops.rms_normalization``, Zhang & Sennrich 2019: no centring). ``scale``
    broadcasts against x as NumPy does; ``epsilon`` defaults to ``keras.config.epsilon()``."""
    x = _float_input(x)
    eps = backend.epsilon() if epsilon is None else float(epsilon)
    axes = _axes(axis, x.ndim, "rms_normalization")
    y = x * reciprocal(sqrt(_mean(square(x), axis=axes, keepdims=True) + eps))
    if scale is not None:
        scale = convert_to_tensor(scale)
        y = y * (scale if scale.dtype == x.dtype else cast(scale, x.dtype))
    return y
