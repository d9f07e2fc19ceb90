"""Pooling kernels: max and average pooling, forward and backward, on raw arrays.

Layout: channels_last, ``x`` of shape (batch, *spatial, channels) with one spatial axis
(steps) or two (height, width); ``pool``, ``strides`` are tuples with one entry per spatial
axis and ``padding`` is ``"valid"`` or ``"same"``. A 1-D input is handled as a 2-D one of
height 1, so every function below does its work on (batch, height, width, channels).

Every kernel is built from *offset views*: for the window offset (a, b), the strided slice

    view_ab = x_padded[:, a : a + sh·(out_h - 1) + 1 : sh, b : b + sw·(out_w - 1) + 1 : sw, :]

holds, at output position (i, j), the input cell (i·sh + a, j·sw + b). A pooling window is
the stack of its kh·kw views, so the forward pass is kh·kw elementwise maximums (or sums)
of views, and the backward pass is kh·kw slice writes (or adds) into the gradient, with no
Python loop over pixels and no ``add.at``: within one view every output position meets a
different input cell, so a plain assignment or ``+=`` on the view is exact.

On NumPy arrays of float32/float64, max pooling runs as loops compiled by Numba instead
(``_max_pool_loop``, ``_max_pool_backward_loop``): the offset views read the input kh·kw
times in separate passes (and build masks for the argmax), where one loop reads each cell
once. The loops compute the same numbers (the same first-maximum rule, NaN spreading as in
``maximum``); the views remain the code for CuPy arrays and the reference in the tests.

Padding follows TensorFlow/XLA: "same" gives ceil(in / s) outputs per axis, with
total = max((out - 1)·s + k - in, 0) cells of padding, total // 2 of them before the input.
Max pooling pads with -inf (padding never wins); average pooling divides each window by the
number of real (not padded) cells in it.
"""
import math

import numpy

from ..arrays import array_module
from .jit import jit

__all__ = ["max_pool_forward", "max_pool_backward", "max_pool_gather",
           "average_pool_forward", "average_pool_backward"]


