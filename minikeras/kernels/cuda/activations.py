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
}


@cuda.jit
def _relu_kernel(x, out):
    start = cuda.grid(1)
    stride = cuda.gridsize(1)
    for i in range(start, x.size, stride):
        v = x[i]
        out[i] = v if v > 0 else 0


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
    start = cuda.grid(1)
    stride = cuda.gridsize(1)
    for i in range(start, g.size, stride):
        out[i] = g[i] if x[i] > 0 else g[i] * 0   # g * 0 keeps NaN for an infinite g


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

