"""CUDA kernels (Numba ``cuda.jit``), each beside its launcher.

A launcher has the signature of its CPU twin in ``kernels/cpu``: it takes arrays of the
backend's device (CuPy arrays on a GPU, NumPy arrays in Numba's simulator), allocates the
output, picks the grid and block and launches. Import this package only once the backend has
decided the mode (``NUMBA_ENABLE_CUDASIM`` must be set before Numba is imported).
"""
from .activations import relu, softmax

__all__ = ["relu", "softmax"]