def pool_geometry(size, k, s, padding):
    """(outputs, pad_before, pad_after) along one axis of ``size`` cells for a window of ``k``
    and a stride of ``s``. For "valid" an input shorter than the window gives 0 outputs."""
    if padding == "same":
        out = -(-size // s)                                   # ceil(size / s)
        total = max((out - 1) * s + k - size, 0)
        return out, total // 2, total - total // 2
    return max((size - k) // s + 1, 0), 0, 0


def _as_2d(pool, strides, *arrays):
    """A 1-D pooling problem as a 2-D one of height 1: the window and stride get a leading
    1 and each array a height axis (a view, no copy)."""
    if len(pool) == 1:
        return ((1,) + tuple(pool), (1,) + tuple(strides)) + tuple(a[:, None] for a in arrays)
    return (tuple(pool), tuple(strides)) + arrays


def _plan(shape, pool, strides, padding):
    """The output sizes and paddings of both spatial axes of an (N, H, W, C) shape."""
    (oh, th, bh), (ow, tw, bw) = (pool_geometry(shape[1], pool[0], strides[0], padding),
                                  pool_geometry(shape[2], pool[1], strides[1], padding))
    return oh, ow, ((0, 0), (th, bh), (tw, bw), (0, 0))


def _offset_view(a, i, j, oh, ow, strides):
    """The cells of ``a`` that window offset (i, j) reads, one per output position."""
    sh, sw = strides
    return a[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :]


def _padded(x, pads, value):
    xp = array_module(x)
    if not any(b or a for b, a in pads):
        return x
    return xp.pad(x, pads, mode="constant", constant_values=value)


def _unpad(a, pads, shape):
    """The part of a padded gradient that lies over the real input, as a fresh array."""
    (_, (th, _), (tw, _), _) = pads
    if a.shape == tuple(shape):
        return a
    return array_module(a).ascontiguousarray(a[:, th:th + shape[1], tw:tw + shape[2], :])


def _offsets(pool):
    return [(i, j) for i in range(pool[0]) for j in range(pool[1])]


def _gradient_buffer(shape, oh, ow, pool, strides, dtype, xp):
    """The (padded) input gradient, before the offset writes. When the windows tile the
    input exactly (stride == pool) the writes cover every cell but a last row or column that
    valid pooling drops, so only that margin is zeroed; otherwise every cell starts at 0."""
    if tuple(strides) != tuple(pool):
        return xp.zeros(shape, dtype=dtype)
    dx = xp.empty(shape, dtype=dtype)
    dx[:, oh * strides[0]:] = 0
    dx[:, :, ow * strides[1]:] = 0
    return dx


def _disjoint(pool, strides):
    """True when no input cell is in two windows (stride >= pool along both axes)."""
    return strides[0] >= pool[0] and strides[1] >= pool[1]


# --------------------------------------------------------------------------- max pooling loops
def _max_pool_loop(x, ph, pw, sh, sw, y, argmax):
    """y[n, i, j, c] = the maximum of window (i, j) of the (padded) x; argmax its first
    position (k = a·pw + b for row a, column b of the window). Channels innermost, so the
    compiled loop works on whole rows of channels at a time."""
    n_, oh, ow, channels = y.shape
    for n in range(n_):
        for i in range(oh):
            for j in range(ow):
                r, s = i * sh, j * sw
                for c in range(channels):
                    y[n, i, j, c] = x[n, r, s, c]
                    argmax[n, i, j, c] = 0
                for k in range(1, ph * pw):
                    a, b = k // pw, k % pw
                    for c in range(channels):
                        v = x[n, r + a, s + b, c]
                        if v > y[n, i, j, c]:      # strictly: on a tie the first keeps it
                            y[n, i, j, c] = v
                            argmax[n, i, j, c] = k
                        elif v != v:               # NaN spreads, as in maximum()
                            y[n, i, j, c] = v


def _max_pool_backward_loop(g, argmax, ph, pw, sh, sw, dx):
    """dx for windows that do not overlap (stride >= pool): every cell of dx is written
    once, g[n, i, j, c] at the picked cell of its window and 0 everywhere else, so dx needs
    no zeroing first."""
    n_, oh, ow, channels = g.shape
    height, width = dx.shape[1], dx.shape[2]
    for n in range(n_):
        for i in range(oh):
            for j in range(ow):
                for a in range(min(sh, height - i * sh)):
                    r = i * sh + a
                    for b in range(min(sw, width - j * sw)):
                        s = j * sw + b
                        if a < ph and b < pw:
                            k = a * pw + b
                            for c in range(channels):
                                dx[n, r, s, c] = g[n, i, j, c] if argmax[n, i, j, c] == k else 0
                        else:                      # between windows (stride > pool)
                            for c in range(channels):
                                dx[n, r, s, c] = 0
        for r in range(height):                    # the margin no window reaches
            for s in range(width):
                if r >= oh * sh or s >= ow * sw:
                    for c in range(channels):
                        dx[n, r, s, c] = 0


def _loops_fit(*arrays):
    return all(isinstance(a, numpy.ndarray) for a in arrays) and arrays[0].dtype in (
        numpy.float32, numpy.float64)


# --------------------------------------------------------------------------- max pooling
def max_pool_forward(x, pool, strides, padding, with_argmax=True):
    """y[n, i, j, c] = max of the window of (i, j); and, when ``with_argmax``, ``argmax``:
    for each output, the index (in row-major order over the kh·kw offsets) of the first
    cell of its window that holds the maximum (the one that gets the gradient)."""
    xp = array_module(x)
    squeeze = len(pool) == 1
    pool, strides, x = _as_2d(pool, strides, x)
    oh, ow, pads = _plan(x.shape, pool, strides, padding)
    xpad = _padded(x, pads, -math.inf)
    offsets = _offsets(pool)
    if _loops_fit(xpad) and oh > 0 and ow > 0:
        y = numpy.empty((x.shape[0], oh, ow, x.shape[3]), x.dtype)
        argmax = numpy.empty(y.shape, "uint8" if len(offsets) <= 255 else "int32")
        jit(_max_pool_loop)(xpad, pool[0], pool[1], strides[0], strides[1], y, argmax)
        argmax = argmax if with_argmax else None
        return (y[:, 0], None if argmax is None else argmax[:, 0]) if squeeze else (y, argmax)
    y = _offset_view(xpad, 0, 0, oh, ow, strides).copy()
    argmax = None
    if with_argmax:
        dtype = "uint8" if len(offsets) <= 255 else "int32"
        argmax = xp.zeros(y.shape, dtype=dtype)
    for k, (i, j) in enumerate(offsets[1:], start=1):
        v = _offset_view(xpad, i, j, oh, ow, strides)
        if with_argmax:
            # argmax = k where v beats the running maximum (strictly: on a tie the earlier
            # offset keeps it). The offsets come in increasing order, so k is larger than
            # any index argmax holds yet: argmax = max(argmax, wins·k), two array passes
            # (a masked assignment with an unpredictable mask is several times slower).
            wins = xp.greater(v, y).view(argmax.dtype) if argmax.dtype == "uint8" else (
                xp.greater(v, y).astype(argmax.dtype))
            xp.maximum(argmax, xp.multiply(wins, argmax.dtype.type(k)), out=argmax)
        xp.maximum(y, v, out=y)
    if squeeze:
        y = y[:, 0]
        argmax = None if argmax is None else argmax[:, 0]
    return y, argmax


def max_pool_backward(g, argmax, x_shape, pool, strides, padding):
    """dL/dx for y = max_pool(x): each output's gradient g[n, i, j, c] goes to the one
    input cell that ``argmax`` picked for it (summed where overlapping windows pick the
    same cell); every other cell gets 0."""
    xp = array_module(g)
    squeeze = len(pool) == 1
    if squeeze:
        x_shape = (x_shape[0], 1) + tuple(x_shape[1:])
    pool, strides, g, argmax = _as_2d(pool, strides, g, argmax)
    oh, ow, pads = _plan(x_shape, pool, strides, padding)
    padded_shape = tuple(n + b + a for n, (b, a) in zip(x_shape, pads))
    disjoint = _disjoint(pool, strides)
    if disjoint and _loops_fit(g) and g.size:
        dx = numpy.empty(padded_shape, g.dtype)
        jit(_max_pool_backward_loop)(g, argmax, pool[0], pool[1], strides[0], strides[1], dx)
        dx = _unpad(dx, pads, x_shape)
        return dx[:, 0] if squeeze else dx
    dx = _gradient_buffer(padded_shape, oh, ow, pool, strides, g.dtype, xp)
    for k, (i, j) in enumerate(_offsets(pool)):
        view = _offset_view(dx, i, j, oh, ow, strides)
        picked = argmax == k
        if disjoint:       # each cell is in one window only: write, do not read-modify-write
            xp.multiply(g, picked, out=view)
        else:
            view += g * picked
    dx = _unpad(dx, pads, x_shape)
    return dx[:, 0] if squeeze else dx


def max_pool_gather(h, argmax, pool, strides, padding):
    """The transpose of :func:`max_pool_backward`: out[n, i, j, c] = h at the input cell
    ``argmax`` picked for output (i, j); ``h`` has the input's shape."""
    xp = array_module(h)
    squeeze = len(pool) == 1
    pool, strides, h, argmax = _as_2d(pool, strides, h, argmax)
    oh, ow, pads = _plan(h.shape, pool, strides, padding)
    hpad = _padded(h, pads, 0)
    out = xp.zeros(argmax.shape, dtype=h.dtype)
    for k, (i, j) in enumerate(_offsets(pool)):      # exactly one offset is picked per output
        out += _offset_view(hpad, i, j, oh, ow, strides) * (argmax == k)
    return out[:, 0] if squeeze else out


# --------------------------------------------------------------------------- average pooling
def _window_counts(shape, pool, strides, padding, dtype, xp):
    """How many real (not padded) input cells each window holds: a number for "valid"
    (every window is full), an (out_h, out_w, 1) array for "same"."""
    if padding != "same":
        return float(pool[0] * pool[1])
    per_axis = []
    for size, k, s in ((shape[1], pool[0], strides[0]), (shape[2], pool[1], strides[1])):
        out, before, _ = pool_geometry(size, k, s, padding)
        start = xp.arange(out) * s - before
        per_axis.append(xp.minimum(start + k, size) - xp.maximum(start, 0))
    return (per_axis[0][:, None] * per_axis[1][None, :]).astype(dtype)[:, :, None]


def average_pool_forward(x, pool, strides, padding):
    """y[n, i, j, c] = the mean of the real cells in the window of (i, j)."""
    xp = array_module(x)
    squeeze = len(pool) == 1
    pool, strides, x = _as_2d(pool, strides, x)
    oh, ow, pads = _plan(x.shape, pool, strides, padding)
    xpad = _padded(x, pads, 0)
    offsets = _offsets(pool)
    y = _offset_view(xpad, 0, 0, oh, ow, strides).copy()
    for i, j in offsets[1:]:
        y += _offset_view(xpad, i, j, oh, ow, strides)
    y /= _window_counts(x.shape, pool, strides, padding, x.dtype, xp)
    return y[:, 0] if squeeze else y


def average_pool_backward(g, x_shape, pool, strides, padding):
    """dL/dx for y = average_pool(x): every real cell of the window of (i, j) receives
    g[n, i, j, c] / (number of real cells in that window), summed over the windows it is in."""
    xp = array_module(g)
    squeeze = len(pool) == 1
    if squeeze:
        x_shape = (x_shape[0], 1) + tuple(x_shape[1:])
    pool, strides, g = _as_2d(pool, strides, g)
    oh, ow, pads = _plan(x_shape, pool, strides, padding)
    share = g / _window_counts(x_shape, pool, strides, padding, g.dtype, xp)
    padded_shape = tuple(n + b + a for n, (b, a) in zip(x_shape, pads))
    dx = _gradient_buffer(padded_shape, oh, ow, pool, strides, g.dtype, xp)
    disjoint = _disjoint(pool, strides)
    for i, j in _offsets(pool):
        view = _offset_view(dx, i, j, oh, ow, strides)
        if disjoint:
            view[...] = share
        else:
            view += share
    dx = _unpad(dx, pads, x_shape)
    return dx[:, 0] if squeeze else dx
