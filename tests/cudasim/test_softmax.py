"""The softmax and log-softmax kernels (kernels/cuda/softmax.py), one block per row, against
their CPU twins (kernels/cpu/activations.py) under the simulator. Rows stay short: every
simulated thread is a Python thread."""
import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minikeras as mk
from minikeras import backend, ops
from minikeras.kernels import cpu as cpu_kernels

# (``minikeras.kernels.cuda.softmax`` is the table's function; the module is reached by name)
cuda_softmax = importlib.import_module("minikeras.kernels.cuda.softmax")
NAMES = ["softmax", "log_softmax"]


def _check(name, x, axis, rtol=1e-5, atol=1e-6):
    got = getattr(backend.kernels, name)(x, axis)
    want = getattr(cpu_kernels, name)(x, axis)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


@st.composite
def _case(draw):
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    axes = draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1, max_size=2,
                         unique_by=lambda a: a % len(shape)))
    axis = axes[0] if len(axes) == 1 else tuple(axes)
    seed = draw(st.integers(0, 2**32 - 1))
    return (np.random.default_rng(seed).standard_normal(shape) * 4).astype(np.float32), axis


def test_the_backend_runs_our_kernels():
    assert backend.kernels.softmax is cuda_softmax.softmax
    assert backend.kernels.log_softmax is cuda_softmax.log_softmax


@settings(max_examples=10, deadline=None)
@given(_case(), st.sampled_from(NAMES))
def test_matches_the_cpu_twin_on_random_shapes_and_axes(case, name):
    _check(name, *case)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape,axis", [((1, 1), -1), ((1,), 0), ((3, 1), -1), ((1, 6), -1),
                                        ((2, 1, 3), 1)])
def test_rows_of_one_element_and_a_single_row(name, shape, axis):
    x = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    _check(name, x, axis)


@pytest.mark.parametrize("name", NAMES)
def test_a_row_longer_than_a_block(name):
    n = cuda_softmax.THREADS + 9          # two elements for the first nine threads
    x = (np.random.default_rng(4).standard_normal((1, n)) * 3).astype(np.float32)
    _check(name, x, -1)


@pytest.mark.parametrize("name", NAMES)
def test_float64_rows_run_in_float64(name):
    x = np.random.default_rng(5).standard_normal((2, 7)) * 10
    _check(name, x, -1, rtol=1e-12, atol=1e-15)


def test_large_and_minus_infinite_logits_stay_finite():
    x = np.array([[1000.0, 1001.0, 999.0], [-np.inf, 0.0, -np.inf]], dtype=np.float32)
    p = backend.kernels.softmax(x, -1)
    np.testing.assert_allclose(p, cpu_kernels.softmax(x, -1), rtol=1e-6)
    np.testing.assert_array_equal(p[1], [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(backend.kernels.log_softmax(x, -1)[1], [-np.inf, 0.0, -np.inf])


def test_other_dtypes_and_empty_arrays_take_the_array_code():
    h = np.array([[1.0, 2.0, 3.0]], np.float16)
    np.testing.assert_array_equal(backend.kernels.softmax(h, -1), cpu_kernels.softmax(h, -1))
    assert backend.kernels.log_softmax(np.zeros((0, 3), np.float32), -1).shape == (0, 3)


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_the_op_gives_the_cpu_numbers_and_gradient(op):
    rng = np.random.default_rng(6)
    data = rng.standard_normal((2, 5)).astype(np.float32)
    weights = rng.standard_normal((2, 5)).astype(np.float32)
    x = mk.Tensor(data, requires_grad=True)
    y = getattr(ops, op)(x, axis=-1)
    ops.sum(y * mk.Tensor(weights)).backward()
    p = cpu_kernels.softmax(data, -1)
    np.testing.assert_allclose(y.numpy(), getattr(cpu_kernels, op)(data, -1), rtol=1e-5,
                               atol=1e-6)
    if op == "softmax":      # d/dx of Σ w·softmax(x) = p · (w - Σ w·p)
        want = p * (weights - (weights * p).sum(-1, keepdims=True))
    else:                    # d/dx of Σ w·log_softmax(x) = w - p · Σ w
        want = weights - p * weights.sum(-1, keepdims=True)
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-4, atol=1e-6)
