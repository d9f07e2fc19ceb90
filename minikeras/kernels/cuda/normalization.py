"""Standardization kernels for the GPU: the statistics of batch, layer and group
normalization, x̂ = (x - μ)·s with s = 1/√(σ² + ε), and the backward
dL/dx = s·(g - mean(g) - x̂·mean(g·x̂)). The CPU twins, the same formulas in NumPy, are in
``kernels/cpu/normalization.py``.

**The layout.** A normalization computes one μ and one σ² for each *channel*: each index of
the axes it keeps (batch norm keeps the channel axis; layer norm keeps the batch axes). The
launcher views x as a C-contiguous array of shape (outer, C, inner): C is the number of
channels, and channel c owns the N = outer·inner elements x[o, c, i]. When the kept axes are
next to each other (batch norm on any axis, layer norm over the last axes) that is a reshape
of x, no copy: batch norm on (batch, h, w, channels) is (batch·h·w, channels, 1), layer norm
on (batch, features) is (1, batch, features). Kept axes that are not next to each other
(group normalization with the channels last) are first moved to the front, which costs one
copy: then the view is (1, C, N).

**Who does what.** One block per channel: block c (``cuda.blockIdx.x``) computes everything
of channel c, so no two blocks ever touch the same statistic and no atomics are needed.
Inside the block, thread t takes the elements j = t, t + T, t + 2T, ... of the channel
(T = ``cuda.blockDim.x``, j runs over (o, i) with i fastest). Each thread first adds up its
elements in a register; the T partial sums then go to shared memory and are added in a tree:
T/2 threads add pairs, then T/4, ... so the total takes log2(T) steps instead of T. The
block size is a power of two, at most ``THREADS``, and no more than the channel needs (a
channel of 6 elements gets 8 threads). The tree is written out in each kernel rather than
in a device function: a kernel that calls a device function cannot be compiled to PTX on a
machine without a GPU, which is how the tests check the kernels.

The forward kernel makes three passes over its channel: the sum of x gives μ, the sum of
(x - μ)² gives σ² (two passes, not the one-pass Σx² - N·μ², which loses every digit to
cancellation when μ is large next to σ), and a third pass writes x̂. The backward kernel
makes two: the sums of g and g·x̂, then dL/dx. Sums are accumulated in float64, also for
float32 inputs, so the statistics are at least as exact as NumPy's float32 pairwise sums
(one float64 add per element read: cheap on data-centre GPUs; not yet measured on consumer
GPUs, whose float64 is slow).

**Trade-off.** Neighbouring threads read neighbouring addresses when ``inner`` is large
(layer norm, batch norm with the channels first). With the channels last (inner = 1)
they read addresses C elements apart, so each memory transaction brings one useful value:
correct, but slower than a kernel that gives each thread of a warp its own channel.

The launchers take float32 and float64 arrays (each compiles its own kernel on first use).
Other dtypes (float16) and empty arrays run the CPU twin's array code (as CuPy calls on a
GPU), which handles them.
"""
import math

from numba import cuda, float64

from ..arrays import array_module
from ..cpu import normalization as _array_code
from .launch import launch

__all__ = ["standardize_forward", "standardize_backward"]

#: The most threads a block uses, and so the size of the shared array of partial sums.
THREADS = 128
#: Shared memory the kernels declare: one float64 partial sum per thread (the backward
#: kernel adds up two sums at once, so two per thread).
FORWARD_SHARED_BYTES = THREADS * 8
BACKWARD_SHARED_BYTES = 2 * THREADS * 8

#: The types each kernel is compiled for in the PTX test (tests/cudasim/test_ptx.py).
PTX_SIGNATURES = {
    "_standardize_forward_kernel": ["void(float32[:, :, ::1], float64, float32[:, :, ::1], "
                                    "float32[::1], float32[::1], float32[::1])"],
    "_standardize_backward_kernel": ["void(float32[:, :, ::1], float32[:, :, ::1], "
                                     "float32[::1], float32[:, :, ::1])"],
}


