"""Shape ops: they move or copy values without changing them, so their backward moves the
gradient back to where each value came from.

A value that was copied several times (``broadcast_to``, ``tile``, ``repeat``) gets the
**sum** of the gradients of its copies; a value that was moved (``transpose``, ``flip``)
gets its gradient moved back; a value that was dropped (the pieces of ``split`` nobody used)
gets zero. ``reshape``, ``broadcast_to`` and ``sum`` live in :mod:`.core` (each is the
derivative of another); indexing (``x[...]``, ``take``, ``where``) in :mod:`.indexing`.
"""
import numpy as np

from .. import backend
from ..autograd import Function, OpError
from ..tensor import Tensor
from .core import _ints, cast, check_axis, constant, convert_to_tensor, reshape
from .core import sum as _sum
from .indexing import ScatterAdd, getitem, take

__all__ = ["transpose", "moveaxis", "swapaxes", "expand_dims",
           "squeeze", "concatenate", "stack", "split", "tile", "repeat", "pad", "flip"]




def _like(g, x):
    """The gradient ``g`` in the dtype of the float input ``x`` it belongs to (inputs of
    mixed dtypes were promoted in the forward pass)."""
    if g.dtype != x.dtype and x.dtype.kind in "fc":
        return cast(g, x.dtype)
    return g


# --------------------------------------------------------------------------- reshape, broadcast


def expand_dims(x, axis):
    """``x`` with new axes of size 1 inserted at ``axis`` (an int or a tuple; the positions
    are those of the result). A reshape, so its gradient is a reshape back."""
    x = convert_to_tensor(x)
    count = 1 if isinstance(axis, (int, np.integer)) else len(tuple(axis))
    axes = check_axis(axis, x.ndim + count, "expand_dims")
    dims = iter(x.shape)
    return reshape(x, tuple(1 if i in axes else next(dims) for i in range(x.ndim + count)))


def squeeze(x, axis=None):
    """``x`` without its axes of size 1 (only those in ``axis`` when it is given)."""
    x = convert_to_tensor(x)
    if axis is None:
        axes = tuple(i for i, n in enumerate(x.shape) if n == 1)
    else:
        axes = check_axis(axis, x.ndim, "squeeze")
        for a in axes:
            if x.shape[a] != 1:
                raise OpError(f"ops.squeeze: cannot squeeze axis {a} of a tensor of shape "
                              f"{x.shape}: its size is {x.shape[a]}, not 1.")
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in axes))


# --------------------------------------------------------------------------- permuting axes
class Transpose(Function):
    """z = x with its axes permuted: z.shape[i] = x.shape[axes[i]].
    dL/dx = dL/dz permuted by the inverse permutation.

    Rule: dL/dx = transpose(g, argsort(axes))
    """

    def __init__(self, axes):
        self.axes = axes

    def forward(self, x):
        return backend.xp.transpose(x, self.axes)

    def backward(self, g):
        return transpose(g, tuple(int(i) for i in np.argsort(self.axes)))


def transpose(x, axes=None):
    """``x`` with its axes permuted (reversed when ``axes`` is None)."""
    x = convert_to_tensor(x)
    if axes is None:
        axes = tuple(reversed(range(x.ndim)))
    else:
        given = _ints(axes, "axes", "transpose")
        axes = check_axis(given, x.ndim, "transpose") if x.ndim else given
        if len(axes) != x.ndim:
            raise OpError(f"ops.transpose: axes must be a permutation of the {x.ndim} axes of a "
                          f"tensor of shape {x.shape}; got {given}.")
    if axes == tuple(range(x.ndim)):
        return x
    return Transpose(axes)(x)


