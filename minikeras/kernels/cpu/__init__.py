"""The CPU kernel table: vectorised NumPy, and Numba loops where one pass beats NumPy's
several (``updates``, ``crossentropy``, the ReLU mask, max pooling).

Every name below has an entry of the same name and signature in the CUDA table
(``kernels/cuda/__init__.py``), so an op calls ``backend.kernels.<name>`` and runs on either
device. ``adam_update`` is the one entry only the CUDA table has: on the CPU Adam runs its
formula in NumPy (``optim/rules.py``).
"""
from .activations import (erf, gelu, gelu_grad, hard_sigmoid, hard_sigmoid_grad, leaky_relu,
                          leaky_relu_grad, log_softmax, relu, relu6, relu6_grad, relu_grad,
                          sigmoid, sigmoid_grad, softmax, tanh, tanh_grad)
from .conv import (col2im, conv_forward, conv_input_grad, conv_input_grad_by_offset,
                   conv_kernel_grad, conv_output_size, im2col)
from .crossentropy import sparse_softmax_cross_entropy, sparse_softmax_cross_entropy_grad
from .dropout import dropout_mask
from .embedding import embedding_gather, embedding_scatter_add
from .matmul import matmul
from .normalization import standardize_backward, standardize_forward
from .pooling import (average_pool_backward, average_pool_forward, max_pool_backward,
                      max_pool_forward, max_pool_gather)
from .recurrent import (gru_sequence_backward, gru_sequence_forward, lstm_sequence_backward,
                        lstm_sequence_forward, release_sequence_buffers)
from .reduction import reduce_max, reduce_min, reduce_sum
from .updates import sgd_update

__all__ = [
    # activations
    "relu", "relu_grad", "relu6", "relu6_grad", "hard_sigmoid", "hard_sigmoid_grad",
    "leaky_relu", "leaky_relu_grad", "sigmoid", "sigmoid_grad", "tanh", "tanh_grad", "erf",
    "gelu", "gelu_grad", "softmax", "log_softmax",
    # convolution (im2col, col2im and a matrix product)
    "conv_output_size", "im2col", "col2im", "conv_forward", "conv_input_grad",
    "conv_input_grad_by_offset", "conv_kernel_grad",
    # the matrix product (ops.matmul)
    "matmul",
    # the embedding lookup, rows gathered by id, and its scatter-add (ops.take on axis 0)
    "embedding_gather", "embedding_scatter_add",
    # reductions over axes
    "reduce_sum", "reduce_max", "reduce_min",
    # the fused softmax + cross-entropy of integer labels
    "sparse_softmax_cross_entropy", "sparse_softmax_cross_entropy_grad",
    # the dropout keep-mask (a counter-based generator)
    "dropout_mask",
    # standardization (batch, layer and group normalization)
    "standardize_forward", "standardize_backward",
    # pooling
    "max_pool_forward", "max_pool_backward", "max_pool_gather", "average_pool_forward",
    "average_pool_backward",
    # the fused LSTM and GRU sequences
    "lstm_sequence_forward", "lstm_sequence_backward", "gru_sequence_forward",
    "gru_sequence_backward", "release_sequence_buffers",
    # optimizer updates in place
    "sgd_update",
]
