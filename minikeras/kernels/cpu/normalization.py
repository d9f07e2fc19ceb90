"""Standardization kernels on arrays: x̂ = (x - μ)·s with s = 1/√(σ² + ε), μ and σ² the
mean and biased variance of x over ``axes``, and its backward. The normalization layers use
them through the op ``Standardize`` (ops/normalization.py), which keeps μ, σ² and s on its
node.

Both are the plain NumPy formulas, written for NumPy and CuPy arrays alike (the array module
comes from the array). The statistics have the reduced axes kept as size 1, so they
broadcast against x.
"""
from ..arrays import array_module

__all__ = ["standardize_forward", "standardize_backward"]


def standardize_forward(x, axes, epsilon):
    """``(x̂, mean, variance, inv_std)``: x̂ = (x - μ)·s, s = 1/√(σ² + ε), over ``axes``.

    The variance is the centred form, mean((x - μ)²), not E[x²] - μ²: it never goes
    negative through cancellation.
    """
    xp = array_module(x)
    mean = xp.mean(x, axis=axes, keepdims=True)
    d = x - mean
    variance = xp.mean(d * d, axis=axes, keepdims=True)
    inv_std = 1.0 / xp.sqrt(variance + epsilon)
    return d * inv_std, mean, variance, inv_std


def standardize_backward(g, xhat, inv_std, axes):
    """dL/dx = s·(g - mean(g) - x̂·mean(g·x̂)), the means over ``axes`` (g = dL/dx̂)."""
    mean_g = g.mean(axis=axes, keepdims=True)
    mean_gx = (g * xhat).mean(axis=axes, keepdims=True)
    return inv_std * (g - mean_g - xhat * mean_gx)
