"""Cases for minikeras/ops/shapes.py, minikeras/ops/indexing.py and the reshape and
broadcast_to of minikeras/ops/core.py.

As in reduction_cases, op arguments that are not tensors (axes, shapes, repeats, which
indexing key) are drawn as small int arrays that ``fn`` and ``ref`` both decode; index
arrays are drawn as int arrays, which the gradient checker passes through unchanged.
Shape ops are linear, so their second derivatives are checked under a square
(``*_squared`` cases): d²/dx² of square(op(x)) goes through the op's backward twice.
"""
import numpy as np
from hypothesis import strategies as st

from minikeras import ops
from minikeras.ops.indexing import ScatterAdd

from . import Case, axis_for, broadcastable, shapes, values
from .reduction_cases import axis_spec, ints, unspec


def _rng(d):
    return np.random.default_rng(d(st.integers(0, 2**32 - 1)))


def _x(d, min_dims=0, max_dims=3, min_side=1):
    shape = d(shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side))
    return values(d, shape)


def _neg(axes, ndim):
    """Every other axis written negative, so that both spellings are exercised."""
    return [a - ndim if i % 2 else a for i, a in enumerate(axes)]


def _indices(d, n, shape, negative=True):
    """An int64 array of ``shape`` with entries in [-n, n) (or [0, n)): repeats likely."""
    return _rng(d).integers(-n if negative else 0, n, size=shape).astype(np.int64)


def _squared(case, helpers=()):
    """The same op under a square, for a second-derivative check. ``helpers``: the Functions
    the op's backward calls; their own backward runs only at second order, so this case
    (not the first-order one) covers them."""
    fn, ref = case.fn, case.ref
    return Case(case.name + "_squared", lambda *a: ops.square(fn(*a)),
                lambda *a: np.square(ref(*a)), case.draw, case.covers + tuple(helpers), ops=(),
                grad=False, second=True)


# ----------------------------------------------------------------------------- reshaping
def _draw_reshape(d):
    x = _x(d)
    target = list(d(st.permutations(x.shape)))
    if d(st.booleans()):
        target.insert(d(st.integers(0, len(target))), 1)
    if target and d(st.booleans()):
        target[d(st.integers(0, len(target) - 1))] = -1
    return [x, np.array(target, dtype=np.int64)]


def _draw_broadcast_to(d):
    a, b = broadcastable(d)
    # a leading axis of 2 makes sure the op really broadcasts (and records a BroadcastTo)
    return [values(d, a), np.array((2,) + np.broadcast_shapes(a, b), dtype=np.int64)]


def _draw_transpose(d):
    x = _x(d)
    return [x, np.array(_neg(d(st.permutations(range(x.ndim))), x.ndim), dtype=np.int64)]


def _draw_moveaxis(d):
    x = _x(d, min_dims=1)
    k = d(st.integers(1, x.ndim))
    unique = st.lists(st.integers(0, x.ndim - 1), min_size=k, max_size=k, unique=True)
    src, dst = _neg(d(unique), x.ndim), d(unique)
    return [x, np.array([k, *src, *dst], dtype=np.int64)]


def _moveaxis_args(s):
    s = ints(s)
    k = s[0]
    return s[1:1 + k], s[1 + k:]


def _draw_swapaxes(d):
    x = _x(d, min_dims=1)
    axes = st.integers(-x.ndim, x.ndim - 1)
    return [x, np.array([d(axes), d(axes)], dtype=np.int64)]


def _draw_expand_dims(d):
    x = _x(d)
    k = d(st.integers(1, 2))
    axes = d(st.lists(st.integers(0, x.ndim + k - 1), min_size=k, max_size=k, unique=True))
    axes = _neg(axes, x.ndim + k)
    return [x, axis_spec(axes[0] if k == 1 and d(st.booleans()) else tuple(axes))]


def _draw_squeeze(d):
    shape = list(d(shapes()))
    ones = [i for i in range(len(shape)) if d(st.booleans())]
    for i in ones:
        shape[i] = 1
    x = values(d, tuple(shape))
    if not ones or d(st.booleans()):
        return [x, axis_spec(None)]
    picked = d(st.lists(st.sampled_from(ones), min_size=1, unique=True))
    return [x, axis_spec(picked[0] if len(picked) == 1 else tuple(_neg(picked, x.ndim)))]


def _draw_flip(d):
    x = _x(d)
    return [x, axis_spec(axis_for(d, x.ndim))]


