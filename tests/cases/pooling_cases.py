"""Cases for minikeras/ops/pooling.py: max_pool and average_pool, 1-D and 2-D, every
pool size and stride from 1 to 3, "valid" and "same" padding, both data formats, and the
vector-Jacobian products (the backward Functions) with their own derivatives.

The references loop over output positions in plain Python: for each output they list the
real input cells of its window (TensorFlow's "same" arithmetic, written out again here) and
take their max or mean. Inputs are drawn with distinct values, so every window has one
maximum and finite differences see a smooth function. The pooling parameters travel as a
small integer array ``spec`` = [rank, same, k..., s...] (integer inputs are passed through
the gradient checks unchanged)."""
import itertools
import math

import numpy as np
from hypothesis import strategies as st

from minikeras import GradientTape, ops
from minikeras.ops.pooling import MaxPool, MaxPoolGather

from . import Case, distinct


# ----------------------------------------------------------------------------- parameters
def _decode(spec):
    spec = np.asarray(spec.numpy() if hasattr(spec, "numpy") else spec).tolist()
    rank, same = spec[0], bool(spec[1])
    return rank, same, tuple(spec[2:2 + rank]), tuple(spec[2 + rank:2 + 2 * rank])


def _call_args(spec):
    """The op's arguments, in the forms Keras allows: an int pool for 1-D, strides=None when
    the stride equals the pool."""
    rank, same, pool, strides = _decode(spec)
    return dict(pool_size=pool[0] if rank == 1 else pool,
                strides=None if strides == pool else strides,
                padding="same" if same else "valid")


def _draw_spec(d):
    rank = d(st.integers(1, 2))
    same = d(st.booleans())
    pool = [d(st.integers(1, 3)) for _ in range(rank)]
    strides = [d(st.integers(1, 3)) for _ in range(rank)]
    sides = [d(st.integers(1 if same else k, 5)) for k in pool]
    shape = (d(st.integers(1, 2)),) + tuple(sides) + (d(st.integers(1, 3)),)
    return np.array([rank, int(same)] + pool + strides, dtype=np.int64), shape


# ----------------------------------------------------------------------------- reference
def _windows(spatial, pool, strides, same):
    """For every output position, the list of real input cells of its window (row-major)."""
    per_axis = []
    for size, k, s in zip(spatial, pool, strides):
        if same:
            out = math.ceil(size / s)
            before = max((out - 1) * s + k - size, 0) // 2
        else:
            out, before = (size - k) // s + 1, 0
        starts = [o * s - before for o in range(out)]
        per_axis.append([[a for a in range(t, t + k) if 0 <= a < size] for t in starts])
    out_shape = tuple(len(a) for a in per_axis)
    for position in itertools.product(*[range(n) for n in out_shape]):
        cells = list(itertools.product(*[per_axis[a][o] for a, o in enumerate(position)]))
        yield out_shape, position, cells


def _pool_ref(mode):
    def ref(x, spec):
        _, same, pool, strides = _decode(spec)
        y = None
        for out_shape, position, cells in _windows(x.shape[1:-1], pool, strides, same):
            if y is None:
                y = np.zeros((x.shape[0],) + out_shape + (x.shape[-1],))
            window = np.stack([x[(slice(None),) + c] for c in cells])     # (cells, N, C)
            y[(slice(None),) + position] = window.max(0) if mode == "max" else window.mean(0)
        return y
    return ref


def _vjp_ref(mode):
    """dL/dx for dL/dy = g: max sends g to the first maximum of each window, average
    spreads it evenly over the window's real cells."""
    def ref(x, g, spec):
        _, same, pool, strides = _decode(spec)
        dx = np.zeros_like(x)
        for _, position, cells in _windows(x.shape[1:-1], pool, strides, same):
            for n in range(x.shape[0]):
                for c in range(x.shape[-1]):
                    gy = g[(n,) + position + (c,)]
                    if mode == "max":
                        best = max(cells, key=lambda cell: x[(n,) + cell + (c,)])
                        dx[(n,) + best + (c,)] += gy
                    else:
                        for cell in cells:
                            dx[(n,) + cell + (c,)] += gy / len(cells)
        return dx
    return ref


