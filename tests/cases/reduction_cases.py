"""Cases for minikeras/ops/reduction.py.

Op arguments that are not tensors (``axis``, ``keepdims``) are drawn too, and travel as a
small int array, the *spec*: the gradient checker passes integer inputs through unchanged,
so ``fn`` and ``ref`` both receive it and decode it with :func:`unspec`.
"""
import numpy as np
from hypothesis import strategies as st

from minikeras import ops

from . import Case, axis_for, distinct, shapes, values


# ----------------------------------------------------------------------------- specs
def axis_spec(axis, keepdims=False):
    """(axis, keepdims) as an int array: [keepdims, kind, axes...], kind 0 None, 1 int,
    2 tuple."""
    if axis is None:
        return np.array([keepdims, 0], dtype=np.int64)
    if isinstance(axis, (int, np.integer)):
        return np.array([keepdims, 1, axis], dtype=np.int64)
    return np.array([keepdims, 2, *axis], dtype=np.int64)


def unspec(spec):
    """The (axis, keepdims) of an :func:`axis_spec` (a Tensor or an array)."""
    s = [int(v) for v in np.asarray(spec)]
    keepdims, kind, rest = bool(s[0]), s[1], s[2:]
    return (None if kind == 0 else rest[0] if kind == 1 else tuple(rest)), keepdims


def ints(spec):
    """An int array (or Tensor) as a tuple of Python ints."""
    return tuple(int(v) for v in np.asarray(spec).ravel())


def _draw_axis(d, ndim, allow_tuple=True):
    return axis_spec(axis_for(d, ndim, allow_tuple=allow_tuple), d(st.booleans()))


# ----------------------------------------------------------------------------- draws
def _reduce(low=-2.0, high=2.0, avoid=None, gap=0.05, unique=False, min_side=1,
            allow_tuple=True):
    """x and an axis spec; ``unique`` draws values without ties (for max/min/std)."""
    def draw(d):
        shape = d(shapes(min_side=min_side))
        x = distinct(d, shape, low, high) if unique else values(d, shape, low, high, avoid, gap)
        return [x, _draw_axis(d, len(shape), allow_tuple)]
    return draw


def _with_zeros(d):
    """Values with one or two exact zeros, where the product's gradient needs care."""
    shape = d(shapes(min_dims=1))
    x = values(d, shape, 0.5, 2.0) * np.sign(values(d, shape))
    flat = x.reshape(-1)
    for k in d(st.lists(st.integers(0, flat.size - 1), min_size=1, max_size=2)):
        flat[k] = 0.0
    return [x, _draw_axis(d, len(shape))]


def _large(d):
    """Values near 800, where exp overflows even in float64 (and 60, for float32)."""
    shape = d(shapes())
    return [np.asarray(values(d, shape) + 800.0), _draw_axis(d, len(shape))]


def _coarse(d):
    """Values in {-1, 0, 1} so that any/all meet zeros and all-nonzero groups."""
    shape = d(shapes())
    return [np.asarray(np.round(values(d, shape, -1.4, 1.4))), _draw_axis(d, len(shape))]


# ----------------------------------------------------------------------------- references
def _np(fn):
    """A NumPy reduction called with the decoded spec."""
    def ref(x, spec):
        axis, keepdims = unspec(spec)
        return fn(x, axis=axis, keepdims=keepdims)
    return ref


def _op(fn):
    def call(x, spec):
        axis, keepdims = unspec(spec)
        return fn(x, axis=axis, keepdims=keepdims)
    return call


def _ref_logsumexp(x, axis, keepdims):
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


def _ref_logsumexp_large(x, axis, keepdims):
    return _ref_logsumexp(x - 800.0, axis, keepdims) + 800.0


def _ref_prod(x, axis, keepdims):
    """The product by logs and signs (independent of np.prod's own loop)."""
    if x.ndim == 0:
        return x.copy()
    signs = np.prod(np.sign(x), axis=axis, keepdims=keepdims)
    with np.errstate(divide="ignore"):
        return signs * np.exp(np.sum(np.log(np.abs(x)), axis=axis, keepdims=keepdims))


def _ref_var(x, axis, keepdims):
    n = x.size // np.mean(x, axis=axis).size
    centered = x - np.mean(x, axis=axis, keepdims=True)
    return np.sum(centered ** 2, axis=axis, keepdims=keepdims) / n


def _ref_std(x, axis, keepdims):
    return np.sqrt(_ref_var(x, axis, keepdims))


def _squared(fn):
    return lambda *a: ops.square(fn(*a))


def _ref_squared(ref):
    return lambda *a: np.square(ref(*a))


CASES = [
    Case("sum", _op(ops.sum), _np(np.sum), _reduce(), ("Sum",)),
    Case("mean", _op(ops.mean), _np(np.mean), _reduce(), ("Mean",)),
    Case("max", _op(ops.max), _np(np.max), _reduce(unique=True), ("Max",), second=True),
    Case("min", _op(ops.min), _np(np.min), _reduce(unique=True), ("Min",), second=True),
    Case("amax", _op(ops.amax), _np(np.amax), _reduce(unique=True), ("Max",)),
    Case("amin", _op(ops.amin), _np(np.amin), _reduce(unique=True), ("Min",)),
    # distinct() draws on a grid of 0.05 from -2: 0.525 is never within 0.025 of an element.
    Case("max_initial", _op(lambda x, **kw: ops.max(x, initial=0.525, **kw)),
         _np(lambda x, **kw: np.max(x, initial=0.525, **kw)), _reduce(unique=True),
         ("Max",), ops=()),
    Case("prod", _op(ops.prod), _np(_ref_prod), _reduce(avoid=0.0, gap=0.3), ("Prod",),
         second=True),
    Case("prod_zeros", _op(ops.prod), _np(_ref_prod), _with_zeros, ("Prod",), ops=(),
         second=True),
    Case("var", _op(ops.var), _np(_ref_var), _reduce(), ("Var",), second=True),
    Case("std", _op(ops.std), _np(_ref_std), _reduce(unique=True, min_side=2), ("Std",),
         second=True, tolerance=1e-4),
    Case("logsumexp", _op(ops.logsumexp), _np(_ref_logsumexp), _reduce(), ("LogSumExp",),
         second=True),
    Case("logsumexp_large", _op(ops.logsumexp), _np(_ref_logsumexp_large), _large,
         ("LogSumExp",), ops=(), rtol=1e-9),
    # sum and mean are linear: their second derivatives are only exercised under a square.
    Case("sum_squared", _squared(_op(ops.sum)), _ref_squared(_np(np.sum)), _reduce(),
         ("Sum",), ops=(), grad=False, second=True),
    Case("mean_squared", _squared(_op(ops.mean)), _ref_squared(_np(np.mean)), _reduce(),
         ("Mean",), ops=(), grad=False, second=True),
    # Not differentiable: forward only.
    Case("argmax", _op(ops.argmax), _np(np.argmax), _reduce(unique=True, allow_tuple=False),
         ("ArgMax",), grad=False),
    Case("argmin", _op(ops.argmin), _np(np.argmin), _reduce(unique=True, allow_tuple=False),
         ("ArgMin",), grad=False),
    Case("any", _op(ops.any), _np(np.any), _coarse, ("Any",), grad=False),
    Case("all", _op(ops.all), _np(np.all), _coarse, ("All",), grad=False),
]
