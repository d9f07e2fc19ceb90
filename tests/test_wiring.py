"""The wiring a reader follows with "go to definition": Tensor's operators are the ops
themselves (minikeras/ops/operators.py), Tensor.backward is the walk, and the CPU kernel
table names every kernel the code above it calls (the CUDA table: tests/cudasim)."""
import pathlib
import pkgutil
import re

import numpy as np
import pytest

import minikeras as mk
from minikeras import autograd, ops, tensor
from minikeras.kernels import cpu as cpu_kernels
from minikeras.ops import operators

ROOT = pathlib.Path(mk.__file__).parent

# operator -> (the op it is, the NumPy function that computes the same values)
FORWARD = {
    "__add__": (ops.add, np.add), "__sub__": (ops.subtract, np.subtract),
    "__mul__": (ops.multiply, np.multiply), "__truediv__": (ops.divide, np.divide),
    "__pow__": (ops.power, np.power), "__matmul__": (ops.matmul, np.matmul),
    "__eq__": (ops.equal, np.equal), "__ne__": (ops.not_equal, np.not_equal),
    "__lt__": (ops.less, np.less), "__le__": (ops.less_equal, np.less_equal),
    "__gt__": (ops.greater, np.greater), "__ge__": (ops.greater_equal, np.greater_equal),
}
REFLECTED = {"__radd__": np.add, "__rsub__": np.subtract, "__rmul__": np.multiply,
             "__rtruediv__": np.divide, "__rpow__": np.power, "__rmatmul__": np.matmul}


def test_no_module_is_filled_in_at_import():
    assert not hasattr(tensor, "_ops")
    assert not hasattr(tensor, "backward_function")


@pytest.mark.parametrize("name", sorted(FORWARD))
def test_operator_is_the_op(name):
    op, reference = FORWARD[name]
    assert getattr(mk.Tensor, name) is op
    a, b = np.array([[0.5, 2.0], [1.5, 3.0]]), np.array([[2.0, 1.0], [1.5, 0.5]])
    got = getattr(mk.Tensor(a), name)(mk.Tensor(b))
    np.testing.assert_array_equal(got.numpy(), reference(a, b))


@pytest.mark.parametrize("name", sorted(REFLECTED))
def test_reflected_operator_keeps_the_written_order(name):
    a, b = np.array([[0.5, 2.0], [1.5, 3.0]]), np.array([[2.0, 1.0], [1.5, 0.5]])
    t = mk.Tensor(b, requires_grad=True)
    got = getattr(t, name)(a)  # what Python runs for `a <op> t` when a cannot
    np.testing.assert_array_equal(got.numpy(), REFLECTED[name](a, b))
    assert got.node.inputs[1] is t  # the tape records (a, t), as written
    assert getattr(mk.Tensor, name) is getattr(operators, name.replace("__", "", 1)[:-2])


def test_python_picks_the_reflected_operators():
    t = mk.Tensor(np.array([1.0, 2.0, 4.0]))
    np.testing.assert_array_equal((1.0 - t).numpy(), [0.0, -1.0, -3.0])
    np.testing.assert_array_equal((8.0 / t).numpy(), [8.0, 4.0, 2.0])
    np.testing.assert_array_equal((2.0 ** t).numpy(), [2.0, 4.0, 16.0])


def test_unary_operators_indexing_astype_and_T():
    a = np.arange(6.0).reshape(2, 3) - 2.5
    t = mk.Tensor(a)
    assert mk.Tensor.__neg__ is ops.negative and mk.Tensor.__abs__ is ops.abs
    assert mk.Tensor.__getitem__ is ops.getitem and mk.Tensor.astype is ops.cast
    assert mk.Tensor.T.fget is ops.transpose
    np.testing.assert_array_equal((-t).numpy(), -a)
    np.testing.assert_array_equal(abs(t).numpy(), np.abs(a))
    np.testing.assert_array_equal(t[1:, None].numpy(), a[1:, None])
    assert t.astype("float32").dtype == np.float32
    np.testing.assert_array_equal(t.T.numpy(), a.T)
    assert +t is t


def test_equal_tensors_stay_hashable_by_identity():
    t, u = mk.Tensor([1.0]), mk.Tensor([1.0])
    assert len({t, u}) == 2 and t in {t: 1}


def test_tensor_backward_is_the_walk():
    assert mk.Tensor.backward is autograd.walk.backward
    x = mk.Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    ops.sum(x * x).backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * x.numpy())


def test_backward_error_names_what_to_do():
    y = mk.Tensor(np.ones(3)) * 2.0
    with pytest.raises(RuntimeError, match="does not require gradients.*requires_grad=True"):
        y.backward()


def kernel_names_called():
    """The names the code above the kernels floor reaches through ``backend.kernels``."""
    names = set()
    for path in ROOT.rglob("*.py"):
        if "kernels" in path.relative_to(ROOT).parts[:1]:
            continue
        text = path.read_text()
        names.update(re.findall(r"backend\.kernels\.(\w+)", text))
        names.update(re.findall(r"getattr\(backend\.kernels, \"(\w+)\"", text))
    return names


def test_cpu_table_lists_each_entry_once_and_from_the_cpu_package():
    assert len(cpu_kernels.__all__) == len(set(cpu_kernels.__all__))
    for name in cpu_kernels.__all__:
        assert getattr(cpu_kernels, name).__module__.startswith("minikeras.kernels.cpu."), name


def test_cpu_table_has_every_kernel_the_code_calls():
    called = kernel_names_called()
    assert {"relu", "conv_forward", "sgd_update"} <= called  # the search finds the calls
    # adam_update is looked up with getattr and exists only on the CUDA table.
    assert called - set(cpu_kernels.__all__) == {"adam_update"}


def test_no_ops_module_is_shadowed_by_a_function_of_the_same_name():
    # "go to definition" on ops.X must reach one thing: a module file named like a public
    # function would be hidden behind that function.
    files = {m.name for m in pkgutil.iter_modules(ops.__path__)}
    assert files, "no modules found under minikeras/ops"
    clashes = sorted(name for name in files if callable(getattr(ops, name, None))
                     and not isinstance(getattr(ops, name), type(ops)))
    assert not clashes, f"modules of minikeras/ops named like a public function: {clashes}"