def _first_to_last(ref):
    """A channels_last reference applied to channels_first arrays."""
    def wrapped(x, spec):
        last = np.moveaxis(x, 1, -1)
        return np.moveaxis(ref(last, spec), -1, 1)
    return wrapped


# ----------------------------------------------------------------------------- cases
def _pool_draw(channels_first=False):
    def draw(d):
        spec, shape = _draw_spec(d)
        x = distinct(d, shape, -4.0, 4.0, spacing=0.05)
        if channels_first:
            x = np.ascontiguousarray(np.moveaxis(x, -1, 1))
        return [x, spec]
    return draw


def _vjp_draw(d):
    spec, shape = _draw_spec(d)
    x = distinct(d, shape, -4.0, 4.0, spacing=0.05)
    y_shape = _pool_ref("max")(x, spec).shape
    seed = d(st.integers(0, 2**32 - 1))
    return [x, np.random.default_rng(seed).uniform(-1, 1, size=y_shape), spec]


def _gather_ref(x, h, spec):
    """h read at each window's maximum of x (the cells the max pooling of x chose)."""
    _, same, pool, strides = _decode(spec)
    z = None
    for out_shape, position, cells in _windows(x.shape[1:-1], pool, strides, same):
        if z is None:
            z = np.zeros((x.shape[0],) + out_shape + (x.shape[-1],))
        for n in range(x.shape[0]):
            for c in range(x.shape[-1]):
                best = max(cells, key=lambda cell: x[(n,) + cell + (c,)])
                z[(n,) + position + (c,)] = h[(n,) + best + (c,)]
    return z


def _gather_fn(x, h, spec):
    """MaxPoolGather on its own: the argmax comes from a max pooling of x (not recorded), the
    values gathered are h's, so the gradient check reaches the gather's backward."""
    _, same, pool, strides = _decode(spec)
    padding = "same" if same else "valid"
    pooling = MaxPool(pool, strides, padding)
    pooling.forward(x.data)
    return MaxPoolGather(pooling.argmax, pool, strides, padding)(h)


def _gather_draw(d):
    spec, shape = _draw_spec(d)
    x = distinct(d, shape, -4.0, 4.0, spacing=0.05)
    seed = d(st.integers(0, 2**32 - 1))
    return [x, np.random.default_rng(seed).uniform(-1, 1, size=shape), spec]


def _pool_fn(op, data_format=None):
    def fn(x, spec):
        return op(x, data_format=data_format, **_call_args(spec))
    return fn


def _vjp_fn(op):
    """dL/dx of op at x for dL/dy = g, from a tape: linear in g, through the backward
    Functions (so the gradient check tests their backward, and order 2 theirs in turn)."""
    def fn(x, g, spec):
        with GradientTape() as tape:
            tape.watch(x)
            y = op(x, **_call_args(spec))
        return tape.gradient(y, x, output_gradients=g)
    return fn


CASES = [
    Case("max_pool", _pool_fn(ops.max_pool), _pool_ref("max"), _pool_draw(), ("MaxPool",),
         second=True),
    Case("average_pool", _pool_fn(ops.average_pool), _pool_ref("average"), _pool_draw(),
         ("AveragePool",), second=True),
    Case("max_pool_channels_first", _pool_fn(ops.max_pool, "channels_first"),
         _first_to_last(_pool_ref("max")), _pool_draw(channels_first=True), ("MaxPool",),
         ops=()),
    Case("average_pool_channels_first", _pool_fn(ops.average_pool, "channels_first"),
         _first_to_last(_pool_ref("average")), _pool_draw(channels_first=True),
         ("AveragePool",), ops=()),
    Case("max_pool_vjp", _vjp_fn(ops.max_pool), _vjp_ref("max"), _vjp_draw,
         ("MaxPool", "MaxPoolScatter"), ops=(), second=True,
         notes="the scatter to the window maxima (linear in g, so its second derivative "
               "never reaches the gather's backward: max_pool_gather covers that)"),
    Case("max_pool_gather", _gather_fn, _gather_ref, _gather_draw, ("MaxPoolGather",),
         ops=(), notes="the gather alone: its backward is the scatter"),
    Case("average_pool_vjp", _vjp_fn(ops.average_pool), _vjp_ref("average"), _vjp_draw,
         ("AveragePool", "AveragePoolTranspose"), ops=(), second=True),
]
