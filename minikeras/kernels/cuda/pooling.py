"""Pooling kernels for the GPU: max and average pooling, forward and backward.

Shapes and rules are those of the CPU twins (``kernels/cpu/pooling.py``, whose shape
arithmetic these launchers share): ``x`` is (N, H, W, C), channels_last, a 1-D pooling being
a 2-D one of height 1; "same" padding puts ``top``/``left`` cells before the input; window
(i, j) reads the cells (i·sh + a - top, j·sw + b - left) for its offsets k = a·pw + b, in
row-major order. Every kernel runs a grid-stride loop over the cells of its output, thread e
taking cell e in row-major order (three ``divmod`` turn e into (n, i, j, c)): channels are the
fastest axis, so the threads of a warp read and write neighbouring addresses. No thread reads
what another writes: no shared memory, no barrier, no atomics.

* **forward, max and average: one thread per output cell.** The thread walks the ph·pw
  offsets of its window. Max pooling keeps the first maximum (``v > best``: on a tie the
  earlier offset keeps it, as on the CPU; a NaN spreads to the output, as in ``maximum``) and
  writes its offset k to ``argmax`` (uint8, int32 for windows of more than 255 cells); a
  padding cell counts as -inf. Average pooling sums the real cells and divides by
  ``counts[i, j]``, the number of real cells of the window, which the launcher takes once
  from the CPU's shape arithmetic.
* **backward, max and average: one thread per input cell, gathering.** The thread finds the
  windows that hold its cell (i·sh = h + top - a for an offset row a, likewise j) and adds
  their gradients: max pooling only where ``argmax`` picked this cell, average pooling
  g / counts[i, j] from each. With overlapping windows (stride < pool) one cell gets several
  terms; gathering them in the thread that owns the cell needs no ``cuda.atomic.add``, no
  zeroed output, and adds in a fixed order (offsets in row-major order, as the CPU adds its
  slices), so the result is the same every run, and the CPU's.
* **max_pool_gather: one thread per output cell**, reading the input cell its argmax names.

**Dtypes.** The kernels are compiled for their arguments' dtypes at the first launch:
float32 (the models') and float64 (the simulator tests) both run them. The sums start from a
``zero`` of the arrays' dtype and max pooling's padding is a ``lowest`` (-inf) of that dtype,
both passed by the launcher, since the literals 0.0 and -inf would make Numba compute in
float64.
"""
import math

from numba import cuda

from ..arrays import array_module
from ..cpu.pooling import _as_2d, _plan, _window_counts
from .launch import grid_1d, launch

__all__ = ["max_pool_forward", "max_pool_backward", "max_pool_gather",
           "average_pool_forward", "average_pool_backward"]

_A = "float32[:, :, :, ::1]"              # an (N, H, W, C) array
_GEOMETRY = ", int64" * 6                 # ph, pw, sh, sw, top, left
#: The types each kernel is compiled for in the PTX test (tests/cudasim/test_ptx.py).
PTX_SIGNATURES = {
    "_max_pool_kernel": [f"void({_A}, {_A}, {k}[:, :, :, ::1]{_GEOMETRY}, float32)"
                         for k in ("uint8", "int32")],
    "_max_pool_backward_kernel": [f"void({_A}, {k}[:, :, :, ::1], {_A}{_GEOMETRY}, float32)"
                                  for k in ("uint8", "int32")],
    "_max_pool_gather_kernel": [f"void({_A}, uint8[:, :, :, ::1], {_A}{_GEOMETRY})"],
    "_average_pool_kernel": [f"void({_A}, float32[:, ::1], {_A}{_GEOMETRY}, float32)"],
    "_average_pool_backward_kernel": [f"void({_A}, float32[:, ::1], {_A}{_GEOMETRY}, float32)"],
}


def _launch_over(size, kernel, *args):
    """One grid-stride launch of ``kernel`` over ``size`` cells (none for 0)."""
    if size:
        blocks, threads = grid_1d(size)
        launch(kernel, blocks, threads, *args)


def _geometry(pool, strides, pads):
    """The six ints the kernels take: ph, pw, sh, sw, top, left."""
    return (int(pool[0]), int(pool[1]), int(strides[0]), int(strides[1]), int(pads[1][0]),
            int(pads[2][0]))


