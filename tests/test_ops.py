"""Every op, from the registry in tests/cases: forward against NumPy, gradients against finite
differences in float64 (and second derivatives where the case asks), float32 kept float32."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minikeras
from minikeras import ops
from minikeras.autograd import REGISTRY
from minikeras.tensor import Tensor
from minikeras.utils import check_gradients

from cases import all_cases

CASES = all_cases()
GRAD_CASES = [c for c in CASES if c.grad]
SECOND_CASES = [c for c in CASES if c.second]

# Public names of minikeras.ops that are not computations on tensors; each is tested in the
# file named here.
TESTED_ELSEWHERE = {
    "convert_to_tensor": "test_tensor.py", "convert_to_numpy": "test_tensor.py",
    "is_tensor": "test_tensor.py", "shape": "test_tensor.py", "ndim": "test_tensor.py",
    "size": "test_tensor.py", "dtype": "test_tensor.py",
}


def _ids(cases):
    return [c.name for c in cases]


def test_case_names_are_unique():
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_every_function_has_a_case():
    covered = {name for c in CASES for name in c.covers}
    functions = {name for name, cls in REGISTRY.items()
                 if not name.startswith("_") and cls.__module__.startswith("minikeras.")}
    missing = sorted(functions - covered)
    assert not missing, f"Function subclasses without a test case in tests/cases: {missing}"


def test_every_public_op_has_a_case():
    covered = {name for c in CASES for name in c.public_names()} | set(TESTED_ELSEWHERE)
    missing = sorted(set(ops.__all__) - covered)
    assert not missing, f"minikeras.ops names without a test case in tests/cases: {missing}"


def _tensors(arrays):
    return [Tensor(a) if isinstance(a, np.ndarray) else a for a in arrays]


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
@given(data=st.data())
def test_forward_matches_numpy(case, data):
    arrays = case.draw(data.draw)
    expected = case.ref(*[a.copy() if isinstance(a, np.ndarray) else a for a in arrays])
    got = case.fn(*_tensors(arrays))
    got = got.numpy() if isinstance(got, Tensor) else np.asarray(got)
    expected = np.asarray(expected)
    assert got.shape == expected.shape, f"{case.name}: shape {got.shape} != {expected.shape}"
    if expected.dtype.kind == "b":
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=case.rtol, atol=case.atol)


@pytest.mark.parametrize("case", GRAD_CASES, ids=_ids(GRAD_CASES))
@given(data=st.data())
def test_gradient_matches_finite_differences(case, data):
    arrays = case.draw(data.draw)
    report = check_gradients(case.fn, *arrays, tolerance=case.tolerance, eps=case.eps)
    assert report.ok, str(report)


@pytest.mark.parametrize("case", SECOND_CASES, ids=_ids(SECOND_CASES))
@given(data=st.data())
def test_second_derivative_matches_finite_differences(case, data):
    arrays = case.draw(data.draw)
    report = check_gradients(case.fn, *arrays, order=2, tolerance=max(case.tolerance, 1e-4))
    assert report.ok, str(report)


F32_CASES = [c for c in CASES if c.keeps_float32]


@pytest.mark.parametrize("case", F32_CASES, ids=_ids(F32_CASES))
@given(data=st.data())
def test_float32_in_float32_out(case, data):
    arrays = [a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype == np.float64 else a
              for a in case.draw(data.draw)]
    got = case.fn(*_tensors(arrays))
    if isinstance(got, Tensor) and got.dtype.kind == "f":
        assert got.dtype == np.float32, f"{case.name} turned float32 inputs into {got.dtype}"


def test_public_namespace():
    assert minikeras.ops is ops
    for name in ops.__all__:
        assert callable(getattr(ops, name)), name
