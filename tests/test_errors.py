"""Errors of the elementwise ops and of the op machinery name the op and what it got."""
import numpy as np
import pytest

from minikeras import ops
from minikeras.autograd import OpError
from minikeras.tensor import Tensor


@pytest.mark.parametrize("op", ["add", "subtract", "multiply", "divide", "maximum", "power"])
def test_incompatible_broadcast_names_op_and_both_shapes(op):
    a, b = Tensor(np.ones((2, 3))), Tensor(np.ones((4,)))
    with pytest.raises(OpError, match=rf"ops\.{op}: cannot broadcast shapes \(2, 3\) and \(4,\)"):
        getattr(ops, op)(a, b)


def test_operator_broadcast_error_too():
    with pytest.raises(ValueError, match=r"ops\.add: cannot broadcast shapes \(3,\) and \(2,\)"):
        Tensor([1.0, 2.0, 3.0]) + Tensor([1.0, 2.0])


def test_op_error_is_a_value_error():
    assert issubclass(OpError, ValueError)


def test_integer_inputs_of_transcendental_functions_become_float():
    assert ops.exp(Tensor([0, 1])).dtype == np.float32
    assert ops.sqrt(Tensor([4])).tolist() == [2.0]
    assert ops.divide(Tensor([1]), Tensor([2])).dtype == np.float32
