"""Optimizer kernels: SGD's update of one weight, in one pass over its memory.

NumPy writes ``w -= lr * g`` as two passes: ``lr * g`` into a temporary, then
``w - temporary``. The weights of even a small MLP are megabytes, more than a core's cache,
so every pass is a trip to main memory: five array streams (read g, write the temporary,
read w, read the temporary, write w) where one loop needs three (read w and g, write w).
Each kernel here is that loop over the elements, written in plain Python and compiled by
Numba (``njit``) the first time it runs (a few tenths of a second, then cached on disk).
``SGD.fused_update_step`` calls it.

The rule for one element is written once, here: ``sgd_element`` and
``sgd_momentum_element``, plain Python functions of scalars. The loops below call them,
compiled inline by Numba (``jit.element``); the CUDA kernels of ``kernels/cuda/updates.py``
call the same two functions, compiled as inline device functions. So the CPU and the GPU run
one formula, and the simulator runs it as the Python written here.

Only SGD has a loop. An Adam loop was measured slower than Adam's NumPy formula on every
weight of the benchmarks' models (``benchmarks/bench_optimizer_update.py``), so Adam runs
its formula on the CPU.

The loops do the arithmetic of the NumPy formula in ``optim/rules.py`` operation by
operation, in the weight's dtype, with no fused multiply-add and no reordering, so they
give the same bits; the test suite checks that. A kernel returns False, and the optimizer
runs its NumPy formula, when the arrays are not contiguous NumPy arrays of one float dtype.
"""
import numpy as np

from .jit import element
from .jit import jit as _jit

__all__ = ["sgd_update"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


# --------------------------------------------------------------------------- one element
@element
def sgd_element(w, g, lr):
    """The new weight of one element: ``w - g·lr``."""
    return w - g * lr


@element
def sgd_momentum_element(w, m, g, lr, mu, nesterov):
    """``(new w, new m)`` of one element with momentum ``mu``:

        step = g·lr
        m' = m·mu - step
        w' = w + m'               (w + (m'·mu - step) for Nesterov)
    """
    step = g * lr
    velocity = m * mu - step
    if nesterov:
        return w + (velocity * mu - step), velocity
    return w + velocity, velocity


# --------------------------------------------------------------------------- the loops
def _sgd_loop(w, g, lr):
    for i in range(w.size):
        w[i] = sgd_element(w[i], g[i], lr)


def _sgd_momentum_loop(w, m, g, lr, mu, nesterov):
    for i in range(w.size):
        w[i], m[i] = sgd_momentum_element(w[i], m[i], g[i], lr, mu, nesterov)


def _flat(*arrays):
    """The arrays as flat views, or None unless all are C-contiguous NumPy arrays of one
    float dtype and one size (then the loop may index them all with one i)."""
    first = arrays[0]
    if type(first) is not np.ndarray:
        return None
    dtype, size = first.dtype, first.size
    if dtype not in _FLOATS:
        return None
    for a in arrays:
        if (type(a) is not np.ndarray or a.dtype != dtype or a.size != size
                or not a.flags.c_contiguous):
            return None
    return [a.reshape(-1) for a in arrays]


# --------------------------------------------------------------------------- the kernels
def sgd_update(w, g, lr, m=None, mu=0.0, nesterov=False):
    """SGD in place: ``w -= g * lr``; with a velocity ``m``: ``m = m * mu - g * lr`` and
    ``w += m`` (or ``w += m * mu - g * lr`` for Nesterov). ``lr`` and ``mu`` are scalars
    of w's dtype. Returns False (nothing done) when the arrays do not fit a loop."""
    flat = _flat(w, g) if m is None else _flat(w, m, g)
    if flat is None:
        return False
    if m is None:
        _jit(_sgd_loop)(flat[0], flat[1], lr)
    else:
        _jit(_sgd_momentum_loop)(flat[0], flat[1], flat[2], lr, mu, bool(nesterov))
    return True