def _setup(pool, strides, padding, a, x_shape=None):
    """The 2-D form of a pooling problem: (pool, strides, the (N, H, W, C) input shape,
    out_h, out_w, pads, ``a`` as a contiguous 4-D array, its array module)."""
    xp = array_module(a)
    if len(pool) == 1 and x_shape is not None:
        x_shape = (x_shape[0], 1) + tuple(x_shape[1:])
    pool, strides, a = _as_2d(pool, strides, a)
    x_shape = tuple(int(d) for d in (a.shape if x_shape is None else x_shape))
    oh, ow, pads = _plan(x_shape, pool, strides, padding)
    return pool, strides, x_shape, oh, ow, pads, xp.ascontiguousarray(a), xp


def _counts(x_shape, oh, ow, pool, strides, padding, dtype, xp):
    """The number of real (not padded) cells of each window, an (out_h, out_w) array."""
    counts = xp.empty((oh, ow), dtype=dtype)
    window = _window_counts(x_shape, pool, strides, padding, dtype, xp)
    counts[...] = window if isinstance(window, float) else window[:, :, 0]
    return counts


# --------------------------------------------------------------------------- max pooling
@cuda.jit
def _max_pool_kernel(x, y, argmax, ph, pw, sh, sw, top, left, lowest):
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for e in range(start, y.size, stride):
        rest, c = divmod(e, y.shape[3])      # this thread's output cell
        rest, j = divmod(rest, y.shape[2])
        n, i = divmod(rest, y.shape[1])
        best = lowest
        pick = 0
        for k in range(ph * pw):                    # the window's offsets, row by row
            r, s = i * sh + k // pw - top, j * sw + k % pw - left
            v = x[n, r, s, c] if 0 <= r < x.shape[1] and 0 <= s < x.shape[2] else lowest
            if k == 0 or v > best:                  # strictly: on a tie the first keeps it
                best = v
                pick = k
            elif v != v:                            # NaN spreads, as in maximum()
                best = v
        y[n, i, j, c] = best
        argmax[n, i, j, c] = pick


def max_pool_forward(x, pool, strides, padding, with_argmax=True):
    """y[n, i, j, c] = max of the window of (i, j), and (when ``with_argmax``) the offset
    k = a·pw + b of the first cell of the window that holds it. One thread per output."""
    squeeze = len(pool) == 1
    pool, strides, shape, oh, ow, pads, x, xp = _setup(pool, strides, padding, x)
    y = xp.empty((shape[0], oh, ow, shape[3]), dtype=x.dtype)
    argmax = xp.empty(y.shape, dtype="uint8" if pool[0] * pool[1] <= 255 else "int32")
    _launch_over(y.size, _max_pool_kernel, x, y, argmax, *_geometry(pool, strides, pads),
                 x.dtype.type(-math.inf))
    if squeeze:
        y, argmax = y[:, 0], argmax[:, 0]
    return y, (argmax if with_argmax else None)


