"""The pooling kernels of the CUDA table (kernels/cuda/pooling.py) against their CPU twins,
in Numba's simulator: max pooling (its argmax, ties and overlapping windows included), the
gather, average pooling, forward and backward, then the ops. Shapes stay tiny."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minikeras as mk
from minikeras import backend, debug, ops
from minikeras.kernels import cpu as cpu_kernels
from minikeras.kernels.cpu import pooling as cpu_pool
from minikeras.kernels.cuda import pooling as cuda_pool
from minikeras.kernels.cuda.launch import THREADS_PER_BLOCK

# (x shape, pool, strides, padding)
CASES = [
    ((2, 5, 7, 3), (2, 2), (2, 2), "valid"),     # odd sizes: a last row and column dropped
    ((2, 5, 7, 3), (3, 3), (1, 2), "same"),      # overlapping windows, padding
    ((1, 6, 6, 2), (3, 3), (2, 2), "same"),      # overlapping, stride 2
    ((1, 5, 6, 2), (2, 3), (3, 3), "valid"),     # stride over the pool: cells between windows
    ((1, 4, 4, 1), (1, 1), (1, 1), "valid"),     # 1x1 windows
    ((1, 1, 1, 1), (1, 1), (1, 1), "same"),      # sizes of one
    ((1, 2, 3, 1), (3, 3), (1, 1), "same"),      # windows larger than the input
    ((2, 7, 3), (3,), (2,), "same"),             # 1-D pooling
    ((1, 5, 2), (2,), (1,), "valid"),            # 1-D, overlapping
]
IDS = ["x" + "x".join(map(str, s)) + "-p" + "x".join(map(str, p)) + "-s" +
       "x".join(map(str, t)) + "-" + pad for s, p, t, pad in CASES]


def _random(shape, dtype, seed, ties):
    rng = np.random.default_rng(seed)
    # ties: a few values only, so that many windows hold their maximum twice
    return (rng.integers(0, 3, shape) if ties else rng.standard_normal(shape)).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,pool,strides,padding", CASES, ids=IDS)
def test_max_pooling_matches_its_cpu_twin_ties_included(shape, pool, strides, padding, dtype):
    for ties in (True, False):
        x = _random(shape, dtype, 0, ties)
        y, argmax = cuda_pool.max_pool_forward(x, pool, strides, padding)
        y_cpu, argmax_cpu = cpu_pool.max_pool_forward(x, pool, strides, padding)
        assert y.dtype == dtype and argmax.dtype == argmax_cpu.dtype == np.uint8
        np.testing.assert_array_equal(y, y_cpu)
        np.testing.assert_array_equal(argmax, argmax_cpu)      # the first maximum, as there
        g = _random(y.shape, dtype, 1, False)
        dx = cuda_pool.max_pool_backward(g, argmax, shape, pool, strides, padding)
        assert dx.shape == shape
        # the gradients a cell gets from overlapping windows, added in the CPU's order
        np.testing.assert_array_equal(
            dx, cpu_pool.max_pool_backward(g, argmax_cpu, shape, pool, strides, padding))
        h = _random(shape, dtype, 2, False)
        np.testing.assert_array_equal(
            cuda_pool.max_pool_gather(h, argmax, pool, strides, padding),
            cpu_pool.max_pool_gather(h, argmax_cpu, pool, strides, padding))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,pool,strides,padding", CASES, ids=IDS)
def test_average_pooling_matches_its_cpu_twin(shape, pool, strides, padding, dtype):
    x = _random(shape, dtype, 3, False)
    y = cuda_pool.average_pool_forward(x, pool, strides, padding)
    assert y.dtype == dtype
    np.testing.assert_allclose(y, cpu_pool.average_pool_forward(x, pool, strides, padding),
                               rtol=1e-6)
    g = _random(y.shape, dtype, 4, False)
    # g / count from each window holding the cell, added in the CPU's order: the same bits
    np.testing.assert_array_equal(
        cuda_pool.average_pool_backward(g, shape, pool, strides, padding),
        cpu_pool.average_pool_backward(g, shape, pool, strides, padding))


def test_max_pooling_over_several_blocks_with_nan_and_without_argmax():
    x = _random((2, 6, 6, 4), np.float32, 5, False)
    x[0, 0, 1, 0] = np.nan
    y, argmax = cuda_pool.max_pool_forward(x, (2, 2), (1, 1), "valid")
    assert y.size > THREADS_PER_BLOCK                         # more than one block
    y_cpu, argmax_cpu = cpu_pool.max_pool_forward(x, (2, 2), (1, 1), "valid")
    np.testing.assert_array_equal(y, y_cpu)                   # NaN spreads as in maximum()
    assert np.isnan(y[0, 0, :2, 0]).all()
    np.testing.assert_array_equal(argmax, argmax_cpu)
    y2, none = cuda_pool.max_pool_forward(x, (2, 2), (1, 1), "valid", with_argmax=False)
    assert none is None
    np.testing.assert_array_equal(y2, y)


def test_max_pooling_with_more_than_255_cells_in_a_window_keeps_an_int32_argmax():
    x = _random((1, 16, 17, 1), np.float32, 6, True)
    y, argmax = cuda_pool.max_pool_forward(x, (16, 17), (1, 1), "valid")
    y_cpu, argmax_cpu = cpu_pool.max_pool_forward(x, (16, 17), (1, 1), "valid")
    assert argmax.dtype == argmax_cpu.dtype == np.int32
    np.testing.assert_array_equal(argmax, argmax_cpu)
    np.testing.assert_array_equal(y, y_cpu)
    dx = cuda_pool.max_pool_backward(np.ones_like(y), argmax, x.shape, (16, 17), (1, 1), "valid")
    np.testing.assert_array_equal(
        dx, cpu_pool.max_pool_backward(np.ones_like(y), argmax_cpu, x.shape, (16, 17), (1, 1),
                                       "valid"))


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 2), h=st.integers(1, 6), w=st.integers(1, 6), c=st.integers(1, 3),
       ph=st.integers(1, 3), pw=st.integers(1, 3), sh=st.integers(1, 3), sw=st.integers(1, 3),
       padding=st.sampled_from(["valid", "same"]), ties=st.booleans())
def test_pooling_on_random_geometries(n, h, w, c, ph, pw, sh, sw, padding, ties):
    x = _random((n, h, w, c), np.float32, 7, ties)
    args = ((ph, pw), (sh, sw), padding)
    y, argmax = cuda_pool.max_pool_forward(x, *args)
    if padding == "valid" and (h < ph or w < pw):              # no window fits
        assert y.size == 0
        return
    y_cpu, argmax_cpu = cpu_pool.max_pool_forward(x, *args)
    np.testing.assert_array_equal(y, y_cpu)
    np.testing.assert_array_equal(argmax, argmax_cpu)
    g = _random(y.shape, np.float32, 8, False)
    np.testing.assert_array_equal(cuda_pool.max_pool_backward(g, argmax, x.shape, *args),
                                  cpu_pool.max_pool_backward(g, argmax_cpu, x.shape, *args))
    np.testing.assert_allclose(cuda_pool.average_pool_forward(x, *args),
                               cpu_pool.average_pool_forward(x, *args), rtol=1e-6)
    np.testing.assert_allclose(cuda_pool.average_pool_backward(g, x.shape, *args),
                               cpu_pool.average_pool_backward(g, x.shape, *args), rtol=1e-6)


def _pool_and_grads(fn, x, **kw):
    xt = mk.Tensor(x, requires_grad=True)
    with mk.GradientTape() as tape:
        y = fn(xt, **kw)
        loss = ops.sum(y * y)
    grad, = tape.gradient(loss, [xt])
    return y.numpy(), grad.numpy()


@pytest.mark.parametrize("fn,kw", [
    (ops.max_pool, dict(pool_size=3, strides=2, padding="same")),
    (ops.max_pool, dict(pool_size=2)),
    (ops.average_pool, dict(pool_size=3, strides=1, padding="same")),
    (ops.average_pool, dict(pool_size=(2, 3), strides=(2, 1))),
])
def test_pooling_ops_run_our_kernels_and_match_numpy(fn, kw):
    x = _random((2, 5, 6, 2), np.float32, 9, fn is ops.max_pool)
    with debug.trace() as t:
        got = _pool_and_grads(fn, x, **kw)
    launched = {e.name.split(":")[-1] for e in t.all_events() if e.kind == "cuda"}
    name = "_max_pool" if fn is ops.max_pool else "_average_pool"
    assert {f"{name}_kernel", f"{name}_backward_kernel"} <= launched, launched
    with pytest.MonkeyPatch.context() as m:
        m.setattr(backend, "kernels", cpu_kernels)
        expected = _pool_and_grads(fn, x, **kw)
    for a, e in zip(got, expected):
        np.testing.assert_allclose(a, e, rtol=1e-6, atol=1e-6)


def test_the_second_derivative_of_max_pooling_gathers_on_the_device():
    """d/dg of <MaxPoolScatter(g), h> is MaxPoolGather(h): the gather kernel."""
    def run():
        x = mk.Tensor(_random((1, 4, 4, 1), np.float32, 10, True), requires_grad=True)
        with mk.GradientTape() as outer:
            with mk.GradientTape() as inner:
                y = ops.max_pool(x, pool_size=2, strides=1)
                loss = ops.sum(y * y * y)
            grad, = inner.gradient(loss, [x])
            total = ops.sum(grad * grad)
        return outer.gradient(total, [x])[0].numpy()
    with pytest.MonkeyPatch.context() as m:
        m.setattr(backend, "kernels", cpu_kernels)
        expected = run()
    np.testing.assert_allclose(run(), expected, rtol=1e-6)
