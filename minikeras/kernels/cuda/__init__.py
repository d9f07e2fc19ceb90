"""CUDA kernels (Numba ``cuda.jit``), each beside its launcher.

A launcher has the signature of its CPU twin in ``kernels/cpu``: it takes arrays of the
backend's device (CuPy arrays on a GPU, NumPy arrays in Numba's simulator), allocates the
output, picks the grid and block and launches. Import this package only once the backend has
decided the mode (``NUMBA_ENABLE_CUDASIM`` must be set before Numba is imported).
"""
from ..cpu import conv as _conv
from ..cpu import crossentropy as _crossentropy
from ..cpu import pooling as _pooling
from ..cpu import recurrent as _recurrent
from ..cpu.activations import log_softmax  # array code: CuPy calls on a GPU
from .activations import relu, relu_grad, softmax
from .updates import adam_update, sgd_update

__all__ = ["relu", "relu_grad", "softmax", "log_softmax", "sgd_update", "adam_update"]

# The convolution, cross-entropy, pooling and fused recurrent kernels have no hand-written CUDA version yet:
# the table holds their array code, written once for NumPy and CuPy arrays
# (kernels/arrays.py), so on a GPU they run as CuPy calls (cuBLAS for the matrix products).
for _module in (_conv, _crossentropy, _pooling, _recurrent):
    for _name in _module.__all__:
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)
