"""The embedding gather and scatter-add kernels (kernels/cuda/embedding.py) against their CPU
twins, in the simulator. Grid-stride loops of 128 threads a block: tiny shapes are cheap."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minikeras as mk
from minikeras import backend, debug, layers, ops
from minikeras.kernels import cpu as cpu_kernels
from minikeras.kernels.cuda.embedding import embedding_gather, embedding_scatter_add
from minikeras.kernels.cuda.launch import THREADS_PER_BLOCK


@pytest.mark.parametrize("num_rows,row_shape,ids_shape", [
    (1, (1,), (1,)),                    # sizes of one
    (5, (3,), (2, 4)),                  # (batch, timesteps) ids, less than a block
    (4, (2, 3), (3,)),                  # rows that are matrices
    (3, (THREADS_PER_BLOCK + 5,), (2,)),  # over one block: two blocks of the grid
    (6, (), (4,)),                      # a 1-D table: one number per id
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gather_and_scatter_add_match_the_cpu(num_rows, row_shape, ids_shape, dtype):
    rng = np.random.default_rng(num_rows)
    table = rng.standard_normal((num_rows,) + row_shape).astype(dtype)
    ids = rng.integers(-num_rows, num_rows, ids_shape).astype(np.int32)  # < 0: from the end
    np.testing.assert_array_equal(embedding_gather(table, ids),
                                  cpu_kernels.embedding_gather(table, ids))
    g = rng.standard_normal(ids_shape + row_shape).astype(dtype)
    np.testing.assert_allclose(embedding_scatter_add(g, ids, num_rows),
                               cpu_kernels.embedding_scatter_add(g, ids, num_rows),
                               rtol=1e-6, atol=1e-6)


@settings(max_examples=10, deadline=None)
@given(num_rows=st.integers(1, 6), width=st.integers(1, 9), count=st.integers(1, 12),
       seed=st.integers(0, 99))
def test_repeated_ids_add_up(num_rows, width, count, seed):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, num_rows, count)              # int64, and ids repeat
    g = rng.standard_normal((count, width)).astype(np.float32)
    expected = np.zeros((num_rows, width), np.float32)
    np.add.at(expected, ids, g)
    np.testing.assert_allclose(embedding_scatter_add(g, ids, num_rows), expected,
                               rtol=1e-5, atol=1e-6)


def test_empty_ids_and_an_id_out_of_range():
    table = np.ones((3, 2), np.float32)
    empty = np.zeros((0,), np.int32)
    assert embedding_gather(table, empty).shape == (0, 2)
    np.testing.assert_array_equal(embedding_scatter_add(np.ones((0, 2), np.float32), empty, 3),
                                  np.zeros((3, 2), np.float32))
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 0 with size 3"):
        embedding_gather(table, np.array([0, 3]))
    with pytest.raises(IndexError, match="index -4 is out of bounds"):
        embedding_gather(table, np.array([-4]))


def test_other_dtypes_scatter_with_the_array_code():
    g = np.ones((3, 2), np.float16)
    ids = np.array([1, 1, 0])
    out = embedding_scatter_add(g, ids, 2)
    assert out.dtype == np.float16
    np.testing.assert_array_equal(out, [[1, 1], [2, 2]])


def test_embedding_layer_runs_the_kernels_forward_and_backward():
    rng = np.random.default_rng(7)
    layer = layers.Embedding(5, 3)
    ids = np.array([[1, 4, 1], [0, 1, 2]], np.int32)
    layer(ids)
    table = layer.embeddings.numpy()
    g = rng.standard_normal((2, 3, 3)).astype(np.float32)
    with debug.trace() as t:
        with mk.GradientTape() as tape:
            y = layer(ids)
            loss = ops.sum(y * mk.Tensor(g))
        grad, = tape.gradient(loss, [layer.embeddings])
    # (the other launches: the loss's elementwise product and its sum)
    assert [e.name for e in t.all_events() if e.kind == "cuda" and "embedding" in e.name] == [
        "kernels/cuda/embedding.py:_gather_rows_kernel",
        "kernels/cuda/embedding.py:_scatter_add_rows_kernel"]
    np.testing.assert_array_equal(y.numpy(), table[ids])
    expected = np.zeros_like(table)
    np.add.at(expected, ids, g)
    np.testing.assert_allclose(grad.numpy(), expected, rtol=1e-6, atol=1e-6)
    assert backend.mode == "cudasim"


def test_take_on_axis_0_and_its_readable_backward():
    x_data = np.arange(12, dtype=np.float32).reshape(4, 3)
    x = mk.Tensor(x_data, requires_grad=True)
    with mk.autograd.readable_backward():
        y = ops.take(x, np.array([3, -1, 0]), axis=0)
        ops.sum(y * y).backward()
    np.testing.assert_array_equal(y.numpy(), x_data[[3, -1, 0]])
    expected = np.zeros_like(x_data)
    expected[3] = 4 * x_data[3]                         # picked twice: 3 and -1
    expected[0] = 2 * x_data[0]
    np.testing.assert_array_equal(x.grad.numpy(), expected)
