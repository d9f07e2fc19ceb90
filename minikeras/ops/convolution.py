"""Convolutions under the names of ``keras.ops``: conv, conv_transpose, depthwise_conv,
separable_conv.

One 2-D convolution (a 1-D one is the 2-D one with a height of 1) computes, for every output
position o, filter f and group of channels:

    y[n, o, f] = Σ_k Σ_c x[n, o·s + k·d - pad, c] · W[k, c, f]   (+ bias[f])

Three Functions carry it, each the derivative of the others, so that derivatives of any
order exist:

* ``Conv(x, W[, b])``: the forward convolution, im2col + one matmul (kernels/cpu/conv.py);
* ``ConvInputGrad(g, W)``: dL/dx = col2im(g @ Wᵀ), which is also the transposed convolution;
* ``ConvKernelGrad(x, g)``: dL/dW = colsᵀ @ g.

Each is linear in each of its two inputs, so its backward is made of the other two.
``depthwise_conv`` is a grouped convolution with one group per channel and
``separable_conv`` a depthwise convolution followed by a 1x1 one.
"""
import math

from .. import backend
from ..autograd import Function, OpError
from .arguments import standardize_data_format, standardize_tuple
from .core import constant, convert_to_tensor, reshape
from .core import sum as _sum
from .shapes import transpose

__all__ = ["conv", "conv_transpose", "depthwise_conv", "separable_conv"]


# --------------------------------------------------------------------------- geometry
class Geometry:
    """The shape arithmetic of one convolution, lifted to 2-D: ``rank`` (1 or 2),
    ``kernel_size``, ``strides``, ``dilation`` (pairs), ``pads`` ((top, bottom), (left,
    right)), ``groups``. A 1-D convolution gets a height of 1 with stride 1 and no padding."""

    def __init__(self, rank, kernel_size, strides, dilation, pads, groups=1):
        def lift(values, neutral):
            return (neutral,) + tuple(values) if rank == 1 else tuple(values)
        self.rank = rank
        self.kernel_size = lift(kernel_size, 1)
        self.strides = lift(strides, 1)
        self.dilation = lift(dilation, 1)
        self.pads = lift(pads, (0, 0))
        self.groups = groups

    def args(self):
        return self.strides, self.dilation, self.pads

    def up_x(self, a):
        """An input or output array of the caller's rank as a 2-D one (a view)."""
        return a[:, None] if self.rank == 1 else a

    def down_x(self, a):
        return a[:, 0] if self.rank == 1 else a

    def up_w(self, a):
        return a[None] if self.rank == 1 else a

    def down_w(self, a):
        return a[0] if self.rank == 1 else a


class Conv(Function):
    """y = conv(x, W) (+ b): y[n, o, f] = Σ_{k, c} x[n, o·s + k·d - pad, c] · W[k, c, f] + b[f],
    with the channels of each group of filters drawn from their own group of channels.

        dL/dx = ConvInputGrad(dL/dy, W)      (col2im of dL/dy @ Wᵀ)
        dL/dW = ConvKernelGrad(x, dL/dy)     (colsᵀ @ dL/dy, with the forward's cols)
        dL/db = Σ dL/dy over every axis but the last

    The forward pass keeps ``cols`` (the im2col matrix of x) for dL/dW.

    Rule: dL/dx = ConvInputGrad(g, w); dL/dw = ConvKernelGrad(x, g); dL/db = sum(g) over every axis but the last
    """

    def __init__(self, geometry):
        self.geometry = geometry
        self.cols = None

    def forward(self, x, w, b=None):
        geo = self.geometry
        y, self.cols = backend.kernels.conv_forward(geo.up_x(x), geo.up_w(w), *geo.args(),
                                                    groups=geo.groups, bias=b)
        return geo.down_x(y)

    def backward(self, g):
        x, w = self.inputs[0], self.inputs[1]
        need = self.needs_grad
        geo = self.geometry
        dx = ConvInputGrad(geo, x.shape)(g, w) if need[0] else None
        dw = ConvKernelGrad(geo, w.shape, self.cols)(x, g) if need[1] else None
        if len(self.inputs) == 2:
            return dx, dw
        db = _sum(g, axis=tuple(range(g.ndim - 1))) if need[2] else None
        return dx, dw, db

    def backward_arrays(self, g):
        """The same three gradients, straight to the kernels on the arrays."""
        x, w = self.inputs[0].data, self.inputs[1].data
        need = self.needs_grad
        geo = self.geometry
        k = backend.kernels
        gd = geo.up_x(g)
        dx = dw = db = None
        if need[0]:
            dx = geo.down_x(k.conv_input_grad_by_offset(gd, geo.up_w(w), geo.up_x(x).shape,
                                                        *geo.args(), groups=geo.groups))
        free_db = None
        if need[1]:
            dw, free_db = k.conv_kernel_grad(geo.up_x(x), gd, geo.up_w(w).shape, *geo.args(),
                                             groups=geo.groups, cols=self.cols, with_bias=True)
            dw = geo.down_w(dw)
        if len(self.inputs) == 2:
            return dx, dw
        if need[2] and free_db is not None:
            db = free_db                   # the ones column of cols gave it with dW
        elif need[2]:
            rows = g.reshape(-1, g.shape[-1])
            # a ones-vector product: one BLAS call, several times faster than sum(axis=0)
            db = backend.xp.ones(rows.shape[0], dtype=rows.dtype) @ rows
        return dx, dw, db

    def release(self):
        super().release()
        self.cols = None  # the largest array of the step; not needed once the walk passed


