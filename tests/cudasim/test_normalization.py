"""The standardization kernels (kernels/cuda/normalization.py) against their CPU twins, in
Numba's simulator, and the Standardize op on the cuda backend. Shapes stay tiny: every
simulated thread is a Python thread."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minikeras as mk
from minikeras import autograd, backend, debug
from minikeras.kernels import cpu as cpu_kernels
from minikeras.kernels.cuda import normalization as cuda_norm
from minikeras.ops.normalization import standardize, standardize_with_stats

F32 = dict(rtol=2e-5, atol=2e-5)


def _compare(x, axes, dtype=np.float32, tol=F32, epsilon=1e-3):
    rng = np.random.default_rng(x.size)
    x = x.astype(dtype)
    got = cuda_norm.standardize_forward(x, axes, epsilon)
    ref = cpu_kernels.standardize_forward(x, axes, epsilon)
    for name, a, b in zip(("xhat", "mean", "variance", "inv_std"), got, ref):
        assert a.shape == b.shape and a.dtype == b.dtype, (name, a.shape, b.shape, a.dtype)
        np.testing.assert_allclose(a, b, err_msg=name, **tol)
    g = rng.standard_normal(x.shape).astype(dtype)
    dx = cuda_norm.standardize_backward(g, ref[0], ref[3], axes)
    assert dx.shape == x.shape and dx.dtype == x.dtype
    np.testing.assert_allclose(dx, cpu_kernels.standardize_backward(g, ref[0], ref[3], axes),
                               **tol)


@pytest.mark.parametrize("shape,axes", [
    ((4, 3), (0,)),            # batch norm, channels last: the (4, 3, 1) view
    ((2, 3, 2), (0, 1)),       # batch norm of a sequence
    ((3, 5), (1,)),            # layer norm: the (1, 3, 5) view
    ((2, 3, 4), (0, 2)),       # batch norm, channels first: the (2, 3, 4) view
    ((2, 2, 3, 2), (1, 3)),    # kept axes 0 and 2 are not adjacent: moved to the front
    ((2, 3), (0, 1)),          # every axis reduced: one channel
    ((1, 1), (0,)),            # sizes of one: one element per channel
    ((1,), (0,)),
    ((1, 130), (-1,)),         # a channel of more elements than a block has threads
])
def test_kernels_match_the_cpu_twins(shape, axes):
    x = np.random.default_rng(len(shape)).standard_normal(shape) * 3 + 2
    _compare(x, axes)


def test_float64_inputs_give_float64_results_as_exact_as_the_cpu():
    x = np.random.default_rng(5).standard_normal((3, 4))
    _compare(x, (1,), dtype=np.float64, tol=dict(rtol=1e-12, atol=1e-12))


def test_the_variance_keeps_its_digits_when_the_mean_is_large():
    # float32 values 1000 + noise of size 0.01: E[x²] - μ² would cancel to nothing.
    x = (1000 + 0.01 * np.random.default_rng(6).standard_normal((40, 1))).astype(np.float32)
    _, _, variance, _ = cuda_norm.standardize_forward(x, (0,), 1e-7)
    exact = x.astype(np.float64).var(axis=0, keepdims=True)
    np.testing.assert_allclose(variance, exact, rtol=1e-3)


def test_float16_and_empty_inputs_run_the_array_code():
    x = np.random.default_rng(7).standard_normal((4, 3)).astype(np.float16)
    for a, b in zip(cuda_norm.standardize_forward(x, (0,), 1e-3),
                    cpu_kernels.standardize_forward(x, (0,), 1e-3)):
        np.testing.assert_array_equal(a, b)
    empty = np.zeros((3, 0), np.float32)     # no channel at all
    assert cuda_norm.standardize_backward(empty, empty, np.ones((1, 0), np.float32),
                                          (0,)).shape == (3, 0)


@settings(max_examples=6, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
       data=st.data())
def test_any_axes_match_the_cpu_twins(shape, data):
    ndim = len(shape)
    axes = tuple(sorted(data.draw(st.sets(st.integers(0, ndim - 1), min_size=1))))
    x = np.random.default_rng(sum(shape)).standard_normal(shape)
    _compare(x, axes)


def test_standardize_op_runs_the_kernels_and_differentiates_as_on_numpy():
    rng = np.random.default_rng(8)
    x_np = (rng.standard_normal((4, 3)) * 2 + 1).astype(np.float32)
    weights = rng.standard_normal((4, 3)).astype(np.float32)
    xhat, mean, variance, inv_std = cpu_kernels.standardize_forward(x_np, (0,), 1e-3)
    expected_grad = cpu_kernels.standardize_backward(weights, xhat, inv_std, (0,))

    x = mk.Tensor(x_np, requires_grad=True)
    with debug.trace() as t:
        y, m, v = standardize_with_stats(x, (0,), 1e-3)
        mk.ops.sum(y * mk.Tensor(weights)).backward()
    launched = [e.name.split(":")[-1] for e in t.all_events()
                if e.kind == "cuda" and "normalization" in e.name]   # (not the loss's sum)
    assert launched == ["_standardize_forward_kernel", "_standardize_backward_kernel"]
    np.testing.assert_allclose(y.numpy(), xhat, **F32)
    np.testing.assert_allclose(m, mean, **F32)
    np.testing.assert_allclose(v, variance, **F32)
    np.testing.assert_allclose(x.grad.numpy(), expected_grad, **F32)

    # The readable backward, written with ops, gives the same gradient.
    x2 = mk.Tensor(x_np, requires_grad=True)
    with autograd.readable_backward():
        mk.ops.sum(standardize(x2, (0,), 1e-3) * mk.Tensor(weights)).backward()
    np.testing.assert_allclose(x2.grad.numpy(), expected_grad, rtol=1e-4, atol=1e-5)
    assert backend.mode == "cudasim"


def test_batch_normalization_layer_trains_on_the_cuda_backend():
    layer = mk.layers.BatchNormalization()
    x_np = np.random.default_rng(9).standard_normal((5, 2)).astype(np.float32) + 3
    with mk.GradientTape() as tape:
        y = layer(mk.Tensor(x_np), training=True)
        loss = mk.ops.sum(y * y * y)
    grads = tape.gradient(loss, layer.trainable_weights)
    xhat = cpu_kernels.standardize_forward(x_np, (0,), layer.epsilon)[0]
    np.testing.assert_allclose(y.numpy(), xhat, **F32)
    np.testing.assert_allclose(grads[0].numpy(), (3 * xhat ** 3).sum(0), rtol=1e-4)  # gamma
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.01 * x_np.mean(0), rtol=1e-4)
