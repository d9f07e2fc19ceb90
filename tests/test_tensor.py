"""Tensor and Variable: construction, dtypes, the Python protocol, repr, Variable updates."""
import numpy as np
import pytest

import minikeras as mk
from minikeras import ops
from minikeras.tensor import Tensor, Variable
from minikeras.autograd import GradientTape


def test_dtypes_follow_keras_conversion_rules():
    assert Tensor(1.5).dtype == np.float32
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert Tensor([1, 2]).dtype == np.int32
    assert Tensor(np.zeros(3)).dtype == np.float64  # arrays keep their dtype
    assert Tensor(np.zeros(3, np.float16)).dtype == np.float16
    assert Tensor([True, False]).dtype == np.bool_
    assert Tensor([1, 2], dtype="float64").dtype == np.float64


def test_array_facts_and_conversions():
    t = Tensor(np.arange(6.0).reshape(2, 3))
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and len(t) == 2
    assert isinstance(t.numpy(), np.ndarray)
    np.testing.assert_array_equal(np.asarray(t), np.arange(6.0).reshape(2, 3))
    assert np.asarray(t, dtype=np.float32).dtype == np.float32
    assert Tensor(3.5).item() == 3.5 and float(Tensor([2.0])) == 2.0 and int(Tensor(7)) == 7
    assert t.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    with pytest.raises(ValueError, match="exactly one element.*shape \\(2, 3\\)"):
        t.item()


def test_ops_helpers_on_tensors():
    t = Tensor(np.zeros((2, 5)))
    assert ops.shape(t) == (2, 5) and ops.ndim(t) == 2 and ops.size(t) == 10
    assert ops.dtype(t) == np.float64 and ops.is_tensor(t) and not ops.is_tensor(np.zeros(2))
    assert ops.convert_to_tensor(t) is t
    assert ops.convert_to_tensor([1.0, 2.0], dtype="float64").dtype == np.float64
    assert isinstance(ops.convert_to_numpy(t), np.ndarray)
    assert ops.convert_to_numpy([1, 2]).tolist() == [1, 2]


def test_python_operators_including_reflected():
    a = Tensor(np.array([1.0, 2.0, 4.0]))
    np.testing.assert_allclose((a + 1).numpy(), [2, 3, 5])
    np.testing.assert_allclose((1 + a).numpy(), [2, 3, 5])
    np.testing.assert_allclose((10 - a).numpy(), [9, 8, 6])
    np.testing.assert_allclose((a - 1).numpy(), [0, 1, 3])
    np.testing.assert_allclose((2 * a).numpy(), [2, 4, 8])
    np.testing.assert_allclose((a / 2).numpy(), [0.5, 1, 2])
    np.testing.assert_allclose((8 / a).numpy(), [8, 4, 2])
    np.testing.assert_allclose((a ** 2).numpy(), [1, 4, 16])
    np.testing.assert_allclose((2 ** a).numpy(), [2, 4, 16])
    np.testing.assert_allclose((-a).numpy(), [-1, -2, -4])
    np.testing.assert_allclose(abs(-a).numpy(), [1, 2, 4])
    np.testing.assert_allclose((np.array([1.0, 1.0, 1.0]) + a).numpy(), [2, 3, 5])
    assert isinstance(np.array([1.0, 1.0, 1.0]) + a, Tensor)
    assert (a > 1.5).tolist() == [False, True, True]
    assert (a == 2.0).tolist() == [False, True, False]
    assert (a != 2.0).tolist() == [True, False, True]
    assert (a <= 2.0).tolist() == [True, True, False]


def test_scalars_keep_the_tensor_dtype():
    a = Tensor(np.ones(3, np.float32))
    for r in (a + 1, a * 2.5, 1.5 - a, a / 3, a ** 2.0, np.float64(2.0) * a):
        assert r.dtype == np.float32, r.dtype
    i = Tensor([1, 2])
    assert (i + 1).dtype == np.int32
    assert (i * 0.5).dtype == np.float32


def test_matmul_operator():
    a = Tensor(np.eye(2) * 2)
    b = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_allclose((a @ b).numpy(), 2 * b.numpy())
    np.testing.assert_allclose((b.numpy() @ a).numpy(), 2 * b.numpy())


def test_iteration_and_truth_value():
    t = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]))
    rows = list(t)
    assert len(rows) == 2 and rows[1].tolist() == [3.0, 4.0]
    assert bool(Tensor([1.0])) is True
    with pytest.raises(ValueError, match="ambiguous"):
        bool(t)
    with pytest.raises(TypeError, match="0-d"):
        len(Tensor(1.0))


def test_hashable_by_identity():
    a, b = Tensor([1.0]), Tensor([1.0])
    assert len({a, b}) == 2


