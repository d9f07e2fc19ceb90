"""Tensor's Python operators, bound to the ops in one table.

``a + b`` on two Tensors runs ``Tensor.__add__``, and :func:`bind_tensor_operators` below
makes that attribute the function :func:`minikeras.ops.add` itself, so ``a + b`` is exactly
``ops.add(a, b)``: the same node on the tape, no extra step in between. tensor.py cannot
import the ops (they are written on top of it), so the ops bind the operators once, when
``minikeras.ops`` is imported (DeZero's ``setup_variable`` does the same).

A reflected operator (``2 - t`` runs ``t.__rsub__(2)``) gets the tensor first and the other
operand second; the small ``r...`` functions put them back in the order the user wrote.
"""
from ..tensor import Tensor
from .compare import equal, greater, greater_equal, less, less_equal, not_equal
from .core import cast
from .indexing import getitem
from .linalg import matmul
from .math import abs, add, divide, multiply, negative, power, subtract
from .shapes import transpose


def radd(t, other):
    """``other + t``."""
    return add(other, t)


def rsub(t, other):
    """``other - t``."""
    return subtract(other, t)


def rmul(t, other):
    """``other * t``."""
    return multiply(other, t)


def rtruediv(t, other):
    """``other / t``."""
    return divide(other, t)


def rpow(t, other):
    """``other ** t``."""
    return power(other, t)


def rmatmul(t, other):
    """``other @ t``."""
    return matmul(other, t)


def bind_tensor_operators():
    """Make Tensor's operators the ops below (called once, by minikeras/ops/__init__.py)."""
    Tensor.__add__ = add                    # a + b
    Tensor.__radd__ = radd                  # 2 + a
    Tensor.__sub__ = subtract               # a - b
    Tensor.__rsub__ = rsub                  # 2 - a
    Tensor.__mul__ = multiply               # a * b
    Tensor.__rmul__ = rmul                  # 2 * a
    Tensor.__truediv__ = divide             # a / b
    Tensor.__rtruediv__ = rtruediv          # 2 / a
    Tensor.__pow__ = power                  # a ** b
    Tensor.__rpow__ = rpow                  # 2 ** a
    Tensor.__matmul__ = matmul              # a @ b
    Tensor.__rmatmul__ = rmatmul            # array @ a
    Tensor.__neg__ = negative               # -a
    Tensor.__abs__ = abs                    # abs(a)
    Tensor.__eq__ = equal                   # a == b, elementwise
    Tensor.__ne__ = not_equal               # a != b
    Tensor.__lt__ = less                    # a < b
    Tensor.__le__ = less_equal              # a <= b
    Tensor.__gt__ = greater                 # a > b
    Tensor.__ge__ = greater_equal           # a >= b
    Tensor.__getitem__ = getitem            # a[1:, None]
    Tensor.astype = cast                    # a.astype("float64")
    Tensor.T = property(transpose)          # a.T, all axes reversed
