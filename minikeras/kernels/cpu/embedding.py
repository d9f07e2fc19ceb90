"""The embedding lookup and its gradient on the CPU: a gather of rows and a scatter-add.

``embedding_gather(table, ids)`` is ``table[ids]``: the row of each id, so ids of shape
(batch, timesteps) give (batch, timesteps) + table.shape[1:]. Its gradient,
``embedding_scatter_add(g, ids, num_rows)``, starts from a zero table and **adds** each row
of g into the row of its id: an id that appears twice gets the sum of two gradients, which
is NumPy's ``np.add.at(out, ids, g)`` (``out[ids] += g`` would keep only one of them).

``ops.take(x, ids, axis=0)`` and ``x[ids]`` (``GetItem`` and ``ScatterAdd`` in
``ops/indexing.py``) call them through the kernel table; their CUDA twins are in
``kernels/cuda/embedding.py``. The code works on NumPy and CuPy arrays alike.
"""
import math

from ..arrays import array_module

__all__ = ["embedding_gather", "embedding_scatter_add"]


def embedding_gather(table, ids):
    """``table[ids]``: the rows of ``table`` at ``ids`` (integers of any shape; a negative id
    counts from the end)."""
    return table[ids]


def embedding_scatter_add(g, ids, num_rows):
    """A zero table of ``num_rows`` rows with each row of ``g`` added into the row of its id:
    ``np.add.at(out, ids, g)``, where g has shape ids.shape + row shape.

    The same sum is computed as one 1-D ``add.at`` over the flat positions of the elements,
    about 3x faster than ``add.at`` over rows."""
    xp = array_module(g)
    out = xp.zeros((num_rows,) + g.shape[ids.ndim:], dtype=g.dtype)
    width = math.prod(out.shape[1:])
    rows = ids.reshape(-1).astype(xp.int64) % num_rows   # int64: rows * width may pass 2**31
    flat = (rows[:, None] * width + xp.arange(width)).reshape(-1)
    xp.add.at(out.reshape(-1), flat, g.reshape(-1))
    return out
