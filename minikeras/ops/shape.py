"""Shape ops: they move or copy values without changing them, so their backward moves the
gradient back to where each value came from."""
from .. import backend
from ..autograd import Function, OpError
from .core import convert_to_tensor

__all__ = ["reshape", "broadcast_to"]


class Reshape(Function):
    """z = x with a new shape (same values, same order).   dL/dx = dL/dz reshaped back."""

    def __init__(self, new_shape):
        self.new_shape = new_shape

    def forward(self, x):
        return x.reshape(self.new_shape)

    def backward(self, g):
        return reshape(g, self.inputs[0].shape)


def reshape(x, newshape):
    """``x`` with shape ``newshape`` (one entry may be -1)."""
    x = convert_to_tensor(x)
    newshape = (newshape,) if isinstance(newshape, int) else tuple(int(n) for n in newshape)
    if x.shape == newshape:
        return x
    try:
        return Reshape(newshape)(x)
    except OpError:
        raise OpError(f"ops.reshape: cannot reshape a tensor of shape {x.shape} ({x.size} "
                      f"elements) into shape {newshape}.") from None


class BroadcastTo(Function):
    """z = x repeated along broadcast axes.   dL/dx = dL/dz summed over those axes."""

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        return backend.xp.broadcast_to(x, self.shape)

    def backward(self, g):
        from .core import unbroadcast
        return unbroadcast(g, self.inputs[0])


def broadcast_to(x, shape):
    """``x`` broadcast to ``shape`` (a read-only view)."""
    x = convert_to_tensor(x)
    shape = tuple(int(n) for n in shape)
    if x.shape == shape:
        return x
    return BroadcastTo(shape)(x)