# ----------------------------------------------------------------------------- joining
def _draw_concatenate(d):
    base = list(d(shapes(min_dims=1)))
    axis = d(st.integers(-len(base), len(base) - 1))
    xs = []
    for _ in range(d(st.integers(1, 3))):
        base[axis] = d(st.integers(1, 3))
        xs.append(values(d, tuple(base)))
    return xs + [np.array([axis], dtype=np.int64)]


def _draw_stack(d):
    shape = d(shapes(max_dims=2))
    axis = d(st.integers(-len(shape) - 1, len(shape)))
    return [values(d, shape) for _ in range(d(st.integers(1, 3)))] + [
        np.array([axis], dtype=np.int64)]


def _draw_split(d):
    x = _x(d, min_dims=1)
    axis = d(st.integers(-x.ndim, x.ndim - 1))
    n = x.shape[axis]
    if d(st.booleans()):
        sections = d(st.sampled_from([k for k in range(1, n + 1) if n % k == 0]))
        return [x, np.array([axis, 0, sections], dtype=np.int64)]
    cuts = sorted(d(st.lists(st.integers(0, n), max_size=3)))
    return [x, np.array([axis, 1, *cuts], dtype=np.int64)]


def _split_args(s):
    s = ints(s)
    return (s[2] if s[1] == 0 else list(s[2:])), s[0]


def _split_fn(x, s):
    """The even pieces, scaled: the odd pieces get no gradient at all (None in backward)."""
    sections, axis = _split_args(s)
    pieces = ops.split(x, sections, axis=axis)
    return ops.concatenate([p * (k + 1.0) for k, p in enumerate(pieces) if k % 2 == 0], axis)


def _split_ref(x, s):
    sections, axis = _split_args(s)
    pieces = np.split(x, sections, axis=axis)
    return np.concatenate([p * (k + 1.0) for k, p in enumerate(pieces) if k % 2 == 0], axis)


# ----------------------------------------------------------------------------- copying
def _draw_tile(d):
    x = _x(d)
    reps = d(st.lists(st.integers(0, 3) if d(st.booleans()) else st.integers(1, 3),
                      min_size=1, max_size=x.ndim + 1))
    return [x, np.array(reps, dtype=np.int64)]


def _draw_repeat(d):
    x = _x(d, max_dims=2)
    axis = None if d(st.booleans()) or x.ndim == 0 else d(st.integers(-x.ndim, x.ndim - 1))
    n = x.size if axis is None else x.shape[axis]
    reps = [d(st.integers(1, 3))] if d(st.booleans()) else d(
        st.lists(st.integers(0, 3), min_size=n, max_size=n))
    return [x, np.array([axis is not None, axis or 0, len(reps) == 1, *reps], dtype=np.int64)]


def _repeat_args(s):
    has_axis, axis, single, *reps = ints(s)
    return (reps[0] if single else reps), (axis if has_axis else None)


_PAD_MODES = ["constant", "edge", "reflect", "symmetric", "wrap", "circular"]


def _draw_pad(d, modes=False):
    x = _x(d, min_dims=1)
    pairs = [d(st.integers(0, 2)) for _ in range(2 * x.ndim)]
    mode = d(st.integers(1, len(_PAD_MODES) - 1)) if modes else 0
    return [x, np.array([mode, *pairs], dtype=np.int64)]


def _pad_args(s):
    mode, *pairs = ints(s)
    return np.array(pairs, dtype=np.int64).reshape(-1, 2).tolist(), _PAD_MODES[mode]


def _pad_ref(x, s):
    pairs, mode = _pad_args(s)
    return np.pad(x, pairs, mode="wrap" if mode == "circular" else mode)


# ----------------------------------------------------------------------------- indexing
def _draw_take(d):
    x = _x(d)
    axis = None if x.ndim == 0 or d(st.booleans()) else d(st.integers(-x.ndim, x.ndim - 1))
    n = x.size if axis is None else x.shape[axis]
    idx = _indices(d, n, d(shapes(max_dims=2)))
    return [x, idx, axis_spec(axis)]


def _draw_take_along_axis(d):
    x = _x(d, min_dims=1)
    if d(st.booleans()):
        return [x, _indices(d, x.size, (d(st.integers(1, 5)),)), axis_spec(None)]
    axis = d(st.integers(-x.ndim, x.ndim - 1))
    shape = [d(st.sampled_from([n, 1] if n > 1 else [1, 2])) for n in x.shape]
    shape[axis] = d(st.integers(1, 4))
    return [x, _indices(d, x.shape[axis], tuple(shape)), axis_spec(axis)]


