"""Error messages of ops/linalg.py, ops/nn.py, ops/creation.py and random.dropout (each names
the op, what it expected and what it got), and the dtype rules of the creation ops."""
import re

import numpy as np
import pytest

import minikeras
from minikeras import ops
from minikeras.autograd import OpError
from minikeras.tensor import Tensor


def _raises(fn, *fragments):
    """Call fn, expect an OpError (a ValueError) whose message contains every fragment."""
    with pytest.raises(OpError) as info:
        fn()
    message = str(info.value)
    for f in fragments:
        assert f in message, f"{f!r} not in {message!r}"
    return message


# --------------------------------------------------------------------------- matmul / dot
def test_matmul_shape_mismatch_names_both_shapes_and_axes():
    message = _raises(lambda: ops.matmul(np.ones((2, 3)), np.ones((4, 5))))
    assert message == ("ops.matmul: cannot multiply shapes (2, 3) and (4, 5): the last axis of "
                       "x1 (3) must equal the second-to-last axis of x2 (4).")


def test_matmul_operator_gives_the_same_error():
    with pytest.raises(ValueError, match=re.escape("cannot multiply shapes (2, 3) and (4, 5)")):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))


def test_matmul_vector_mismatch():
    _raises(lambda: ops.matmul(np.ones((2, 3)), np.ones(4)), "ops.matmul", "(2, 3) and (4,)",
            "the length of the 1-D x2 (4)")


def test_matmul_batch_axes_must_broadcast():
    _raises(lambda: ops.matmul(np.ones((2, 3, 4)), np.ones((5, 4, 6))), "ops.matmul",
            "(2, 3, 4) and (5, 4, 6)", "batch axes (2,) and (5,) do not broadcast")


def test_matmul_rejects_scalars():
    _raises(lambda: ops.matmul(np.float64(2.0) * np.ones(()), np.ones((2, 2))), "ops.matmul",
            "x1 is a scalar", "ops.multiply")


def test_dot_mismatch():
    _raises(lambda: ops.dot(np.ones((2, 3)), np.ones((4, 5))), "ops.dot", "(2, 3) and (4, 5)")
    _raises(lambda: ops.dot(np.ones((2, 3)), np.ones((2, 4, 5))), "ops.dot",
            "last axis of x1 (3)", "second-to-last axis of x2 (4)")


# --------------------------------------------------------------------------- einsum
def test_einsum_operand_count():
    _raises(lambda: ops.einsum("ab,bc->ac", np.ones((2, 3))), "ops.einsum",
            "name 2 operand(s), but 1 were given")


def test_einsum_rank_mismatch():
    _raises(lambda: ops.einsum("abc->a", np.ones((2, 3))), "ops.einsum", "'abc' name 3 axes",
            "shape (2, 3)")


def test_einsum_size_mismatch():
    _raises(lambda: ops.einsum("ab,bc->ac", np.ones((2, 3)), np.ones((4, 5))), "ops.einsum",
            "index 'b' has size 3", "and 4 in operand 1")


def test_einsum_rejects_repeated_index_in_one_operand():
    _raises(lambda: ops.einsum("ii->i", np.ones((3, 3))), "ops.einsum",
            "repeats the index 'i'", "not supported")


def test_einsum_output_errors():
    _raises(lambda: ops.einsum("ab->c", np.ones((2, 3))), "ops.einsum", "output index 'c'")
    _raises(lambda: ops.einsum("ab->aa", np.ones((2, 3))), "ops.einsum", "repeats the index 'a'")
    _raises(lambda: ops.einsum("a1->a", np.ones((2, 3))), "ops.einsum", "invalid subscripts")
    _raises(lambda: ops.einsum("...ab->ab", np.ones((4, 2, 3))), "ops.einsum", "'...'")


def test_einsum_gradient_of_summed_and_broadcast_axes():
    """'ab->b' sums over an axis only the operand has; '1b' broadcasts: both come back in the
    operand's shape."""
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    ops.sum(ops.einsum("ab->b", x) * Tensor(np.array([1.0, 2.0, 3.0]))).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 2, 3], [1, 2, 3]])
    a = Tensor(np.ones((1, 3)), requires_grad=True)
    ops.sum(ops.einsum("ab,ab->ab", a, Tensor(np.full((4, 3), 2.0)))).backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.full((1, 3), 8.0))


def test_matmul_gradient_dtypes_stay_float32():
    a = Tensor(np.ones((3, 2, 4), np.float32), requires_grad=True)
    w = Tensor(np.ones((4, 5), np.float32), requires_grad=True)
    ops.sum(ops.matmul(a, w)).backward()
    assert a.grad.dtype == np.float32 and w.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad.numpy(), np.full((4, 5), 6.0))


