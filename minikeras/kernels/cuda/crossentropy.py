"""The softmax cross-entropy of logits against integer labels, for the GPU.

The formulas are those of ``kernels/cpu/crossentropy.py``: for a row x of logits and its
label k, m = max(x), s = Σ exp(x - m), loss = log s - (x[k] - m), softmax p = exp(x - m) / s,
and the gradient of a loss weighted by w is w · (p - onehot(k)).

Forward, one block per row, as the softmax kernel (``softmax.py``): the block finds m and s
with two tree reductions in shared memory (``row_max_and_sum``, a barrier after each level
of each tree), then thread t writes the softmax of the elements t, t + B, t + 2B, ... of the
row, and thread 0 alone writes the row's loss (one value per row: one thread is enough).

Backward, one thread per element of the (rows, classes) gradient (a grid-stride loop, as
relu_grad): an element needs only its own p, its row's weight and its row's label, so
nothing is shared and no barrier is needed; one block per row would leave most threads of
a block idle for the usual ten classes.

Labels outside 0..classes-1: the losses (``losses/functions.py``) refuse them with an error
before calling either table. The kernels never read outside a row: such a row gets a NaN
loss, and its gradient row no -w at any class.

Float32 and float64 logits run the kernels; other dtypes, empty arrays and arrays that are
not (rows, classes) matrices run the CPU's array code (as CuPy calls on a GPU).
"""
import math

from numba import cuda

from ..arrays import array_module
from ..cpu import crossentropy as array_code
from .launch import grid_1d, launch
from .reduction import FLOATS, THREADS, block_size
from .softmax import row_max_and_sum

__all__ = ["sparse_softmax_cross_entropy", "sparse_softmax_cross_entropy_grad"]

#: The types each kernel is compiled for in the PTX test (tests/cudasim/test_ptx.py).
PTX_SIGNATURES = {
    "_cross_entropy_rows_kernel": ["void(float32[:, ::1], int32[::1], float32[::1], "
                                   "float32[:, ::1])"],
    "_cross_entropy_grad_kernel": ["void(float32[:, ::1], int32[::1], float32[::1], "
                                   "float32[:, ::1])"],
}


@cuda.jit
def _cross_entropy_rows_kernel(x, labels, losses, probs):
    shared = cuda.shared.array(THREADS, x.dtype)
    row, classes = cuda.blockIdx.x, x.shape[1]
    m, s = row_max_and_sum(x, row, shared)
    for j in range(cuda.threadIdx.x, classes, cuda.blockDim.x):
        probs[row, j] = math.exp(x[row, j] - m) / s
    if cuda.threadIdx.x == 0:
        k = labels[row]
        losses[row] = math.log(s) - (x[row, k] - m) if 0 <= k < classes else math.nan


@cuda.jit
def _cross_entropy_grad_kernel(probs, labels, scale, grad):
    classes = probs.shape[1]
    for i in range(cuda.grid(1), probs.size, cuda.gridsize(1)):
        row, j = i // classes, i % classes
        g = probs[row, j] * scale[row]
        grad[row, j] = g - scale[row] if j == labels[row] else g


def _fit(x):
    return x.dtype.name in FLOATS and x.ndim == 2 and x.size > 0


def sparse_softmax_cross_entropy(x, labels):
    """(losses, probs) for logits ``x`` (rows, classes) and integer ``labels`` (rows,), as
    ``kernels.cpu.sparse_softmax_cross_entropy``."""
    if not _fit(x):
        return array_code.sparse_softmax_cross_entropy(x, labels)
    xp = array_module(x)
    x, labels = xp.ascontiguousarray(x), xp.ascontiguousarray(labels)
    losses, probs = xp.empty(x.shape[0], x.dtype), xp.empty_like(x)
    launch(_cross_entropy_rows_kernel, x.shape[0], block_size(x.shape[1]), x, labels, losses,
           probs, shared_bytes=THREADS * x.dtype.itemsize)
    return losses, probs


def sparse_softmax_cross_entropy_grad(probs, labels, scale):
    """dL/dx = scale · (probs - onehot(labels)), ``scale`` one weight per row (rows,), as
    ``kernels.cpu.sparse_softmax_cross_entropy_grad``."""
    if not _fit(probs):
        return array_code.sparse_softmax_cross_entropy_grad(probs, labels, scale)
    xp = array_module(probs)
    probs, labels = xp.ascontiguousarray(probs), xp.ascontiguousarray(labels)
    scale = xp.ascontiguousarray(scale)
    grad = xp.empty_like(probs)
    blocks, threads = grid_1d(probs.size)
    launch(_cross_entropy_grad_kernel, blocks, threads, probs, labels, scale, grad)
    return grad
