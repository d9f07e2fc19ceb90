"""Comparisons: elementwise ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=`` giving booleans.

A comparison has no derivative (its output jumps between False and True), so these
Functions are never recorded on the tape.
"""
from ..autograd import Function

__all__ = ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal"]


class _Compare(Function):
    """A comparison gives booleans: it is not differentiable and is never recorded."""
    differentiable = False


class Equal(_Compare):
    def forward(self, x, y):
        return x == y


class NotEqual(_Compare):
    def forward(self, x, y):
        return x != y


class Less(_Compare):
    def forward(self, x, y):
        return x < y


class LessEqual(_Compare):
    def forward(self, x, y):
        return x <= y


class Greater(_Compare):
    def forward(self, x, y):
        return x > y


class GreaterEqual(_Compare):
    def forward(self, x, y):
        return x >= y


def equal(x1, x2):
    """x1 == x2, elementwise (bool)."""
    return Equal()(x1, x2)


def not_equal(x1, x2):
    """x1 != x2, elementwise (bool)."""
    return NotEqual()(x1, x2)


def less(x1, x2):
    """x1 < x2, elementwise (bool)."""
    return Less()(x1, x2)


def less_equal(x1, x2):
    """x1 <= x2, elementwise (bool)."""
    return LessEqual()(x1, x2)


def greater(x1, x2):
    """x1 > x2, elementwise (bool)."""
    return Greater()(x1, x2)


def greater_equal(x1, x2):
    """x1 >= x2, elementwise (bool)."""
    return GreaterEqual()(x1, x2)
