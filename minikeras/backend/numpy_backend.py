"""The default backend: NumPy arrays on the CPU."""
import numpy

from ..kernels import cpu as kernels  # noqa: F401  (the table: kernels/cpu/__init__.py)
from . import host_memory  # noqa: F401  (freed arrays stay in the process: no page faults)

xp = numpy
mode = "numpy"
array_types = (numpy.ndarray,)


def asarray(data, dtype=None):
    """Host data (lists, scalars, NumPy arrays) as a NumPy array; no copy when it already is one."""
    return numpy.asarray(data, dtype=dtype)


def to_numpy(a):
    """The array itself: it already lives on the host."""
    return numpy.asarray(a)


def default_rng(seed=None):
    """A NumPy random Generator (PCG64)."""
    return numpy.random.default_rng(seed)
