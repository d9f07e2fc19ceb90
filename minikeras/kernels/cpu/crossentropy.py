"""The softmax cross-entropy of logits against integer labels, row by row.

For a row x of logits and its label k:

    m = max(x)                          (subtracted first: exp never overflows)
    p = exp(x - m) / Σ exp(x - m)       (the softmax, kept for the backward pass)
    loss = log Σ exp(x - m) - (x[k] - m)

and the gradient of a loss weighted by s is ``s · (p - onehot(k))``. In NumPy each line is
a pass over the whole (rows, classes) array and a new array (about ten calls for a batch);
as one loop each row is read once while it sits in the cache. On NumPy arrays of float32 /
float64 the loops run compiled by Numba; other arrays (CuPy) take the same formulas as
array code.
"""
import numpy

from ..arrays import array_module
from .activations import log_softmax, softmax
from .jit import jit

__all__ = ["sparse_softmax_cross_entropy", "sparse_softmax_cross_entropy_grad"]


def _forward_loop(x, labels, losses, probs, zero):
    rows, classes = x.shape
    for i in range(rows):
        m = x[i, 0]
        for j in range(1, classes):
            if x[i, j] > m or x[i, j] != x[i, j]:   # max(), NaN included
                m = x[i, j]
        total = zero
        for j in range(classes):
            e = numpy.exp(x[i, j] - m)
            probs[i, j] = e
            total += e
        for j in range(classes):
            probs[i, j] = probs[i, j] / total
        losses[i] = numpy.log(total) - (x[i, labels[i]] - m)


def _grad_loop(probs, labels, scale, grad):
    rows, classes = probs.shape
    for i in range(rows):
        s = scale[i]
        for j in range(classes):
            grad[i, j] = probs[i, j] * s
        grad[i, labels[i]] = grad[i, labels[i]] - s


def _fit(x):
    return (type(x) is numpy.ndarray and x.dtype in (numpy.float32, numpy.float64)
            and x.ndim == 2 and x.size > 0)


def sparse_softmax_cross_entropy(x, labels):
    """(losses, probs) for logits ``x`` (rows, classes) and integer ``labels`` (rows,):
    each row's cross-entropy, and the softmax of every row."""
    if _fit(x):
        losses = numpy.empty(x.shape[0], x.dtype)
        probs = numpy.empty_like(x)
        jit(_forward_loop)(x, labels, losses, probs, x.dtype.type(0))
        return losses, probs
    rows = array_module(x).arange(x.shape[0])
    return -log_softmax(x, axis=1)[rows, labels], softmax(x, axis=1)


def sparse_softmax_cross_entropy_grad(probs, labels, scale):
    """dL/dx = scale · (probs - onehot(labels)), ``scale`` one weight per row (rows,)."""
    if _fit(probs):
        grad = numpy.empty_like(probs)
        jit(_grad_loop)(probs, labels, scale, grad)
        return grad
    grad = probs * scale[:, None]
    grad[array_module(probs).arange(probs.shape[0]), labels] -= scale
    return grad
