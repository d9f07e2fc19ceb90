"""The embedding lookup on the GPU: a gather of rows, and its gradient, a scatter-add.

Both kernels see the table as a matrix of ``num_rows`` rows of ``width`` numbers (the axes
after the first flattened) and the ids as one flat list of ``count`` integers, so the
gathered rows are a (count, width) matrix.

The gather (``embedding_gather``): one thread per element of the output. Thread ``e`` of
the grid-stride loop computes element ``(i, j) = (e // width, e % width)``: it reads id
``ids[i]`` and copies ``table[ids[i], j]``. Neighbouring threads copy neighbouring numbers
of one row, so their reads and writes are contiguous. No thread writes where another reads:
no shared memory, no barrier.

The scatter-add (``embedding_scatter_add``): one thread per element of the incoming
gradient g (count, width). Thread ``e`` adds ``g[i, j]`` into ``out[ids[i], j]`` of a table
of zeros. Two positions with the same id (the word "the" twice in a sentence) send their
threads to the *same* element of ``out``, and a plain ``out[r, j] += v`` is a read, an add
and a write: two threads could both read the old value and one sum would be lost. So the add
is ``cuda.atomic.add``, which the GPU performs as one indivisible step per element. (The
simulator runs threads one after another and would not show the lost sum: the atomic is
there for the real GPU.) Atomics add in whatever order the threads arrive, so on a GPU the
last bits of a row summed from repeated ids can change from one run to the next; the CPU's
``np.add.at`` adds in the order of the ids.

A negative id counts from the end of the table, as in NumPy (``% num_rows``). An id outside
the table raises NumPy's IndexError before the gather launches (a GPU thread reading past
the end of an array reads some other memory, silently); the scatter-add gets the ids its
gather accepted.

Any table dtype runs the gather. The scatter-add runs for float32 and float64 (the types
``cuda.atomic.add`` adds); other dtypes use the CPU's array code on the device.
"""
import math

from numba import cuda

from ..arrays import array_module
from ..cpu.embedding import embedding_scatter_add as _array_scatter_add
from .launch import grid_1d, launch

__all__ = ["embedding_gather", "embedding_scatter_add"]

#: The types each kernel is compiled for in the PTX test (tests/cudasim/test_ptx.py).
PTX_SIGNATURES = {
    "_gather_rows_kernel": ["void(float32[:, ::1], int32[::1], float32[:, ::1])",
                            "void(float32[:, ::1], int64[::1], float32[:, ::1])"],
    "_scatter_add_rows_kernel": ["void(float32[:, ::1], int32[::1], float32[:, ::1])",
                                 "void(float32[:, ::1], int64[::1], float32[:, ::1])",
                                 "void(float64[:, ::1], int64[::1], float64[:, ::1])"],
}


@cuda.jit
def _gather_rows_kernel(table, ids, out):
    width = out.shape[1]
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for e in range(start, out.size, stride):
        i, j = e // width, e % width
        row = ids[i] % table.shape[0]
        out[i, j] = table[row, j]


def embedding_gather(table, ids):
    """``table[ids]``, as ``kernels.cpu.embedding_gather``: one thread per output element."""
    xp = array_module(table)
    num_rows = table.shape[0]
    flat_ids = xp.ascontiguousarray(ids).reshape(-1)
    if flat_ids.size:
        low, high = int(flat_ids.min()), int(flat_ids.max())
        if low < -num_rows or high >= num_rows:     # NumPy's error, before any thread reads
            bad = low if low < -num_rows else high
            raise IndexError(f"index {bad} is out of bounds for axis 0 with size {num_rows}")
    rows = xp.ascontiguousarray(table).reshape(num_rows, math.prod(table.shape[1:]))
    out = xp.empty((flat_ids.size, rows.shape[1]), dtype=table.dtype)
    if out.size:
        blocks, threads = grid_1d(out.size)
        launch(_gather_rows_kernel, blocks, threads, rows, flat_ids, out)
    return out.reshape(tuple(ids.shape) + tuple(table.shape[1:]))


@cuda.jit
def _scatter_add_rows_kernel(g, ids, out):
    width = g.shape[1]
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for e in range(start, g.size, stride):
        i, j = e // width, e % width
        row = ids[i] % out.shape[0]
        cuda.atomic.add(out, (row, j), g[i, j])   # ids may repeat: threads meet here


def embedding_scatter_add(g, ids, num_rows):
    """Zeros of ``num_rows`` rows with each row of ``g`` added at its id, as
    ``kernels.cpu.embedding_scatter_add``: one thread per element of g, atomic adds."""
    xp = array_module(g)
    if g.dtype.kind != "f" or g.dtype.itemsize not in (4, 8):
        return _array_scatter_add(g, ids, num_rows)
    row_shape = tuple(g.shape[ids.ndim:])
    out = xp.zeros((num_rows, math.prod(row_shape)), dtype=g.dtype)
    if g.size and num_rows:
        grads = xp.ascontiguousarray(g).reshape(-1, out.shape[1])
        flat_ids = xp.ascontiguousarray(ids).reshape(-1)
        blocks, threads = grid_1d(grads.size)
        launch(_scatter_add_rows_kernel, blocks, threads, grads, flat_ids, out)
    return out.reshape((num_rows,) + row_shape)
