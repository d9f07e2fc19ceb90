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
# Our CUDA kernels (Numba cuda.jit), one launcher each, by family (one module each):
from .activations import (erf, gelu, gelu_grad, hard_sigmoid, hard_sigmoid_grad, leaky_relu,
                          leaky_relu_grad, relu, relu6, relu6_grad, relu_grad, sigmoid,
                          sigmoid_grad, tanh, tanh_grad)
from .conv import (col2im, conv_forward, conv_input_grad, conv_input_grad_by_offset,
                   conv_kernel_grad, im2col)
from .crossentropy import sparse_softmax_cross_entropy, sparse_softmax_cross_entropy_grad
from .dropout import dropout_mask
from .embedding import embedding_gather, embedding_scatter_add
from .matmul import matmul
from .normalization import standardize_backward, standardize_forward
from .pooling import (average_pool_backward, average_pool_forward, max_pool_backward,
                      max_pool_forward, max_pool_gather)
from .recurrent import (gru_sequence_backward, gru_sequence_forward, lstm_sequence_backward,
                        lstm_sequence_forward)
from .reduction import reduce_max, reduce_min, reduce_sum
from .softmax import log_softmax, softmax
from .updates import adam_update, sgd_update

# The CPU's array code, reused on the device (no hand-written CUDA version):
from ..cpu.conv import conv_output_size   # shape arithmetic, no arrays
from ..cpu.recurrent import release_sequence_buffers   # hands buffers back to a pool

#: The modules of this package that hold CUDA kernels, one per kernel family.
FAMILIES = ["activations", "conv", "crossentropy", "dropout", "embedding", "matmul",
            "normalization", "pooling", "recurrent", "reduction", "softmax", "updates"]

CUDA_KERNELS = [
    # activations
    "relu", "relu_grad", "relu6", "relu6_grad", "hard_sigmoid", "hard_sigmoid_grad",
    "leaky_relu", "leaky_relu_grad", "sigmoid", "sigmoid_grad", "tanh", "tanh_grad", "erf",
    "gelu", "gelu_grad",
    # softmax and log-softmax (one block per row)
    "softmax", "log_softmax",
    # reductions along axes (a block tree reduction)
    "reduce_sum", "reduce_max", "reduce_min",
    # the fused softmax + cross-entropy of integer labels
    "sparse_softmax_cross_entropy", "sparse_softmax_cross_entropy_grad",
    # convolution
    "im2col", "col2im", "conv_forward", "conv_input_grad", "conv_input_grad_by_offset",
    "conv_kernel_grad",
    # the matrix product (the tiled kernel with config.set_matmul("ours"), else cuBLAS)
    "matmul",
    # the embedding lookup and its scatter-add (atomics)
    "embedding_gather", "embedding_scatter_add",
    # the dropout keep-mask (a counter-based generator)
    "dropout_mask",
    # standardization (batch, layer and group normalization)
    "standardize_forward", "standardize_backward",
    # pooling
    "max_pool_forward", "max_pool_backward", "max_pool_gather", "average_pool_forward",
    "average_pool_backward",
    # the LSTM and GRU sequences (the gate steps; the matrix products run as cuBLAS)
    "lstm_sequence_forward", "lstm_sequence_backward", "gru_sequence_forward",
    "gru_sequence_backward",
    # optimizer updates in place
    "sgd_update", "adam_update",
]
ARRAY_CODE = ["conv_output_size", "release_sequence_buffers"]
__all__ = CUDA_KERNELS + ARRAY_CODE