@cuda.jit
def _standardize_forward_kernel(x, epsilon, xhat, mean, variance, inv_std):
    partial = cuda.shared.array(THREADS, float64)   # one partial sum per thread
    c = cuda.blockIdx.x                              # this block's channel
    t, threads = cuda.threadIdx.x, cuda.blockDim.x
    inner = x.shape[2]
    n = x.shape[0] * inner                           # elements in the channel

    mu = 0.0
    var = 0.0
    for stage in range(2):          # stage 0: the sum of x; stage 1: the sum of (x - μ)²
        total = 0.0
        for j in range(t, n, threads):
            v = x[j // inner, c, j % inner]
            total += v if stage == 0 else (v - mu) * (v - mu)
        partial[t] = total
        # Barrier 1: every partial sum is in shared memory before any thread reads another's.
        cuda.syncthreads()
        half = threads // 2
        while half > 0:             # the tree; the same number of rounds in every thread
            if t < half:
                partial[t] += partial[t + half]
            # Barrier 2: this round's sums are written before the next round reads them.
            cuda.syncthreads()
            half //= 2
        if stage == 0:
            mu = partial[0] / n
        else:
            var = partial[0] / n
        # Barrier 3: every thread has read partial[0] before stage 1 overwrites it (after
        # stage 1 it is not needed, but a barrier inside the loop must be reached by all).
        cuda.syncthreads()
    s = 1.0 / math.sqrt(var + epsilon)

    for j in range(t, n, threads):
        o, i = j // inner, j % inner
        xhat[o, c, i] = (x[o, c, i] - mu) * s
    if t == 0:
        mean[c] = mu
        variance[c] = var
        inv_std[c] = s


@cuda.jit
def _standardize_backward_kernel(g, xhat, inv_std, dx):
    partial = cuda.shared.array((2, THREADS), float64)   # rows: Σ g and Σ g·x̂
    c = cuda.blockIdx.x
    t, threads = cuda.threadIdx.x, cuda.blockDim.x
    inner = g.shape[2]
    n = g.shape[0] * inner

    sum_g = 0.0
    sum_gx = 0.0
    for j in range(t, n, threads):
        o, i = j // inner, j % inner
        sum_g += g[o, c, i]
        sum_gx += g[o, c, i] * xhat[o, c, i]
    partial[0, t] = sum_g
    partial[1, t] = sum_gx
    # Barrier 1: every partial sum is in shared memory before any thread reads another's.
    cuda.syncthreads()
    half = threads // 2
    while half > 0:                 # both sums in one tree
        if t < half:
            partial[0, t] += partial[0, t + half]
            partial[1, t] += partial[1, t + half]
        # Barrier 2: this round's sums are written before the next round reads them.
        cuda.syncthreads()
        half //= 2
    # (No barrier after this: nothing writes ``partial`` again.)
    mean_g = partial[0, 0] / n
    mean_gx = partial[1, 0] / n

    s = inv_std[c]
    for j in range(t, n, threads):
        o, i = j // inner, j % inner
        dx[o, c, i] = s * (g[o, c, i] - mean_g - xhat[o, c, i] * mean_gx)


# --------------------------------------------------------------------------- launchers
def _to_channels(x, axes):
    """``(x3, back)``: x as a contiguous (outer, C, inner) array whose middle axis runs over
    the kept axes, and the function that gives an array of x3's shape x's shape again."""
    xp = array_module(x)
    kept = [a for a in range(x.ndim) if a not in axes]
    if not kept or kept == list(range(kept[0], kept[-1] + 1)):     # no copy
        first, end = (kept[0], kept[-1] + 1) if kept else (0, 0)
        shape3 = (math.prod(x.shape[:first]), math.prod(x.shape[first:end]),
                  math.prod(x.shape[end:]))
        return xp.ascontiguousarray(x).reshape(shape3), lambda a: a.reshape(x.shape)
    front = tuple(range(len(kept)))
    moved = xp.moveaxis(x, kept, front)
    x3 = xp.ascontiguousarray(moved).reshape(1, math.prod(moved.shape[:len(kept)]), -1)
    return x3, lambda a: xp.moveaxis(a.reshape(moved.shape), front, kept)


def _axes(axes, ndim):
    """``axes`` (an int or a sequence, negative allowed) as a tuple of axes >= 0."""
    axes = (axes,) if isinstance(axes, int) else axes
    return tuple(a % ndim for a in axes)


def _threads_for(n):
    """The smallest power of two that covers n elements, at most THREADS. (A block smaller
    than a warp of 32 still occupies a whole warp; it just has fewer rounds of the sum.)"""
    threads = 1
    while threads < min(n, THREADS):
        threads *= 2
    return threads


def _our_dtype(*arrays):
    return all(a.dtype == arrays[0].dtype and a.dtype.kind == "f" and a.dtype.itemsize >= 4
               for a in arrays)


def standardize_forward(x, axes, epsilon):
    """``(x̂, mean, variance, inv_std)`` over ``axes`` (any axes), as the CPU twin: one block
    per channel of the (outer, C, inner) view."""
    if x.size == 0 or not _our_dtype(x):
        return _array_code.standardize_forward(x, axes, epsilon)
    xp = array_module(x)
    axes = _axes(axes, x.ndim)
    x3, back = _to_channels(x, axes)
    channels = x3.shape[1]
    xhat3 = xp.empty_like(x3)
    mean, variance, inv_std = (xp.empty(channels, x.dtype) for _ in range(3))
    launch(_standardize_forward_kernel, channels, _threads_for(x3.shape[0] * x3.shape[2]),
           x3, float(epsilon), xhat3, mean, variance, inv_std,
           shared_bytes=FORWARD_SHARED_BYTES)
    stats_shape = tuple(1 if a in axes else n for a, n in enumerate(x.shape))
    return (back(xhat3), mean.reshape(stats_shape), variance.reshape(stats_shape),
            inv_std.reshape(stats_shape))


def standardize_backward(g, xhat, inv_std, axes):
    """dL/dx = s·(g - mean(g) - x̂·mean(g·x̂)) over ``axes``, as the CPU twin: one block per
    channel of the (outer, C, inner) view."""
    if g.size == 0 or not _our_dtype(g, xhat, inv_std):
        return _array_code.standardize_backward(g, xhat, inv_std, axes)
    xp = array_module(g)
    axes = _axes(axes, g.ndim)
    g3, back = _to_channels(g, axes)
    xhat3, _ = _to_channels(xhat, axes)
    s = xp.ascontiguousarray(inv_std).reshape(-1)
    dx3 = xp.empty_like(g3)
    launch(_standardize_backward_kernel, g3.shape[1], _threads_for(g3.shape[0] * g3.shape[2]),
           g3, xhat3, s, dx3, shared_bytes=BACKWARD_SHARED_BYTES)
    return back(dx3)