@cuda.jit
def _max_pool_backward_kernel(g, argmax, dx, ph, pw, sh, sw, top, left, zero):
    out_h, out_w = g.shape[1], g.shape[2]
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for e in range(start, dx.size, stride):
        rest, c = divmod(e, dx.shape[3])      # this thread's input cell
        rest, w = divmod(rest, dx.shape[2])
        n, h = divmod(rest, dx.shape[1])
        total = zero
        for a in range(ph):                         # window row i reads row h at offset a
            r = h + top - a
            if r < 0 or r % sh != 0 or r // sh >= out_h:
                continue
            for b in range(pw):
                s = w + left - b
                if s < 0 or s % sw != 0 or s // sw >= out_w:
                    continue
                if argmax[n, r // sh, s // sw, c] == a * pw + b:   # the window picked us
                    total += g[n, r // sh, s // sw, c]
        dx[n, h, w, c] = total


def max_pool_backward(g, argmax, x_shape, pool, strides, padding):
    """dL/dx for y = max_pool(x): each output's gradient goes to the input cell ``argmax``
    picked for it, summed where overlapping windows pick the same cell; 0 elsewhere. One
    thread per input cell, gathering from the windows that hold it."""
    squeeze = len(pool) == 1
    pool, strides, shape, _, _, pads, g, xp = _setup(pool, strides, padding, g, x_shape)
    argmax = xp.ascontiguousarray(argmax[:, None] if squeeze else argmax)
    dx = xp.empty(shape, dtype=g.dtype)
    _launch_over(dx.size, _max_pool_backward_kernel, g, argmax, dx,
                 *_geometry(pool, strides, pads), g.dtype.type(0))
    return dx[:, 0] if squeeze else dx


@cuda.jit
def _max_pool_gather_kernel(h, argmax, out, ph, pw, sh, sw, top, left):
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for e in range(start, out.size, stride):
        rest, c = divmod(e, out.shape[3])      # this thread's output cell
        rest, j = divmod(rest, out.shape[2])
        n, i = divmod(rest, out.shape[1])
        k = argmax[n, i, j, c]
        r, s = i * sh + k // pw - top, j * sw + k % pw - left
        # Two stores, not ``h[...] if inside else 0``: that expression's type is float64
        # (float32 and an integer unify to it), a round trip through float64 on a GPU.
        if 0 <= r < h.shape[1] and 0 <= s < h.shape[2]:
            out[n, i, j, c] = h[n, r, s, c]
        else:                                   # the padding
            out[n, i, j, c] = 0


def max_pool_gather(h, argmax, pool, strides, padding):
    """out[n, i, j, c] = h at the input cell ``argmax`` picked for output (i, j) (the
    transpose of :func:`max_pool_backward`). One thread per output."""
    squeeze = len(pool) == 1
    pool, strides, _, _, _, pads, h, xp = _setup(pool, strides, padding, h)
    argmax = xp.ascontiguousarray(argmax[:, None] if squeeze else argmax)
    out = xp.empty(argmax.shape, dtype=h.dtype)
    _launch_over(out.size, _max_pool_gather_kernel, h, argmax, out,
                 *_geometry(pool, strides, pads))
    return out[:, 0] if squeeze else out


# --------------------------------------------------------------------------- average pooling
@cuda.jit
def _average_pool_kernel(x, counts, y, ph, pw, sh, sw, top, left, zero):
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for e in range(start, y.size, stride):
        rest, c = divmod(e, y.shape[3])      # this thread's output cell
        rest, j = divmod(rest, y.shape[2])
        n, i = divmod(rest, y.shape[1])
        total = zero
        for k in range(ph * pw):
            r, s = i * sh + k // pw - top, j * sw + k % pw - left
            if 0 <= r < x.shape[1] and 0 <= s < x.shape[2]:   # padding adds nothing
                total += x[n, r, s, c]
        y[n, i, j, c] = total / counts[i, j]


def average_pool_forward(x, pool, strides, padding):
    """y[n, i, j, c] = the mean of the real cells of the window of (i, j). One thread per
    output."""
    squeeze = len(pool) == 1
    pool, strides, shape, oh, ow, pads, x, xp = _setup(pool, strides, padding, x)
    y = xp.empty((shape[0], oh, ow, shape[3]), dtype=x.dtype)
    counts = _counts(shape, oh, ow, pool, strides, padding, x.dtype, xp)
    _launch_over(y.size, _average_pool_kernel, x, counts, y, *_geometry(pool, strides, pads),
                 x.dtype.type(0))
    return y[:, 0] if squeeze else y


@cuda.jit
def _average_pool_backward_kernel(g, counts, dx, ph, pw, sh, sw, top, left, zero):
    out_h, out_w = g.shape[1], g.shape[2]
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for e in range(start, dx.size, stride):
        rest, c = divmod(e, dx.shape[3])      # this thread's input cell
        rest, w = divmod(rest, dx.shape[2])
        n, h = divmod(rest, dx.shape[1])
        total = zero
        for a in range(ph):                         # window row i reads row h at offset a
            r = h + top - a
            if r < 0 or r % sh != 0 or r // sh >= out_h:
                continue
            for b in range(pw):
                s = w + left - b
                if s < 0 or s % sw != 0 or s // sw >= out_w:
                    continue
                i, j = r // sh, s // sw
                total += g[n, i, j, c] / counts[i, j]
        dx[n, h, w, c] = total


def average_pool_backward(g, x_shape, pool, strides, padding):
    """dL/dx for y = average_pool(x): every real cell of window (i, j) receives
    g[n, i, j, c] / (its number of real cells), summed over the windows it is in. One thread
    per input cell, gathering."""
    squeeze = len(pool) == 1
    pool, strides, shape, oh, ow, pads, g, xp = _setup(pool, strides, padding, g, x_shape)
    counts = _counts(shape, oh, ow, pool, strides, padding, g.dtype, xp)
    dx = xp.empty(shape, dtype=g.dtype)
    _launch_over(dx.size, _average_pool_backward_kernel, g, counts, dx,
                 *_geometry(pool, strides, pads), g.dtype.type(0))
    return dx[:, 0] if squeeze else dx