# --------------------------------------------------------------------------- nn
def test_one_hot_casts_whole_float_labels_and_rejects_others():
    # whole numbers in a float array are cast, as Keras casts them
    np.testing.assert_array_equal(ops.one_hot(np.array([0.0, 2.0]), 3).numpy(),
                                  np.eye(3, dtype="float32")[[0, 2]])
    _raises(lambda: ops.one_hot(np.array([0.0, 1.5]), 3), "ops.one_hot",
            "non-whole value 1.5", "float64")
    _raises(lambda: ops.one_hot(np.array(["a"]), 3), "ops.one_hot",
            "expected integer class indices", "ops.cast")


def test_one_hot_bad_num_classes_and_axis():
    _raises(lambda: ops.one_hot(np.array([0, 1]), 0), "ops.one_hot", "num_classes")
    _raises(lambda: ops.one_hot(np.array([0, 1]), 3, axis=2), "ops.one_hot", "axis 2",
            "rank 2")


def test_one_hot_default_dtype_is_floatx():
    assert ops.one_hot(np.array([0, 1]), 3).dtype == np.float32
    assert ops.one_hot(np.array([0, 1]), 3, dtype="int32").dtype == np.int32


def test_softmax_axis_out_of_bounds():
    _raises(lambda: ops.softmax(np.ones((2, 3)), axis=2), "ops.softmax", "axis 2",
            "rank 2")
    _raises(lambda: ops.log_softmax(np.ones(()), axis=-1), "ops.log_softmax", "scalar")


def test_activations_cast_integers_to_floatx():
    x = np.array([-1, 0, 2], dtype=np.int32)
    for fn in (ops.sigmoid, ops.gelu, ops.elu, ops.softplus, ops.silu, ops.leaky_relu):
        assert fn(x).dtype == np.float32, fn.__name__
    assert ops.relu(x).dtype == np.int32


def test_gelu_defaults_match_keras():
    """keras.ops.gelu approximates (tanh form) by default; Keras's documented values."""
    x = np.array([-1.0, 0.0, 1.0])
    np.testing.assert_allclose(ops.gelu(x).numpy(), [-0.15880796, 0.0, 0.841192], atol=1e-7)
    np.testing.assert_allclose(ops.gelu(x, approximate=False).numpy(),
                               [-0.15865525, 0.0, 0.84134475], atol=1e-7)


# --------------------------------------------------------------------------- random.dropout
def test_dropout_rate_and_noise_shape_errors():
    _raises(lambda: minikeras.random.dropout(np.ones(3), 1.5), "random.dropout", "[0, 1]",
            "1.5")
    _raises(lambda: minikeras.random.dropout(np.ones((2, 3)), 0.5, noise_shape=(2, 4)),
            "random.dropout", "noise_shape (2, 4)", "(2, 3)")


# --------------------------------------------------------------------------- creation
def test_creation_errors():
    _raises(lambda: ops.arange(0, 5, 0), "ops.arange", "step must not be zero")
    _raises(lambda: ops.zeros((2, -1)), "ops.zeros", "negative dimension")
    _raises(lambda: ops.ones("abc"), "ops.ones", "shape must be")
    _raises(lambda: ops.linspace(0.0, 1.0, -1), "ops.linspace", "num")


def test_creation_dtypes():
    assert ops.zeros((2,)).dtype == np.float32
    assert ops.ones(3).dtype == np.float32
    assert ops.full((2,), 7).dtype == np.float32  # Keras: floatx unless dtype is given
    assert ops.full((2,), 7, dtype="int32").dtype == np.int32
    assert ops.eye(3).dtype == np.float32
    assert ops.arange(3).dtype == np.int32
    assert ops.arange(3.0).dtype == np.float32
    assert ops.arange(0, 3, 0.5).dtype == np.float32
    assert ops.arange(3, dtype="float64").dtype == np.float64
    assert ops.linspace(0, 1, 5).dtype == np.float32
    assert ops.zeros_like(np.ones(2, np.float64)).dtype == np.float64
    assert ops.ones_like(np.ones(2, np.float64), dtype="float32").dtype == np.float32
    assert ops.full_like(np.ones(2, np.int32), 3).dtype == np.int32
    values, step = ops.linspace(0.0, 1.0, 5, retstep=True)
    assert step == 0.25 and values.shape == (5,)
    np.testing.assert_array_equal(ops.arange(3).numpy(), [0, 1, 2])
