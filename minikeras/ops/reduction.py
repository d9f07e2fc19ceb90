"""Reductions: sum, mean, max, ... over an axis (or all axes), with ``keepdims``.

The backward of a reduction has to undo the lost axes: the gradient of the (smaller) output
is reshaped to keep the reduced axes as size 1, then broadcast back over the input's shape
(:func:`expand_to_input`, in :mod:`.core` with ``sum`` itself, the derivative of
``broadcast_to``). What each input element then receives is that broadcast gradient
times the local derivative dz/dx, written in each docstring.

``axis`` is an int (negative counts from the end), a tuple of ints, or None for every axis;
``keepdims=True`` leaves the reduced axes in the result with size 1. Python's built-in
``sum``, ``max``, ``min``, ``any`` and ``all`` are shadowed in this file by the ops of the same
names; the code below never needs the built-ins.
"""
import numpy as np

from .. import backend
from ..autograd import Function, OpError
from .core import (_axes, _kept_shape, _sum_dtype, cast, check_axis, constant,
                   convert_to_tensor, expand_to_input, reshape, sum)
from .math import exp

__all__ = ["mean", "max", "min", "amax", "amin", "prod", "var", "std", "argmax",
           "argmin", "logsumexp", "any", "all"]






def _count(shape, axes):
    """How many input elements went into each output element."""
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))




def _kept(z, x, axes, keepdims):
    """The output ``z`` (a Tensor) of input ``x`` with the reduced axes present as size 1."""
    return z if keepdims else reshape(z, _kept_shape(x.shape, axes))


def _drop(shape, axes):
    """The keepdims=False shape: the reduced axes removed."""
    return tuple(n for i, n in enumerate(shape) if i not in axes)




def _float_input(x):
    """Integer inputs of mean/var/std/logsumexp become floatx, as in Keras."""
    x = convert_to_tensor(x)
    return cast(x, backend.floatx()) if x.dtype.kind in "iub" else x


# --------------------------------------------------------------------------- sum, mean


class Mean(Function):
    """z = (1/n) Σ x over ``axes``, n the number of elements reduced.   dz/dx = 1/n.

    Rule: dL/dx = expand(g) / n, n the number of elements reduced
    """

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        return backend.xp.mean(x, axis=self.axes, keepdims=self.keepdims)

    def backward(self, g):
        x = self.inputs[0]
        return expand_to_input(g, x, self.axes, self.keepdims) / _count(x.shape, self.axes)




def mean(x, axis=None, keepdims=False):
    """The arithmetic mean over ``axis`` (integers give floatx)."""
    x = _float_input(x)
    return Mean(_axes(axis, x.ndim, "mean"), keepdims)(x)


# --------------------------------------------------------------------------- max, min
class Max(Function):
    """z = max x over ``axes``.   dz/dx = 1 at the positions equal to the max, 0 elsewhere;
    when k elements tie for the max each receives 1/k of the gradient (as TensorFlow does).

    Rule: dL/dx = expand(g) · [x == expand(z)] / k, k the number of ties
    """

    reduce = "max"

    def __init__(self, axes, keepdims, initial=None):
        self.axes, self.keepdims, self.initial = axes, keepdims, initial

    def forward(self, x):
        xp = backend.xp
        if x.size == 0 and self.initial is not None:     # nothing to compare: the bound
            shape = _kept_shape(x.shape, self.axes)
            return xp.full(shape if self.keepdims else _drop(shape, self.axes), self.initial,
                           dtype=x.dtype)
        reduce = backend.kernels.reduce_max if self.reduce == "max" else backend.kernels.reduce_min
        z = reduce(x, self.axes, self.keepdims)
        if self.initial is not None:                     # (CuPy's max has no initial=)
            bound = xp.maximum if self.reduce == "max" else xp.minimum
            z = bound(z, xp.asarray(self.initial, dtype=x.dtype))
        return z

    def backward(self, g):
        x = self.inputs[0]
        z = self.output().data
        if not self.keepdims:
            z = z.reshape(_kept_shape(x.shape, self.axes))
        hit = x.data == z
        count = backend.xp.maximum(hit.sum(axis=self.axes, keepdims=True), 1)
        share = constant(hit.astype(x.dtype) / count.astype(x.dtype))
        return expand_to_input(g, x, self.axes, self.keepdims) * share


class Min(Max):
    """z = min x over ``axes``.   dz/dx = 1 at the positions equal to the min (1/k each for
    k ties), 0 elsewhere.

    Rule: dL/dx = expand(g) · [x == expand(z)] / k, k the number of ties
    """

    reduce = "min"


