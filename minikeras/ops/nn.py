"""Activations and the other neural-network ops of ``keras.ops``: relu, sigmoid, gelu,
softmax, log_softmax, one_hot, ...

Every activation is a Function with its forward (array math, or a kernel of the backend's
table: relu, relu6, leaky_relu, hard_sigmoid, sigmoid, erf, gelu, softmax, log_softmax) and
its backward (ops, so second derivatives work) side by side; the docstring gives y = f(x)
and dy/dx. In the backward methods ``g`` is dL/dy; they return dL/dx = g · dy/dx. Where
dy/dx is most simply written with the output, ``self.output()`` is y. The ops whose forward
is a kernel also have the gradient kernel of the same name as their ``backward_arrays``
twin (``relu_grad``, ``sigmoid_grad``, ...), which training runs.
(``tanh`` lives with the other elementwise functions in ``ops/math.py``.)
"""
import math

import numpy as np

from .. import backend
from ..autograd import Function, OpError
from ..tensor import Tensor
from .core import cast, check_axis, constant, convert_to_tensor
from .math import _float, abs, exp, tanh
from .core import sum as _sum

__all__ = ["relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "erf", "sigmoid",
           "hard_sigmoid", "softplus", "softsign", "silu", "swish", "softmax", "log_softmax",
           "one_hot"]

# Python floats (never NumPy float64 scalars) so that float32 stays float32.
_SQRT_2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_GELU_CUBIC = 0.044715
# SELU's constants (Klambauer et al., 2017), as Keras uses them.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _mask(condition, like):
    """A boolean array as a 0/1 constant tensor of ``like``'s dtype."""
    return constant(condition.astype(like.dtype))


# --------------------------------------------------------------------------- piecewise linear
class Relu(Function):
    """y = max(x, 0).   dy/dx = 1 where x > 0, else 0.

    Rule: dL/dx = g · [x > 0]
    """

    def forward(self, x):
        return backend.kernels.relu(x)

    def backward(self, g):
        return g * _mask(self.inputs[0].data > 0, g)

    def backward_arrays(self, g):
        return (backend.kernels.relu_grad(g, self.inputs[0].data),)


class Relu6(Function):
    """y = min(max(x, 0), 6).   dy/dx = 1 where 0 < x < 6, else 0.

    Rule: dL/dx = g · [0 < x < 6]
    """

    def forward(self, x):
        return backend.kernels.relu6(x)

    def backward(self, g):
        x = self.inputs[0].data
        return g * _mask((x > 0) & (x < 6), g)

    def backward_arrays(self, g):
        return (backend.kernels.relu6_grad(g, self.inputs[0].data),)


class LeakyRelu(Function):
    """y = x where x > 0, else negative_slope · x.   dy/dx = 1 where x > 0, else
    negative_slope.

    Rule: dL/dx = g · (1 where x > 0, else negative_slope)
    """

    def __init__(self, negative_slope):
        self.negative_slope = negative_slope

    def forward(self, x):
        return backend.kernels.leaky_relu(x, self.negative_slope)

    def backward(self, g):
        x = self.inputs[0].data
        slope = backend.xp.where(x > 0, 1.0, self.negative_slope).astype(g.dtype)
        return g * constant(slope)

    def backward_arrays(self, g):
        return (backend.kernels.leaky_relu_grad(g, self.inputs[0].data, self.negative_slope),)


class HardSigmoid(Function):
    """y = relu6(x + 3) / 6 = clip(x/6 + 1/2, 0, 1).   dy/dx = 1/6 where -3 < x < 3, else 0.

    Rule: dL/dx = g · [-3 < x < 3] / 6
    """

    def forward(self, x):
        return backend.kernels.hard_sigmoid(x)

    def backward(self, g):
        x = self.inputs[0].data
        return g * _mask((x > -3) & (x < 3), g) / 6.0

    def backward_arrays(self, g):
        return (backend.kernels.hard_sigmoid_grad(g, self.inputs[0].data),)


def relu(x):
    """Rectified linear unit: max(x, 0) (``keras.ops.relu``)."""
    return Relu()(x)


def relu6(x):
    """min(max(x, 0), 6) (``keras.ops.relu6``)."""
    return Relu6()(x)


def leaky_relu(x, negative_slope=0.2):
    """x for x > 0, negative_slope·x otherwise (``keras.ops.leaky_relu``; the LeakyReLU layer
    defaults to 0.3, this function to 0.2, as in Keras)."""
    return LeakyRelu(float(negative_slope))(_float(x))


def hard_sigmoid(x):
    """The piecewise-linear sigmoid relu6(x + 3) / 6 (``keras.ops.hard_sigmoid``)."""
    return HardSigmoid()(_float(x))


# --------------------------------------------------------------------------- exponential family
class Elu(Function):
    """y = x where x > 0, else alpha·(eˣ - 1).
    dy/dx = 1 where x > 0, else alpha·eˣ = y + alpha.

    Rule: dL/dx = g · (1 where x > 0, else z + alpha)
    """

    def __init__(self, alpha):
        self.alpha = alpha

    def forward(self, x):
        xp = backend.xp
        return xp.where(x > 0, x, self.alpha * xp.expm1(xp.minimum(x, 0)))

    def backward(self, g):
        negative = _mask(self.inputs[0].data <= 0, g)
        return g * (1 - negative + negative * (self.output() + self.alpha))


