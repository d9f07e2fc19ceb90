"""Softmax and log-softmax for the GPU: one block per row.

The launcher moves the softmax axes last and flattens the array into rows (``as_rows`` of
``reduction.py``); block r computes row r with B threads (the power of two that covers the
row, at most 128: ``block_size``). Thread t owns the elements t, t + B, t + 2B, ... of the
row, so a row longer than a block is covered too. Three steps, each a pass over the row:

1. the row's maximum m: each thread takes the maximum of its elements, then the block
   combines the B partial maxima in shared memory (``block_reduce``, the halving tree of
   ``reduction.py``, with a barrier after each level);
2. the sum s of exp(x - m) over the row: the same, with a sum; subtracting m keeps exp from
   overflowing and does not change the result;
3. each thread writes its elements: exp(x - m) / s, or (x - m) - log(s) for log-softmax.
   Every thread knows m and s after step 2, since ``block_reduce`` returns slot 0 of the
   tree to every thread, after a barrier that ends the tree.

Step 3 computes exp(x - m) again rather than keeping it from step 2: keeping it would mean
writing it to global memory and reading it back, which costs more than the exp.

Float32 and float64 rows run the kernel (in their own precision); other dtypes run the
CPU's array code (``kernels/cpu/activations.py``), as CuPy calls on a GPU.
"""
import math

from numba import cuda

from ..arrays import array_module
from ..cpu import activations as array_code
from .launch import launch
from .reduction import FLOATS, MAX, SUM, THREADS, as_rows, block_reduce, block_size, combine, \
    start_value

__all__ = ["softmax", "log_softmax"]

#: The types each kernel is compiled for in the PTX test (tests/cudasim/test_ptx.py).
PTX_SIGNATURES = {
    "_softmax_rows_kernel": ["void(float32[:, ::1], float32[:, ::1])"],
    "_log_softmax_rows_kernel": ["void(float32[:, ::1], float32[:, ::1])"],
}


@cuda.jit(device=True, inline="always")
def row_max_and_sum(x, row, shared):
    """(m, s): the maximum of row ``row`` of ``x`` and the sum of exp(x - m) over that row,
    returned to every thread of the block (``shared``: one slot per thread)."""
    t, threads, n = cuda.threadIdx.x, cuda.blockDim.x, x.shape[1]
    m = start_value(MAX)
    for j in range(t, n, threads):
        m = combine(m, x[row, j], MAX)
    m = block_reduce(shared, m, MAX)
    # m - m: a zero of the row's dtype. (With start_value's float32 zero the simulator
    # would add a float64 row in float32: there math.exp returns a Python float, which
    # NumPy adds to a float32 as a float32.) It is NaN where m is infinite or NaN, rows
    # whose softmax is NaN on the CPU too (x - m has a NaN there).
    s = m - m
    for j in range(t, n, threads):
        s += math.exp(x[row, j] - m)
    return m, block_reduce(shared, s, SUM)


@cuda.jit
def _softmax_rows_kernel(x, out):
    shared = cuda.shared.array(THREADS, x.dtype)
    row = cuda.blockIdx.x
    m, s = row_max_and_sum(x, row, shared)
    for j in range(cuda.threadIdx.x, x.shape[1], cuda.blockDim.x):
        out[row, j] = math.exp(x[row, j] - m) / s


@cuda.jit
def _log_softmax_rows_kernel(x, out):
    shared = cuda.shared.array(THREADS, x.dtype)
    row = cuda.blockIdx.x
    m, s = row_max_and_sum(x, row, shared)
    log_s = math.log(s)
    for j in range(cuda.threadIdx.x, x.shape[1], cuda.blockDim.x):
        out[row, j] = (x[row, j] - m) - log_s


def _by_rows(kernel, x, axis):
    """``kernel`` run on the rows of ``x`` along ``axis`` (an int or a tuple), one block per
    row, and the result put back in x's layout."""
    xp = array_module(x)
    axes = tuple(a % x.ndim for a in (axis if isinstance(axis, (tuple, list)) else (axis,)))
    if x.size == 0:
        return xp.empty_like(x)
    rows, moved_shape = as_rows(x, axes)
    out = xp.empty_like(rows)
    launch(kernel, rows.shape[0], block_size(rows.shape[1]), rows, out,
           shared_bytes=THREADS * x.dtype.itemsize)
    last = tuple(range(x.ndim - len(axes), x.ndim))
    return xp.moveaxis(out.reshape(moved_shape), last, axes)


def softmax(x, axis=-1):
    """exp(x - max) / Σ exp(x - max) along ``axis``, as ``kernels.cpu.softmax``."""
    if x.dtype.name not in FLOATS:
        return array_code.softmax(x, axis)
    return _by_rows(_softmax_rows_kernel, x, axis)


def log_softmax(x, axis=-1):
    """(x - max) - log Σ exp(x - max) along ``axis``, as ``kernels.cpu.log_softmax``."""
    if x.dtype.name not in FLOATS:
        return array_code.log_softmax(x, axis)
    return _by_rows(_log_softmax_rows_kernel, x, axis)