_BASIC_KEYS = [
    (slice(1, None), slice(None, None, -2)),
    (Ellipsis, 0),
    (None, 1, Ellipsis, None),
    0,
    (-1, slice(None), None),
    (slice(None, None, 2), Ellipsis, slice(1, 2)),
    (slice(-1, None), -2),
    (),
]


def _draw_basic(d):
    return [_x(d, min_dims=2, min_side=2), np.array([d(st.integers(0, len(_BASIC_KEYS) - 1))])]


def _draw_fancy(d):
    """x of rank 3 and two index arrays (for axes 0 and 2) that broadcast together, plus
    which key to build from them."""
    x = _x(d, min_dims=3, max_dims=3)
    shape = d(shapes(max_dims=2))
    return [x, _indices(d, x.shape[0], shape), _indices(d, x.shape[2], shape[-1:]),
            np.array([d(st.integers(0, len(_FANCY_KEYS) - 1))])]


_FANCY_KEYS = [
    lambda i, j: i,                                   # x[i]
    lambda i, j: (i, slice(1, None)),                 # x[i, 1:]
    lambda i, j: (Ellipsis, j),                       # x[..., j]
    lambda i, j: (i, slice(None), j),                 # separated arrays: their axes go first
    lambda i, j: (slice(None, 1), None, Ellipsis, j),
]


def _draw_mask(d):
    x = _x(d, min_dims=1)
    k = d(st.integers(1, x.ndim))
    return [x, _rng(d).random(x.shape[:k]) < 0.5]


def _draw_scatter(d):
    g = _x(d, min_dims=1)
    return [g, _indices(d, 4, g.shape[:1], negative=False)]


def _scatter_ref(g, idx):
    out = np.zeros((4,) + g.shape[1:])
    np.add.at(out, idx, g)
    return out


def _draw_where(d):
    sc, sa, sb = broadcastable(d, num=3)
    return [_rng(d).random(sc) < 0.5, values(d, sa), values(d, sb)]


def _draw_condition(d):
    return [_rng(d).random(d(shapes(min_dims=1))) < 0.5]


def _draw_where_scalar(d):
    condition = _draw_condition(d)[0]
    return [condition, values(d, condition.shape)]