def test_repr_shows_values_and_the_node():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    r = repr(x)
    assert "1., 2." in r and "float64" in r and "leaf" in r
    y = x * 2
    assert "made by Multiply at test_tensor.py" in repr(y)
    assert "2., 4." in repr(y)
    assert str(Tensor(np.array([1.0, 2.0]))) == "[1. 2.]"


def test_astype_and_T_and_detach():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert x.astype("float32").dtype == np.float32
    assert x.T.shape == (3, 2)
    d = x.detach()
    assert d.node is None and not d.requires_grad


# ------------------------------------------------------------------ Variable
def test_variable_from_value_and_initializer():
    v = mk.Variable(np.ones((2, 2)), name="w")
    assert v.trainable and v.requires_grad and v.name == "w" and v.dtype == np.float64
    u = mk.Variable(lambda shape, dtype: np.full(shape, 3.0, dtype=dtype), shape=(3,))
    assert u.dtype == np.float32 and u.tolist() == [3.0, 3.0, 3.0]
    with pytest.raises(ValueError, match="needs a shape"):
        mk.Variable(lambda shape, dtype: None)
    with pytest.raises(ValueError, match=r"shape \(2,\), but shape=\(3,\)"):
        mk.Variable([1.0, 2.0], shape=(3,))
    assert "Variable path=w" in repr(v)


def test_variable_owns_its_buffer():
    a = np.zeros(3)
    v = mk.Variable(a)
    v.assign([1.0, 2.0, 3.0])
    assert a.tolist() == [0.0, 0.0, 0.0]


def test_variable_assign_in_place():
    v = mk.Variable(np.zeros(3, np.float32))
    buf = v.data
    v.assign(np.array([1.0, 2.0, 3.0], np.float32))
    v.assign_add(Tensor(np.ones(3, np.float32)))
    v.assign_sub(0.5)
    assert v.data is buf
    np.testing.assert_allclose(v.numpy(), [1.5, 2.5, 3.5])
    with pytest.raises(ValueError, match=r"assign\(\) got a value of shape \(2,\), expected \(3,\)"):
        v.assign(np.zeros(2))


def test_non_trainable_variable_and_integer_variable():
    v = mk.Variable(np.zeros(2), trainable=False)
    assert not v.requires_grad
    v.trainable = True
    assert v.requires_grad
    n = mk.Variable(np.array([1, 2]), trainable=False)
    assert n.dtype.kind == "i"
    with pytest.raises(TypeError, match="trainable Variable needs a floating-point"):
        mk.Variable(np.array([1, 2]))


def test_variables_are_watched_by_tapes():
    v = mk.Variable(np.array([2.0]))
    with mk.GradientTape() as tape:
        y = ops.sum(v * v)
    np.testing.assert_allclose(tape.gradient(y, v).numpy(), [4.0])


# ------------------------------------------------------------------ devices
class FakeDeviceArray:
    """Stands for a CuPy or Numba device array: it lives in GPU memory."""
    shape, dtype = (3,), np.dtype("float32")
    __cuda_array_interface__ = {"shape": (3,), "typestr": "<f4", "data": (0, False), "version": 3}


def test_array_of_another_device_is_refused_not_copied():
    x = Tensor(np.ones(3, np.float32))
    dev = FakeDeviceArray()
    with pytest.raises(TypeError, match="ops.add: got an array of type .*FakeDeviceArray.*not on "
                                        "this backend's device"):
        ops.add(x, dev)
    with pytest.raises(TypeError, match="does not copy arrays between devices"):
        Tensor(dev)
    v = mk.Variable(np.ones(3, np.float32))
    with pytest.raises(TypeError, match="Variable.assign"):
        v.assign(dev)


def test_a_numpy_function_on_a_recorded_tensor_is_refused_naming_the_op():
    w = Variable(np.ones(3, "float32"))
    with GradientTape():
        hidden = w * 2.0
        with pytest.raises(TypeError, match=r"np\.tanh was given a Tensor the tape recorded "
                                            r"\(made by Multiply\).*keras\.ops\.tanh"):
            np.tanh(hidden)


def test_numpy_on_the_left_of_an_operator_gives_the_tensor_op():
    t = Tensor(np.arange(3.0, dtype="float32"), requires_grad=True)
    a = np.full(3, 2.0, "float32")
    for result, expected in [(a - t, a - t.numpy()), (a * t, a * t.numpy()),
                             (a / (t + 1), a / (t.numpy() + 1)), (a > t, a > t.numpy())]:
        assert isinstance(result, Tensor)
        np.testing.assert_array_equal(result.numpy(), expected)
    assert (a - t)._node is not None  # recorded: the gradient flows
    np.testing.assert_allclose(np.tanh(Tensor(a)), np.tanh(a))  # a constant: a plain result
