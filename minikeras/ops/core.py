"""What every op file needs: converting arguments, casting, reshaping, and undoing
broadcasting.

``unbroadcast`` is the one idea here worth reading closely. When ``z = x + y`` broadcasts a
``(3,)`` vector ``y`` over a ``(4, 3)`` matrix, each element of ``y`` was used four times, so
its gradient is the **sum** of the four gradients it received: the gradient is summed over
the broadcast axes until it has ``y``'s shape again. It is written with ``sum`` and
``reshape``, which live at the bottom of this file with ``broadcast_to``, the op whose
derivative it is.
"""
import numpy as np

from .. import backend
from ..autograd import Function, OpError
from ..tensor import Tensor

__all__ = ["convert_to_tensor", "cast", "stop_gradient", "shape", "ndim", "size", "dtype",
           "is_tensor", "convert_to_numpy", "reshape", "broadcast_to", "sum"]


def convert_to_tensor(x, dtype=None):
    """A Tensor from a Tensor, an array, a list or a scalar (``keras.ops.convert_to_tensor``).

    Host data is copied to the device on the cuda backend; this is the explicit way to move
    data there (ops themselves refuse arrays of another device).
    """
    if isinstance(x, Tensor):
        return x if dtype is None or x.dtype == dtype else cast(x, dtype)
    if backend.is_gpu_array(x) and not backend.is_device_array(x):
        x = np.asarray(x.copy_to_host() if hasattr(x, "copy_to_host") else x.get())
    return Tensor(x, dtype=dtype)


def convert_to_numpy(x):
    """The values of a tensor (or anything array-like) as a NumPy array on the host."""
    return x.numpy() if isinstance(x, Tensor) else np.asarray(x)


def is_tensor(x):
    return isinstance(x, Tensor)


def shape(x):
    """The shape as a tuple of ints."""
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def ndim(x):
    return len(shape(x))


def size(x):
    return int(np.prod(shape(x)))


def dtype(x):
    return x.dtype if hasattr(x, "dtype") else np.asarray(x).dtype


def _is_float(dt):
    return np.dtype(dt).kind in "fc"


class Cast(Function):
    """y = x converted to ``dtype``.

    Between float types dL/dx = dL/dy cast back to x's dtype; from or to an integer type
    there is no gradient (the values are rounded or were not continuous).

    Rule: dL/dx = cast(g, x.dtype) between float types, else none
    """

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)

    def forward(self, x):
        return x.astype(self.dtype, copy=False)

    def backward(self, g):
        (x,) = self.inputs
        if not _is_float(x.dtype) or not _is_float(self.dtype):
            return None
        return cast(g, x.dtype)


def cast(x, dtype):
    """``x`` as ``dtype`` (``keras.ops.cast``)."""
    x = x if isinstance(x, Tensor) else convert_to_tensor(x)
    if x.dtype == np.dtype(dtype):
        return x
    return Cast(dtype)(x)


class StopGradient(Function):
    """y = x in the forward pass; no gradient flows back (dL/dx = 0)."""
    differentiable = False

    def forward(self, x):
        return x


def stop_gradient(x):
    """The same values with the tape cut: ``keras.ops.stop_gradient``."""
    return StopGradient()(x)


def unbroadcast(g, x):
    """The gradient ``g`` of a broadcast result, summed back to the shape of input ``x`` and
    cast to its dtype. Returns ``g`` untouched when nothing was broadcast (the common case)."""
    if g.data.shape != x.data.shape:
        axes = _broadcast_axes(g.shape, x.shape)
        lead = g.ndim - x.ndim
        if axes and axes[-1] < lead:    # only the leading axes x lacks: sum them away
            g = sum(g, axis=axes)
        else:                           # axes of size 1 in x too: keep them, then reshape
            if axes:
                g = sum(g, axis=axes, keepdims=True)
            g = reshape(g, x.shape)
    gd, xd = g.data.dtype, x.data.dtype
    if gd is not xd and gd != xd and xd.kind in "fc":
        g = cast(g, x.dtype)
    return g


def unbroadcast_array(g, x):
    """:func:`unbroadcast` on arrays, for the ``backward_arrays`` twins: ``g`` summed back
    to the shape of the array ``x`` and cast to its dtype."""
    if g.shape != x.shape:
        axes = _broadcast_axes(g.shape, x.shape)
        g = g.sum(axis=axes, keepdims=True).reshape(x.shape)
    if g.dtype != x.dtype and x.dtype.kind in "fc":
        g = g.astype(x.dtype)
    return g


def _broadcast_axes(g_shape, x_shape):
    """The axes of a broadcast result of shape ``g_shape`` that were stretched from an
    input of shape ``x_shape``: the leading ones it lacks and those where it has size 1."""
    lead = len(g_shape) - len(x_shape)
    return tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(x_shape) if n == 1 and g_shape[lead + i] != 1)


