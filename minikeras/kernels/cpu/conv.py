"""Convolution kernels: im2col/col2im and the convolutions built on them.

Everything here works on raw channels_last arrays of rank 4, ``(N, H, W, C)``; a 1-D
convolution is the 2-D one with ``H = 1``. The geometry of a convolution is:

* ``kernel_size`` ``(kh, kw)``, ``strides`` ``(sh, sw)``, ``dilation`` ``(dh, dw)``;
* ``pads`` ``((top, bottom), (left, right))``: zeros added before and after each spatial
  axis. An *after* pad may be negative: the input is then cropped at the end (transposed
  convolutions need this).

**im2col** copies every receptive field into one row of a matrix ``cols`` of shape
``(N·OH·OW, kh·kw·C)`` (the columns in the order of the kernel's ``(kh, kw, C)`` axes), so that
the convolution is one matrix product ``cols @ kernel.reshape(kh·kw·C, filters)``.
**col2im** is its adjoint: it adds every row back onto the input positions it was read from.

With ``groups > 1`` the channels are split into groups, each convolved with its own slice of
filters: ``cols`` then has shape ``(G, N·OH·OW, kh·kw·C/G)`` and the product is a batched
matmul over the groups.
"""
import math

from ..arrays import array_module

__all__ = ["conv_output_size", "im2col", "col2im", "conv_forward", "conv_input_grad",
           "conv_input_grad_by_offset",
           "conv_kernel_grad"]

# Above this many bytes, cols is built and multiplied a few samples at a time (and not kept
# for the backward pass): an ImageNet-sized layer would otherwise need gigabytes.
COLS_BUDGET = 256 * 2**20


def conv_output_size(size, k, stride, dilation, before, after):
    """The number of windows along one axis: (size + pads - dilated kernel) // stride + 1."""
    return (size + before + after - ((k - 1) * dilation + 1)) // stride + 1


def _out_hw(shape, kernel_size, strides, dilation, pads):
    return tuple(conv_output_size(shape[1 + a], kernel_size[a], strides[a], dilation[a], *pads[a])
                 for a in range(2))


def _pad(x, pads):
    """x with ``pads`` zeros around its spatial axes (a negative after-pad crops instead)."""
    xp = array_module(x)
    (t, b), (l, r) = pads
    if t or l or b > 0 or r > 0:
        x = xp.pad(x, ((0, 0), (t, max(b, 0)), (l, max(r, 0)), (0, 0)))
    if b < 0 or r < 0:
        x = x[:, :x.shape[1] + min(b, 0), :x.shape[2] + min(r, 0)]
    return x


def im2col(x, kernel_size, strides, dilation, pads, groups=1, ones=False):
    """The receptive fields of ``x`` (N, H, W, C) as rows: (N·OH·OW, kh·kw·C), or
    (G, N·OH·OW, kh·kw·C/G) with groups. One strided view of the padded input, one copy.
    ``ones=True`` (one channel only) adds a last column of ones: see :func:`conv_forward`."""
    xp = array_module(x)
    n, c = x.shape[0], x.shape[3]
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, strides, dilation
    oh, ow = _out_hw(x.shape, kernel_size, strides, dilation, pads)
    xp_ = _pad(x, pads)
    if c == 1 and groups == 1:
        # One channel (the first layer of a convnet): kh·kw slice copies, each a contiguous
        # write, into a K-major buffer; its transpose is cols (BLAS reads it with a flag).
        rows = kh * kw + (1 if ones else 0)
        cols_t = xp.empty((rows, n, oh, ow), dtype=x.dtype)
        for i in range(kh):
            for j in range(kw):
                cols_t[i * kw + j] = xp_[:, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                                         j * dw:j * dw + sw * (ow - 1) + 1:sw, 0]
        if ones:
            cols_t[-1] = 1
        return cols_t.reshape(rows, n * oh * ow).T
    s_n, s_h, s_w, s_c = xp_.strides
    as_strided = xp.lib.stride_tricks.as_strided
    if groups == 1:
        view = as_strided(xp_, (n, oh, ow, kh, kw, c),
                          (s_n, s_h * sh, s_w * sw, s_h * dh, s_w * dw, s_c))
        return xp.ascontiguousarray(view).reshape(n * oh * ow, kh * kw * c)
    cg = c // groups
    view = as_strided(xp_, (groups, n, oh, ow, kh, kw, cg),
                      (s_c * cg, s_n, s_h * sh, s_w * sw, s_h * dh, s_w * dw, s_c))
    return xp.ascontiguousarray(view).reshape(groups, n * oh * ow, kh * kw * cg)


