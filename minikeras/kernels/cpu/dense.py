"""Dense kernels: what a Dense layer does to its matmul's output, and the way back.

Forward, after ``z = x @ kernel``: ``z = max(z + bias, 0)``, in place. NumPy needs two
passes over z (``z += bias``, then ``maximum``); one loop reads and writes each cell once.

Backward, given g = dL/dy and the output y: ``gz = g · [y > 0]`` (the ReLU's gradient),
then ``dbias = Σ_rows gz``. NumPy makes the mask as a boolean array and then the product,
two passes and two new arrays; one loop writes gz directly.

The loops keep NumPy's arithmetic exactly: ``maximum`` keeps NaN (and -0.0), and the mask
is multiplied (so an infinite g still gives NaN at a cut cell, as ``g * mask`` does). They
run on NumPy arrays of float32/float64; other arrays (CuPy) take the same formulas as
array code.
"""
import numpy

from ..arrays import array_module
from .jit import jit

__all__ = ["dense_activate", "dense_relu_grad"]


def _bias_relu_loop(z, bias, zero):
    rows, cols = z.shape
    for i in range(rows):
        for j in range(cols):
            v = z[i, j] + bias[j]
            z[i, j] = v if (v >= zero or v != v) else zero   # maximum(v, 0)


def _relu_grad_loop(g, y, gz, zero, one):
    rows, cols = g.shape
    for i in range(rows):
        for j in range(cols):
            gz[i, j] = g[i, j] * (one if y[i, j] > zero else zero)


def _fit(*arrays):
    first = arrays[0]
    return all(type(a) is numpy.ndarray and a.dtype == first.dtype for a in arrays) and (
        first.dtype in (numpy.float32, numpy.float64) and first.ndim == 2 and first.size > 0)


def dense_activate(z, bias=None, relu=False):
    """``z += bias`` and ``z = max(z, 0)`` (relu), in place on the 2-D ``z``; returns z."""
    if relu and bias is not None and _fit(z, bias):
        jit(_bias_relu_loop)(z, bias, z.dtype.type(0))
        return z
    if bias is not None:
        z += bias
    if relu:
        array_module(z).maximum(z, 0, out=z)
    return z


def dense_relu_grad(g, y, relu=True, with_bias=True):
    """(gz, dbias): gz = g · [y > 0] (g itself without relu) and, with a bias, Σ_rows gz
    (else None). ``g`` and ``y`` are 2-D (rows, units); g is not changed."""
    if relu and _fit(g, y):
        gz = numpy.empty_like(g)
        jit(_relu_grad_loop)(g, y, gz, g.dtype.type(0), g.dtype.type(1))
    else:
        gz = g * (y > 0) if relu else g
    # NumPy's own sum: its order of additions depends on the layout, and the bias gradient
    # must be the one the unfused ops give
    return gz, (gz.sum(axis=0) if with_bias else None)
