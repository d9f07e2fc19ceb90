"""Comparisons: elementwise ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=`` giving booleans, and
the logical ``and``, ``or``, ``xor``, ``not`` of booleans (masks are combined with them).

A comparison has no derivative (its output jumps between False and True), so these
Functions are never recorded on the tape.
"""
from ..autograd import Function

__all__ = ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
           "logical_and", "logical_or", "logical_xor", "logical_not"]


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


class LogicalAnd(_Compare):
    def forward(self, x, y):
        return x.astype(bool) & y.astype(bool)


class LogicalOr(_Compare):
    def forward(self, x, y):
        return x.astype(bool) | y.astype(bool)


class LogicalXor(_Compare):
    def forward(self, x, y):
        return x.astype(bool) ^ y.astype(bool)


class LogicalNot(_Compare):
    def forward(self, x):
        return ~x.astype(bool)


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


def logical_and(x1, x2):
    """x1 and x2, elementwise (bool; nonzero numbers count as True)."""
    return LogicalAnd()(x1, x2)


def logical_or(x1, x2):
    """x1 or x2, elementwise (bool)."""
    return LogicalOr()(x1, x2)


def logical_xor(x1, x2):
    """x1 xor x2, elementwise (bool)."""
    return LogicalXor()(x1, x2)


def logical_not(x):
    """not x, elementwise (bool)."""
    return LogicalNot()(x)