def col2im(cols, input_shape, kernel_size, strides, dilation, pads, groups=1):
    """The adjoint of :func:`im2col`: every row of ``cols`` added back onto the input
    positions it was read from, giving an array of ``input_shape`` (N, H, W, C).
    kh·kw strided slice additions (each covers all windows at once)."""
    xp = array_module(cols)
    n, h, w, c = input_shape
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, strides, dilation
    (t, b), (l, r) = pads
    oh, ow = _out_hw(input_shape, kernel_size, strides, dilation, pads)
    buf = xp.zeros((n, t + h + max(b, 0), l + w + max(r, 0), c), dtype=cols.dtype)
    if groups == 1:
        windows = cols.reshape(n, oh, ow, kh, kw, c)
        target = buf
    else:  # (G, N, OH, OW, kh, kw, Cg) -> (N, OH, OW, kh, kw, G, Cg), a view
        windows = cols.reshape(groups, n, oh, ow, kh, kw, c // groups)
        windows = windows.transpose(1, 2, 3, 4, 5, 0, 6)
        target = buf.reshape(n, buf.shape[1], buf.shape[2], groups, c // groups)
    for i in range(kh):
        for j in range(kw):
            target[:, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                   j * dw:j * dw + sw * (ow - 1) + 1:sw] += windows[:, :, :, i, j]
    return buf[:, t:t + h, l:l + w]


def _grouped_kernel(w, groups):
    """The kernel (kh, kw, C/G, O) as (G, kh·kw·C/G, O/G) matrices, a view."""
    k = w.shape[0] * w.shape[1] * w.shape[2]
    return w.reshape(k, groups, w.shape[3] // groups).transpose(1, 0, 2)


def _batch_chunk(per_sample_bytes, n):
    """Samples per chunk so that one chunk's cols stay within COLS_BUDGET (all of them when
    they fit)."""
    return max(1, min(n, COLS_BUDGET // max(per_sample_bytes, 1)))


def conv_forward(x, w, strides, dilation, pads, groups=1, bias=None, keep_cols=True,
                 im2col=None):
    """The convolution of ``x`` (N, H, W, C) with ``w`` (kh, kw, C/G, O), plus ``bias`` (O,)
    if given: returns ``(y, cols)`` with y (N, OH, OW, O) and cols (for the kernel gradient;
    None when it was too large to keep, or ``keep_cols`` is False).

    ``im2col`` builds cols: this module's :func:`im2col` unless given (the GPU passes its own
    kernel; the rest is the same array code). A given one must take ``ones=True``, as the
    GPU's does: the one-channel branch below runs with it."""
    # This module's im2col looked up now, not bound when the function was defined, so that
    # a stand-in put in its place (debug.trace's timer) is the one called.
    im2col = im2col or globals()["im2col"]
    xp = array_module(x)
    n, c = x.shape[0], x.shape[3]
    kh, kw, _, o = w.shape
    oh, ow = _out_hw(x.shape, (kh, kw), strides, dilation, pads)
    chunk = _batch_chunk(oh * ow * kh * kw * c * x.dtype.itemsize, n)
    if chunk == n and c == 1 and groups == 1 and bias is not None:
        # The first layer of a convnet (one channel, nine columns): the bias becomes one
        # more row of the kernel against a column of ones in cols, so the matmul adds it,
        # and the kernel gradient's extra row is the bias gradient. This saves two passes
        # over the layer's largest output.
        cols = im2col(x, (kh, kw), strides, dilation, pads, ones=True)
        y = cols @ xp.concatenate([w.reshape(-1, o), bias.reshape(1, o).astype(w.dtype)])
        return y.reshape(n, oh, ow, o), (cols if keep_cols else None)
    if chunk == n:
        cols = im2col(x, (kh, kw), strides, dilation, pads, groups)
        y = _cols_times_kernel(cols, w, groups, bias)
        return y.reshape(n, oh, ow, o), (cols if keep_cols else None)
    y = xp.empty((n, oh, ow, o), dtype=x.dtype)
    for start in range(0, n, chunk):
        part = im2col(x[start:start + chunk], (kh, kw), strides, dilation, pads, groups)
        y[start:start + chunk] = _cols_times_kernel(part, w, groups, bias).reshape(-1, oh, ow, o)
    return y, None


def _cols_times_kernel(cols, w, groups, bias):
    o = w.shape[3]
    if groups == 1:
        y = cols @ w.reshape(-1, o)
    else:  # (G, M, Og) -> (M, G, Og) -> (M, O): output channel g·Og + j, as Keras
        y = (cols @ _grouped_kernel(w, groups)).transpose(1, 0, 2).reshape(cols.shape[1], o)
    if bias is not None:
        y += bias  # in place, into the matmul's fresh output
    return y


def conv_input_grad(g, w, input_shape, strides, dilation, pads, groups=1, col2im=None):
    """dL/dx of the convolution, given dL/dy ``g`` (N, OH, OW, O): col2im(g @ Wᵀ).

    ``g @ Wᵀ`` is the gradient of every patch (one row per output pixel), and col2im adds
    each patch's gradient back onto the input cells it was read from. With ``w`` laid out
    (kh, kw, out, in) this is also the transposed convolution of ``g``. (The GPU passes its
    own ``col2im`` kernel; the rest is the same array code.)"""
    col2im = col2im or globals()["col2im"]   # looked up now, as in conv_forward
    xp = array_module(g)
    n, oh, ow, o = g.shape
    kh, kw = w.shape[:2]
    c = input_shape[3]
    chunk = _batch_chunk(oh * ow * kh * kw * c * g.dtype.itemsize, n)
    if chunk < n:
        dx = xp.empty(input_shape, dtype=g.dtype)
        for start in range(0, n, chunk):
            part = g[start:start + chunk]
            shape = (part.shape[0],) + tuple(input_shape[1:])
            dx[start:start + chunk] = conv_input_grad(part, w, shape, strides, dilation, pads,
                                                      groups, col2im)
        return dx
    g2 = g.reshape(n * oh * ow, o)
    if groups == 1:
        dcols = g2 @ w.reshape(kh * kw * c, o).T
    else:
        gg = g2.reshape(n * oh * ow, groups, o // groups).transpose(1, 0, 2)
        dcols = gg @ _grouped_kernel(w, groups).transpose(0, 2, 1)
    return col2im(dcols, input_shape, (kh, kw), strides, dilation, pads, groups)


def conv_input_grad_by_offset(g, w, input_shape, strides, dilation, pads, groups=1):
    """:func:`conv_input_grad` without the (N·OH·OW, kh·kw·C) patch-gradient matrix, the
    form training runs (``Conv.backward_arrays``): for each kernel offset (i, j), the product
    g @ W[i, j]ᵀ is that offset's share of every patch gradient at once, added onto the
    strided slice of the input it came from. The same sum as col2im, in kh·kw smaller
    products: about 15% faster at the MNIST convnet's sizes and 9x less memory. Grouped
    convolutions take :func:`conv_input_grad`."""
    if groups != 1:
        return conv_input_grad(g, w, input_shape, strides, dilation, pads, groups)
    xp = array_module(g)
    n, oh, ow, o = g.shape
    _, h, wd, c = input_shape
    (sh, sw), (dh, dw) = strides, dilation
    (t, b), (l, r) = pads
    g2 = g.reshape(n * oh * ow, o)
    buf = xp.zeros((n, t + h + max(b, 0), l + wd + max(r, 0), c), dtype=g.dtype)
    part = xp.empty((g2.shape[0], c), dtype=g.dtype)
    for i in range(w.shape[0]):
        for j in range(w.shape[1]):
            xp.matmul(g2, w[i, j].T, out=part)
            buf[:, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                j * dw:j * dw + sw * (ow - 1) + 1:sw] += part.reshape(n, oh, ow, c)
    return buf[:, t:t + h, l:l + wd]


def conv_kernel_grad(x, g, kernel_shape, strides, dilation, pads, groups=1, cols=None,
                     with_bias=False):
    """dL/dkernel of the convolution: colsᵀ @ g, reshaped to ``kernel_shape``
    (kh, kw, C/G, O). ``cols`` from the forward pass is used when given; otherwise it is
    rebuilt from ``x``, a chunk of samples at a time. With ``with_bias=True`` it returns
    ``(dL/dkernel, dL/dbias)``, the second taken from the ones column of ``cols`` when the
    forward added one (else None: the caller sums g itself)."""
    if cols is not None and cols.ndim == 2 and cols.shape[1] == math.prod(kernel_shape[:3]) + 1:
        both = _kernel_product(cols, g, 1, g.shape[-1])
        dw, db = both[:-1].reshape(kernel_shape), both[-1]
        return (dw, db) if with_bias else dw
    dw = _conv_kernel_grad(x, g, kernel_shape, strides, dilation, pads, groups, cols)
    return (dw, None) if with_bias else dw


def _conv_kernel_grad(x, g, kernel_shape, strides, dilation, pads, groups, cols):
    n, oh, ow, o = g.shape
    kh, kw = kernel_shape[:2]
    if cols is None:
        c = x.shape[3]
        chunk = _batch_chunk(oh * ow * kh * kw * c * x.dtype.itemsize, n)
        dw = None
        for start in range(0, n, chunk):
            part = im2col(x[start:start + chunk], (kh, kw), strides, dilation, pads, groups)
            term = _kernel_product(part, g[start:start + chunk], groups, o)
            dw = term if dw is None else dw + term
        return dw.reshape(kernel_shape)
    return _kernel_product(cols, g, groups, o).reshape(kernel_shape)


def _kernel_product(cols, g, groups, o):
    g2 = g.reshape(-1, o)
    if groups == 1:
        return cols.T @ g2
    gg = g2.reshape(g2.shape[0], groups, o // groups).transpose(1, 0, 2)
    # (G, Kg, Og) -> (Kg, G, Og): the kernel's (kh·kw·Cg, O) layout
    return (cols.transpose(0, 2, 1) @ gg).transpose(1, 0, 2)
