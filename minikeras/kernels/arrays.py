"""The array module of an array, for kernels written once for NumPy and CuPy arrays."""
import numpy


def array_module(a):
    """``numpy`` for host arrays (and the CUDA simulator), ``cupy`` for GPU arrays."""
    if isinstance(a, numpy.ndarray):
        return numpy
    import cupy
    return cupy