class Selu(Function):
    """y = scale·x where x > 0, else scale·alpha·(eˣ - 1), with Keras's alpha ≈ 1.6733 and
    scale ≈ 1.0507.   dy/dx = scale where x > 0, else scale·alpha·eˣ = y + scale·alpha.

    Rule: dL/dx = g · (scale where x > 0, else z + scale · alpha)
    """

    def forward(self, x):
        xp = backend.xp
        return _SELU_SCALE * xp.where(x > 0, x, _SELU_ALPHA * xp.expm1(xp.minimum(x, 0)))

    def backward(self, g):
        negative = _mask(self.inputs[0].data <= 0, g)
        return g * ((1 - negative) * _SELU_SCALE
                    + negative * (self.output() + _SELU_SCALE * _SELU_ALPHA))


class Sigmoid(Function):
    """y = σ(x) = 1 / (1 + e⁻ˣ).   dy/dx = σ(x)·(1 - σ(x)) = y·(1 - y).

    The kernel computes it as written, in four passes; where e⁻ˣ overflows (x < -88 in
    float32) it gives 1 / (1 + inf) = 0, the right limit.

    Rule: dL/dx = g · z · (1 - z)
    """

    def forward(self, x):
        return backend.kernels.sigmoid(x)

    def backward(self, g):
        y = self.output()
        return g * y * (1 - y)

    def backward_arrays(self, g):
        return (backend.kernels.sigmoid_grad(g, self.output().data),)


class Softplus(Function):
    """y = ln(1 + eˣ), computed as max(x, 0) + ln(1 + e^(-|x|)) so that it never overflows.
    dy/dx = eˣ / (1 + eˣ) = σ(x).

    Rule: dL/dx = g · sigmoid(x)
    """

    def forward(self, x):
        xp = backend.xp
        return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, g):
        return g * sigmoid(self.inputs[0])


class Softsign(Function):
    """y = x / (1 + |x|).   dy/dx = 1 / (1 + |x|)².

    Rule: dL/dx = g / (1 + |x|)²
    """

    def forward(self, x):
        return x / (1 + backend.xp.abs(x))

    def backward(self, g):
        d = 1 + abs(self.inputs[0])
        return g / (d * d)


class Silu(Function):
    """y = x·σ(x) (also called swish).   dy/dx = σ(x) + x·σ(x)·(1 - σ(x))
    = σ(x)·(1 + x·(1 - σ(x))).

    Rule: dL/dx = g · σ(x) · (1 + x · (1 - σ(x)))
    """

    def forward(self, x):
        xp = backend.xp
        e = xp.exp(-xp.abs(x))
        return x * xp.where(x >= 0, 1 / (1 + e), e / (1 + e))

    def backward(self, g):
        x = self.inputs[0]
        s = sigmoid(x)
        return g * s * (1 + x * (1 - s))


def elu(x, alpha=1.0):
    """Exponential linear unit (``keras.ops.elu``)."""
    return Elu(float(alpha))(_float(x))


def selu(x):
    """Scaled exponential linear unit (``keras.ops.selu``)."""
    return Selu()(_float(x))


def sigmoid(x):
    """The logistic function 1 / (1 + e⁻ˣ) (``keras.ops.sigmoid``)."""
    return Sigmoid()(_float(x))


def softplus(x):
    """ln(1 + eˣ) (``keras.ops.softplus``)."""
    return Softplus()(_float(x))


def softsign(x):
    """x / (1 + |x|) (``keras.ops.softsign``)."""
    return Softsign()(_float(x))


def silu(x):
    """x·sigmoid(x) (``keras.ops.silu``, also ``keras.ops.swish``)."""
    return Silu()(_float(x))


swish = silu


# --------------------------------------------------------------------------- erf and gelu
class Erf(Function):
    """y = erf(x) = 2/√π ∫₀ˣ e^(-t²) dt.   dy/dx = 2/√π · e^(-x²).

    Rule: dL/dx = g · 2/√π · exp(-x²)
    """

    def forward(self, x):
        return backend.kernels.erf(x)

    def backward(self, g):
        x = self.inputs[0]
        return g * _TWO_OVER_SQRT_PI * exp(-(x * x))


def erf(x):
    """The Gauss error function, elementwise (``keras.ops.erf``)."""
    return Erf()(_float(x))


