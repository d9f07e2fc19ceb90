"""The Numba loops behind relu and relu_grad (kernels/cpu/activations.py) give the same bits
as their NumPy formulas, np.maximum(x, 0) and g * (x > 0), special values included, and step
aside for arrays they do not fit."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from minikeras.kernels.cpu import activations

SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, -1e-45]


def _floats(dtype):
    return arrays(dtype, array_shapes(min_dims=1, max_dims=3, max_side=9),
                  elements=st.one_of(st.sampled_from(SPECIAL),
                                     st.floats(-1024.0, 1024.0, width=32)))


def _same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes() or np.array_equal(a, b, equal_nan=True) and \
        (np.signbit(a) == np.signbit(b)).all(), (a, b)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([np.float32, np.float64]).flatmap(_floats))
def test_relu_loop_gives_the_bits_of_np_maximum(x):
    _same_bits(activations.relu(x), np.maximum(x, 0))


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([np.float32, np.float64]).flatmap(
    lambda dt: st.tuples(_floats(dt), st.integers(0, 2**32 - 1))))
def test_relu_grad_loop_gives_the_bits_of_the_mask_product(case):
    x, seed = case
    g = np.random.default_rng(seed).standard_normal(x.shape).astype(x.dtype)
    _same_bits(activations.relu_grad(g, x), g * (x > 0))


def test_arrays_the_loops_do_not_fit_take_the_formula():
    x = np.arange(-6.0, 6.0).reshape(3, 4)
    strided = x[:, ::2]                                   # not contiguous
    np.testing.assert_array_equal(activations.relu(strided), np.maximum(strided, 0))
    ints = np.arange(-3, 3)
    out = activations.relu(ints)
    assert out.dtype == ints.dtype and out.tolist() == [0, 0, 0, 0, 1, 2]
    half = x.astype(np.float16)
    assert activations.relu(half).dtype == np.float16
