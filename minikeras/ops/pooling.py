"""Pooling under the names of ``keras.ops``: max_pool, average_pool.

Both take rank-3 inputs (batch, steps, channels) for 1-D pooling and rank-4 inputs
(batch, height, width, channels) for 2-D pooling; "channels_first" inputs are transposed to
channels_last and back. The arithmetic lives in the pooling kernels
(``kernels/cpu/pooling.py``, reached as ``backend.kernels.<name>``).

Each pooling is linear in its input once the window maxima are chosen, so its backward is
another linear map, written as a Function whose own backward is the first map again:

    MaxPool      --backward-->  MaxPoolScatter   --backward-->  MaxPoolGather  --> Scatter ...
    AveragePool  --backward-->  AveragePoolTranspose  --backward-->  AveragePool ...

which makes derivatives of any order work.
"""
from .. import backend
from ..autograd import Function, OpError, state
from .arguments import standardize_data_format, standardize_tuple
from .core import convert_to_tensor
from .math import _float
from .shapes import transpose

__all__ = ["max_pool", "average_pool"]


class _Pool(Function):
    """Pooling parameters shared by the Functions below: ``pool`` and ``strides`` (one int
    per spatial axis) and ``padding`` ("valid" or "same")."""

    def __init__(self, pool, strides, padding):
        self.pool, self.strides, self.padding = pool, strides, padding

    def _args(self):
        return self.pool, self.strides, self.padding


class MaxPool(_Pool):
    """y[n, i, j, c] = max over the window (i·sh .. i·sh + kh - 1, j·sw .. j·sw + kw - 1)
    of x[n, ·, ·, c] (padding cells count as -inf).

    dy/dx = 1 for the cell holding the window's maximum (the first one, in row-major order,
    when several tie) and 0 for every other cell, so dL/dx is dL/dy scattered to those cells
    (:class:`MaxPoolScatter`), summed where overlapping windows share a maximum.

    Rule: dL/dx = MaxPoolScatter(argmax, x.shape)(g)
    """

    def forward(self, x):
        # The argmax is only needed if a backward pass can follow.
        y, self.argmax = backend.kernels.max_pool_forward(x, *self._args(),
                                                          with_argmax=state.grad_enabled)
        return y

    def backward(self, g):
        return MaxPoolScatter(self.argmax, self.inputs[0].shape, *self._args())(g)

    def backward_arrays(self, g):
        return (backend.kernels.max_pool_backward(g, self.argmax, self.inputs[0].shape,
                                                  *self._args()),)


class MaxPoolScatter(_Pool):
    """z = g scattered to the input cells chosen by a max pooling's ``argmax``:
    z[n, a, b, c] = Σ g[n, i, j, c] over the outputs (i, j) whose maximum is cell (a, b).

    Linear in g; its transpose is the gather at the same cells, so
    dL/dg[n, i, j, c] = dL/dz at the cell chosen for (i, j) (:class:`MaxPoolGather`).

    Rule: dL/dg = MaxPoolGather(argmax)(h)
    """

    def __init__(self, argmax, x_shape, pool, strides, padding):
        super().__init__(pool, strides, padding)
        self.argmax, self.x_shape = argmax, tuple(x_shape)

    def forward(self, g):
        return backend.kernels.max_pool_backward(g, self.argmax, self.x_shape, *self._args())

    def backward(self, h):
        return MaxPoolGather(self.argmax, *self._args())(h)


class MaxPoolGather(_Pool):
    """z[n, i, j, c] = h at the input cell chosen by ``argmax`` for output (i, j).

    Linear in h; its transpose is :class:`MaxPoolScatter`: dL/dh = dL/dz scattered back to
    the chosen cells.

    Rule: dL/dh = MaxPoolScatter(argmax, h.shape)(g)
    """

    def __init__(self, argmax, pool, strides, padding):
        super().__init__(pool, strides, padding)
        self.argmax = argmax

    def forward(self, h):
        return backend.kernels.max_pool_gather(h, self.argmax, *self._args())

    def backward(self, g):
        return MaxPoolScatter(self.argmax, self.inputs[0].shape, *self._args())(g)