def max(x, axis=None, keepdims=False, initial=None):
    """The largest element over ``axis``; ``initial`` is a lower bound for the result."""
    x = convert_to_tensor(x)
    return Max(_axes(axis, x.ndim, "max"), keepdims, initial)(x)


def min(x, axis=None, keepdims=False, initial=None):
    """The smallest element over ``axis``; ``initial`` is an upper bound for the result."""
    x = convert_to_tensor(x)
    return Min(_axes(axis, x.ndim, "min"), keepdims, initial)(x)


def amax(x, axis=None, keepdims=False):
    """Same as :func:`max` (the NumPy name)."""
    return max(x, axis=axis, keepdims=keepdims)


def amin(x, axis=None, keepdims=False):
    """Same as :func:`min` (the NumPy name)."""
    return min(x, axis=axis, keepdims=keepdims)


# --------------------------------------------------------------------------- prod
class Prod(Function):
    """z = Π x over ``axes``.   dz/dx_i = Π_{j≠i} x_j, the product of the *other* elements.

    Where no element is zero that is z / x_i. Zeros need care (z / 0): write the product of
    the others as P_i · Z_i, with P_i the product of the other *nonzero* elements (= P / x_i,
    P the product of all nonzero elements, x_i taken as 1 if it is zero) and Z_i that of
    the other *zero* elements: Z_i = 1 when there are none, x_k when there is one (at k;
    its value is 0, but it keeps d/dx_k right for second derivatives), 0 when there are more.

    Rule: dL/dx = expand(g) · (the product of the other elements), expand(z) / x where no x is 0
    """

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        return backend.xp.prod(x, axis=self.axes, keepdims=self.keepdims,
                               dtype=_sum_dtype(x.dtype))

    def backward(self, g):
        x = self.inputs[0]
        g = expand_to_input(g, x, self.axes, self.keepdims)
        zero = x.data == 0
        if not zero.any():
            return g * _kept(self.output(), x, self.axes, self.keepdims) / x
        is_zero = constant(zero.astype(x.dtype))
        safe_x = x * constant((~zero).astype(x.dtype)) + is_zero     # zeros replaced by ones
        p = prod(safe_x, axis=self.axes, keepdims=True)
        zeros_elsewhere = zero.sum(axis=self.axes, keepdims=True) - zero
        the_other_zero = sum(x * is_zero, axis=self.axes, keepdims=True) - x * is_zero
        z_other = (constant((zeros_elsewhere == 0).astype(x.dtype))
                   + constant((zeros_elsewhere == 1).astype(x.dtype)) * the_other_zero)
        return g * (p / safe_x) * z_other


def prod(x, axis=None, keepdims=False, dtype=None):
    """The product of the elements over ``axis``."""
    x = convert_to_tensor(x)
    if dtype is not None:
        x = cast(x, dtype)
    return Prod(_axes(axis, x.ndim, "prod"), keepdims)(x)


# --------------------------------------------------------------------------- var, std
class Var(Function):
    """z = (1/n) Σ (x - x̄)², the population variance (ddof=0, as Keras).
    dz/dx_i = 2 (x_i - x̄) / n  (the terms through x̄ sum to zero).

    Rule: dL/dx = expand(g) · 2 · (x - mean(x)) / n
    """

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        return backend.xp.var(x, axis=self.axes, keepdims=self.keepdims)

    def backward(self, g):
        x = self.inputs[0]
        centered = x - mean(x, axis=self.axes, keepdims=True)
        n = _count(x.shape, self.axes)
        return expand_to_input(g, x, self.axes, self.keepdims) * centered * (2.0 / n)


class Std(Function):
    """z = √var(x), the population standard deviation.
    dz/dx_i = (x_i - x̄) / (n·z)  (taken as 0 where z = 0, where all elements are equal).

    Rule: dL/dx = expand(g) · (x - mean(x)) / (n · expand(z)), z taken as 1 where it is 0
    """

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        return backend.xp.std(x, axis=self.axes, keepdims=self.keepdims)

    def backward(self, g):
        x = self.inputs[0]
        centered = x - mean(x, axis=self.axes, keepdims=True)
        z = _kept(self.output(), x, self.axes, self.keepdims)
        flat = z.data == 0
        if flat.any():                        # a constant group: avoid 0/0
            z = z + constant(flat.astype(z.dtype))
        n = _count(x.shape, self.axes)
        return expand_to_input(g, x, self.axes, self.keepdims) * centered / (z * n)