class ConvRelu(Conv):
    """out = max(conv(x, W) + b, 0): a convolution and its ReLU as one node (what
    ``Conv1D``/``Conv2D(..., activation="relu")`` records, in ``fit`` and on any tape).

    The ReLU is taken in place on the convolution's output, so the step keeps one
    activation-sized array instead of two. Backward goes through the ReLU first, then the
    convolution's rules (see :class:`Conv`), with dL/dy = dL/dout · [out > 0]; the mask is
    a constant there (relu'' = 0).

    Rule: dL/dx = ConvInputGrad(g · [z > 0], w); dL/dw = ConvKernelGrad(x, g · [z > 0]); dL/db = sum(g · [z > 0]) over every axis but the last
    """

    def forward(self, x, w, b=None):
        y = super().forward(x, w, b)
        backend.xp.maximum(y, 0, out=y)   # in place: no second activation-sized array
        return y

    def backward(self, g):
        return super().backward(g * constant((self.output().data > 0).astype(g.dtype)))

    def backward_arrays(self, g):
        return super().backward_arrays(backend.kernels.relu_grad(g, self.output().data))


class ConvInputGrad(Function):
    """z = ConvInputGrad(g, W): the gradient of conv(x, W) with respect to x when dL/dy = g,
    z[n, p, c] = Σ_{o, k: o·s + k·d - pad = p} Σ_f g[n, o, f] · W[k, c, f] (col2im of g @ Wᵀ).
    With W laid out (k..., out, in) it is the transposed convolution of g.

    z is linear in g and in W; for dL/dz = h:
        dL/dg = conv(h, W)                 dL/dW = ConvKernelGrad(h, g)

    Rule: dL/dg = conv(h, w); dL/dw = ConvKernelGrad(h, g)
    """

    def __init__(self, geometry, input_shape):
        self.geometry = geometry
        self.input_shape = tuple(input_shape)

    def forward(self, g, w):
        geo = self.geometry
        shape = self.input_shape if geo.rank == 2 else (
            self.input_shape[0], 1) + self.input_shape[1:]
        dx = backend.kernels.conv_input_grad(geo.up_x(g), geo.up_w(w), shape, *geo.args(),
                                             groups=geo.groups)
        return geo.down_x(dx)

    def backward(self, h):
        g, w = self.inputs
        dg = Conv(self.geometry)(h, w) if self.needs_grad[0] else None
        dw = ConvKernelGrad(self.geometry, w.shape)(h, g) if self.needs_grad[1] else None
        return dg, dw


