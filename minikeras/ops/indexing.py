"""Indexing: ``x[key]``, ``take``, ``take_along_axis``, ``where`` and ``nonzero``.

Reading elements out of a tensor is a *gather*; its gradient puts each output gradient back
where the element came from, a *scatter-add*: ``zeros(x.shape)`` with the gradient **added**
at ``[key]``. Added, not assigned: ``x[[0, 0, 1]]`` reads ``x[0]`` twice, so ``x[0]`` gets
the sum of two gradients. The two are each other's backward, which is why both are
Functions here: the gradient of a gradient of ``x[key]`` is again ``x[key]``.

``take`` and ``take_along_axis`` build an index key and reuse :class:`GetItem`, so every
gather in minikeras has the same (tested) backward.
"""
import numpy as np

from .. import backend
from ..autograd import Function, OpError
from ..tensor import Tensor
from .core import check_axis, constant, convert_to_tensor, reshape, unbroadcast

__all__ = ["getitem", "take", "take_along_axis", "where", "nonzero"]


class IndexOpError(OpError, IndexError):
    """An index out of range or of the wrong kind. It is an OpError like every op error,
    and an IndexError, which is what Python code expects from ``x[key]``."""


def _index_array(value, opname, what="indices"):
    """A Tensor, list or array used as an index, as a backend array of ints or bools."""
    if isinstance(value, Tensor):
        arr = value.data
    elif backend.is_device_array(value):
        arr = value
    else:
        arr = np.asarray(value)
        if arr.size == 0 and arr.dtype.kind == "f":   # [] is an empty list of indices
            arr = arr.astype(np.int64)
        arr = backend.xp.asarray(arr)
    if arr.dtype.kind not in "iub":
        raise IndexOpError(f"ops.{opname}: {what} must be integers (or booleans), got dtype "
                           f"{arr.dtype}.")
    return arr


def _normalize_key(key):
    """``key`` as a tuple of ints, slices, None, Ellipsis and index arrays."""
    out = []
    for k in key if isinstance(key, tuple) else (key,):
        if k is None or k is Ellipsis or isinstance(k, (slice, bool, np.bool_)):
            out.append(k)
        elif isinstance(k, (int, np.integer)):
            out.append(int(k))
        elif isinstance(k, (Tensor, list, tuple, np.ndarray)) or backend.is_device_array(k):
            out.append(_index_array(k, "getitem", "an index array"))
        else:
            raise IndexOpError(f"ops.getitem: only integers, slices (:), None, Ellipsis (...) "
                               f"and integer or boolean arrays are valid indices; got "
                               f"{type(k).__name__} {k!r}.")
    return tuple(out)


def _check_bounds(indices, n, where, opname):
    """An IndexOpError if an index is outside [-n, n) (``where``: "axis 1", ...)."""
    if indices.size and indices.dtype.kind in "iu":
        low, high = int(indices.min()), int(indices.max())
        if low < -n or high >= n:
            bad = low if low < -n else high
            raise IndexOpError(f"ops.{opname}: index {bad} is out of bounds for {where} of size "
                               f"{n} (valid indices: {-n} to {n - 1}).")


# --------------------------------------------------------------------------- gather, scatter
def _picks_rows(key, ndim):
    """True for ``x[ids]`` and ``x[ids, :, ...]`` with integer ``ids`` (not 0-d): whole rows
    of an ``ndim``-D x, the case the kernel table's embedding gather and scatter-add run."""
    first = key[0] if key else None
    return (0 < len(key) <= ndim and getattr(first, "ndim", 0) > 0
            and first.dtype.kind in "iu"
            and all(isinstance(k, slice) and k == slice(None) for k in key[1:]))


class GetItem(Function):
    """z = x[key] (basic slicing, integers, None, ..., boolean masks, integer arrays).
    dL/dx = zeros like x with dL/dz added at [key] (:class:`ScatterAdd`).

    Rule: dL/dx = ScatterAdd(key, x.shape)(g)
    """

    def __init__(self, key):
        self.key = key

    def forward(self, x):
        if _picks_rows(self.key, x.ndim):
            # x[ids] of whole rows (an embedding lookup): the kernel table's gather.
            return backend.kernels.embedding_gather(x, self.key[0])
        return backend.xp.asarray(x[self.key])

    def backward(self, g):
        return ScatterAdd(self.key, self.inputs[0].shape)(g)


class ScatterAdd(Function):
    """z = zeros(shape) with g added at z[key]; where ``key`` picks a position several times
    the values add up.   dL/dg = dL/dz[key] (:class:`GetItem`, the gather).

    Rule: dL/dg = h[key]
    """

    def __init__(self, key, shape):
        self.key, self.shape = key, tuple(shape)
        # Only integer arrays can pick a position twice; slices, ints and masks cannot, and
        # then a plain assignment is much faster than np.add.at.
        self.repeats = any(getattr(k, "ndim", 0) > 0 and k.dtype.kind in "iu" for k in key)
        # x[rows] and take(x, rows, axis=0) (an embedding lookup) pick whole rows.
        self.rows = self.repeats and _picks_rows(key, len(self.shape))

    def forward(self, g):
        if self.rows:
            # Rows added at their ids: the kernel table's scatter-add (atomics on a GPU).
            return backend.kernels.embedding_scatter_add(g, self.key[0], self.shape[0])
        xp = backend.xp
        out = xp.zeros(self.shape, dtype=g.dtype)
        if not self.repeats:
            out[self.key] = g
        else:
            xp.add.at(out, self.key, g)
        return out

    def backward(self, g):
        return GetItem(self.key)(g)


