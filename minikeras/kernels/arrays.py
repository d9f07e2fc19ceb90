"""The array module of an array, for kernels written once for NumPy and CuPy arrays."""
import numpy


def array_module(a):
    """``numpy`` for host arrays and NumPy scalars (what NumPy returns for arithmetic on 0-d
    arrays; and the CUDA simulator), ``cupy`` for GPU arrays."""
    if isinstance(a, (numpy.ndarray, numpy.generic)):
        return numpy
    import cupy
    return cupy