class ConvKernelGrad(Function):
    """z = ConvKernelGrad(x, g): the gradient of conv(x, W) with respect to W when dL/dy = g,
    z[k, c, f] = Σ_{n, o} x[n, o·s + k·d - pad, c] · g[n, o, f] (colsᵀ @ g).

    z is linear in x and in g; for dL/dz = h:
        dL/dx = ConvInputGrad(g, h)         dL/dg = conv(x, h)

    Rule: dL/dx = ConvInputGrad(g, h); dL/dg = conv(x, h)
    """

    def __init__(self, geometry, kernel_shape, cols=None):
        self.geometry = geometry
        self.kernel_shape = tuple(kernel_shape)
        self.cols = cols

    def forward(self, x, g):
        geo = self.geometry
        shape = self.kernel_shape if geo.rank == 2 else (1,) + self.kernel_shape
        dw = backend.kernels.conv_kernel_grad(geo.up_x(x), geo.up_x(g), shape, *geo.args(),
                                              groups=geo.groups, cols=self.cols)
        return geo.down_w(dw)

    def backward(self, h):
        x, g = self.inputs
        dx = ConvInputGrad(self.geometry, x.shape)(g, h) if self.needs_grad[0] else None
        dg = Conv(self.geometry)(x, h) if self.needs_grad[1] else None
        return dx, dg

    def release(self):
        super().release()
        self.cols = None


# --------------------------------------------------------------------------- arguments
def _check_rank(inputs, kernel, opname):
    if inputs.ndim not in (3, 4):
        raise OpError(f"ops.{opname}: expected inputs of rank 3 (batch, steps, channels) or 4 "
                      f"(batch, height, width, channels), got shape {inputs.shape} "
                      f"(rank {inputs.ndim}).")
    if kernel.ndim != inputs.ndim:
        raise OpError(f"ops.{opname}: the kernel must have the rank of the inputs "
                      f"({inputs.ndim}: {inputs.ndim - 2} spatial axes, in, out), got kernel "
                      f"shape {kernel.shape} for inputs of shape {inputs.shape}.")


