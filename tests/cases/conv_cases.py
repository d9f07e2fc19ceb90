"""Cases for minikeras/ops/convolution.py: conv (1-D and 2-D, groups, strides, dilation, valid and
same padding, both data formats), conv_transpose, depthwise_conv and separable_conv.

The references loop over output positions in plain Python (or, for the transposed
convolution, scatter every input position into the output), sharing no code with the
implementation. The geometry is drawn with the inputs and handed to ``fn`` as a small int
array (``geometry``): the gradient checker passes every input on as a Tensor.
"""
import math

import numpy as np
from hypothesis import strategies as st

from minikeras import ops
from minikeras.ops.convolution import conv_nd

from . import Case, values


# ----------------------------------------------------------------------------- references
def same_pad(n, k, s, d):
    """TF's "same": ceil(n/s) outputs, total padding split with the extra zero at the end."""
    total = max((math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0)
    return total // 2, total - total // 2


def conv_ref(x, w, strides, padding, dilation, bias=None):
    """Cross-correlation by loops over (sample, output position, filter), channels_last,
    1-D or 2-D, groups = channels // w.shape[-2]."""
    one_d = x.ndim == 3
    if one_d:
        x, w = x[:, None], w[None]
        strides, dilation = (1,) + tuple(strides), (1,) + tuple(dilation)
    n, h, wd, c = x.shape
    kh, kw, cg, f = w.shape
    groups = c // cg
    fg = f // groups
    pads = [same_pad(size, k, s, d) if padding == "same" else (0, 0)
            for size, k, s, d in zip((h, wd), (kh, kw), strides, dilation)]
    if one_d:
        pads[0] = (0, 0)
    xp = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    oh = (xp.shape[1] - (kh - 1) * dilation[0] - 1) // strides[0] + 1
    ow = (xp.shape[2] - (kw - 1) * dilation[1] - 1) // strides[1] + 1
    y = np.zeros((n, oh, ow, f))
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for o in range(f):
                    g = o // fg
                    total = 0.0
                    for a in range(kh):
                        for e in range(kw):
                            pixel = xp[b, i * strides[0] + a * dilation[0],
                                       j * strides[1] + e * dilation[1], g * cg:(g + 1) * cg]
                            total += float(pixel @ w[a, e, :, o])
                    y[b, i, j, o] = total + (0.0 if bias is None else bias[o])
    return y[:, 0] if one_d else y


def conv_transpose_ref(x, w, strides, padding, dilation, output_padding=None):
    """Keras's transposed convolution, by scattering: every input position i adds
    x[i] · W[k] at i·s + k·d of the full result, which is then cut (or zero-extended) to
    Keras's output size, starting keff - 1 - left_pad in (left_pad as Keras gives XLA)."""
    one_d = x.ndim == 3
    rank = x.ndim - 2
    sizes = x.shape[1:-1]
    ksize = w.shape[:-2]
    outs, starts = [], []
    for a in range(rank):
        n, k, s, d = sizes[a], ksize[a], strides[a], dilation[a]
        op = None if output_padding is None else output_padding[a]
        keff = (k - 1) * d + 1
        if padding == "valid":
            op = max(keff, s) - keff if op is None else op
            outs.append((n - 1) * s + keff + op)
            left = keff - 1
        else:
            total = s + keff - 2 if op is None else keff + keff % 2 - 2 + op
            outs.append(n * s if op is None else (n - 1) * s + keff % 2 + op)
            left = min(total // 2 + total % 2, keff - 1)
        starts.append(keff - 1 - left)
    if one_d:
        x, w = x[:, None], w[None]
        strides, dilation = (1,) + tuple(strides), (1,) + tuple(dilation)
        outs, starts = [1] + outs, [0] + starts
    n, h, wd, cin = x.shape
    kh, kw, cout, _ = w.shape
    full = np.zeros((n, (h - 1) * strides[0] + (kh - 1) * dilation[0] + 1 + outs[0],
                     (wd - 1) * strides[1] + (kw - 1) * dilation[1] + 1 + outs[1], cout))
    for b in range(n):
        for i in range(h):
            for j in range(wd):
                for a in range(kh):
                    for e in range(kw):
                        p, q = i * strides[0] + a * dilation[0], j * strides[1] + e * dilation[1]
                        full[b, p, q] += w[a, e] @ x[b, i, j]
    y = full[:, starts[0]:starts[0] + outs[0], starts[1]:starts[1] + outs[1]]
    return y[:, 0] if one_d else y


def depthwise_ref(x, w, strides, padding, dilation):
    """Channel c convolved with its own filters w[..., c, :]: output channel c·m + j."""
    c, m = w.shape[-2], w.shape[-1]
    outs = [conv_ref(x[..., ch:ch + 1], w[..., ch:ch + 1, :], strides, padding, dilation)
            for ch in range(c)]
    return np.concatenate(outs, axis=-1).reshape(outs[0].shape[:-1] + (c * m,))


# ----------------------------------------------------------------------------- drawing
def _geometry(d, rank, channels_groups=True):
    strides = tuple(d(st.integers(1, 2)) for _ in range(rank))
    dilation = tuple(d(st.integers(1, 2)) for _ in range(rank))
    ksize = tuple(d(st.integers(1, 3)) for _ in range(rank))
    padding = d(st.sampled_from(["valid", "same"]))
    # valid padding needs at least one window: sides from the dilated kernel up to 5
    sizes = tuple(d(st.integers((k - 1) * dl + 1 if padding == "valid" else 1,
                                max(5, (k - 1) * dl + 1)))
                  for k, dl in zip(ksize, dilation))
    return strides, dilation, ksize, padding, sizes


def _encode(rank, strides, dilation, padding, extra=()):
    """The geometry as one int array: rank, strides, dilation, padding (0 valid, 1 same)."""
    return np.array((rank,) + strides + dilation + (int(padding == "same"),) + tuple(extra))


def _decode(p):
    p = [int(v) for v in np.asarray(p.numpy() if hasattr(p, "numpy") else p)]
    rank = p[0]
    return (tuple(p[1:1 + rank]), tuple(p[1 + rank:1 + 2 * rank]),
            "same" if p[1 + 2 * rank] else "valid", p[2 + 2 * rank:])


def _draw_conv(d):
    rank = d(st.integers(1, 2))
    strides, dilation, ksize, padding, sizes = _geometry(d, rank)
    groups = d(st.integers(1, 2))
    cg = d(st.integers(1, 2))
    filters = groups * d(st.integers(1, 2))
    n = d(st.integers(1, 2))
    x = values(d, (n,) + sizes + (groups * cg,))
    w = values(d, ksize + (cg, filters))
    return [x, w, _encode(rank, strides, dilation, padding)]


def _conv_fn(x, w, p):
    strides, dilation, padding, _ = _decode(p)
    return ops.conv(x, w, strides, padding, dilation_rate=dilation)


def _conv_ref(x, w, p):
    strides, dilation, padding, _ = _decode(p)
    return conv_ref(x, w, strides, padding, dilation)


def _draw_conv_bias(d):
    x, w, p = _draw_conv(d)
    return [x, w, values(d, (w.shape[-1],)), p]


def _conv_bias_fn(x, w, b, p):
    strides, dilation, padding, _ = _decode(p)
    return conv_nd(x, w, b, strides, padding, None, dilation)


def _conv_bias_ref(x, w, b, p):
    strides, dilation, padding, _ = _decode(p)
    return conv_ref(x, w, strides, padding, dilation, bias=b)


def _conv_relu_fn(x, w, b, p):
    strides, dilation, padding, _ = _decode(p)
    return conv_nd(x, w, b, strides, padding, None, dilation, relu=True)


def _conv_relu_ref(x, w, b, p):
    return np.maximum(_conv_bias_ref(x, w, b, p), 0.0)


def _channels_first_fn(x, w, p):
    strides, dilation, padding, _ = _decode(p)
    rank = x.ndim - 2
    first = ops.transpose(x, (0, rank + 1) + tuple(range(1, rank + 1)))
    y = ops.conv(first, w, strides, padding, "channels_first", dilation)
    return ops.transpose(y, (0,) + tuple(range(2, rank + 2)) + (1,))


def _draw_transpose(d):
    rank = d(st.integers(1, 2))
    strides = tuple(d(st.integers(1, 2)) for _ in range(rank))
    dilation = tuple(d(st.integers(1, 2)) for _ in range(rank))
    ksize = tuple(d(st.integers(1, 3)) for _ in range(rank))
    padding = d(st.sampled_from(["valid", "same"]))
    with_op = d(st.booleans())
    # output_padding below the stride, as the Keras layers require
    output_padding = tuple(d(st.integers(0, s - 1)) for s in strides) if with_op else ()
    # (same padding with an output_padding of 0 and an even kernel leaves no output for 1)
    sizes = tuple(d(st.integers(2 if with_op else 1, 4)) for _ in range(rank))
    n, cin, cout = d(st.integers(1, 2)), d(st.integers(1, 2)), d(st.integers(1, 3))
    x = values(d, (n,) + sizes + (cin,))
    w = values(d, ksize + (cout, cin))
    return [x, w, _encode(rank, strides, dilation, padding, output_padding)]


def _transpose_fn(x, w, p):
    strides, dilation, padding, op = _decode(p)
    return ops.conv_transpose(x, w, strides, padding, tuple(op) or None, dilation_rate=dilation)


def _transpose_ref(x, w, p):
    strides, dilation, padding, op = _decode(p)
    return conv_transpose_ref(x, w, strides, padding, dilation, tuple(op) or None)


def _draw_depthwise(d):
    rank = d(st.integers(1, 2))
    strides, dilation, ksize, padding, sizes = _geometry(d, rank)
    c, m, n = d(st.integers(1, 3)), d(st.integers(1, 2)), d(st.integers(1, 2))
    x = values(d, (n,) + sizes + (c,))
    w = values(d, ksize + (c, m))
    return [x, w, _encode(rank, strides, dilation, padding)]


def _depthwise_fn(x, w, p):
    strides, dilation, padding, _ = _decode(p)
    return ops.depthwise_conv(x, w, strides, padding, dilation_rate=dilation)


def _depthwise_ref(x, w, p):
    strides, dilation, padding, _ = _decode(p)
    return depthwise_ref(x, w, strides, padding, dilation)


def _draw_separable(d):
    x, w, p = _draw_depthwise(d)
    rank = x.ndim - 2
    pointwise = values(d, (1,) * rank + (w.shape[-2] * w.shape[-1], d(st.integers(1, 3))))
    return [x, w, pointwise, p]


def _separable_fn(x, w, pw, p):
    strides, dilation, padding, _ = _decode(p)
    return ops.separable_conv(x, w, pw, strides, padding, dilation_rate=dilation)


def _separable_ref(x, w, pw, p):
    strides, dilation, padding, _ = _decode(p)
    y = depthwise_ref(x, w, strides, padding, dilation)
    return np.tensordot(y, pw.reshape(pw.shape[-2:]), axes=([y.ndim - 1], [0]))


_ALL = ("Conv", "ConvInputGrad", "ConvKernelGrad")

CASES = [
    Case("conv", _conv_fn, _conv_ref, _draw_conv, _ALL, second=True),
    Case("conv_bias", _conv_bias_fn, _conv_bias_ref, _draw_conv_bias, ("Conv",), ops=("conv",),
         second=True),
    # relu inside the op (Conv2D(..., activation="relu")); outputs a finite-difference step
    # from 0 are improbable with continuous random values
    Case("conv_relu", _conv_relu_fn, _conv_relu_ref, _draw_conv_bias, ("ConvRelu",), ops=("conv",),
         second=True),
    Case("conv_channels_first", _channels_first_fn, _conv_ref, _draw_conv, ("Conv",),
         ops=("conv",)),
    Case("conv_transpose", _transpose_fn, _transpose_ref, _draw_transpose, _ALL, second=True),
    Case("depthwise_conv", _depthwise_fn, _depthwise_ref, _draw_depthwise, ("Conv",)),
    Case("separable_conv", _separable_fn, _separable_ref, _draw_separable, ("Conv",)),
]
