"""Reductions: sum, mean, max, ... over an axis (or all axes), with ``keepdims``.

The backward of a reduction has to undo the lost axes: the gradient of the (smaller) output
is reshaped to keep the reduced axes as size 1, then broadcast back over the input's shape.
"""
from .. import backend
from ..autograd import Function
from .core import check_axis

__all__ = ["sum"]


def _axes(axis, ndim, opname):
    """``axis`` as a sorted tuple of non-negative axes; None means every axis."""
    if axis is None:
        return tuple(range(ndim))
    return tuple(sorted(check_axis(axis, ndim, opname)))


def _kept_shape(shape, axes):
    """The shape of a keepdims=True result: the reduced axes become 1."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def expand_to_input(g, x, axes, keepdims):
    """The output gradient ``g`` broadcast back to the input ``x``'s shape."""
    from .shape import broadcast_to, reshape
    if not keepdims:
        g = reshape(g, _kept_shape(x.shape, axes))
    return broadcast_to(g, x.shape)


class Sum(Function):
    """z = Σ x over ``axes``.   dz/dx = 1: every input element receives the gradient of the
    output element it was added into (the output gradient, broadcast back)."""

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        return backend.xp.sum(x, axis=self.axes, keepdims=self.keepdims)

    def backward(self, g):
        return expand_to_input(g, self.inputs[0], self.axes, self.keepdims)


def sum(x, axis=None, keepdims=False):
    """The sum over ``axis`` (an int, a tuple, or None for all)."""
    from .core import convert_to_tensor
    x = convert_to_tensor(x)
    return Sum(_axes(axis, x.ndim, "sum"), keepdims)(x)
