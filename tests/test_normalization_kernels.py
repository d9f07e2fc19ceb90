"""The CPU standardization kernels (kernels/cpu/normalization.py) against references
written independently here: NumPy's var, and the gradient by central differences."""
import numpy as np
import pytest

import minikeras as mk
from minikeras.kernels import cpu as cpu_kernels
from minikeras.ops.normalization import standardize_with_stats

CASES = [((6, 3), (0,)), ((2, 3, 4), (0, 1)), ((3, 5), (1,)), ((2, 3, 4), (0, 2)),
         ((2, 2, 3), (1,)), ((1, 1), (0,))]


@pytest.mark.parametrize("shape,axes", CASES)
def test_forward_is_x_minus_mean_over_the_standard_deviation(shape, axes):
    x = np.random.default_rng(0).standard_normal(shape) * 2 + 1
    xhat, mean, variance, inv_std = cpu_kernels.standardize_forward(x, axes, 1e-3)
    np.testing.assert_allclose(mean, x.mean(axis=axes, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(variance, np.var(x, axis=axes, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(inv_std, (np.var(x, axis=axes, keepdims=True) + 1e-3) ** -0.5,
                               rtol=1e-12)
    np.testing.assert_allclose(xhat, (x - mean) / np.sqrt(variance + 1e-3), rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("shape,axes", CASES)
def test_backward_is_the_gradient_by_central_differences(shape, axes):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    w = rng.standard_normal(shape)        # L = Σ w·x̂, so dL/dx̂ = w

    def loss(v):
        return float((cpu_kernels.standardize_forward(v, axes, 1e-3)[0] * w).sum())

    h = 1e-6
    numeric = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        numeric[i] = (loss(up) - loss(down)) / (2 * h)
    xhat, _, _, inv_std = cpu_kernels.standardize_forward(x, axes, 1e-3)
    got = cpu_kernels.standardize_backward(w, xhat, inv_std, axes)
    np.testing.assert_allclose(got, numeric, rtol=1e-5, atol=1e-7)


def test_the_op_gives_the_bits_of_the_formula_it_always_ran():
    x_np = np.random.default_rng(2).standard_normal((8, 4)).astype(np.float32) * 3
    w = np.random.default_rng(3).standard_normal((8, 4)).astype(np.float32)
    # The NumPy lines Standardize ran before its arrays moved to the kernel table:
    mean = np.mean(x_np, axis=(0,), keepdims=True)
    d = x_np - mean
    variance = np.mean(d * d, axis=(0,), keepdims=True)
    inv_std = 1.0 / np.sqrt(variance + 1e-3)
    xhat = d * inv_std
    grad = inv_std * (w - w.mean(axis=(0,), keepdims=True)
                      - xhat * (w * xhat).mean(axis=(0,), keepdims=True))

    x = mk.Tensor(x_np, requires_grad=True)
    y, m, v = standardize_with_stats(x, (0,), 1e-3)
    mk.ops.sum(y * mk.Tensor(w)).backward()
    np.testing.assert_array_equal(y.numpy(), xhat)
    np.testing.assert_array_equal(m, mean)
    np.testing.assert_array_equal(v, variance)
    np.testing.assert_array_equal(x.grad.numpy(), grad)
    assert y.dtype == np.float32
