"""Counting what runs: which Functions' ``forward``, ``backward`` and ``backward_arrays``
were executed inside a ``with counting() as counts:`` block.

The registry in tests/cases says which Functions a case covers; these counts say which ones
it really ran, so a case cannot claim an op it never calls.
"""
import contextlib
import functools
from collections import Counter

from minikeras.autograd import REGISTRY

METHODS = ("forward", "backward", "backward_arrays")


class Counts:
    def __init__(self):
        self.forward = Counter()
        self.backward = Counter()
        self.backward_arrays = Counter()

    def ran(self, method):
        """The names of the Functions whose ``method`` ran at least once."""
        return {name for name, n in getattr(self, method).items() if n > 0}


def _counted(method, original, counts):
    @functools.wraps(original)
    def wrapper(self, *args, **kwargs):
        getattr(counts, method)[type(self).__name__] += 1
        return original(self, *args, **kwargs)
    return wrapper


@contextlib.contextmanager
def counting():
    """Count, per Function class name, every call of forward, backward and backward_arrays
    (each class's own methods are wrapped for the block and put back after it)."""
    counts = Counts()
    patched = []
    for cls in set(REGISTRY.values()):
        for method in METHODS:
            original = cls.__dict__.get(method)
            if callable(original):     # backward_arrays = None stays None
                patched.append((cls, method, original))
                setattr(cls, method, _counted(method, original, counts))
    try:
        yield counts
    finally:
        for cls, method, original in patched:
            setattr(cls, method, original)
