"""The matrix product on the GPU: a tiled kernel that uses shared memory.

``C = A @ B`` with A of shape (m, k) and B of shape (k, n): element ``C[i, j]`` is the dot
product of row i of A with column j of B. The kernel gives each element of C its own thread.

The grid of threads
-------------------
C is cut into square tiles of ``TILE x TILE`` elements (TILE = 16), and one block of
``TILE x TILE`` = 256 threads computes one tile. Inside a block, thread ``(tx, ty)``
(``cuda.threadIdx.x``, ``cuda.threadIdx.y``) computes the element of C at

    row = blockIdx.y * TILE + ty        col = blockIdx.x * TILE + tx

so x runs along the columns of C and y along its rows. The grid has
``ceil(n / TILE) x ceil(m / TILE)`` blocks, and a third grid dimension, ``blockIdx.z``, is
the index of the matrix in a batch: one launch multiplies the whole batch (a stack of
matrices, the leading axes of the operands flattened into one).

Why shared memory
-----------------
A naive kernel would have every thread read its whole row of A and column of B from the
GPU's main memory: 2·k reads for k multiply-adds, and each number of A read again by the n
threads of its row. Main memory is slow (hundreds of cycles); shared memory, a small
scratchpad that the threads of one block share, answers in a few. So the block walks along
k one tile at a time. At each step:

1. every thread loads ONE element of A's tile (rows of this block, columns t..t+TILE) and
   ONE element of B's tile (rows t..t+TILE, columns of this block) into the shared arrays
   ``a_tile`` and ``b_tile``: 256 threads load 2 x 256 numbers, each read once from main
   memory, and neighbouring threads (neighbouring ``tx``) read neighbouring addresses, which
   the GPU merges into few wide reads;
2. **barrier** (``cuda.syncthreads()``): no thread goes on until every thread of the block
   has written its two elements. Without it a fast thread would start the dot product while
   a slower one had not yet stored its element: it would read a tile not yet loaded (the
   previous step's number, or garbage);
3. every thread adds the products of its row of ``a_tile`` and its column of ``b_tile``:
   TILE multiply-adds, all from shared memory. Each loaded number is used TILE times;
4. **barrier** again: no thread may load the next step's tiles until every thread has
   finished reading the current ones. Without it a fast thread would overwrite ``a_tile``
   or ``b_tile`` while a slower neighbour was still reading them for its dot product.

After the last step the thread writes its sum to C.

The edges
---------
m, n and k need not be multiples of TILE. A thread whose element of A or B lies outside the
matrix stores a zero in the tile instead, and zeros add nothing to the dot products; a
thread whose element of C lies outside C computes along with the others and does not write.
Such threads must not leave early: ``cuda.syncthreads()`` waits for *every* thread of the
block, and a barrier that some threads never reach is undefined on a GPU (it may hang). The
simulator does not notice either mistake, so both are written out and explained here.

The float type of the tiles and of the running sum is the one of A (``a.dtype``): float32 for
the models, float64 when a test wants tight comparisons; Numba compiles one version of the
kernel per type.

The setting
-----------
``minikeras.config.set_matmul("ours")`` makes :func:`matmul` (the entry of the CUDA table,
which ``ops.matmul`` calls) run this kernel; the default, ``"cublas"``, runs CuPy's
``matmul``, i.e. NVIDIA's cuBLAS, which is many times faster: it uses larger tiles, several
elements per thread and the tensor cores. This kernel is the one to read.
"""
import math

import numpy

from numba import cuda

from ..arrays import array_module
from .launch import MAX_GRID_DIMS, launch

__all__ = ["matmul", "tiled_matmul"]

#: The side of a tile: a block has TILE x TILE threads, one per element of C's tile.
TILE = 16

#: The types the kernel is compiled for in the PTX test (tests/cudasim/test_ptx.py).
PTX_SIGNATURES = {
    "_matmul_tiled_kernel": [
        "void(float32[:, :, ::1], float32[:, :, ::1], float32[:, :, ::1])",
        "void(float64[:, :, ::1], float64[:, :, ::1], float64[:, :, ::1])",
    ],
}

#: Where :func:`matmul` reads the setting: a function that returns ``"ours"`` or
#: ``"cublas"``. The settings live one floor up (``backend/settings.py``), which the kernels
#: do not import; the cuda backend puts ``minikeras.config.matmul`` here when it loads this
#: table (``backend/cuda_backend.py``).
SETTING = {"matmul": lambda: "cublas"}


@cuda.jit
def _matmul_tiled_kernel(a, b, out):
    # a: (batch_a, m, k), b: (batch_b, k, n), out: (batch, m, n); batch_a and batch_b are
    # either the batch or 1 (one matrix shared by the whole batch).
    a_tile = cuda.shared.array((TILE, TILE), dtype=a.dtype)
    b_tile = cuda.shared.array((TILE, TILE), dtype=a.dtype)
    tx = cuda.threadIdx.x                       # this thread's column inside the tile
    ty = cuda.threadIdx.y                       # this thread's row inside the tile
    row = cuda.blockIdx.y * TILE + ty           # the element of C this thread computes
    col = cuda.blockIdx.x * TILE + tx
    z = cuda.blockIdx.z                         # which matrix of the batch
    za = z if a.shape[0] > 1 else 0
    zb = z if b.shape[0] > 1 else 0
    m, k, n = a.shape[1], a.shape[2], b.shape[2]

    total = a.dtype.type(0)                     # the running dot product, in A's float type
    for start in range(0, k, TILE):             # one step per tile along k
        # 1. Each thread loads one element of each tile; zero outside the matrices.
        if row < m and start + tx < k:
            a_tile[ty, tx] = a[za, row, start + tx]
        else:
            a_tile[ty, tx] = 0
        if start + ty < k and col < n:
            b_tile[ty, tx] = b[zb, start + ty, col]
        else:
            b_tile[ty, tx] = 0
        # 2. Wait until the whole block has loaded both tiles: the loop below reads
        #    elements that other threads wrote.
        cuda.syncthreads()
        # 3. This thread's part of the dot product, from shared memory only.
        for i in range(TILE):
            total += a_tile[ty, i] * b_tile[i, tx]
        # 4. Wait until the whole block has read both tiles: the next step overwrites them.
        cuda.syncthreads()

    if row < m and col < n:                     # threads past the edge of C write nothing
        out[z, row, col] = total