def moveaxis(x, source, destination):
    """``x`` with the axes ``source`` moved to the positions ``destination`` (the others
    keep their order). A transpose."""
    x = convert_to_tensor(x)
    src = check_axis(source, x.ndim, "moveaxis")
    dst = check_axis(destination, x.ndim, "moveaxis")
    if len(src) != len(dst):
        raise OpError(f"ops.moveaxis: source and destination must name as many axes; got "
                      f"{source} and {destination}.")
    order = [i for i in range(x.ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(x, order)


def swapaxes(x, axis1, axis2):
    """``x`` with axes ``axis1`` and ``axis2`` exchanged. A transpose."""
    x = convert_to_tensor(x)
    (a,) = check_axis(axis1, x.ndim, "swapaxes")
    (b,) = check_axis(axis2, x.ndim, "swapaxes")
    order = list(range(x.ndim))
    order[a], order[b] = b, a
    return transpose(x, order)


class Flip(Function):
    """z = x reversed along ``axes``.   dL/dx = dL/dz reversed along the same axes.

    Rule: dL/dx = flip(g, axes)
    """

    def __init__(self, axes):
        self.axes = axes

    def forward(self, x):
        return backend.xp.flip(x, self.axes)

    def backward(self, g):
        return Flip(self.axes)(g)


def flip(x, axis=None):
    """``x`` with the order of the elements reversed along ``axis`` (None: every axis)."""
    x = convert_to_tensor(x)
    axes = tuple(range(x.ndim)) if axis is None else check_axis(axis, x.ndim, "flip")
    return Flip(axes)(x)


# --------------------------------------------------------------------------- joining, splitting
class Concatenate(Function):
    """z = [x₁ x₂ ...] joined along ``axis``.   dL/dxₖ = the slice of dL/dz that xₖ filled
    (dL/dz split at the same offsets).

    Rule: dL/dxs[k] = split(g, at the offsets where the xs were joined, axis)[k]
    """

    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        return backend.xp.concatenate(xs, axis=self.axis)

    def backward(self, g):
        offsets = np.cumsum([x.shape[self.axis] for x in self.inputs])[:-1]
        pieces = split(g, [int(o) for o in offsets], axis=self.axis)
        return tuple(_like(p, x) for p, x in zip(pieces, self.inputs))


def concatenate(xs, axis=0):
    """The tensors ``xs`` joined along an existing ``axis`` (None: flattened first)."""
    xs = [convert_to_tensor(x) for x in xs]
    if not xs:
        raise OpError("ops.concatenate: needs at least one tensor, got an empty list.")
    if axis is None:
        xs, axis = [reshape(x, (-1,)) for x in xs], 0
    first = xs[0]
    if first.ndim == 0:
        raise OpError("ops.concatenate: cannot concatenate 0-d tensors (scalars); "
                      "use ops.stack to make a vector of them.")
    (axis,) = check_axis(axis, first.ndim, "concatenate")
    for x in xs[1:]:
        if x.ndim != first.ndim or any(a != b for i, (a, b) in enumerate(zip(x.shape, first.shape))
                                       if i != axis):
            raise OpError(f"ops.concatenate: all inputs must have the same shape except on axis "
                          f"{axis}; got {first.shape} and {x.shape}.")
    return Concatenate(axis)(*xs)


class Stack(Function):
    """z = x₁, x₂, ... stacked along a new ``axis``.   dL/dxₖ = the k-th slice of dL/dz
    along that axis.

    Rule: dL/dxs[k] = squeeze(split(g, len(xs), axis)[k], axis)
    """

    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        return backend.xp.stack(xs, axis=self.axis)

    def backward(self, g):
        pieces = split(g, len(self.inputs), axis=self.axis)
        return tuple(_like(squeeze(p, self.axis), x) for p, x in zip(pieces, self.inputs))


def stack(x, axis=0):
    """The tensors of the list ``x`` (all of one shape) stacked along a new ``axis``."""
    xs = [convert_to_tensor(t) for t in x]
    if not xs:
        raise OpError("ops.stack: needs at least one tensor, got an empty list.")
    for t in xs[1:]:
        if t.shape != xs[0].shape:
            raise OpError(f"ops.stack: all inputs must have the same shape; got {xs[0].shape} "
                          f"and {t.shape}.")
    (axis,) = check_axis(axis, xs[0].ndim + 1, "stack")
    return Stack(axis)(*xs)


class Split(Function):
    """z₁, z₂, ... = the pieces of x between the split ``indices`` along ``axis`` (one output
    per piece).   dL/dx = the pieces' gradients concatenated, zeros for a piece that
    received none.

    Rule: dL/dx = concatenate([g0, g1, ...], axis), zeros for a piece that received no gradient
    """

    def __init__(self, indices, axis):
        self.indices, self.axis = indices, axis
        self.n_outputs = len(indices) + 1

    def forward(self, x):
        bounds = [0, *self.indices, x.shape[self.axis]]
        before = (slice(None),) * self.axis              # the axes in front of ``axis``
        pieces = [x[before + (slice(a, b),)] for a, b in zip(bounds, bounds[1:])]
        self.shapes = [p.shape for p in pieces]
        return pieces[0] if self.n_outputs == 1 else tuple(pieces)

    def backward(self, *grads):
        dtype = self.inputs[0].dtype
        grads = [constant(backend.xp.zeros(s, dtype=dtype)) if g is None else g
                 for g, s in zip(grads, self.shapes)]
        return grads[0] if len(grads) == 1 else concatenate(grads, axis=self.axis)


def split(x, indices_or_sections, axis=0):
    """A list of pieces of ``x`` along ``axis``: ``indices_or_sections`` is a number of equal
    pieces, or the sorted indices where to cut."""
    x = convert_to_tensor(x)
    (axis,) = check_axis(axis, x.ndim, "split")
    n = x.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0 or n % sections:
            raise OpError(f"ops.split: cannot split axis {axis} of size {n} (shape {x.shape}) "
                          f"into {sections} equal sections.")
        indices = [n // sections * k for k in range(1, sections)]
    else:
        given = _ints(indices_or_sections, "indices_or_sections", "split")
        indices = [min(max(i + n if i < 0 else i, 0), n) for i in given]   # as NumPy slices
        if indices != sorted(indices):
            raise OpError(f"ops.split: the split indices must be in increasing order, got "
                          f"{list(given)} for axis {axis} of size {n}.")
    out = Split(indices, axis)(x)
    return [out] if isinstance(out, Tensor) else list(out)


# --------------------------------------------------------------------------- copying
class Tile(Function):
    """z = x repeated ``reps[i]`` times along axis i (the whole block, as np.tile).
    dL/dx = dL/dz cut into its copies of x and summed over the copies.

    Rule: dL/dx = g cut into its reps copies of x, summed over the copies
    """

    def __init__(self, reps):
        self.reps = reps

    def forward(self, x):
        return backend.xp.tile(x, self.reps)

    def backward(self, g):
        x = self.inputs[0]
        d = g.ndim
        sides = (1,) * (d - x.ndim) + x.shape
        reps = (1,) * (d - len(self.reps)) + self.reps
        split_shape = tuple(n for pair in zip(reps, sides) for n in pair)   # (r0, s0, r1, s1...)
        g = _sum(reshape(g, split_shape), axis=tuple(range(0, 2 * d, 2)))
        return reshape(g, x.shape)


def tile(x, repeats):
    """``x`` repeated as a block ``repeats[i]`` times along axis i."""
    x = convert_to_tensor(x)
    reps = _ints(repeats, "repeats", "tile")
    if any(r < 0 for r in reps):
        raise OpError(f"ops.tile: repeats must not be negative, got {reps}.")
    return Tile(reps)(x)


class Repeat(Function):
    """z = each element of x repeated ``repeats`` times along ``axis`` (as np.repeat).
    dL/dx = dL/dz summed over the copies of each element.

    Rule: dL/dx = g summed over the copies of each element
    """

    def __init__(self, repeats, axis):
        self.repeats, self.axis = repeats, axis

    def forward(self, x):
        reps = self.repeats[0] if len(self.repeats) == 1 else list(self.repeats)
        return backend.xp.repeat(x, reps, axis=self.axis)

    def backward(self, g):
        x, a = self.inputs[0], self.axis
        if len(self.repeats) == 1:       # every element copied r times: sum over the copies
            r = self.repeats[0]
            g = reshape(g, x.shape[:a] + (x.shape[a], r) + x.shape[a + 1:])
            return _sum(g, axis=a + 1)
        source = np.repeat(np.arange(x.shape[a]), self.repeats)   # input index of each copy
        key = (slice(None),) * a + (backend.xp.asarray(source),)
        return ScatterAdd(key, x.shape)(g)


def repeat(x, repeats, axis=None):
    """Each element of ``x`` repeated ``repeats`` times (an int, or one count per element)
    along ``axis`` (None: of the flattened tensor)."""
    x = convert_to_tensor(x)
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    (axis,) = check_axis(axis, x.ndim, "repeat")
    reps = _ints(repeats.numpy() if hasattr(repeats, "numpy") else repeats, "repeats", "repeat")
    if len(reps) not in (1, x.shape[axis]):
        raise OpError(f"ops.repeat: repeats must be one int or one count per element along axis "
                      f"{axis} ({x.shape[axis]}), got {len(reps)} counts.")
    if any(r < 0 for r in reps):
        raise OpError(f"ops.repeat: repeats must not be negative, got {reps}.")
    return Repeat(reps, axis)(x)


# --------------------------------------------------------------------------- padding
class Pad(Function):
    """z = x surrounded by ``value``, ``pads[i] = (before, after)`` along axis i.
    dL/dx = the middle of dL/dz, where x was placed.

    Rule: dL/dx = g[the middle, where x was placed]
    """

    def __init__(self, pads, value):
        self.pads, self.value = pads, value

    def forward(self, x):
        return backend.xp.pad(x, self.pads, mode="constant", constant_values=self.value)

    def backward(self, g):
        x = self.inputs[0]
        return getitem(g, tuple(slice(b, b + n) for (b, _), n in zip(self.pads, x.shape)))


_INDEX_MODES = {"edge": "edge", "reflect": "reflect", "symmetric": "symmetric", "wrap": "wrap",
                "circular": "wrap"}


def _pairs(pad_width, ndim):
    """``pad_width`` in NumPy's forms (n, (b, a), ((b0, a0), (b1, a1), ...)) as one
    (before, after) pair per axis."""
    try:
        arr = np.asarray(pad_width.numpy() if hasattr(pad_width, "numpy") else pad_width)
        if arr.dtype.kind not in "iu":
            raise ValueError
        if arr.size == 1:
            arr = np.full((ndim, 2), arr.reshape(()))
        elif arr.shape in ((2,), (1, 2)):
            arr = np.broadcast_to(arr.reshape(1, 2), (ndim, 2))
        arr = np.broadcast_to(arr, (ndim, 2))
    except ValueError:
        raise OpError(f"ops.pad: pad_width must be an int, a (before, after) pair or one pair "
                      f"per axis for a tensor of rank {ndim}; got {pad_width!r}.") from None
    if (arr < 0).any():
        raise OpError(f"ops.pad: pad_width must not be negative, got {arr.tolist()}.")
    return tuple((int(b), int(a)) for b, a in arr)


def pad(x, pad_width, mode="constant", constant_values=None):
    """``x`` padded with ``pad_width[i] = (before, after)`` elements along axis i.

    ``mode="constant"`` fills with ``constant_values`` (default 0); ``"edge"``, ``"reflect"``,
    ``"symmetric"`` and ``"wrap"``/``"circular"`` copy elements of x, as np.pad does.
    """
    x = convert_to_tensor(x)
    pads = _pairs(pad_width, x.ndim)
    if mode not in _INDEX_MODES and mode != "constant":
        raise OpError(f"ops.pad: mode must be one of 'constant', "
                      f"{', '.join(repr(m) for m in _INDEX_MODES)}; got {mode!r}.")
    if mode != "constant" and constant_values is not None:
        raise OpError(f"ops.pad: constant_values is only used with mode='constant', "
                      f"got mode={mode!r}.")
    if not any(b or a for b, a in pads):      # nothing to add (a 0-d tensor has no axes)
        return x
    if mode == "constant":
        return Pad(pads, 0 if constant_values is None else constant_values)(x)
    for axis, (b, a) in enumerate(pads):   # each mode is a map of indices along each axis
        if b or a:
            if x.shape[axis] == 0:
                raise OpError(f"ops.pad: cannot pad the empty axis {axis} of a tensor of shape "
                              f"{x.shape} in mode {mode!r}.")
            source = np.pad(np.arange(x.shape[axis]), (b, a), mode=_INDEX_MODES[mode])
            x = take(x, backend.xp.asarray(source), axis=axis)
    return x
