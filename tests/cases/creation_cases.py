"""Cases for minikeras/ops/creation.py. These ops make constants, so the cases are forward
only (grad=False); their dtype rules (floatx by default, int32 for an all-integer arange) are
checked in tests/test_linalg_errors.py::test_creation_dtypes."""
import numpy as np
from hypothesis import strategies as st

from minikeras import ops

from . import Case, shapes, values


def _plain(v):
    """Non-array parameters as drawn (the forward test passes them through untouched)."""
    return v.numpy().tolist() if hasattr(v, "numpy") else v


def _shape_only(d):
    return [d(shapes())]


def _shape_and_value(d):
    return [d(shapes()), d(st.floats(-3.0, 3.0, allow_nan=False))]


def _array(d):
    return [values(d, d(shapes()))]


def _array_and_value(d):
    return [values(d, d(shapes())), d(st.floats(-3.0, 3.0, allow_nan=False))]


def _arange_int(d):
    start = d(st.integers(-5, 5))
    stop = d(st.integers(-5, 10))
    step = d(st.sampled_from([1, 2, 3, -1, -2]))
    return [start, stop, step]


def _arange_float(d):
    start = d(st.floats(-3.0, 3.0, allow_nan=False))
    length = d(st.floats(0.0, 4.0, allow_nan=False))
    step = d(st.sampled_from([0.5, 0.25, 0.75, -0.5]))
    return [start, start + length * np.sign(step), step]


def _eye(d):
    n = d(st.integers(1, 4))
    m = d(st.one_of(st.none(), st.integers(1, 4)))
    k = d(st.integers(-3, 3))
    return [n, m, k]


def _linspace(d):
    start = d(st.floats(-3.0, 3.0, allow_nan=False))
    stop = d(st.floats(-3.0, 3.0, allow_nan=False))
    num = d(st.integers(0, 6))
    endpoint = d(st.booleans())
    return [start, stop, num, endpoint]


def _linspace_arrays(d):
    shape = d(shapes(min_dims=1, max_dims=2))
    num = d(st.integers(1, 4))
    axis = d(st.integers(-len(shape) - 1, len(shape)))
    return [values(d, shape), values(d, shape), num, axis]


CASES = [
    Case("zeros", lambda s: ops.zeros(_plain(s)), np.zeros, _shape_only, grad=False),
    Case("ones", lambda s: ops.ones(_plain(s)), np.ones, _shape_only, grad=False),
    Case("full", lambda s, v: ops.full(_plain(s), v), lambda s, v: np.full(s, v, np.float32),
         _shape_and_value, grad=False),
    Case("zeros_like", lambda a: ops.zeros_like(a), np.zeros_like, _array, grad=False),
    Case("ones_like", lambda a: ops.ones_like(a), np.ones_like, _array, grad=False),
    Case("full_like", lambda a, v: ops.full_like(a, v), np.full_like, _array_and_value,
         grad=False),
    Case("arange", lambda a, b, c: ops.arange(a, b, c), np.arange, _arange_int, grad=False),
    Case("arange_stop_only", lambda n: ops.arange(n), np.arange,
         lambda d: [d(st.integers(0, 6))], ops=(), grad=False),
    Case("arange_float", lambda a, b, c: ops.arange(a, b, c),
         lambda a, b, c: np.arange(a, b, c, dtype=np.float32), _arange_float, ops=(),
         grad=False, rtol=1e-6, atol=1e-6),
    Case("eye", lambda n, m, k: ops.eye(n, m, k), lambda n, m, k: np.eye(n, m, k), _eye,
         grad=False),
    Case("linspace", lambda a, b, n, e: ops.linspace(a, b, n, endpoint=e),
         lambda a, b, n, e: np.linspace(a, b, n, endpoint=e), _linspace, grad=False,
         rtol=1e-6, atol=1e-6),
    Case("linspace_arrays", lambda a, b, n, axis: ops.linspace(a, b, n, axis=axis),
         lambda a, b, n, axis: np.linspace(a, b, n, axis=axis), _linspace_arrays, ops=(),
         grad=False, rtol=1e-6, atol=1e-6),
]
