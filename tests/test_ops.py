"""Every op, from the registry in tests/cases: forward against NumPy, gradients against finite
differences in float64 (and second derivatives where the case asks), float32 kept float32.

The gradient check runs twice where an op has a ``backward_arrays`` twin: once as training
walks (the twin) and once inside ``readable_backward()`` (the formula written with ops), so
a wrong readable formula cannot hide behind a right twin. And each case is run under
counters (tests/execution.py) to make sure it executes the Functions it claims to cover."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minikeras
from minikeras import GradientTape, ops
from minikeras.autograd import REGISTRY, readable_backward
from minikeras.tensor import Tensor
from minikeras.utils import check_gradients

from cases import all_cases
from execution import counting

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


# The fused recurrent ops write their backward through time on arrays only: their
# ``backward`` says so and points to use_cudnn=False (tests/test_recurrent_ops.py checks the
# message), so they have no readable formula to compare with.
ARRAYS_ONLY = {"LstmSequence", "GruSequence"}


def _has_readable_backward(case):
    return not ARRAYS_ONLY & set(case.covers)


@pytest.mark.parametrize("case", GRAD_CASES, ids=_ids(GRAD_CASES))
@given(data=st.data())
def test_gradient_matches_finite_differences(case, data):
    arrays = case.draw(data.draw)
    with counting() as counts:
        report = check_gradients(case.fn, *arrays, tolerance=case.tolerance, eps=case.eps)
    assert report.ok, str(report)
    if counts.ran("backward_arrays") and _has_readable_backward(case):
        # a twin answered: check the readable formula too
        with readable_backward():
            report = check_gradients(case.fn, *arrays, tolerance=case.tolerance, eps=case.eps)
        assert report.ok, "inside readable_backward():\n" + str(report)


@pytest.mark.parametrize("case", SECOND_CASES, ids=_ids(SECOND_CASES))
@given(data=st.data())
def test_second_derivative_matches_finite_differences(case, data):
    arrays = case.draw(data.draw)
    report = check_gradients(case.fn, *arrays, order=2, tolerance=max(case.tolerance, 1e-4))
    assert report.ok, str(report)


F32_CASES = [c for c in CASES if c.keeps_float32]
# Cases whose output is never a float, whatever the float inputs: the dtype they give instead.
NOT_FLOAT_OUT = {
    # comparisons and logical reductions give booleans (NumPy's and Keras's rule)
    **{name: "bool" for name in ("equal", "not_equal", "less", "less_equal", "greater",
                                 "greater_equal", "any", "all")},
    # positions and ranges of integers are int32, as in Keras
    **{name: "int32" for name in ("argmax", "argmin", "where_indices", "nonzero", "arange",
                                  "arange_stop_only")},
}


def test_not_float_out_names_cases():
    assert set(NOT_FLOAT_OUT) <= {c.name for c in F32_CASES}


@pytest.mark.parametrize("case", F32_CASES, ids=_ids(F32_CASES))
@given(data=st.data())
def test_float32_in_float32_out(case, data):
    arrays = [a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype == np.float64 else a
              for a in case.draw(data.draw)]
    got = case.fn(*_tensors(arrays))
    assert isinstance(got, Tensor), f"{case.name} returned {type(got).__name__}, not a Tensor"
    expected = NOT_FLOAT_OUT.get(case.name, "float32")
    assert got.dtype == np.dtype(expected), (f"{case.name} turned float32 inputs into "
                                             f"{got.dtype}, expected {expected}")


def test_public_namespace():
    assert minikeras.ops is ops
    for name in ops.__all__:
        assert callable(getattr(ops, name)), name


# ------------------------------------------------------------------ what each case executes
# A case's ``covers`` is a claim; these tests check it against what ran. Each case is run
# for a few fixed examples (forward; first derivatives as training walks and inside
# readable_backward(); second derivatives where the case has them) under counters.
_ACCOUNT_EXAMPLES = settings(max_examples=8, derandomize=True, database=None)


_EXECUTED = {}


def _executed(case):
    """The Counts of one case's forward, gradient and second-derivative runs (run once)."""
    if case.name in _EXECUTED:
        return _EXECUTED[case.name]
    with counting() as counts:
        @_ACCOUNT_EXAMPLES
        @given(data=st.data())
        def run(data):
            arrays = case.draw(data.draw)
            case.fn(*_tensors(arrays))
            if case.grad:
                check_gradients(case.fn, *arrays, tolerance=case.tolerance, eps=case.eps)
                if _has_readable_backward(case):
                    with readable_backward():
                        check_gradients(case.fn, *arrays, tolerance=case.tolerance,
                                        eps=case.eps)
            if case.second:
                check_gradients(case.fn, *arrays, order=2, tolerance=max(case.tolerance, 1e-4))
        run()
    _EXECUTED[case.name] = counts
    return counts


