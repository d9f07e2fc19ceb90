"""Reductions for the GPU: the sum, the maximum or the minimum along axes, one block per row.

The launcher moves the reduced axes last and flattens the array into a matrix of shape
(rows, length): each output element is the reduction of one row, and one block of B threads
reduces one row, in two steps.

1. Each thread walks the row with a stride of B: thread t reads elements t, t + B, t + 2B,
   ... (neighbouring threads read neighbouring elements, which the memory serves in one
   transaction) and keeps its own running result in a register.
2. The block combines its B partial results in shared memory, the classic halving tree:
   every thread writes its value into its slot; then, level by level, thread t < half
   combines slot t with slot t + half, for half = B/2, B/4, ..., 1, and slot 0 holds the
   result. ``cuda.syncthreads()`` after each level makes that level's writes visible to
   every thread before the next level reads them; without it a thread could read a slot its
   neighbour has not written yet (a race the simulator never shows: it runs the threads of
   a block one after another between barriers). The tree needs B to be a power of two:
   the launcher picks the power of two that covers the row, at most 128 (``block_size``).

Step 2 is a device function, ``block_reduce``: the softmax and cross-entropy kernels
(``softmax.py``, ``crossentropy.py``) use it for their row maxima and sums. The device
functions are inlined into the kernels that call them (``inline="always"``): Numba then
compiles them as part of the kernel, which also lets the PTX test compile them without a GPU.

A few long rows (the sum of a whole array is one row) would make a few blocks and leave
most of the GPU idle. Then the reduction takes two passes: in the first, P blocks share each
row (grid (rows, P)): block p starts at element p·B + t and strides by P·B, and writes one
partial result into a (rows, P) matrix; the second pass reduces that matrix with the same
kernel, one block per row. The blocks of one launch cannot wait for each other, which is
why the partial results need a second launch (atomics could add partial sums, but not take
a maximum of floats, and they would add in a different order on every run).

Float32 and float64 arrays run the kernel (the shared slots and the arithmetic in the
array's dtype); other dtypes (integers, booleans, float16), empty arrays and scalars run the
array's own reduction (``x.sum(...)``: CuPy's on a GPU, NumPy's in the simulator).
"""
import math

from numba import cuda, float32

from ..arrays import array_module
from .launch import THREADS_PER_BLOCK, launch

__all__ = ["reduce_sum", "reduce_max", "reduce_min"]

#: Which reduction a kernel does (a kernel argument, or a constant of the calling kernel).
SUM, MAX, MIN = 0, 1, 2
#: The largest block; every kernel that reduces declares one shared slot per thread.
THREADS = THREADS_PER_BLOCK
#: Blocks enough to keep every multiprocessor of a GPU busy; fewer rows get a first pass.
FILL_BLOCKS = 256
#: In a first pass each thread reduces at least this many elements.
PER_THREAD = 8
FLOATS = ("float32", "float64")

#: The types each kernel is compiled for in the PTX test (tests/cudasim/test_ptx.py).
PTX_SIGNATURES = {
    "_reduce_rows_kernel": ["void(float32[:, ::1], float32[:, ::1], int64)"],
}


@cuda.jit(device=True, inline="always")
def combine(a, b, op):
    """a + b, max(a, b) or min(a, b); a NaN wins the maximum and the minimum, as in NumPy."""
    if op == SUM:
        return a + b
    if b != b or (b > a if op == MAX else b < a):
        return b
    return a


@cuda.jit(device=True, inline="always")
def start_value(op):
    """The value that changes nothing: 0 for a sum, -inf for a max, +inf for a min. It is a
    float32, so that float32 rows stay in float32 arithmetic (a plain 0.0 is a float64 and
    would make the GPU add in double precision); a float64 row turns it into a float64."""
    if op == SUM:
        return float32(0)
    return float32(-math.inf) if op == MAX else float32(math.inf)


