"""The embedding gather and scatter-add of the CPU table, against loops written out.

The CUDA twins are tested in the simulator (tests/cudasim/test_embedding.py)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minikeras import backend, ops
from minikeras.kernels import cpu as cpu_kernels


def _gather_loop(table, ids):
    flat = ids.reshape(-1)
    out = np.empty((flat.size,) + table.shape[1:], table.dtype)
    for i, r in enumerate(flat):
        out[i] = table[r]
    return out.reshape(ids.shape + table.shape[1:])


def _scatter_loop(g, ids, num_rows):
    flat, rows = ids.reshape(-1), g.reshape((-1,) + g.shape[ids.ndim:])
    out = np.zeros((num_rows,) + g.shape[ids.ndim:], g.dtype)
    for i, r in enumerate(flat):          # in the order of the ids, one row after another
        out[r] += rows[i]
    return out


@settings(max_examples=25, deadline=None)
@given(num_rows=st.integers(1, 7), row_shape=st.sampled_from([(), (1,), (3,), (2, 3)]),
       ids_shape=st.sampled_from([(0,), (1,), (5,), (2, 3)]), seed=st.integers(0, 999),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_cpu_gather_and_scatter_add_are_the_loops(num_rows, row_shape, ids_shape, seed, dtype):
    rng = np.random.default_rng(seed)
    table = rng.standard_normal((num_rows,) + row_shape).astype(dtype)
    ids = rng.integers(-num_rows, num_rows, ids_shape).astype(np.int32)
    np.testing.assert_array_equal(cpu_kernels.embedding_gather(table, ids),
                                  _gather_loop(table, ids))
    g = rng.standard_normal(ids_shape + row_shape).astype(dtype)
    out = cpu_kernels.embedding_scatter_add(g, ids, num_rows)
    assert out.dtype == dtype and out.shape == table.shape
    np.testing.assert_array_equal(out, _scatter_loop(g, ids, num_rows))


def test_the_ops_call_the_table():
    assert backend.kernels.embedding_gather is cpu_kernels.embedding_gather
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    np.testing.assert_array_equal(ops.take(x, np.array([2, 2, 0]), axis=0).numpy(),
                                  x[[2, 2, 0]])
    with pytest.raises(IndexError, match="out of bounds"):
        ops.getitem(x, np.array([3]))
