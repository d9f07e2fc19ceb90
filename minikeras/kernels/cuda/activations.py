"""Activation kernels for the GPU.

Read a kernel as the body of one CUDA thread: ``cuda.grid(1)`` is this thread's index in the
whole grid, ``cuda.gridsize(1)`` the number of threads launched; the ``for`` loop strides by
that number so a fixed grid covers any size (a "grid-stride loop").
"""
import math

from numba import cuda

from ..arrays import array_module
from .launch import grid_1d, launch

#: The types each kernel is compiled for in the PTX test (tests/cudasim/test_ptx.py).
PTX_SIGNATURES = {
    "_relu_kernel": ["void(float32[::1], float32[::1])"],
    "_relu_grad_kernel": ["void(float32[::1], float32[::1], float32[::1])"],
    "_softmax_rows_kernel": ["void(float32[:, ::1], float32[:, ::1])"],
}


@cuda.jit
def _relu_kernel(x, out):
    zero = x.dtype.type(0)
    start = cuda.grid(1)
    stride = cuda.gridsize(1)
    for i in range(start, x.size, stride):
        v = x[i]
        out[i] = zero if v <= zero else v    # NaN is not <= 0: it stays NaN, as on the CPU


def relu(x):
    """max(x, 0), elementwise: one thread per element (grid-stride)."""
    xp = array_module(x)
    flat = xp.ascontiguousarray(x).reshape(-1)
    out = xp.empty_like(flat)
    if flat.size:
        blocks, threads = grid_1d(flat.size)
        launch(_relu_kernel, blocks, threads, flat, out)
    return out.reshape(x.shape)


@cuda.jit
def _relu_grad_kernel(g, x, out):
    zero = g.dtype.type(0)      # a bare 0 would make g[i] * 0 a float64 product
    start = cuda.grid(1)
    stride = cuda.gridsize(1)
    for i in range(start, g.size, stride):
        out[i] = g[i] if x[i] > zero else g[i] * zero   # g * 0 keeps NaN for an infinite g


def relu_grad(g, x):
    """dL/dx of y = max(x, 0): g · [x > 0], one thread per element (grid-stride)."""
    xp = array_module(g)
    flat_g = xp.ascontiguousarray(g).reshape(-1)
    flat_x = xp.ascontiguousarray(x).reshape(-1)
    out = xp.empty_like(flat_g)
    if flat_g.size:
        blocks, threads = grid_1d(flat_g.size)
        launch(_relu_grad_kernel, blocks, threads, flat_g, flat_x, out)
    return out.reshape(g.shape)


@cuda.jit
def _softmax_rows_kernel(x, out):
    start = cuda.grid(1)
    stride = cuda.gridsize(1)
    n = x.shape[1]
    for row in range(start, x.shape[0], stride):
        m = x[row, 0]
        for j in range(1, n):
            m = max(m, x[row, j])
        total = 0.0
        for j in range(n):
            e = math.exp(x[row, j] - m)
            out[row, j] = e
            total += e
        for j in range(n):
            out[row, j] = out[row, j] / total


def softmax(x, axis=-1):
    """Softmax along ``axis`` (an int or a tuple): those axes are moved last and flattened,
    then one thread handles one row."""
    xp = array_module(x)
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    last = tuple(range(x.ndim - len(axes), x.ndim))
    moved = xp.moveaxis(x, axes, last)
    if moved.size == 0:
        return xp.empty_like(x)
    row_length = math.prod(moved.shape[x.ndim - len(axes):])
    rows = xp.ascontiguousarray(moved).reshape(-1, row_length)
    out = xp.empty_like(rows)
    blocks, threads = grid_1d(rows.shape[0], threads=32)
    launch(_softmax_rows_kernel, blocks, threads, rows, out)
    return xp.moveaxis(out.reshape(moved.shape), last, axes)