def var(x, axis=None, keepdims=False):
    """The population variance over ``axis`` (divides by n)."""
    x = _float_input(x)
    return Var(_axes(axis, x.ndim, "var"), keepdims)(x)


def std(x, axis=None, keepdims=False):
    """The population standard deviation over ``axis``."""
    x = _float_input(x)
    return Std(_axes(axis, x.ndim, "std"), keepdims)(x)


# --------------------------------------------------------------------------- logsumexp
class LogSumExp(Function):
    """z = log Σ exp(x), computed as m + log Σ exp(x - m) with m the max, so that large x
    do not overflow.   dz/dx = exp(x - z) = softmax(x) over ``axes``, computed as
    exp(x - m) / Σ exp(x - m) (exp(x - z) would lose digits to the rounding of a large z).

    Rule: dL/dx = expand(g) · softmax(x)
    """

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        xp = backend.xp
        if x.size == 0:
            m = xp.zeros(_kept_shape(x.shape, self.axes), dtype=x.dtype)
        else:
            m = xp.max(x, axis=self.axes, keepdims=True)
        self.shift = m = xp.where(xp.isfinite(m), m, 0).astype(x.dtype)  # all -inf: shift 0
        with np.errstate(divide="ignore"):
            z = xp.log(xp.sum(xp.exp(x - m), axis=self.axes, keepdims=True)) + m
        return z if self.keepdims else z.reshape(_drop(z.shape, self.axes))

    def backward(self, g):
        x = self.inputs[0]
        e = exp(x - constant(self.shift))       # any constant shift gives the same softmax
        softmax = e / sum(e, axis=self.axes, keepdims=True)
        return expand_to_input(g, x, self.axes, self.keepdims) * softmax


def logsumexp(x, axis=None, keepdims=False):
    """log(Σ exp(x)) over ``axis``, computed without overflow."""
    x = _float_input(x)
    return LogSumExp(_axes(axis, x.ndim, "logsumexp"), keepdims)(x)


# --------------------------------------------------------------------------- not differentiable
class ArgMax(Function):
    """The index of the largest element along an axis (int32). Not differentiable."""

    differentiable = False
    find = "argmax"

    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        out = getattr(backend.xp, self.find)(x, axis=self.axis, keepdims=self.keepdims)
        return out.astype("int32")


class ArgMin(ArgMax):
    """The index of the smallest element along an axis (int32). Not differentiable."""

    find = "argmin"


def _arg_axis(x, axis, opname):
    """The axis of argmax/argmin: None or one int (NumPy's and Keras's rule)."""
    if axis is not None:
        if not isinstance(axis, (int, np.integer)):
            raise OpError(f"ops.{opname}: axis must be a single int or None, got {axis!r}.")
        (axis,) = check_axis(axis, x.ndim, opname)
        if x.ndim == 0:                  # a scalar: its only index is 0, as with axis=None
            axis = None
    if (x.size if axis is None else x.shape[axis]) == 0:
        raise OpError(f"ops.{opname}: cannot take the {opname} of an empty tensor "
                      f"(shape {x.shape}, axis {axis}).")
    return axis


def argmax(x, axis=None, keepdims=False):
    """The indices of the maxima along ``axis`` (None: of the flattened tensor), as int32."""
    x = convert_to_tensor(x)
    return ArgMax(_arg_axis(x, axis, "argmax"), keepdims)(x)


def argmin(x, axis=None, keepdims=False):
    """The indices of the minima along ``axis`` (None: of the flattened tensor), as int32."""
    x = convert_to_tensor(x)
    return ArgMin(_arg_axis(x, axis, "argmin"), keepdims)(x)


class Any(Function):
    """True where some element over the axes is nonzero (bool). Not differentiable."""

    differentiable = False
    test = "any"

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        return getattr(backend.xp, self.test)(x, axis=self.axes, keepdims=self.keepdims)


class All(Any):
    """True where every element over the axes is nonzero (bool). Not differentiable."""

    test = "all"


def any(x, axis=None, keepdims=False):
    """Whether any element over ``axis`` is true (nonzero)."""
    x = convert_to_tensor(x)
    return Any(_axes(axis, x.ndim, "any"), keepdims)(x)


def all(x, axis=None, keepdims=False):
    """Whether every element over ``axis`` is true (nonzero)."""
    x = convert_to_tensor(x)
    return All(_axes(axis, x.ndim, "all"), keepdims)(x)