def getitem(x, key):
    """``x[key]``, NumPy's indexing rules, differentiable (``Tensor.__getitem__`` calls it)."""
    x = convert_to_tensor(x)
    key = _normalize_key(key)
    try:
        return GetItem(key)(x)
    except IndexError as e:
        if isinstance(e, OpError):
            raise
        raise IndexOpError(f"ops.getitem: {str(e).strip()} (indexing a tensor of shape "
                           f"{x.shape}).") from None


def take(x, indices, axis=None):
    """The elements of ``x`` at ``indices`` along ``axis`` (None: of the flattened tensor):
    ``x[..., indices, ...]`` with the indices in position ``axis``. Indices may repeat."""
    x = convert_to_tensor(x)
    idx = _index_array(indices, "take")
    if idx.dtype.kind == "b":
        raise IndexOpError(f"ops.take: indices must be integers, got dtype {idx.dtype}.")
    if axis is None or x.ndim == 0:
        x, axis, where = reshape(x, (-1,)), 0, "the flattened tensor"
    else:
        (axis,) = check_axis(axis, x.ndim, "take")
        where = f"axis {axis}"
    _check_bounds(idx, x.shape[axis], where, "take")
    return GetItem((slice(None),) * axis + (idx,))(x)


def take_along_axis(x, indices, axis=None):
    """``out[..., i, ...] = x[..., indices[..., i, ...], ...]`` along ``axis``: ``indices``
    has the rank of ``x`` and broadcasts against it on the other axes (as the result of
    argsort or argmax with keepdims). axis=None works on the flattened tensor."""
    x = convert_to_tensor(x)
    idx = _index_array(indices, "take_along_axis")
    if idx.dtype.kind == "b":
        raise IndexOpError(f"ops.take_along_axis: indices must be integers, got dtype {idx.dtype}.")
    where = "the flattened tensor" if axis is None else None
    if axis is None:
        if idx.ndim != 1:
            raise OpError(f"ops.take_along_axis: with axis=None the indices index the flattened "
                          f"tensor and must be 1-D; got indices of shape {tuple(idx.shape)}.")
        x, axis = reshape(x, (-1,)), 0
    (axis,) = check_axis(axis, x.ndim, "take_along_axis")
    if idx.ndim != x.ndim:
        raise OpError(f"ops.take_along_axis: indices must have the rank of x ({x.ndim}); got "
                      f"indices of shape {tuple(idx.shape)} for x of shape {x.shape}.")
    for i, (a, b) in enumerate(zip(x.shape, idx.shape)):
        if i != axis and a != b and 1 not in (a, b):
            raise OpError(f"ops.take_along_axis: indices of shape {tuple(idx.shape)} do not "
                          f"broadcast against x of shape {x.shape} on axis {i} (only axis "
                          f"{axis} may differ).")
    _check_bounds(idx, x.shape[axis], where or f"axis {axis}", "take_along_axis")
    xp, ndim = backend.xp, x.ndim
    key = tuple(idx if i == axis else xp.arange(n).reshape((1,) * i + (n,) + (1,) * (ndim - i - 1))
                for i, n in enumerate(x.shape))   # the other axes index themselves
    return GetItem(key)(x)


# --------------------------------------------------------------------------- where, nonzero
class Where(Function):
    """z = x1 where ``condition`` is true, x2 elsewhere (all three broadcast).
    dL/dx1 = dL/dz where condition, 0 elsewhere; dL/dx2 = dL/dz where not condition
    (each summed back to its input's shape). The condition gets no gradient.

    Rule: dL/dx1 = unbroadcast(g · [condition], x1); dL/dx2 = unbroadcast(g · [not condition], x2); dL/dcondition = none
    """

    def forward(self, x1, x2, condition):
        return backend.xp.where(condition, x1, x2)

    def backward(self, g):
        x1, x2, condition = self.inputs
        n1, n2, _ = self.needs_grad
        chosen = condition.data.astype(bool)
        g1 = unbroadcast(g * constant(chosen.astype(g.dtype)), x1) if n1 else None
        g2 = unbroadcast(g * constant((~chosen).astype(g.dtype)), x2) if n2 else None
        return g1, g2, None


def where(condition, x1=None, x2=None):
    """Elements of ``x1`` where ``condition`` is true and of ``x2`` elsewhere. With neither
    x1 nor x2, the indices of the true elements (as :func:`nonzero`)."""
    if x1 is None and x2 is None:
        return nonzero(condition)
    if x1 is None or x2 is None:
        raise OpError("ops.where: give both x1 and x2 (elements to choose from), or neither "
                      "(to get the indices where the condition is true); got only one.")
    # Python numbers are left for the call to convert: they take the dtype of the tensor.
    x1, x2 = (a if isinstance(a, (int, float, bool, Tensor)) else convert_to_tensor(a)
              for a in (x1, x2))
    return Where()(x1, x2, convert_to_tensor(condition))


class Nonzero(Function):
    """The indices of the nonzero elements, one int32 vector per axis. Not differentiable."""

    differentiable = False

    def __init__(self, ndim):
        self.n_outputs = ndim

    def forward(self, x):
        found = tuple(i.astype("int32") for i in backend.xp.nonzero(x))
        return found[0] if self.n_outputs == 1 else found


def nonzero(x):
    """A tuple with, for each axis, the indices of the nonzero elements of ``x`` on it."""
    x = convert_to_tensor(x)
    if x.ndim == 0:
        raise OpError("ops.nonzero: needs a tensor of rank 1 or more, got a 0-d tensor "
                      "(a scalar); reshape it to (1,) first.")
    out = Nonzero(x.ndim)(x)
    return (out,) if isinstance(out, Tensor) else tuple(out)