class Gelu(Function):
    """Gaussian error linear unit.

    Exact (``approximate=False``): y = x·Φ(x) = x/2 · (1 + erf(x/√2)), where Φ is the
    standard normal CDF.   dy/dx = Φ(x) + x·φ(x), with φ(x) = e^(-x²/2)/√(2π).

    Tanh approximation (``approximate=True``): y = x/2 · (1 + tanh(u)) with
    u = √(2/π)·(x + 0.044715·x³).   dy/dx = (1 + tanh u)/2 + x/2 · (1 - tanh²u) · du/dx,
    du/dx = √(2/π)·(1 + 3·0.044715·x²).

    Rule: dL/dx = g · (Φ(x) + x · φ(x)), or the tanh form's dy/dx when approximate
    """

    def __init__(self, approximate):
        self.approximate = approximate

    def forward(self, x):
        return backend.kernels.gelu(x, self.approximate)

    def backward(self, g):
        x = self.inputs[0]
        if self.approximate:
            t = tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * (x * x * x)))
            du = _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * (x * x))
            return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
        cdf = 0.5 * (1 + erf(x / _SQRT_2))
        pdf = _INV_SQRT_2PI * exp(-0.5 * (x * x))
        return g * (cdf + x * pdf)

    def backward_arrays(self, g):
        return (backend.kernels.gelu_grad(g, self.inputs[0].data, self.approximate),)


def gelu(x, approximate=True):
    """GELU (``keras.ops.gelu``). Note the defaults: ``keras.ops.gelu`` uses the tanh
    approximation (``approximate=True``), while ``keras.activations.gelu`` and
    ``activation="gelu"`` use the exact erf form (``approximate=False``)."""
    return Gelu(bool(approximate))(_float(x))


# --------------------------------------------------------------------------- softmax family
class Softmax(Function):
    """y = eˣ / Σ eˣ along ``axis``.   dy_i/dx_j = y_i·(δ_ij - y_j), so
    dL/dx = y · (g - Σ (g·y) along axis).

    Rule: dL/dx = z · (g - sum(g · z, axis, keepdims))
    """

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        return backend.kernels.softmax(x, axis=self.axis)

    def backward(self, g):
        y = self.output()
        return y * (g - _sum(g * y, axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """y = x - log Σ eˣ along ``axis`` (computed after subtracting the maximum, so that
    eˣ never overflows).   dy_i/dx_j = δ_ij - softmax(x)_j, so
    dL/dx = g - eʸ · Σ g along axis (eʸ is the softmax).

    Rule: dL/dx = g - exp(z) · sum(g, axis, keepdims)
    """

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        return backend.kernels.log_softmax(x, axis=self.axis)

    def backward(self, g):
        return g - exp(self.output()) * _sum(g, axis=self.axis, keepdims=True)


def _softmax_axis(x, axis, opname):
    if x.ndim == 0:
        raise OpError(f"ops.{opname}: needs a tensor of rank 1 or more, got a scalar.")
    return check_axis(axis, x.ndim, opname)


def softmax(x, axis=-1):
    """The softmax along ``axis`` (``keras.ops.softmax``): non-negative, sums to 1."""
    x = _float(x)
    return Softmax(_softmax_axis(x, axis, "softmax"))(x)


def log_softmax(x, axis=-1):
    """log(softmax(x)) along ``axis``, computed stably (``keras.ops.log_softmax``)."""
    x = _float(x)
    return LogSoftmax(_softmax_axis(x, axis, "log_softmax"))(x)


# --------------------------------------------------------------------------- one_hot
class OneHot(Function):
    """y[..., c, ...] = 1 where c == x[...], else 0 (a new axis of length num_classes).
    Not differentiable: the input is integer labels."""
    differentiable = False

    def __init__(self, num_classes, axis, dtype):
        self.num_classes, self.axis, self.dtype = num_classes, axis, dtype

    def forward(self, x):
        xp = backend.xp
        hot = x[..., None] == xp.arange(self.num_classes, dtype=x.dtype)
        return xp.moveaxis(hot, -1, self.axis).astype(self.dtype)


def one_hot(x, num_classes, axis=-1, dtype=None):
    """One-hot encode integer labels ``x`` (``keras.ops.one_hot``): the result has a new axis
    of length ``num_classes`` at ``axis``, and dtype ``floatx()`` unless ``dtype`` is given.
    Labels outside [0, num_classes) give a row of zeros."""
    x = convert_to_tensor(x)
    if x.dtype.kind == "f":  # float labels (1.0, 2.0) are cast, as Keras casts them
        values = backend.to_numpy(x.data)
        if not np.all(values == np.trunc(values)):
            raise OpError(f"ops.one_hot: expected class indices, got the non-whole value "
                          f"{values[values != np.trunc(values)][0]} (dtype {x.dtype}, shape "
                          f"{x.shape}). Labels are whole numbers 0 .. num_classes-1.")
        x = cast(x, "int32")
    if x.dtype.kind not in "iu":
        raise OpError(f"ops.one_hot: expected integer class indices, got a tensor of dtype "
                      f"{x.dtype} and shape {x.shape}. Cast the labels first, e.g. "
                      "ops.cast(labels, 'int32').")
    if isinstance(num_classes, Tensor):
        num_classes = int(num_classes)
    if not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise OpError(f"ops.one_hot: num_classes must be a positive integer, got {num_classes!r}.")
    rank = x.ndim + 1
    if not -rank <= axis < rank:
        raise OpError(f"ops.one_hot: axis {axis} is out of bounds for the result of rank {rank} "
                      f"(valid axes: {-rank} to {rank - 1}).")
    return OneHot(int(num_classes), int(axis), np.dtype(dtype or backend.floatx()))(x)