# ----------------------------------------------------------------------------- the cases
CASES = [
    Case("reshape", lambda x, s: ops.reshape(x, ints(s)), lambda x, s: np.reshape(x, ints(s)),
         _draw_reshape, ("Reshape",)),
    Case("broadcast_to", lambda x, s: ops.broadcast_to(x, ints(s)),
         lambda x, s: np.broadcast_to(x, ints(s)), _draw_broadcast_to, ("BroadcastTo",)),
    Case("transpose", lambda x, s: ops.transpose(x, ints(s)),
         lambda x, s: np.transpose(x, ints(s)), _draw_transpose, ("Transpose",)),
    Case("transpose_default", lambda x: x.T, lambda x: x.T, lambda d: [_x(d)], ("Transpose",),
         ops=("transpose",)),
    Case("moveaxis", lambda x, s: ops.moveaxis(x, *_moveaxis_args(s)),
         lambda x, s: np.moveaxis(x, *_moveaxis_args(s)), _draw_moveaxis, ("Transpose",)),
    Case("swapaxes", lambda x, s: ops.swapaxes(x, *ints(s)),
         lambda x, s: np.swapaxes(x, *ints(s)), _draw_swapaxes, ("Transpose",)),
    Case("expand_dims", lambda x, s: ops.expand_dims(x, unspec(s)[0]),
         lambda x, s: np.expand_dims(x, unspec(s)[0]), _draw_expand_dims, ("Reshape",)),
    Case("squeeze", lambda x, s: ops.squeeze(x, unspec(s)[0]),
         lambda x, s: np.squeeze(x, unspec(s)[0]), _draw_squeeze, ("Reshape",)),
    Case("flip", lambda x, s: ops.flip(x, unspec(s)[0]), lambda x, s: np.flip(x, unspec(s)[0]),
         _draw_flip, ("Flip",)),
    Case("concatenate", lambda *a: ops.concatenate(a[:-1], axis=ints(a[-1])[0]),
         lambda *a: np.concatenate(a[:-1], axis=ints(a[-1])[0]), _draw_concatenate,
         ("Concatenate",)),
    Case("stack", lambda *a: ops.stack(a[:-1], axis=ints(a[-1])[0]),
         lambda *a: np.stack(a[:-1], axis=ints(a[-1])[0]), _draw_stack, ("Stack",)),
    Case("split", _split_fn, _split_ref, _draw_split, ("Split", "Concatenate")),
    Case("tile", lambda x, s: ops.tile(x, ints(s)), lambda x, s: np.tile(x, ints(s)),
         _draw_tile, ("Tile",)),
    Case("repeat", lambda x, s: ops.repeat(x, *_repeat_args(s)),
         lambda x, s: np.repeat(x, *_repeat_args(s)), _draw_repeat, ("Repeat",)),
    Case("pad", lambda x, s: ops.pad(x, _pad_args(s)[0]), _pad_ref, _draw_pad, ("Pad",)),
    Case("pad_value", lambda x: ops.pad(x, 1, constant_values=1.5),
         lambda x: np.pad(x, 1, constant_values=1.5), lambda d: [_x(d)], ("Pad",), ops=()),
    Case("pad_modes", lambda x, s: ops.pad(x, *_pad_args(s)), _pad_ref,
         lambda d: _draw_pad(d, modes=True), ("GetItem",), ops=()),
    Case("take", lambda x, i, s: ops.take(x, i, axis=unspec(s)[0]),
         lambda x, i, s: np.take(x, i, axis=unspec(s)[0]), _draw_take,
         ("GetItem",)),
    Case("take_along_axis", lambda x, i, s: ops.take_along_axis(x, i, axis=unspec(s)[0]),
         lambda x, i, s: np.take_along_axis(x, i, axis=unspec(s)[0]), _draw_take_along_axis,
         ("GetItem",)),
    Case("getitem", lambda x, k: x[_BASIC_KEYS[int(k[0])]],
         lambda x, k: x[_BASIC_KEYS[int(k[0])]], _draw_basic, ("GetItem",)),
    Case("getitem_fancy", lambda x, i, j, k: x[_FANCY_KEYS[int(k[0])](i, j)],
         lambda x, i, j, k: x[_FANCY_KEYS[int(k[0])](i, j)], _draw_fancy,
         ("GetItem",), ops=()),
    Case("getitem_list", lambda x: x[[0, -1, 0, ops.convert_to_tensor(-1)]],
         lambda x: x[[0, -1, 0, -1]], lambda d: [_x(d, min_dims=1)], ("GetItem",),
         ops=()),
    Case("getitem_mask", lambda x, m: x[m], lambda x, m: x[m], _draw_mask,
         ("GetItem",), ops=()),
    Case("scatter_add", lambda g, i: ScatterAdd((i.data,), (4,) + g.shape[1:])(g), _scatter_ref,
         _draw_scatter, ("ScatterAdd",), ops=()),
    Case("where", ops.where, np.where, _draw_where, ("Where",)),
    Case("where_scalar", lambda c, x: ops.where(c, x, 0.5), lambda c, x: np.where(c, x, 0.5),
         _draw_where_scalar, ("Where",), ops=()),
    Case("where_indices", lambda c: ops.stack(ops.where(c)), lambda c: np.stack(np.nonzero(c)),
         _draw_condition, ("Nonzero", "Stack"), ops=(), grad=False),
    Case("nonzero", lambda c: ops.stack(ops.nonzero(c)), lambda c: np.stack(np.nonzero(c)),
         _draw_condition, ("Nonzero", "Stack"), grad=False),
]

_BY_NAME = {c.name: c for c in CASES}
# the Functions each op's backward calls, covered by its *_squared case
_BACKWARD_HELPERS = {"concatenate": ("Split",), "stack": ("Split",), "repeat": ("ScatterAdd",),
                     "pad_modes": ("ScatterAdd",), "take": ("ScatterAdd",),
                     "take_along_axis": ("ScatterAdd",), "getitem": ("ScatterAdd",),
                     "getitem_fancy": ("ScatterAdd",), "scatter_add": ("GetItem",)}
CASES += [_squared(_BY_NAME[name], _BACKWARD_HELPERS.get(name, ())) for name in (
    "reshape", "transpose", "concatenate", "stack", "split", "tile", "repeat", "pad",
    "pad_modes", "take", "take_along_axis", "getitem", "getitem_fancy", "scatter_add", "where")]
