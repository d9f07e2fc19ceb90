"""The CUDA kernel table: the names of the CPU table (``kernels/cpu/__init__.py``), each
bound either to a CUDA kernel of this package or to the CPU's array code reused on the device.

A CUDA entry is a launcher with the signature of its CPU twin: it takes arrays of the
backend's device (CuPy arrays on a GPU, NumPy arrays in Numba's simulator), allocates the
output, picks the grid and block and launches a Numba ``cuda.jit`` kernel. An array-code
entry is the CPU module's function itself: it is written for NumPy and CuPy arrays alike
(``kernels/arrays.py``), so on a GPU it runs as CuPy calls (cuBLAS for the matrix products).
Import this package only once the backend has decided the mode (``NUMBA_ENABLE_CUDASIM``
must be set before Numba is imported).
"""
# Our CUDA kernels (Numba cuda.jit), one launcher each:
from .activations import relu, relu_grad
from .crossentropy import sparse_softmax_cross_entropy, sparse_softmax_cross_entropy_grad
from .reduction import reduce_max, reduce_min, reduce_sum
from .softmax import log_softmax, softmax
from .updates import adam_update, sgd_update

# The CPU's array code, reused on the device (no hand-written CUDA version):
from ..cpu.conv import (col2im, conv_forward, conv_input_grad, conv_input_grad_by_offset,
                        conv_kernel_grad, conv_output_size, im2col)
from ..cpu.pooling import (average_pool_backward, average_pool_forward, max_pool_backward,
                           max_pool_forward, max_pool_gather)
from ..cpu.recurrent import (gru_sequence_backward, gru_sequence_forward, lstm_sequence_backward,
                             lstm_sequence_forward, release_sequence_buffers)

#: The modules of this package that hold CUDA kernels, one per kernel family.
FAMILIES = ["activations", "updates", "reduction", "softmax", "crossentropy"]

CUDA_KERNELS = ["relu", "relu_grad", "softmax", "sgd_update", "adam_update",
                "reduce_sum", "reduce_max", "reduce_min", "log_softmax",
                "sparse_softmax_cross_entropy", "sparse_softmax_cross_entropy_grad"]
ARRAY_CODE = [
    "conv_output_size", "im2col", "col2im", "conv_forward", "conv_input_grad",
    "conv_input_grad_by_offset", "conv_kernel_grad",
    "max_pool_forward", "max_pool_backward", "max_pool_gather", "average_pool_forward",
    "average_pool_backward",
    "lstm_sequence_forward", "lstm_sequence_backward", "gru_sequence_forward",
    "gru_sequence_backward", "release_sequence_buffers",
]
__all__ = CUDA_KERNELS + ARRAY_CODE
