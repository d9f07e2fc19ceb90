"""Optimizer kernels for the GPU: one thread per weight element (grid-stride).

The SGD kernels call the rule of one element written in ``kernels/cpu/updates.py``
(``sgd_element``, ``sgd_momentum_element``, where the CPU loops call it too, and where it
is said why one pass pays), compiled here as inline device functions: the GPU runs the
CPU's arithmetic, operation by operation. ``adam_update`` does the arithmetic of
``Adam.update_step`` in ``optim/rules.py``, in one launch where CuPy would make about ten;
it is written out in its kernel, since Adam has no CPU loop to share it with: on the CPU its
NumPy formula is faster than a loop."""
import math

from numba import cuda

from ..arrays import array_module
from ..cpu.updates import sgd_element, sgd_momentum_element
from .launch import grid_1d, launch

__all__ = ["sgd_update", "adam_update"]

#: The types each kernel is compiled for in the PTX test (tests/cudasim/test_ptx.py).
PTX_SIGNATURES = {
    "_sgd_kernel": ["void(float32[::1], float32[::1], float32)"],
    "_sgd_momentum_kernel": ["void(float32[::1], float32[::1], float32[::1], float32, float32, "
                             "boolean)"],
    "_adam_kernel": ["void(float32[::1], float32[::1], float32[::1], float32[::1], float32[::1], "
                     "float32, float32, float32, float32, boolean)"],
}


# The CPU's rules of one element, compiled into each kernel that calls them.
_sgd_element = cuda.jit(device=True, inline="always")(sgd_element)
_sgd_momentum_element = cuda.jit(device=True, inline="always")(sgd_momentum_element)


@cuda.jit
def _sgd_kernel(w, g, lr):
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for i in range(start, w.size, stride):
        w[i] = _sgd_element(w[i], g[i], lr)


@cuda.jit
def _sgd_momentum_kernel(w, m, g, lr, mu, nesterov):
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for i in range(start, w.size, stride):
        w[i], m[i] = _sgd_momentum_element(w[i], m[i], g[i], lr, mu, nesterov)


@cuda.jit
def _adam_kernel(w, m, v, v_hat, g, alpha, one_minus_beta_1, one_minus_beta_2, epsilon,
                 amsgrad):
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for i in range(start, w.size, stride):
        gi = g[i]
        mi = m[i] + (gi - m[i]) * one_minus_beta_1
        vi = v[i] + (gi * gi - v[i]) * one_minus_beta_2
        m[i] = mi
        v[i] = vi
        if amsgrad:
            vi = max(v_hat[i], vi)
            v_hat[i] = vi
        w[i] = w[i] - (mi * alpha) / (math.sqrt(vi) + epsilon)


def _flat(*arrays):
    """Flat views of same-dtype, same-size C-contiguous arrays, else None (the optimizer
    then runs its array formula)."""
    first = arrays[0]
    if first.dtype.kind != "f":
        return None
    for a in arrays:
        if a.dtype != first.dtype or a.size != first.size or not a.flags.c_contiguous:
            return None
    return [a.reshape(-1) for a in arrays]


def sgd_update(w, g, lr, m=None, mu=0.0, nesterov=False):
    """SGD in place, as ``kernels.cpu.sgd_update``; False when the arrays do not fit."""
    flat = _flat(w, g) if m is None else _flat(w, m, g)
    if flat is None:
        return False
    if flat[0].size:
        blocks, threads = grid_1d(flat[0].size)
        if m is None:
            launch(_sgd_kernel, blocks, threads, flat[0], flat[1], lr)
        else:
            launch(_sgd_momentum_kernel, blocks, threads, flat[0], flat[1], flat[2], lr, mu,
                   bool(nesterov))
    return True


def adam_update(w, m, v, v_hat, g, alpha, one_minus_beta_1, one_minus_beta_2, epsilon):
    """Adam in place, the formula of ``Adam.update_step`` (``alpha`` and the other scalars
    as it computes them); False when the arrays do not fit."""
    amsgrad = v_hat is not None
    flat = _flat(w, m, v, g, v_hat) if amsgrad else _flat(w, m, v, g)
    if flat is None:
        return False
    if flat[0].size:
        blocks, threads = grid_1d(flat[0].size)
        # Without amsgrad the kernel never reads v_hat; it gets a one-element stand-in
        # rather than v itself (two names for one array are copied twice by the simulator).
        hat = flat[4] if amsgrad else array_module(w).empty(1, w.dtype)
        launch(_adam_kernel, blocks, threads, flat[0], flat[1], flat[2], hat, flat[3], alpha,
               one_minus_beta_1, one_minus_beta_2, epsilon, amsgrad)
    return True
