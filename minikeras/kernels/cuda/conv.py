"""Convolution kernels for the GPU: im2col and col2im as CUDA kernels of our own, and the
convolutions composed from them and matrix products (``xp.matmul``: cuBLAS through CuPy).

Shapes and geometry are those of the CPU twins (``kernels/cpu/conv.py``): ``x`` is
(N, H, W, C), channels_last (a 1-D convolution has H = 1); ``pads`` is ((top, bottom),
(left, right)); with ``groups`` G the channels are G groups of Cg = C/G. The column matrix
``cols`` is (N·OH·OW, K), or (G, N·OH·OW, K) with groups, where K = kh·kw·Cg and column
k = (i·kw + j)·Cg + ch holds channel ch (of the group) at kernel offset (i, j).

**im2col: one thread per element of the column matrix.** The launcher allocates cols as an
array (G, N, OH, OW, K), the same memory as the matrix, and thread e (in a grid-stride loop)
takes its element e in row-major order and reads its coordinates off the index: the group g,
the sample n and the output pixel (oh, ow) say which window, the column k which kernel offset
(i, j) and which channel g·Cg + ch. It copies the one input cell that element is made from,

    cols[g, n, oh, ow, k] = x[n, oh·sh + i·dh - top, ow·sw + j·dw - left, g·Cg + ch]

or 0 where that cell lies in the padding (an after-pad that crops needs no test: no window
reaches the cropped cells). Consecutive threads take consecutive columns, which are
consecutive channels: neighbouring threads read neighbouring addresses of x and write
neighbouring addresses of cols, so the loads and stores of a warp coalesce. No thread reads
what another writes: no shared memory, no barrier. ``ones=True`` adds a last column of ones,
as on the CPU.

**col2im: one thread per input cell, gathering; no atomics.** Thread e owns cell
(n, h, w, c) of the result and adds up the entries of cols that were copied from it: offset i
of the kernel covers row h when h + top - i·dh is a multiple of sh, oh = (h + top - i·dh) / sh
being a real output row (0 <= oh < OH), and likewise offset j for column w. The other way,
one thread per element of cols doing ``cuda.atomic.add`` onto its cell, needs a zeroed output
first and adds onto each cell in whatever order the warps happen to run, so the last bits
change from run to run. Gathering writes each cell once, without zeroing, in a fixed order
(the offsets row by row, the order in which the CPU twin adds its slices), so a GPU gives the
same numbers every run, and the CPU's. The price: each thread tests kh·kw offsets, of which
about one in sh·sw hits.

**Dtypes.** The kernels are compiled for the dtypes of their arguments at their first launch:
float32 (the models') and float64 (the simulator tests) both run the kernels, nothing falls
back. col2im adds in the dtype of cols: the launcher passes it a ``zero`` of that dtype to
start the sum from, since a literal ``0.0`` would make Numba add in float64.

**The convolutions** take the CPU's signatures and its matrix products, with our im2col and
col2im: ``conv_forward`` is the CPU's, called with our im2col (im2col then one matmul,
batched over the groups, the bias added in place, or for one input channel carried in the
matmul by the column of ones our im2col adds with ``ones=True``, as on the CPU);
``conv_input_grad`` is col2im(g @ Wᵀ), the CPU's code too; ``conv_input_grad_by_offset`` is the
same here (the CPU's form saves the patch-gradient matrix with kh·kw products and strided
adds, kh·kw + 1 launches on a GPU where this is two); ``conv_kernel_grad`` is colsᵀ @ g. As on
the CPU, a batch whose cols would pass ``COLS_BUDGET`` goes a chunk of samples at a time.
``conv_output_size`` has no arrays: the CUDA table takes the CPU's.
"""
from numba import cuda

from ..arrays import array_module
from ..cpu import conv as cpu_conv
from ..cpu.conv import _batch_chunk, _kernel_product, _out_hw
from .launch import grid_1d, launch

__all__ = ["im2col", "col2im", "conv_forward", "conv_input_grad", "conv_input_grad_by_offset",
           "conv_kernel_grad"]