def constant(array):
    """A leaf Tensor around a backend array (masks and constants inside backward methods)."""
    return Tensor._wrap(array)


def check_axis(axis, ndim, opname):
    """``axis`` (int or tuple, negative allowed) as a tuple of non-negative ints, or an error
    naming the op, the axis and the rank."""
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < max(ndim, 1):
            raise OpError(f"ops.{opname}: axis {a} is out of bounds for a tensor of rank {ndim} "
                          f"(valid axes: {-ndim} to {ndim - 1}).")
        out.append(int(a) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise OpError(f"ops.{opname}: repeated axis in {axis}.")
    return tuple(out)


# ------------------------------------------------------------------------ reshape, broadcast, sum
# broadcast_to and sum are each other's derivative, reshape is its own, and unbroadcast
# (above) is a sum then a reshape: the four live together so that each can call the others.
# ``sum`` shadows Python's built-in in this file; the code here never needs the built-in.
def _ints(value, what, opname):
    """An int or a sequence of ints as a tuple of Python ints, or an OpError."""
    if isinstance(value, (int, np.integer)):
        return (int(value),)
    try:
        out = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise OpError(f"ops.{opname}: {what} must be an int or a sequence of ints, "
                      f"got {value!r}.") from None
    return out


class Reshape(Function):
    """z = x with a new shape (same values, same order).   dL/dx = dL/dz reshaped back.

    Rule: dL/dx = reshape(g, x.shape)
    """

    def __init__(self, new_shape):
        self.new_shape = new_shape

    def forward(self, x):
        return x.reshape(self.new_shape)

    def backward(self, g):
        return reshape(g, self.inputs[0].shape)


def reshape(x, newshape):
    """``x`` with shape ``newshape`` (one entry may be -1)."""
    x = convert_to_tensor(x)
    newshape = _ints(newshape, "newshape", "reshape")
    if x.shape == newshape:
        return x
    try:
        return Reshape(newshape)(x)
    except OpError:
        raise OpError(f"ops.reshape: cannot reshape a tensor of shape {x.shape} ({x.size} "
                      f"elements) into shape {newshape}.") from None


class BroadcastTo(Function):
    """z = x repeated along broadcast axes.   dL/dx = dL/dz summed over those axes.

    Rule: dL/dx = unbroadcast(g, x)
    """

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        return backend.xp.broadcast_to(x, self.shape)

    def backward(self, g):
        return unbroadcast(g, self.inputs[0])


def broadcast_to(x, shape):
    """``x`` broadcast to ``shape`` (a read-only view)."""
    x = convert_to_tensor(x)
    shape = _ints(shape, "shape", "broadcast_to")
    if x.shape == shape:
        return x
    try:
        return BroadcastTo(shape)(x)
    except OpError:
        raise OpError(f"ops.broadcast_to: cannot broadcast a tensor of shape {x.shape} to shape "
                      f"{shape} (each axis must match or be 1, counting from the last).") from None


def _axes(axis, ndim, opname):
    """``axis`` as a sorted tuple of non-negative axes; None means every axis."""
    if axis is None:
        return tuple(range(ndim))
    axes = check_axis(axis, ndim, opname)
    return () if ndim == 0 else tuple(sorted(axes))


def _kept_shape(shape, axes):
    """The shape of a keepdims=True result: the reduced axes become 1."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def expand_to_input(g, x, axes, keepdims):
    """The output gradient ``g`` broadcast back to the input ``x``'s shape."""
    if not keepdims:
        g = reshape(g, _kept_shape(x.shape, axes))
    return broadcast_to(g, x.shape)


def _sum_dtype(dtype):
    """Keras's dtype for sums and products: bool and small ints give int32, other ints stay
    (NumPy would give int64); None (keep the input's) for floats."""
    if dtype.kind in "fc":
        return None
    if dtype.kind == "b" or dtype.itemsize < 4:
        return np.dtype("int32")
    return dtype


class Sum(Function):
    """z = Σ x over ``axes``.   dz/dx = 1: every input element receives the gradient of the
    output element it was added into (the output gradient, broadcast back).

    Rule: dL/dx = expand(g)
    """

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        return backend.kernels.reduce_sum(x, self.axes, self.keepdims, _sum_dtype(x.dtype))

    def backward(self, g):
        return expand_to_input(g, self.inputs[0], self.axes, self.keepdims)


def sum(x, axis=None, keepdims=False):
    """The sum over ``axis`` (an int, a tuple, or None for all)."""
    x = convert_to_tensor(x)
    return Sum(_axes(axis, x.ndim, "sum"), keepdims)(x)
