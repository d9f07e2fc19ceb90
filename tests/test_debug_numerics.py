"""debug.check_numerics: the error names the op where a NaN or an Inf started, forward or
backward, with the line, the index, the input values there and the rule."""
import warnings

import numpy as np
import pytest

import minikeras as keras
from minikeras import debug, layers, ops


def _leaf(values):
    return keras.Tensor(np.array(values, np.float32), requires_grad=True)


def test_log_of_a_negative_is_caught_in_the_forward_pass():
    x = _leaf([3.0, 1.0, 5.0])
    with pytest.raises(debug.NumericsError) as err:
        with debug.check_numerics():
            y = ops.log(x - 2.0)        # log(-1) at index 1
            ops.sum(y * 2.0).backward()
    msg = str(err.value)
    assert "the forward of log made nan at [1] from finite inputs" in msg
    assert "= -1" in msg and "op:   Log" in msg and "rule: dL/dx = g / x" in msg
    assert "test_debug_numerics.py:" in msg and "ops.log(x - 2.0)" in msg


def test_sqrt_at_zero_is_caught_in_the_backward_pass_of_sqrt():
    x = _leaf([1.0, 4.0, 0.0])
    with pytest.raises(debug.NumericsError) as err:
        with debug.check_numerics():
            loss = ops.sum(ops.sqrt(x) * 3.0)   # finite forward: sqrt(0) = 0
            loss.backward()
    msg = str(err.value)
    assert ("the forward of sqrt was finite; its backward made inf at [2] in the gradient "
            "of leaf because leaf = 0 there") in msg
    assert "op:   Sqrt" in msg and "rule: dL/dx = g / (2 · z)" in msg and "ops.sqrt(x) * 3.0" in msg
    assert x.grad is None               # the walk stopped before any .grad was written


def test_zero_over_zero_names_the_divide():
    x = _leaf([1.0, 2.0])
    with pytest.raises(debug.NumericsError, match=r"the forward of divide made nan at \[0\] "
                                                  r"from finite inputs: .* = 0, .* = 0"):
        with debug.check_numerics():
            d = x - x
            d / d


def test_overflow_in_exp_names_the_exp_and_the_value_that_overflowed():
    x = _leaf([1.0, 100.0])
    with pytest.raises(debug.NumericsError, match=r"the forward of exp made inf at \[1\] from "
                                                  r"finite inputs: leaf = 100"):
        with debug.check_numerics():
            ops.exp(x)


def test_a_nan_in_the_data_is_blamed_on_the_data():
    data = np.array([[1.0, 2.0], [np.nan, 4.0]], np.float32)
    model = keras.Sequential([keras.Input((2,)), layers.Dense(3, activation="tanh")])
    with pytest.raises(debug.NumericsError) as err:
        with debug.check_numerics():
            model(data)
    msg = str(err.value)
    assert "a nan came in with the data" in msg and "at [1, 0]" in msg
    assert "MatMul" in msg and "before any op made it" in msg


def test_the_origin_is_named_not_the_op_downstream():
    """exp overflows first; the NaN that inf - inf makes later is never blamed."""
    x = _leaf([800.0])
    with pytest.raises(debug.NumericsError, match="the forward of exp made inf") as err:
        with debug.check_numerics():
            e = ops.exp(x)
            e - e
    assert "subtract" not in str(err.value).split("\n")[0]


def test_a_backward_nan_inside_a_model_names_the_op():
    """A division in a loss: the forward is finite, its backward overflows."""
    w = keras.Variable(np.array([[1e-20, 1.0]], np.float32), name="w")
    x = np.ones((1, 1), np.float32)
    with pytest.raises(debug.NumericsError, match=r"the forward of divide was finite; its "
                                                  r"backward made -inf at \[0, 0\] in the "
                                                  r"gradient of #\d+ mat_mul"):
        with debug.check_numerics():
            with keras.GradientTape() as tape:
                y = ops.matmul(x, w)
                loss = ops.sum(1.0 / y)       # 1e20: finite; -1/y² = -1e40: not
            tape.gradient(loss, [w])


def test_finite_work_passes_and_changes_nothing():
    x = _leaf([1.0, 2.0])
    with debug.check_numerics():
        ops.sum(ops.exp(x)).backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]), rtol=1e-6)
    from minikeras.autograd import state
    assert state.observers == []


def test_integer_ops_only_warn_that_nothing_was_checked():
    with pytest.warns(UserWarning, match="no floating-point op ran"):
        with debug.check_numerics():
            ops.add(keras.Tensor([1, 2]), keras.Tensor([3, 4]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with debug.check_numerics():
            ops.exp(keras.Tensor([1.0]))
