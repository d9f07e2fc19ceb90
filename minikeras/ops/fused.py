"""Fused layer ops: the few ops of a layer's call done as one node, for the training loop.

``Dense`` computes ``relu(x @ kernel + bias)`` with three ops, and the tape records three
nodes: a new array for the product, another for the sum, another for the ReLU, and three
backward steps, each allocating its gradient. ``FusedDense`` does the same arithmetic, in
the same order, as one node:

    forward     z = x @ kernel           (one new array)
                z += bias                (in place)
                z = max(z, 0)            (in place; relu only; with the bias, one loop:
                                          kernels/cpu/dense.py)

    backward    gz = g · [z > 0]         (relu only; g itself otherwise)
                dL/dx      = gz @ kernelᵀ
                dL/dkernel = xᵀ @ gz
                dL/dbias   = Σ_rows gz

The results are the same numbers as the three ops give (the same operations in the same
order). Only the tape differs, so layers use these ops only where nobody reads the tape:
inside ``fit``, ``evaluate``, ``predict`` and the ``*_on_batch`` methods, which switch
``state.fuse_layers`` on (see ``models/trainer.py``). A ``GradientTape`` in user code
records the ops one by one, as the layer's ``call`` reads.
"""
from .. import backend
from ..autograd import Function, state
from ..tensor import Tensor
from .core import cast, constant
from .linalg import matmul
from .reduction import sum as _sum
from .shape import swapaxes

__all__ = []


class FusedDense(Function):
    """``max(x @ kernel + bias, 0)`` (``relu=True``) or ``x @ kernel + bias``, for a 2-D
    ``x`` (rows, in) and a kernel (in, units) of one float dtype; ``bias`` (units,) may be
    left out. The gradients are in the module docstring."""

    def __init__(self, relu=False):
        self.relu = relu

    def forward(self, x, kernel, bias=None):
        z = x @ kernel                      # the one new array of the node
        return backend.kernels.dense_activate(z, bias, self.relu)  # + bias, relu: in place

    def backward(self, g):
        x, kernel = self.inputs[0], self.inputs[1]
        needs = self.needs_grad
        has_bias = len(self.inputs) == 3
        if not state.grad_enabled:          # nothing records the backward pass: arrays only
            gz, dbias = backend.kernels.dense_relu_grad(g.data, self.output().data, self.relu,
                                                        has_bias and needs[2])
            grads = [Tensor._wrap(gz @ kernel.data.T) if needs[0] else None,
                     Tensor._wrap(x.data.T @ gz) if needs[1] else None]
            if has_bias:
                grads.append(Tensor._wrap(dbias) if needs[2] else None)
            return tuple(grads)
        # Recorded (second derivatives): the same formulas with ops. The ReLU mask is a
        # constant: its derivative is zero wherever it is defined.
        gz = g
        if self.relu:
            gz = g * constant((self.output().data > 0).astype(g.dtype))
        grads = [matmul(gz, swapaxes(kernel, 0, 1)) if needs[0] else None,
                 matmul(swapaxes(x, 0, 1), gz) if needs[1] else None]
        if has_bias:
            grads.append(cast(_sum(gz, axis=0), self.inputs[2].dtype) if needs[2] else None)
        return tuple(grads)


def fused_dense(x, kernel, bias=None, relu=False):
    """One ``FusedDense`` node (the caller checks that it applies: see ``can_fuse_dense``)."""
    if bias is None:
        return FusedDense(relu)(x, kernel)
    return FusedDense(relu)(x, kernel, bias)


def can_fuse_dense(x, kernel, bias):
    """True when ``fused_dense`` computes exactly what matmul, add and relu would: fusion is
    on, ``x`` is a 2-D tensor and every operand has the same float dtype (no casts, no
    broadcasting but the bias's)."""
    if not state.fuse_layers or not isinstance(x, Tensor) or x.data.ndim != 2:
        return False
    dt = x.data.dtype
    return (dt.kind == "f" and kernel.data.dtype == dt
            and (bias is None or bias.data.dtype == dt))
