"""The block tree reduction (kernels/cuda/reduction.py) against its CPU twins
(kernels/cpu/reduction.py, NumPy's sum, max and min) under the simulator, and the ops that
run it: sum, max and min."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minikeras as mk
from minikeras import backend, ops
from minikeras.kernels import cpu as cpu_kernels
from minikeras.kernels.cuda import reduction

NAMES = ["reduce_sum", "reduce_max", "reduce_min"]


def _check(name, x, axis, keepdims, rtol=1e-5, atol=1e-5):
    got = getattr(backend.kernels, name)(x, axis, keepdims)
    want = getattr(cpu_kernels, name)(x, axis, keepdims)
    assert np.shape(got) == np.shape(want) and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


@st.composite
def _case(draw):
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    axis = draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1),
                          st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True)
                          .map(tuple)))
    seed = draw(st.integers(0, 2**32 - 1))
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return x, axis, draw(st.booleans())


def test_the_backend_runs_our_kernels():
    for name in NAMES:
        assert getattr(backend.kernels, name) is getattr(reduction, name)


@settings(max_examples=10, deadline=None)
@given(_case(), st.sampled_from(NAMES))
def test_matches_the_cpu_twin_on_random_shapes_and_axes(case, name):
    _check(name, *case)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape,axis", [((1,), None), ((1, 1), 1), ((4, 1), 1), ((1, 3), 0)])
def test_groups_of_one_element_and_a_single_row(name, shape, axis):
    _check(name, np.random.default_rng(1).standard_normal(shape).astype(np.float32), axis, False)


def test_a_long_row_takes_two_passes():
    # one row of n: the first pass shares it among ceil(n / (128 · 8)) = 3 blocks
    n = reduction.THREADS * reduction.PER_THREAD * 2 + 5
    x = np.random.default_rng(2).standard_normal(n).astype(np.float32)
    launches = []
    kernel = reduction._reduce_rows_kernel

    class Counting:                          # the module's kernel, counting its launches
        py_func = kernel.py_func

        def __getitem__(self, config):
            launches.append(config)
            return kernel[config]

    reduction._reduce_rows_kernel = Counting()
    try:
        _check("reduce_sum", x, None, False, rtol=1e-5, atol=1e-4)
    finally:
        reduction._reduce_rows_kernel = kernel
    assert [tuple(np.atleast_1d(g)) for g, _ in launches] == [(1, 3), (1,)]
    assert [b for _, b in launches] == [reduction.THREADS, 4]


def test_rows_longer_than_a_block_and_float64():
    x = np.random.default_rng(3).standard_normal((2, reduction.THREADS + 3))
    _check("reduce_sum", x, 1, True, rtol=1e-12, atol=1e-12)
    _check("reduce_max", x, -1, False, rtol=0, atol=0)


def test_nan_wins_the_max_and_the_min_as_in_numpy():
    x = np.array([[1.0, np.nan, 3.0], [-np.inf, -1.0, -2.0]], np.float32)
    for name in ("reduce_max", "reduce_min"):
        got = getattr(backend.kernels, name)(x, 1, False)
        np.testing.assert_array_equal(got, getattr(cpu_kernels, name)(x, 1, False))


def test_other_dtypes_empty_arrays_and_scalars_take_the_array_code():
    i = np.arange(12, dtype=np.int8).reshape(3, 4)
    assert backend.kernels.reduce_sum(i, 1, False, np.dtype("int32")).dtype == np.int32
    np.testing.assert_array_equal(backend.kernels.reduce_max(i, 0, True), i.max(0, keepdims=True))
    f = np.ones((2, 3), np.float32)
    assert backend.kernels.reduce_sum(f, 1, False, np.dtype("float64")).dtype == np.float64
    assert backend.kernels.reduce_sum(np.zeros((0, 3), np.float32), 0, False).shape == (3,)
    assert backend.kernels.reduce_sum(np.float32(2.5), None, False) == 2.5
    with pytest.raises(ValueError):                      # as NumPy: a max of nothing
        backend.kernels.reduce_max(np.zeros((0,), np.float32), None, False)


def test_the_ops_give_the_cpu_numbers_and_gradients():
    data = np.array([[1.0, 5.0, 2.0], [4.0, 4.0, -1.0]], np.float32)    # a tie in row 1
    x = mk.Tensor(data, requires_grad=True)
    s, m, n = ops.sum(x, axis=1), ops.max(x, axis=1, keepdims=True), ops.min(x)
    np.testing.assert_allclose(s.numpy(), data.sum(1), rtol=1e-6)
    np.testing.assert_array_equal(m.numpy(), data.max(1, keepdims=True))
    assert n.numpy() == -1.0
    (ops.sum(s * mk.Tensor(np.array([1.0, 2.0], np.float32))) + ops.sum(m) + n).backward()
    want = np.array([[1.0, 2.0, 1.0], [2.5, 2.5, 3.0]], np.float32)   # sum, max (ties share), min
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-6)
