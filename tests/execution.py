"""Counting what runs: which Functions' ``forward``, ``backward`` and ``backward_arrays``
were executed inside a ``with counting() as counts:`` block, and which layer classes were
created and run inside a ``with recording_layers() as record:`` block.

The registry in tests/cases says which Functions a case covers; these counts say which ones
it really ran, so a case cannot claim an op it never calls. tests/test_layer_registry.py
does the same for the layer cases.
"""
import contextlib
import functools
from collections import Counter

from minikeras.autograd import REGISTRY
from minikeras.layers import Layer

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


# ------------------------------------------------------------------------------ layers
class LayerRecord:
    """Per layer class: ``made``, the instances created; ``ran``, the calls of ``call`` (a
    subclass calling ``super().call`` counts again for itself; a layer's inner layers count
    for their own classes)."""

    def __init__(self):
        self.made = Counter()
        self.ran = Counter()


def _subclasses(cls):
    found = [cls]
    for sub in cls.__subclasses__():
        found.extend(_subclasses(sub))
    return found


def _counted_layer_method(original, counter):
    @functools.wraps(original)
    def wrapper(self, *args, **kwargs):
        counter[type(self)] += 1
        return original(self, *args, **kwargs)
    return wrapper


@contextlib.contextmanager
def recording_layers():
    """Record the layers created and run inside the block (Layer.__init__ and each class's
    own ``call`` are wrapped for the block and put back after it)."""
    record = LayerRecord()
    patched = [(Layer, "__init__", Layer.__dict__["__init__"], record.made)]
    for cls in set(_subclasses(Layer)):
        original = cls.__dict__.get("call")
        if callable(original):
            patched.append((cls, "call", original, record.ran))
    for cls, method, original, counter in patched:
        setattr(cls, method, _counted_layer_method(original, counter))
    try:
        yield record
    finally:
        for cls, method, original, _ in patched:
            setattr(cls, method, original)
