"""The CPU reductions of the kernel table (kernels/cpu/reduction.py) against a reference
written element by element, and the ops that call them (sum, max, min), which must give
NumPy's bits as they did when they called NumPy directly."""
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from minikeras import ops
from minikeras.kernels.cpu import reduction


def _reference(x, axes, keepdims, combine):
    """Each output element from the input elements of its group, one by one."""
    axes = sorted({a % x.ndim for a in axes})
    kept = [1 if i in axes else n for i, n in enumerate(x.shape)]
    out = np.empty(kept, dtype=np.float64)
    for pos in np.ndindex(*kept):
        group = [float(x[idx]) for idx in np.ndindex(*x.shape)
                 if all(idx[i] == p for i, p in enumerate(pos) if i not in axes)]
        out[pos] = combine(group)
    return out if keepdims else out.reshape([n for i, n in enumerate(kept) if i not in axes])


@st.composite
def _case(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    axes = tuple(draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1,
                               max_size=len(shape), unique_by=lambda a: a % len(shape))))
    seed = draw(st.integers(0, 2**32 - 1))
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return x, axes, draw(st.booleans())


@settings(max_examples=40, deadline=None)
@given(_case())
def test_sum_max_min_match_the_element_by_element_reference(case):
    x, axes, keepdims = case
    for name, combine, rtol in (("reduce_sum", math.fsum, 1e-5), ("reduce_max", max, 0),
                                ("reduce_min", min, 0)):
        got = getattr(reduction, name)(x, axes, keepdims)
        assert got.dtype == x.dtype
        np.testing.assert_allclose(got, _reference(x, axes, keepdims, combine), rtol=rtol,
                                   atol=1e-6 if rtol else 0)


def test_none_reduces_every_axis_and_dtype_is_honoured():
    x = np.arange(6, dtype=np.int8).reshape(2, 3)
    assert reduction.reduce_sum(x, None, False, np.int32) == 15
    assert reduction.reduce_sum(x, None, False, np.int32).dtype == np.int32
    assert reduction.reduce_max(x) == 5 and reduction.reduce_min(x) == 0
    assert np.isnan(reduction.reduce_max(np.array([1.0, np.nan, 2.0])))


def test_the_ops_give_numpys_bits():
    x = np.random.default_rng(0).standard_normal((5, 7, 3)).astype(np.float32)
    for axis in (None, 0, 1, (0, 2), -1):
        for keepdims in (False, True):
            assert ops.sum(x, axis, keepdims).numpy().tobytes() == \
                np.sum(x, axis=axis, keepdims=keepdims).tobytes()
            assert ops.max(x, axis, keepdims).numpy().tobytes() == \
                np.max(x, axis=axis, keepdims=keepdims).tobytes()
            assert ops.min(x, axis, keepdims).numpy().tobytes() == \
                np.min(x, axis=axis, keepdims=keepdims).tobytes()
