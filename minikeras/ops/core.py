"""What every op file needs: converting arguments, casting, and undoing broadcasting.

``unbroadcast`` is the one idea here worth reading closely. When ``z = x + y`` broadcasts a
``(3,)`` vector ``y`` over a ``(4, 3)`` matrix, each element of ``y`` was used four times, so
its gradient is the **sum** of the four gradients it received: the gradient is summed over
the broadcast axes until it has ``y``'s shape again.
"""
import numpy as np

from .. import backend
from ..autograd import Function, OpError
from ..tensor import Tensor

__all__ = ["convert_to_tensor", "cast", "stop_gradient", "shape", "ndim", "size", "dtype",
           "is_tensor", "convert_to_numpy"]


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
        if axes:
            g = _reduction.sum(g, axis=axes, keepdims=True)
        g = _shape.reshape(g, x.shape)
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


# Imported last: these modules import this one.
from . import reduction as _reduction  # noqa: E402
from . import shape as _shape  # noqa: E402