_GEOMETRY = ", int64" * 8                 # kh, kw, sh, sw, dh, dw, top, left
#: The types each kernel is compiled for in the PTX test (tests/cudasim/test_ptx.py).
PTX_SIGNATURES = {
    "_im2col_kernel": [f"void(float32[:, :, :, ::1], float32[:, :, :, :, ::1]{_GEOMETRY})"],
    "_col2im_kernel": [f"void(float32[:, :, :, :, ::1], float32[:, :, :, ::1]{_GEOMETRY}, "
                       "float32)"],
}


def _launch_over(size, kernel, *args):
    """One grid-stride launch of ``kernel`` over ``size`` elements (none for 0)."""
    if size:
        blocks, threads = grid_1d(size)
        launch(kernel, blocks, threads, *args)


def _geometry(kernel_size, strides, dilation, pads):
    """The eight ints both kernels take: kh, kw, sh, sw, dh, dw, top, left."""
    (kh, kw), (sh, sw), (dh, dw), ((top, _), (left, _)) = kernel_size, strides, dilation, pads
    return int(kh), int(kw), int(sh), int(sw), int(dh), int(dw), int(top), int(left)


# --------------------------------------------------------------------------- im2col
@cuda.jit
def _im2col_kernel(x, cols, kh, kw, sh, sw, dh, dw, top, left):
    groups, batch, out_h, out_w, width = cols.shape
    height, x_width, channels = x.shape[1], x.shape[2], x.shape[3]
    cg = channels // groups
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for e in range(start, cols.size, stride):
        k = e % width                      # the column: kernel offset (i, j), channel ch
        rest = e // width
        ow = rest % out_w                  # the window: output pixel (oh, ow) of sample n
        rest //= out_w
        oh = rest % out_h
        rest //= out_h
        n = rest % batch
        g = rest // batch                  # the group of channels
        if k >= kh * kw * cg:              # the column of ones (ones=True)
            cols[g, n, oh, ow, k] = 1
            continue
        i, j, ch = k // (kw * cg), (k // cg) % kw, k % cg
        r = oh * sh + i * dh - top         # the input cell, in unpadded coordinates
        s = ow * sw + j * dw - left
        if 0 <= r < height and 0 <= s < x_width:
            cols[g, n, oh, ow, k] = x[n, r, s, g * cg + ch]
        else:                              # the padding
            cols[g, n, oh, ow, k] = 0


