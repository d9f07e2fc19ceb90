"""The tiled matmul kernel (kernels/cuda/matmul.py) against NumPy's matmul, in the simulator.

Each block is 16 x 16 simulated threads with two barriers per tile, about a quarter of a
second, so the shapes stay within a block or two."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minikeras as mk
from minikeras import backend, debug, ops
from minikeras.kernels import cpu as cpu_kernels
from minikeras.kernels.cuda.matmul import TILE, tiled_matmul


def _random(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


@pytest.fixture
def ours():
    """The setting "ours" for one test, then back to what it was."""
    before = mk.config.matmul()
    mk.config.set_matmul("ours")
    yield
    mk.config.set_matmul(before)


CASES = [
    ((1, 1), (1, 1)),                   # sizes of one
    ((3, 5), (5, 4)),                   # less than a tile
    ((TILE + 1, 3), (3, 2)),            # rows over one tile: two blocks along y
    ((2, TILE + 3), (TILE + 3, 3)),     # k over one tile: two steps of the tile loop
    ((2, 3, 4), (2, 4, 5)),             # a batch: the third grid dimension
    ((2, 3, 4), (4, 2)),                # one matrix shared by the batch (Dense on a sequence)
    ((2, 1, 1, 2), (2, 2, 1)),          # leading axes that broadcast into a copy
    ((4,), (4, 3)),                     # a 1-D operand is a row ...
    ((2, 3, 4), (4,)),                  # ... or a column
    ((3,), (3,)),
]


@pytest.mark.parametrize("shape_a,shape_b,dtype",
                         [(a, b, np.float32) for a, b in CASES]
                         + [(a, b, np.float64) for a, b in CASES[1:5:2]])
def test_tiled_kernel_matches_numpy(shape_a, shape_b, dtype):
    rng = np.random.default_rng(len(shape_a) * 10 + shape_a[-1])
    a, b = _random(rng, shape_a, dtype), _random(rng, shape_b, dtype)
    out = tiled_matmul(a, b)
    expected = cpu_kernels.matmul(a, b)
    assert out.dtype == expected.dtype and out.shape == np.shape(expected)
    tight = dtype == np.float64
    np.testing.assert_allclose(out, expected, rtol=1e-12 if tight else 1e-5,
                               atol=1e-12 if tight else 1e-6)


@settings(max_examples=10, deadline=None)
@given(m=st.integers(1, 9), k=st.integers(1, 20), n=st.integers(1, 9), seed=st.integers(0, 99))
def test_tiled_kernel_on_random_sizes(m, k, n, seed):
    rng = np.random.default_rng(seed)
    a, b = _random(rng, (m, k), np.float32), _random(rng, (k, n), np.float32)
    np.testing.assert_allclose(tiled_matmul(a, b), a @ b, rtol=1e-5, atol=1e-5)


def test_a_transposed_view_is_copied_then_multiplied():
    rng = np.random.default_rng(4)
    a = _random(rng, (5, 3), np.float32).T
    b = _random(rng, (5, 2), np.float32)
    np.testing.assert_allclose(tiled_matmul(a, b), a @ b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("a,b", [
    (np.ones((2, 3), np.float32), np.ones((3, 2), np.float64)),     # two dtypes: promoted
    (np.ones((2, 3), np.int32), np.ones((3, 2), np.int32)),         # integers
    (np.ones((2, 3), np.float16), np.ones((3, 2), np.float16)),
    (np.ones((0, 3), np.float32), np.ones((3, 2), np.float32)),     # an empty result
    (np.ones((2, 0), np.float32), np.ones((0, 2), np.float32)),     # k = 0: zeros
])
def test_what_the_kernel_does_not_take_goes_to_numpy(a, b):
    out = tiled_matmul(a, b)
    expected = np.matmul(a, b)
    assert out.dtype == expected.dtype and out.shape == expected.shape
    np.testing.assert_array_equal(out, expected)


def test_shapes_that_do_not_multiply_raise_numpys_error():
    with pytest.raises(ValueError, match="matmul"):
        tiled_matmul(np.ones((2, 3), np.float32), np.ones((4, 2), np.float32))


def test_the_setting_picks_cublas_by_default_and_ours_when_asked(ours):
    a = np.ones((2, 3), np.float32)
    with debug.trace() as t:
        backend.kernels.matmul(a, a.T)
    assert [e.name for e in t.all_events() if e.kind == "cuda"] == [
        "kernels/cuda/matmul.py:_matmul_tiled_kernel"]
    mk.config.set_matmul("cublas")
    with debug.trace() as t:
        np.testing.assert_array_equal(backend.kernels.matmul(a, a.T), a @ a.T)
    assert [e for e in t.all_events() if e.kind == "cuda"] == []


def test_matmul_op_runs_the_kernel_forward_and_backward(ours):
    rng = np.random.default_rng(5)
    x_data, w_data = _random(rng, (3, 4), np.float32), _random(rng, (4, 2), np.float32)
    g_data = _random(rng, (3, 2), np.float32)
    x, w = mk.Tensor(x_data, requires_grad=True), mk.Variable(w_data)
    with debug.trace() as t:
        with mk.GradientTape() as tape:
            y = ops.matmul(x, w)
            loss = ops.sum(y * mk.Tensor(g_data))
        gx, gw = tape.gradient(loss, [x, w])
    # (the other launches: the loss's sum, a reduction kernel)
    launches = [e for e in t.all_events() if e.kind == "cuda" and "matmul" in e.name]
    assert [e.name for e in launches] == ["kernels/cuda/matmul.py:_matmul_tiled_kernel"] * 3
    assert all(e.args["block"] == (TILE, TILE) for e in launches)
    assert launches[0].args["grid"] == (1, 1, 1)
    np.testing.assert_allclose(y.numpy(), x_data @ w_data, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gx.numpy(), g_data @ w_data.T, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gw.numpy(), x_data.T @ g_data, rtol=1e-5, atol=1e-6)