def same_pads(sizes, kernel_size, strides, dilation):
    """TF/XLA's ``padding="same"``: total = max((ceil(n/s) - 1)·s + (k - 1)·d + 1 - n, 0),
    split as (total // 2, the rest): the extra zero goes at the end."""
    pads = []
    for n, k, s, d in zip(sizes, kernel_size, strides, dilation):
        total = max((math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def conv_pads(padding, sizes, kernel_size, strides, dilation, opname="conv"):
    """``padding`` ("valid", "same", "causal" for 1-D, or explicit (before, after) pairs) as
    explicit pairs for inputs of spatial ``sizes``."""
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return ((0, 0),) * len(sizes)
        if mode == "same":
            return same_pads(sizes, kernel_size, strides, dilation)
        if mode == "causal" and len(sizes) == 1:
            return (((kernel_size[0] - 1) * dilation[0], 0),)
        raise OpError(f"ops.{opname}: The `padding` argument must be one of 'valid', 'same'"
                      f"{', causal' if len(sizes) == 1 else ''}. Received: padding={padding}")
    return tuple((int(a), int(b)) for a, b in padding)


def output_sizes(sizes, kernel_size, strides, dilation, pads):
    """The spatial output sizes of a convolution (may be < 1 for a kernel too large)."""
    return tuple((n + a + b - (k - 1) * d - 1) // s + 1
                 for n, k, s, d, (a, b) in zip(sizes, kernel_size, strides, dilation, pads))


def _too_large(opname, x_shape, k_shape, dilation, pads, where=""):
    return OpError(f"{where or 'ops.' + opname + ': '}Computed output size would be negative. "
                   f"The kernel (dilated: "
                   f"{tuple((k - 1) * d + 1 for k, d in zip(k_shape[:-2], dilation))}) is larger "
                   f"than the padded input (pads {pads}). Received `inputs shape={x_shape}`, "
                   f"`kernel shape={k_shape}`, `dilation_rate={list(dilation)}`.")


def _to_last(x, rank):
    return transpose(x, (0,) + tuple(range(2, rank + 2)) + (1,))


def _to_first(x, rank):
    return transpose(x, (0, rank + 1) + tuple(range(1, rank + 1)))


# --------------------------------------------------------------------------- public ops
def _prepare(inputs, kernel, strides, dilation_rate, data_format, opname):
    """The arguments every convolution checks the same way: tensors of matching rank,
    channels_last inputs, strides and dilation as one int per spatial axis."""
    inputs, kernel = convert_to_tensor(inputs), convert_to_tensor(kernel)
    _check_rank(inputs, kernel, opname)
    rank = inputs.ndim - 2
    data_format = standardize_data_format(data_format, f"ops.{opname}")
    if data_format == "channels_first":
        inputs = _to_last(inputs, rank)
    where = f"ops.{opname}"
    strides = standardize_tuple(strides, rank, "strides", where=where)
    dilation_rate = standardize_tuple(dilation_rate, rank, "dilation_rate", where=where)
    return inputs, kernel, rank, data_format, strides, dilation_rate


def conv_nd(inputs, kernel, bias=None, strides=1, padding="valid", data_format=None,
            dilation_rate=1, opname="conv", where="", relu=False):
    """The convolution behind ``conv`` and the convolution layers: ``padding`` may also be
    "causal" (1-D) or explicit pairs, a ``bias`` is added inside the matmul's output and
    ``relu=True`` applies max(·, 0) there too. ``where`` (e.g. a layer's name) starts the
    error messages."""
    inputs, kernel, rank, data_format, strides, dilation = _prepare(
        inputs, kernel, strides, dilation_rate, data_format, opname)
    channels, kernel_in = inputs.shape[-1], kernel.shape[-2]
    if channels % kernel_in:
        raise OpError(f"{where or f'ops.{opname}: '}The number of input channels must be evenly "
                      f"divisible by kernel's in_channels. Received input channels {channels} and "
                      f"kernel in_channels {kernel_in}.")
    groups = channels // kernel_in
    if kernel.shape[-1] % groups:
        raise OpError(f"{where or f'ops.{opname}: '}The number of filters must be evenly "
                      f"divisible by the number of groups. Received: groups={groups}, "
                      f"filters={kernel.shape[-1]}.")
    sizes, ksize = inputs.shape[1:-1], kernel.shape[:-2]
    pads = conv_pads(padding, sizes, ksize, strides, dilation, opname)
    if min(output_sizes(sizes, ksize, strides, dilation, pads)) < 1:
        raise _too_large(opname, inputs.shape, kernel.shape, dilation, pads, where)
    fn = (ConvRelu if relu else Conv)(Geometry(rank, ksize, strides, dilation, pads, groups))
    y = fn(inputs, kernel) if bias is None else fn(inputs, kernel, convert_to_tensor(bias))
    return _to_first(y, rank) if data_format == "channels_first" else y


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """A 1-D or 2-D convolution (``keras.ops.conv``): ``inputs`` (batch, *spatial, channels)
    (channels_last) and ``kernel`` (*kernel_size, channels / groups, filters); the number of
    groups is channels // kernel.shape[-2], as in Keras's backends."""
    return conv_nd(inputs, kernel, None, strides, padding, data_format, dilation_rate)


def transpose_pads(size, k, stride, dilation, padding, output_padding):
    """(output size, pads) of a transposed convolution along one axis, with Keras's
    arithmetic: valid gives (n-1)·s + k_eff + output_padding (output_padding defaulting to
    max(k_eff, s) - k_eff); same gives n·s, or (n-1)·s + k_eff % 2 + output_padding.
    The pads are those of the forward convolution it is the input gradient of."""
    keff = (k - 1) * dilation + 1
    if padding == "valid":
        extra = max(keff, stride) - keff if output_padding is None else output_padding
        left = keff - 1
        out = (size - 1) * stride + keff + extra
    else:
        if output_padding is None:
            total = stride + keff - 2
            out = size * stride
        else:
            total = keff + keff % 2 - 2 + output_padding
            out = (size - 1) * stride + keff % 2 + output_padding
        left = min(total // 2 + total % 2, keff - 1)
    before = keff - 1 - left
    # the after-pad that makes the forward convolution of `out` give exactly `size` windows
    after = (size - 1) * stride + keff - out - before
    return out, (before, after)


def conv_transpose_nd(inputs, kernel, bias=None, strides=1, padding="valid",
                      output_padding=None, data_format=None, dilation_rate=1,
                      opname="conv_transpose", where=""):
    """The transposed convolution behind ``conv_transpose`` and the ConvTranspose layers
    (with an optional fused ``bias``)."""
    inputs, kernel, rank, data_format, strides, dilation = _prepare(
        inputs, kernel, strides, dilation_rate, data_format, opname)
    mode = padding.lower() if isinstance(padding, str) else padding
    if mode not in ("valid", "same"):
        raise OpError(f"ops.{opname}: The `padding` argument must be one of 'valid', 'same'. "
                      f"Received: padding={padding}")
    if output_padding is not None:
        output_padding = ((int(output_padding),) * rank if isinstance(output_padding, int)
                          else tuple(int(p) for p in output_padding))
    if inputs.shape[-1] != kernel.shape[-1]:
        raise OpError(f"{where or f'ops.{opname}: '}The number of input channels must match the "
                      f"kernel's input channels (its last axis, the layout being (*kernel_size, "
                      f"out, in)). Received: input channels={inputs.shape[-1]}, kernel input "
                      f"channels={kernel.shape[-1]}.")
    ksize = kernel.shape[:-2]
    outs, pads = [], []
    for a in range(rank):
        out, pad = transpose_pads(inputs.shape[1 + a], ksize[a], strides[a], dilation[a], mode,
                                  None if output_padding is None else output_padding[a])
        outs.append(out)
        pads.append(pad)
    if min(outs) < 1:
        raise OpError(f"{where or f'ops.{opname}: '}Computed output size would be negative: "
                      f"{tuple(outs)}. Received `inputs shape={inputs.shape}`, `kernel "
                      f"shape={kernel.shape}`, `output_padding={output_padding}`.")
    geo = Geometry(rank, ksize, strides, dilation, tuple(pads))
    out_shape = (inputs.shape[0],) + tuple(outs) + (kernel.shape[-2],)
    y = ConvInputGrad(geo, out_shape)(inputs, kernel)
    if bias is not None:
        y = y + bias
    return _to_first(y, rank) if data_format == "channels_first" else y


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None,
                   data_format=None, dilation_rate=1):
    """The transposed convolution (``keras.ops.conv_transpose``), the gradient of ``conv``
    with respect to its input: ``kernel`` is (*kernel_size, filters, channels), Keras's
    layout."""
    return conv_transpose_nd(inputs, kernel, None, strides, padding, output_padding,
                             data_format, dilation_rate)


def _depthwise_kernel(inputs, kernel, data_format, opname):
    inputs, kernel = convert_to_tensor(inputs), convert_to_tensor(kernel)
    _check_rank(inputs, kernel, opname)
    data_format = standardize_data_format(data_format, f"ops.{opname}")
    channels = inputs.shape[-1 if data_format == "channels_last" else 1]
    if kernel.shape[-2] != channels:
        raise OpError(f"ops.{opname}: the depthwise kernel must have shape (*kernel_size, "
                      f"channels, depth_multiplier) with channels={channels} (the inputs' "
                      f"channels), got kernel shape {kernel.shape} for inputs of shape "
                      f"{inputs.shape}.")
    # (k..., C, m) -> (k..., 1, C·m): one group per channel, output channel c·m + j as Keras
    return inputs, reshape(kernel, kernel.shape[:-2] + (1, channels * kernel.shape[-1]))


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1):
    """Each channel convolved with its own ``depth_multiplier`` filters
    (``keras.ops.depthwise_conv``): ``kernel`` (*kernel_size, channels, depth_multiplier),
    output channels channels·depth_multiplier."""
    inputs, flat = _depthwise_kernel(inputs, kernel, data_format, "depthwise_conv")
    return conv_nd(inputs, flat, None, strides, padding, data_format, dilation_rate,
                   "depthwise_conv")


def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid",
                   data_format=None, dilation_rate=1):
    """A depthwise convolution followed by a 1x1 convolution mixing the channels
    (``keras.ops.separable_conv``); strides, padding and dilation apply to the depthwise
    step."""
    y = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format, dilation_rate)
    return conv_nd(y, pointwise_kernel, None, 1, "valid", data_format, 1, "separable_conv")