def im2col(x, kernel_size, strides, dilation, pads, groups=1, ones=False):
    """The receptive fields of ``x`` (N, H, W, C) as rows: (N·OH·OW, kh·kw·C), or
    (G, N·OH·OW, kh·kw·C/G) with groups; ``ones=True`` adds a last column of ones. One
    thread per element of the result."""
    xp = array_module(x)
    n, c = x.shape[0], x.shape[3]
    kh, kw = kernel_size
    oh, ow = _out_hw(x.shape, kernel_size, strides, dilation, pads)
    width = kh * kw * (c // groups) + (1 if ones else 0)
    cols = xp.empty((groups, n, oh, ow, width), dtype=x.dtype)
    _launch_over(cols.size, _im2col_kernel, xp.ascontiguousarray(x), cols,
                 *_geometry(kernel_size, strides, dilation, pads))
    cols = cols.reshape(groups, n * oh * ow, width)
    return cols[0] if groups == 1 else cols


# --------------------------------------------------------------------------- col2im
@cuda.jit
def _col2im_kernel(cols, out, kh, kw, sh, sw, dh, dw, top, left, zero):
    groups, out_h, out_w = cols.shape[0], cols.shape[2], cols.shape[3]
    batch, height, width, channels = out.shape
    cg = channels // groups
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for e in range(start, out.size, stride):
        c = e % channels                   # this thread's cell (n, h, w, c) of the result
        rest = e // channels
        w = rest % width
        rest //= width
        h = rest % height
        n = rest // height
        g, ch = c // cg, c % cg
        total = zero
        for i in range(kh):
            r = h + top - i * dh           # = oh·sh if window row oh reads row h at offset i
            if r < 0 or r % sh != 0 or r // sh >= out_h:
                continue
            oh = r // sh
            for j in range(kw):
                s = w + left - j * dw
                if s < 0 or s % sw != 0 or s // sw >= out_w:
                    continue
                total += cols[g, n, oh, s // sw, (i * kw + j) * cg + ch]
        out[n, h, w, c] = total


def col2im(cols, input_shape, kernel_size, strides, dilation, pads, groups=1):
    """The adjoint of :func:`im2col`: every row of ``cols`` added back onto the input cells
    it was read from, an array of ``input_shape`` (N, H, W, C). One thread per input cell,
    summing the entries of cols that came from it."""
    xp = array_module(cols)
    n, h, w, c = (int(d) for d in input_shape)
    kh, kw = kernel_size
    oh, ow = _out_hw(input_shape, kernel_size, strides, dilation, pads)
    windows = xp.ascontiguousarray(cols).reshape(groups, n, oh, ow, kh * kw * (c // groups))
    out = xp.empty((n, h, w, c), dtype=cols.dtype)
    _launch_over(out.size, _col2im_kernel, windows, out,
                 *_geometry(kernel_size, strides, dilation, pads), cols.dtype.type(0))
    return out


# --------------------------------------------------------------------------- convolutions
def conv_forward(x, w, strides, dilation, pads, groups=1, bias=None, keep_cols=True):
    """The convolution of ``x`` (N, H, W, C) with ``w`` (kh, kw, C/G, O), plus ``bias`` (O,)
    if given: ``(y, cols)``, y (N, OH, OW, O), cols our im2col's (None when it was built a
    chunk at a time, or ``keep_cols`` is False). The CPU's code (``kernels/cpu/conv.py``: one
    matmul, a chunk of the batch at a time, the bias as a column of ones for one input
    channel) with our im2col."""
    return cpu_conv.conv_forward(x, w, strides, dilation, pads, groups, bias, keep_cols,
                                 im2col=im2col)


def conv_input_grad(g, w, input_shape, strides, dilation, pads, groups=1):
    """dL/dx of the convolution, given dL/dy ``g`` (N, OH, OW, O): col2im(g @ Wᵀ), the
    CPU's code (``kernels/cpu/conv.py``: the patch gradients by one matmul, a chunk of the
    batch at a time) with our col2im."""
    return cpu_conv.conv_input_grad(g, w, input_shape, strides, dilation, pads, groups,
                                    col2im=col2im)


def conv_input_grad_by_offset(g, w, input_shape, strides, dilation, pads, groups=1):
    """The CPU's by-offset form of dL/dx, which on the GPU is :func:`conv_input_grad`: one
    matmul and one col2im launch where the offsets would take kh·kw products and adds."""
    return conv_input_grad(g, w, input_shape, strides, dilation, pads, groups)


def conv_kernel_grad(x, g, kernel_shape, strides, dilation, pads, groups=1, cols=None,
                     with_bias=False):
    """dL/dkernel of the convolution: colsᵀ @ g, reshaped to ``kernel_shape``
    (kh, kw, C/G, O); cols is rebuilt by our im2col, a chunk of samples at a time, when not
    given. With ``with_bias=True``: ``(dL/dkernel, dL/dbias)``, the second from a column of
    ones in ``cols`` if it has one, else None (the caller sums g)."""
    o = g.shape[-1]
    kh, kw = kernel_shape[:2]
    depth = kh * kw * kernel_shape[2]
    if cols is not None and cols.ndim == 2 and cols.shape[1] == depth + 1:
        both = _kernel_product(cols, g, 1, o)
        return (both[:-1].reshape(kernel_shape), both[-1]) if with_bias else (
            both[:-1].reshape(kernel_shape))
    if cols is not None:
        dw = _kernel_product(cols, g, groups, o)
    else:
        n, oh, ow = g.shape[:3]
        chunk = _batch_chunk(oh * ow * depth * groups * x.dtype.itemsize, n)
        dw = None
        for start in range(0, n, chunk):
            part = im2col(x[start:start + chunk], (kh, kw), strides, dilation, pads, groups)
            term = _kernel_product(part, g[start:start + chunk], groups, o)
            dw = term if dw is None else dw + term
    dw = dw.reshape(kernel_shape)
    return (dw, None) if with_bias else dw
