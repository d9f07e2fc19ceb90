"""Cases for minikeras/ops/normalization.py: moments, batch_normalization,
layer_normalization, rms_normalization and the fused standardize. The references are
plain Python: the statistics are summed element by element over each group of reduced
positions, and the normalizations are computed position by position."""
import math

import numpy as np
from hypothesis import strategies as st

from minikeras import ops
from minikeras.ops.normalization import standardize

from . import Case, axis_for, shapes, values


def _py(v):
    """An int, bool or tuple argument as Python values: the gradient checker hands every
    input over as a Tensor, the forward test as drawn."""
    if hasattr(v, "numpy"):
        v = v.numpy()
    v = np.asarray(v)
    if v.ndim:
        return tuple(int(a) for a in v)
    return bool(v) if v.dtype == bool else int(v)


def _reduced(shape, axes):
    """The reduced axes as a sorted tuple of non-negative ints."""
    axes = axes if isinstance(axes, tuple) else (axes,)
    return tuple(sorted(a % len(shape) for a in axes))


def _groups(a, axes):
    """For each position of the kept axes: the list of the flat indices reduced into it."""
    kept = [i for i in range(a.ndim) if i not in axes]
    groups = {}
    for idx in np.ndindex(a.shape):
        key = tuple(idx[i] for i in kept)
        groups.setdefault(key, []).append(idx)
    return groups


def _stats(a, axes):
    """{kept position: (mean, biased variance)}, by explicit sums."""
    out = {}
    for key, members in _groups(a, axes).items():
        vals = [float(a[i]) for i in members]
        mu = sum(vals) / len(vals)
        out[key] = (mu, sum((v - mu) ** 2 for v in vals) / len(vals))
    return out


def _moments_ref(a, axes, keepdims):
    axes, keepdims = _reduced(a.shape, _py(axes)), _py(keepdims)
    stats = _stats(a, axes)
    kept_shape = tuple(n for i, n in enumerate(a.shape) if i not in axes)
    mean, var = np.empty(kept_shape), np.empty(kept_shape)
    for key, (mu, v) in stats.items():
        mean[key], var[key] = mu, v
    if keepdims:
        full = tuple(1 if i in axes else n for i, n in enumerate(a.shape))
        mean, var = mean.reshape(full), var.reshape(full)
    return np.stack([mean, var])


def _standardize_ref(a, axes, eps=1e-3):
    axes = _reduced(a.shape, _py(axes))
    stats = _stats(a, axes)
    kept = [i for i in range(a.ndim) if i not in axes]
    out = np.empty(a.shape)
    for idx in np.ndindex(a.shape):
        mu, v = stats[tuple(idx[i] for i in kept)]
        out[idx] = (a[idx] - mu) / math.sqrt(v + eps)
    return out


def _batch_norm_ref(a, mean, var, axis, offset=None, scale=None, eps=1e-3):
    axis = _py(axis)
    out = np.empty(a.shape)
    for idx in np.ndindex(a.shape):
        c = idx[axis]
        y = (a[idx] - mean[c]) / math.sqrt(var[c] + eps)
        if scale is not None:
            y = y * scale[c]
        if offset is not None:
            y = y + offset[c]
        out[idx] = y
    return out


def _layer_norm_ref(a, gamma, beta, axes, eps=1e-7):
    """Standardized over ``axes`` (by the loops above), then gamma and beta indexed by the
    positions along the normalized axes."""
    axes = _reduced(a.shape, _py(axes))
    y = _standardize_ref(a, axes, eps)
    out = np.empty(a.shape)
    for idx in np.ndindex(a.shape):
        w = tuple(idx[i] for i in axes)
        out[idx] = y[idx] * gamma[w] + beta[w]
    return out


def _rms_ref(a, scale, axes, eps=1e-7):
    axes = _reduced(a.shape, _py(axes))
    kept = [i for i in range(a.ndim) if i not in axes]
    groups = {}
    for idx in np.ndindex(a.shape):
        groups.setdefault(tuple(idx[i] for i in kept), []).append(float(a[idx]) ** 2)
    out = np.empty(a.shape)
    for idx in np.ndindex(a.shape):
        squares = groups[tuple(idx[i] for i in kept)]
        out[idx] = a[idx] / math.sqrt(sum(squares) / len(squares) + eps) * scale[idx[-1]]
    return out


def _per_sample_draw(d):
    """x of rank 2-4, normalized axes among the non-batch ones (negative too), and weights
    of the shape of those axes (in sorted order)."""
    shape = d(shapes(min_dims=2, max_dims=4))
    rank = len(shape)
    axes = sorted(d(st.lists(st.integers(1, rank - 1), min_size=1, max_size=rank - 1,
                             unique=True)))
    w_shape = tuple(shape[a] for a in axes)
    axes = tuple(a - rank if d(st.booleans()) else a for a in axes)
    return [values(d, shape), values(d, w_shape), values(d, w_shape), axes]


def _rms_draw(d):
    shape = d(shapes(min_dims=1, max_dims=3))
    return [values(d, shape), values(d, shape[-1:]), axis_for(d, len(shape), allow_none=False)]


def _with_axes(d):
    shape = d(shapes(min_dims=1, max_dims=4))
    return [values(d, shape), axis_for(d, len(shape), allow_none=False)]


def _moments_draw(d):
    return _with_axes(d) + [d(st.booleans())]


def _batch_norm_draw(with_affine):
    def draw(d):
        shape = d(shapes(min_dims=1, max_dims=4))
        axis = d(st.integers(-len(shape), len(shape) - 1))
        c = shape[axis]
        arrays = [values(d, shape), values(d, (c,)), values(d, (c,), 0.1, 2.0), axis]
        if with_affine:
            arrays += [values(d, (c,)), values(d, (c,))]
        return arrays
    return draw


CASES = [
    Case("moments", lambda a, axes, keepdims: ops.stack(list(ops.moments(
        a, _py(axes), keepdims=_py(keepdims)))), _moments_ref, _moments_draw, ("Moments",),
        second=True),
    Case("moments_mean_only", lambda a, axes: ops.moments(a, _py(axes))[0] * 2.0,
         lambda a, axes: _moments_ref(a, axes, False)[0] * 2.0, _with_axes, ("Moments",),
         ops=()),
    Case("standardize", lambda a, axes: standardize(a, _py(axes)), _standardize_ref, _with_axes,
         ("Standardize",), second=True),
    Case("batch_normalization",
         lambda a, m, v, axis, o, s: ops.batch_normalization(a, m, v, _py(axis), offset=o,
                                                             scale=s),
         _batch_norm_ref, _batch_norm_draw(True), ("BatchNorm",), second=True),
    Case("batch_normalization_plain",
         lambda a, m, v, axis: ops.batch_normalization(a, m, v, _py(axis), epsilon=0.01),
         lambda a, m, v, axis: _batch_norm_ref(a, m, v, axis, eps=0.01),
         _batch_norm_draw(False), ("BatchNorm",), ops=()),
    Case("layer_normalization",
         lambda a, g, b, axes: ops.layer_normalization(a, g, b, axis=list(_py(axes))),
         lambda a, g, b, axes: _layer_norm_ref(a, g, b, axes), _per_sample_draw,
         ("Standardize",), second=True),
    Case("rms_normalization",
         lambda a, s, axes: ops.rms_normalization(a, s, axis=_py(axes), epsilon=0.01),
         lambda a, s, axes: _rms_ref(a, s, axes, eps=0.01), _rms_draw, ("Reciprocal",),
         second=True),
]