def matmul(a, b):
    """``a @ b`` with NumPy's ``matmul`` rules, the entry of the CUDA table.

    By the setting ``minikeras.config.matmul()``: ``"cublas"`` (the default) is the array
    module's ``matmul`` (CuPy's, i.e. cuBLAS); ``"ours"`` is :func:`tiled_matmul`."""
    if SETTING["matmul"]() == "ours":
        return tiled_matmul(a, b)
    return array_module(a).matmul(a, b)


def tiled_matmul(a, b):
    """``a @ b`` by the tiled kernel, with NumPy's ``matmul`` rules for what the ops give it:

    * 2-D @ 2-D: one launch of ``ceil(n/16) x ceil(m/16)`` blocks of 16 x 16 threads;
    * batched, N-D @ N-D: the leading axes are flattened into one batch axis and the batch
      is the third grid dimension (one launch; several when the batch passes the 65535
      blocks a grid allows along z). An operand with no leading axes (or only ones) is one
      matrix that every matrix of the batch reads (it is not repeated in memory); leading
      axes that broadcast otherwise (``(2, 1, m, k) @ (3, k, n)``) are broadcast into a
      copy first;
    * a 1-D operand is a row (for ``a``) or a column (for ``b``), dropped from the result.

    The operands are made C-contiguous first (a transposed view is copied). Float32 and
    float64 run the kernel, in their own type. Everything else goes to the array module's
    ``matmul`` unchanged: other dtypes (integers, float16) or two different ones, 0-d
    operands, shapes that do not multiply (it raises NumPy's error), empty results, and
    more than 65535 x 16 rows (the grid's limit along y)."""
    xp = array_module(a)
    if not _kernel_can_run(a, b):
        return xp.matmul(a, b)
    a2 = a.reshape(1, -1) if a.ndim == 1 else a
    b2 = b.reshape(-1, 1) if b.ndim == 1 else b
    batch_shape = numpy.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    m, n = a2.shape[-2], b2.shape[-1]
    a3, b3 = _batch_of_matrices(xp, a2, batch_shape), _batch_of_matrices(xp, b2, batch_shape)
    batch = math.prod(batch_shape)
    out = xp.empty((batch, m, n), dtype=a.dtype)
    block = (TILE, TILE)
    shared_bytes = 2 * TILE * TILE * a.dtype.itemsize       # a_tile and b_tile
    for first in range(0, batch, MAX_GRID_DIMS[2]):
        last = min(batch, first + MAX_GRID_DIMS[2])
        grid = (_tiles(n), _tiles(m), last - first)
        launch(_matmul_tiled_kernel, grid, block,
               a3[first:last] if a3.shape[0] > 1 else a3,
               b3[first:last] if b3.shape[0] > 1 else b3,
               out[first:last], shared_bytes=shared_bytes)
    shape = batch_shape + (m, n)
    if a.ndim == 1:
        shape = shape[:-2] + shape[-1:]
    if b.ndim == 1:
        shape = shape[:-1]
    return out.reshape(shape)


def _tiles(length):
    """How many tiles of TILE cover ``length`` (the last one padded with zeros)."""
    return (length + TILE - 1) // TILE


def _kernel_can_run(a, b):
    """True when the tiled kernel computes ``a @ b`` (see :func:`tiled_matmul`)."""
    if a.dtype != b.dtype or a.dtype not in (numpy.float32, numpy.float64):
        return False
    if a.ndim == 0 or b.ndim == 0:
        return False
    k_of_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if a.shape[-1] != k_of_b:
        return False
    try:
        batch_shape = numpy.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        return False
    m = 1 if a.ndim == 1 else a.shape[-2]
    n = 1 if b.ndim == 1 else b.shape[-1]
    if m == 0 or n == 0 or math.prod(batch_shape) == 0:
        return False
    return _tiles(m) <= MAX_GRID_DIMS[1]


def _batch_of_matrices(xp, x, batch_shape):
    """``x`` (matrices under leading axes) as a C-contiguous (batch or 1, rows, cols) array."""
    rows, cols = x.shape[-2:]
    if math.prod(x.shape[:-2]) == 1:                # one matrix, read by the whole batch
        return xp.ascontiguousarray(x.reshape(1, rows, cols))
    if tuple(x.shape[:-2]) != tuple(batch_shape):   # broadcast along some leading axes
        x = xp.broadcast_to(x, tuple(batch_shape) + (rows, cols))
    return xp.ascontiguousarray(x).reshape(-1, rows, cols)