@cuda.jit(device=True, inline="always")
def block_reduce(shared, value, op):
    """The reduction of every thread's ``value`` over the block, returned to every thread.
    ``shared`` has a slot per thread; the block size must be a power of two."""
    t = cuda.threadIdx.x
    shared[t] = value
    cuda.syncthreads()        # every slot is written before any thread reads another's
    half = cuda.blockDim.x // 2
    while half > 0:           # all threads run every level, so all reach each barrier
        if t < half:
            shared[t] = combine(shared[t], shared[t + half], op)
        cuda.syncthreads()    # this level's results are written before the next reads them
        half //= 2
    result = shared[0]
    cuda.syncthreads()        # all have read slot 0 before a next call writes the slots
    return result


@cuda.jit
def _reduce_rows_kernel(x, out, op):
    """Block (r, p) reduces its share of row r of ``x`` into ``out[r, p]``."""
    shared = cuda.shared.array(THREADS, x.dtype)
    row, part, t = cuda.blockIdx.x, cuda.blockIdx.y, cuda.threadIdx.x
    acc = start_value(op)
    for j in range(part * cuda.blockDim.x + t, x.shape[1], cuda.gridDim.y * cuda.blockDim.x):
        acc = combine(acc, x[row, j], op)
    acc = block_reduce(shared, acc, op)
    if t == 0:
        out[row, part] = acc


def block_size(n):
    """The block for rows of ``n`` elements: the power of two >= n, at most THREADS. A block
    of fewer than 32 threads still takes a whole warp of the GPU, so padding it to a warp
    would gain nothing there (and cost the simulator a Python thread per extra thread)."""
    threads = 1
    while threads < n and threads < THREADS:
        threads *= 2
    return threads


def as_rows(x, axes):
    """``x`` with ``axes`` (a tuple of non-negative ints) moved last, as a C-contiguous
    matrix with one row per position of the other axes, and the shape of the moved array."""
    xp = array_module(x)
    moved = xp.moveaxis(x, axes, tuple(range(x.ndim - len(axes), x.ndim)))
    length = math.prod(moved.shape[x.ndim - len(axes):])
    return xp.ascontiguousarray(moved).reshape(-1, length), moved.shape


def _reduce(x, axis, keepdims, op):
    """The reduction ``op`` of ``x`` over ``axis`` (None, an int or a tuple), or None for an
    array the kernel does not take."""
    axes = range(x.ndim) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    axes = tuple(sorted({a % x.ndim for a in axes})) if x.ndim else ()
    if x.dtype.name not in FLOATS or x.size == 0 or not axes:
        return None
    xp = array_module(x)
    rows, _ = as_rows(x, axes)
    n_rows, n = rows.shape
    threads, shared = block_size(n), THREADS * x.dtype.itemsize
    parts = max(1, min(-(-n // (threads * PER_THREAD)), FILL_BLOCKS // n_rows))
    out = xp.empty((n_rows, parts), x.dtype)
    launch(_reduce_rows_kernel, (n_rows, parts), threads, rows, out, op, shared_bytes=shared)
    if parts > 1:             # the second pass: one block per row of partial results
        partial, out = out, xp.empty((n_rows, 1), x.dtype)
        launch(_reduce_rows_kernel, n_rows, block_size(parts), partial, out, op,
               shared_bytes=shared)
    kept = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
    return out.reshape(kept if keepdims else tuple(d for i, d in enumerate(x.shape)
                                                   if i not in axes))


def reduce_sum(x, axis=None, keepdims=False, dtype=None):
    """The sum over ``axis``, as ``kernels.cpu.reduce_sum`` (a sum into another ``dtype``
    runs the array module's sum)."""
    out = _reduce(x, axis, keepdims, SUM) if dtype is None or dtype == x.dtype else None
    return x.sum(axis=axis, keepdims=keepdims, dtype=dtype) if out is None else out


def reduce_max(x, axis=None, keepdims=False):
    """The maximum over ``axis``, as ``kernels.cpu.reduce_max`` (NaN propagates)."""
    out = _reduce(x, axis, keepdims, MAX)
    return x.max(axis=axis, keepdims=keepdims) if out is None else out


def reduce_min(x, axis=None, keepdims=False):
    """The minimum over ``axis``, as ``kernels.cpu.reduce_min`` (NaN propagates)."""
    out = _reduce(x, axis, keepdims, MIN)
    return x.min(axis=axis, keepdims=keepdims) if out is None else out