class AveragePool(_Pool):
    """y[n, i, j, c] = (1 / m_ij) Σ x[n, a, b, c] over the real (not padded) cells (a, b) of
    the window of (i, j), m_ij of them ("valid": m = kh·kw; "same": fewer at the borders).

    dy[n, i, j, c]/dx[n, a, b, c] = 1 / m_ij for each cell of the window, so dL/dx[a, b] =
    Σ dL/dy[i, j] / m_ij over the windows that hold (a, b) (:class:`AveragePoolTranspose`).

    Rule: dL/dx = AveragePoolTranspose(x.shape)(g)
    """

    def forward(self, x):
        return backend.kernels.average_pool_forward(x, *self._args())

    def backward(self, g):
        return AveragePoolTranspose(self.inputs[0].shape, *self._args())(g)

    def backward_arrays(self, g):
        return (backend.kernels.average_pool_backward(g, self.inputs[0].shape, *self._args()),)


class AveragePoolTranspose(_Pool):
    """z[n, a, b, c] = Σ g[n, i, j, c] / m_ij over the windows (i, j) holding cell (a, b):
    the transpose of average pooling.

    Linear in g; the transpose of this transpose is average pooling itself, so
    dL/dg = average_pool(dL/dz) (:class:`AveragePool`).

    Rule: dL/dg = AveragePool(h)
    """

    def __init__(self, x_shape, pool, strides, padding):
        super().__init__(pool, strides, padding)
        self.x_shape = tuple(x_shape)

    def forward(self, g):
        return backend.kernels.average_pool_backward(g, self.x_shape, *self._args())

    def backward(self, h):
        return AveragePool(*self._args())(h)


# --------------------------------------------------------------------------- public functions
def _standardize(inputs, pool_size, strides, padding, data_format, opname):
    x = _float(convert_to_tensor(inputs))
    if x.ndim not in (3, 4):
        raise OpError(f"ops.{opname}: expected inputs of rank 3 (batch, steps, channels) or 4 "
                      f"(batch, height, width, channels), got rank {x.ndim} with shape "
                      f"{x.shape}.")
    n = x.ndim - 2
    where = f"ops.{opname}"
    pool = standardize_tuple(pool_size, n, "pool_size", where=where)
    strides = pool if strides is None else standardize_tuple(strides, n, "strides", where=where)
    mode = padding.lower() if isinstance(padding, str) else padding
    if mode not in ("valid", "same"):
        raise OpError(f"ops.{opname}: `padding` must be 'valid' or 'same', got "
                      f"padding={padding!r}.")
    data_format = standardize_data_format(data_format, where)
    first = data_format == "channels_first"
    spatial = x.shape[2:] if first else x.shape[1:-1]
    if mode == "valid" and any(k > s for k, s in zip(pool, spatial)):
        raise OpError(f"ops.{opname}: the pooling window {pool} is larger than the input's "
                      f"spatial shape {tuple(spatial)} (inputs of shape {x.shape}, "
                      f"data_format={data_format!r}) with padding='valid'; use a smaller "
                      "pool_size or padding='same'.")
    return x, pool, strides, mode, first


def _pool(fn_class, inputs, pool_size, strides, padding, data_format, opname):
    x, pool, strides, mode, first = _standardize(inputs, pool_size, strides, padding,
                                                 data_format, opname)
    if first:   # (N, C, *spatial) -> (N, *spatial, C), pool, and back
        order = (0,) + tuple(range(2, x.ndim)) + (1,)
        back = (0, x.ndim - 1) + tuple(range(1, x.ndim - 1))
        return transpose(fn_class(pool, strides, mode)(transpose(x, order)), back)
    return fn_class(pool, strides, mode)(x)


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """The maximum over each pooling window (``keras.ops.max_pool``).

    ``inputs``: rank 3 (1-D pooling) or rank 4 (2-D pooling); ``pool_size`` and ``strides``:
    an int or one int per spatial axis, ``strides=None`` meaning ``pool_size``; ``padding``:
    "valid" (windows inside the input only) or "same" (ceil(size / stride) outputs, padded
    as TensorFlow does); ``data_format``: "channels_last" (default) or "channels_first"."""
    return _pool(MaxPool, inputs, pool_size, strides, padding, data_format, "max_pool")


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """The mean over each pooling window (``keras.ops.average_pool``); with
    ``padding="same"`` a border window averages only its real cells, as TensorFlow and
    Keras do. Arguments as :func:`max_pool`."""
    return _pool(AveragePool, inputs, pool_size, strides, padding, data_format, "average_pool")
