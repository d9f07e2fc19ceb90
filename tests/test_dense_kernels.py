"""The Dense loops (kernels/cpu/dense.py) against the NumPy formulas they replace, bit for
bit: bias and ReLU in place, and the ReLU mask with the bias gradient, on shapes large
enough for NumPy's own summation order to show, with NaN, infinities and signed zeros."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minikeras.kernels.cpu import dense


def _specials(a, rng):
    """Put NaN, ±inf and ±0.0 at random cells."""
    flat = a.reshape(-1)
    for value in (np.nan, np.inf, -np.inf, 0.0, -0.0):
        flat[rng.integers(0, flat.size, 2)] = value
    return a


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(1, 300), cols=st.integers(1, 40),
       dtype=st.sampled_from(["float32", "float64"]), specials=st.booleans(),
       seed=st.integers(0, 2**31))
def test_bias_relu_loop_is_add_then_maximum(rows, cols, dtype, specials, seed):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((rows, cols)).astype(dtype)
    bias = rng.standard_normal(cols).astype(dtype)
    if specials:
        _specials(z, rng)
    with np.errstate(invalid="ignore"):  # inf - inf
        expected = np.maximum(z + bias, 0)
    out = dense.dense_activate(z, bias, relu=True)
    assert out is z and out.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(out, expected)
    assert np.array_equal(np.signbit(out), np.signbit(expected))


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(1, 300), cols=st.integers(1, 40),
       dtype=st.sampled_from(["float32", "float64"]), with_bias=st.booleans(),
       specials=st.booleans(), seed=st.integers(0, 2**31))
def test_relu_grad_loop_is_mask_product_then_sum(rows, cols, dtype, with_bias, specials,
                                                 seed):
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((rows, cols)).astype(dtype)
    y = np.maximum(rng.standard_normal((rows, cols)), 0).astype(dtype)
    if specials:
        _specials(g, rng)
    before = g.copy()
    with np.errstate(invalid="ignore"):  # inf * 0, inf - inf
        expected = g * (y > 0)
        expected_bias = expected.sum(axis=0)
        gz, dbias = dense.dense_relu_grad(g, y, relu=True, with_bias=with_bias)
    np.testing.assert_array_equal(gz, expected)
    assert np.array_equal(np.signbit(gz), np.signbit(expected))
    np.testing.assert_array_equal(g, before)  # g is not written
    if with_bias:
        np.testing.assert_array_equal(dbias, expected_bias)
    else:
        assert dbias is None


def test_other_arrays_take_the_array_formulas():
    z = np.ones((3, 4), np.float16)
    out = dense.dense_activate(z, np.full(4, -2, np.float16), relu=True)
    np.testing.assert_array_equal(out, np.zeros((3, 4), np.float16))
    g = np.ones((3, 4), np.float32)
    gz, dbias = dense.dense_relu_grad(g, np.ones((3, 4), np.float32), relu=False)
    assert gz is g
    np.testing.assert_array_equal(dbias, np.full(4, 3, np.float32))


@pytest.mark.parametrize("relu", [True, False])
def test_activate_without_bias(relu):
    z = np.array([[-1.0, 2.0]], np.float32)
    np.testing.assert_array_equal(dense.dense_activate(z.copy(), None, relu),
                                  np.maximum(z, 0) if relu else z)