def _backward_ran(counts):
    return counts.ran("backward") | counts.ran("backward_arrays")


def _differentiable(name):
    return REGISTRY[name].differentiable


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_case_executes_what_it_covers(case):
    counts = _executed(case)
    never_called = sorted(set(case.covers) - counts.ran("forward"))
    assert not never_called, f"{case.name} lists {never_called} in covers but never runs them"
    if case.grad or case.second:
        no_backward = sorted(n for n in case.covers
                             if _differentiable(n) and n not in _backward_ran(counts))
        assert not no_backward, (f"{case.name} is a gradient case for {no_backward}, but their "
                                 "backward never ran")


def _gradient_checked():
    """Function name -> the cases whose derivative checks ran its backward (readable or twin)."""
    checked = {}
    for case in CASES:
        if case.grad or case.second:
            for name in _backward_ran(_executed(case)):
                checked.setdefault(name, []).append(case.name)
    return checked


def test_every_differentiable_function_has_a_gradient_case():
    checked = _gradient_checked()
    functions = {name for name, cls in REGISTRY.items()
                 if not name.startswith("_") and cls.__module__.startswith("minikeras.")
                 and cls.differentiable}
    missing = sorted(functions - set(checked))
    assert not missing, f"differentiable Functions whose backward no gradient case runs: {missing}"


TWINS = sorted(name for name, cls in REGISTRY.items()
               if cls.__module__.startswith("minikeras.") and callable(cls.backward_arrays)
               and name not in ARRAYS_ONLY)


@pytest.mark.parametrize("name", TWINS)
def test_twin_and_readable_backward_both_run(name):
    ran_readable = [c.name for c in CASES if name in _executed(c).ran("backward")]
    ran_twin = [c.name for c in CASES if name in _executed(c).ran("backward_arrays")]
    assert ran_readable, f"{name}.backward (the readable formula) never ran in a gradient case"
    assert ran_twin, f"{name}.backward_arrays never ran in a gradient case"


def _walk_gradients(case, arrays, seed=0):
    """d(sum(projection * fn(x)))/dx for each float input, by one backward walk."""
    tensors = [Tensor(a, requires_grad=(isinstance(a, np.ndarray) and a.dtype.kind == "f"))
               if isinstance(a, np.ndarray) else a for a in arrays]
    sources = [t for t in tensors if isinstance(t, Tensor) and t.requires_grad]
    with GradientTape() as tape:
        y = case.fn(*tensors)
        projection = np.random.default_rng(seed).standard_normal(y.shape)
        scalar = ops.sum(y * Tensor(projection))
    return [g.numpy() for g in tape.gradient(scalar, sources, unconnected_gradients="zero")]


TWIN_CASES = [c for c in GRAD_CASES if any(n in TWINS for n in c.covers)
              and _has_readable_backward(c)]


@pytest.mark.parametrize("case", TWIN_CASES, ids=_ids(TWIN_CASES))
@given(data=st.data())
def test_twin_gives_the_readable_gradients(case, data):
    arrays = case.draw(data.draw)
    with counting() as counts:
        fast = _walk_gradients(case, arrays)
        with readable_backward():
            readable = _walk_gradients(case, arrays)
    twins = sorted(counts.ran("backward_arrays"))
    assert set(twins) <= counts.ran("backward"), f"{case.name}: readable backward of {twins} not run"
    for f, r in zip(fast, readable):
        scale = max(1.0, float(np.max(np.abs(r)))) if r.size else 1.0
        np.testing.assert_allclose(f, r, rtol=1e-12, atol=1e-12 * scale)
