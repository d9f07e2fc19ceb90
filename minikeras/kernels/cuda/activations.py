"""Activation kernels for the GPU.

Read a kernel as the body of one CUDA thread: ``cuda.grid(1)`` is this thread's index in the
whole grid, ``cuda.gridsize(1)`` the number of threads launched; the ``for`` loop strides by
that number so a fixed grid covers any size (a "grid-stride loop").

The elementwise kernels (relu to gelu) all have that one layout: the launcher flattens the
arrays (``relu`` writes it out; the others share ``_map``), and thread t of a grid of T
threads computes elements t, t + T, t + 2T, ... of the output from the same elements of the
inputs. Blocks of 128 threads, at most 1024
blocks. No element needs another's value, so no thread waits for another: no shared
memory, no ``cuda.syncthreads()`` barrier, no atomics. Neighbouring threads read
neighbouring elements, so each warp's reads and writes are coalesced into a few wide memory
transactions.

Every number in these kernels has the arrays' own type, written ``x.dtype.type(0.5)``
(``t(0.5)`` with ``t = x.dtype.type``), computed once, before the loop. A bare ``0.5`` or ``1.0`` is a float64 in Numba, and one float64 constant turns
a float32 expression into float64 arithmetic (``math.exp`` becomes the double-precision
``exp``), which costs 2 to 64 times more on a GPU. Scalar arguments (a slope) are cast by
the launcher for the same reason. float32 and float64 arrays run the kernels (each dtype
compiled at its first launch); other dtypes (float16, integers) run the CPU twin's array
code, which works on CuPy arrays as well. The simulator computes ``math.exp`` and friends
in float64, so its numbers may differ from the GPU's in the last bits.
"""
import math

from numba import cuda

from ..arrays import array_module
from ..cpu import activations as cpu
from .launch import grid_1d, launch

_SQRT_2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_CUBIC = 0.044715

#: The types each kernel is compiled for in the PTX test (tests/cudasim/test_ptx.py).
PTX_SIGNATURES = {
    "_relu_kernel": ["void(float32[::1], float32[::1])"],
    "_relu_grad_kernel": ["void(float32[::1], float32[::1], float32[::1])"],
    "_relu6_kernel": ["void(float32[::1], float32[::1])"],
    "_hard_sigmoid_kernel": ["void(float32[::1], float32[::1])"],
    "_band_grad_kernel": ["void(float32[::1], float32[::1], float32, float32, float32, "
                          "float32[::1])"],
    "_leaky_relu_kernel": ["void(float32[::1], float32, float32[::1])"],
    "_leaky_relu_grad_kernel": ["void(float32[::1], float32[::1], float32, float32[::1])"],
    "_sigmoid_kernel": ["void(float32[::1], float32[::1])"],
    "_sigmoid_grad_kernel": ["void(float32[::1], float32[::1], float32[::1])"],
    "_tanh_kernel": ["void(float32[::1], float32[::1])"],
    "_tanh_grad_kernel": ["void(float32[::1], float32[::1], float32[::1])"],
    "_erf_kernel": ["void(float32[::1], float32[::1])"],
    "_gelu_tanh_kernel": ["void(float32[::1], float32[::1])"],
    "_gelu_tanh_grad_kernel": ["void(float32[::1], float32[::1], float32[::1])"],
    "_gelu_erf_kernel": ["void(float32[::1], float32[::1])"],
    "_gelu_erf_grad_kernel": ["void(float32[::1], float32[::1], float32[::1])"],
}


@cuda.jit
def _relu_kernel(x, out):
    zero = x.dtype.type(0)
    start = cuda.grid(1)
    stride = cuda.gridsize(1)
    for i in range(start, x.size, stride):
        v = x[i]
        out[i] = zero if v <= zero else v    # NaN is not <= 0: it stays NaN, as on the CPU


def relu(x):
    """max(x, 0), elementwise: one thread per element (grid-stride)."""
    xp = array_module(x)
    flat = xp.ascontiguousarray(x).reshape(-1)
    out = xp.empty_like(flat)
    if flat.size:
        blocks, threads = grid_1d(flat.size)
        launch(_relu_kernel, blocks, threads, flat, out)
    return out.reshape(x.shape)


@cuda.jit
def _relu_grad_kernel(g, x, out):
    zero = g.dtype.type(0)      # a bare 0 would make g[i] * 0 a float64 product
    start = cuda.grid(1)
    stride = cuda.gridsize(1)
    for i in range(start, g.size, stride):
        out[i] = g[i] if x[i] > zero else g[i] * zero   # g * 0 keeps NaN for an infinite g


def relu_grad(g, x):
    """dL/dx of y = max(x, 0): g · [x > 0], one thread per element (grid-stride)."""
    xp = array_module(g)
    flat_g = xp.ascontiguousarray(g).reshape(-1)
    flat_x = xp.ascontiguousarray(x).reshape(-1)
    out = xp.empty_like(flat_g)
    if flat_g.size:
        blocks, threads = grid_1d(flat_g.size)
        launch(_relu_grad_kernel, blocks, threads, flat_g, flat_x, out)
    return out.reshape(g.shape)


def _ours(*arrays):
    """True when the kernels below take these arrays: all float32, or all float64."""
    dtype = arrays[0].dtype
    return dtype.kind == "f" and dtype.itemsize in (4, 8) and all(a.dtype == dtype
                                                                   for a in arrays)


def _map(kernel, *arrays, scalars=()):
    """Launch an elementwise ``kernel(*arrays, *scalars, out)`` on the arrays (all of one
    shape) seen as flat contiguous vectors (copied first where one is not contiguous), one
    thread per element (grid-stride); the scalars are cast to the arrays' dtype. Returns
    ``out`` in the shape of the first array."""
    first = arrays[0]
    xp = array_module(first)
    flat = [xp.ascontiguousarray(a).reshape(-1) for a in arrays]
    out = xp.empty_like(flat[0])
    if out.size:
        blocks, threads = grid_1d(out.size)
        launch(kernel, blocks, threads, *flat, *[first.dtype.type(v) for v in scalars], out)
    return out.reshape(first.shape)


@cuda.jit
def _relu6_kernel(x, out):
    zero, six = x.dtype.type(0), x.dtype.type(6)
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        v = x[i]        # comparisons, not min/max: the GPU's fmaxf would turn NaN into 0
        out[i] = zero if v < zero else (six if v > six else v)


def relu6(x):
    """min(max(x, 0), 6), elementwise (NaN stays NaN, as in ``np.clip``)."""
    return _map(_relu6_kernel, x) if _ours(x) else cpu.relu6(x)


@cuda.jit
def _hard_sigmoid_kernel(x, out):
    t = x.dtype.type
    zero, half, one, six = t(0), t(0.5), t(1), t(6)
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        v = x[i] / six + half
        out[i] = zero if v < zero else (one if v > one else v)


def hard_sigmoid(x):
    """clip(x/6 + 1/2, 0, 1), elementwise."""
    return _map(_hard_sigmoid_kernel, x) if _ours(x) else cpu.hard_sigmoid(x)


@cuda.jit
def _band_grad_kernel(g, x, lo, hi, divisor, out):
    zero = g.dtype.type(0)
    for i in range(cuda.grid(1), g.size, cuda.gridsize(1)):
        inside = lo < x[i] and x[i] < hi
        out[i] = (g[i] if inside else g[i] * zero) / divisor  # g·0 keeps NaN for an infinite g


def relu6_grad(g, x):
    """dL/dx of relu6: g · [0 < x < 6], one thread per element."""
    return _map(_band_grad_kernel, g, x, scalars=(0, 6, 1)) if _ours(g, x) \
        else cpu.relu6_grad(g, x)


def hard_sigmoid_grad(g, x):
    """dL/dx of hard_sigmoid: g · [-3 < x < 3] / 6, one thread per element."""
    return _map(_band_grad_kernel, g, x, scalars=(-3, 3, 6)) if _ours(g, x) \
        else cpu.hard_sigmoid_grad(g, x)


@cuda.jit
def _leaky_relu_kernel(x, negative_slope, out):
    zero = x.dtype.type(0)
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        v = x[i]
        out[i] = v if v > zero else v * negative_slope


def leaky_relu(x, negative_slope):
    """x where x > 0, else negative_slope · x; one thread per element."""
    return _map(_leaky_relu_kernel, x, scalars=(negative_slope,)) if _ours(x) \
        else cpu.leaky_relu(x, negative_slope)


@cuda.jit
def _leaky_relu_grad_kernel(g, x, negative_slope, out):
    zero = x.dtype.type(0)
    for i in range(cuda.grid(1), g.size, cuda.gridsize(1)):
        out[i] = g[i] if x[i] > zero else g[i] * negative_slope


def leaky_relu_grad(g, x, negative_slope):
    """dL/dx of leaky_relu: g · (1 where x > 0, else negative_slope)."""
    return _map(_leaky_relu_grad_kernel, g, x, scalars=(negative_slope,)) if _ours(g, x) \
        else cpu.leaky_relu_grad(g, x, negative_slope)


@cuda.jit
def _sigmoid_kernel(x, out):
    zero, one = x.dtype.type(0), x.dtype.type(1)
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        v = x[i]
        e = math.exp(-abs(v))           # at most 1: never overflows
        out[i] = one / (one + e) if v >= zero else e / (one + e)


def sigmoid(x):
    """1 / (1 + e⁻ˣ) from e^(-|x|), one thread per element: the branch that never overflows
    costs a thread nothing, where on the CPU it would cost five more passes over the array."""
    return _map(_sigmoid_kernel, x) if _ours(x) else cpu.sigmoid(x)


@cuda.jit
def _sigmoid_grad_kernel(g, y, out):
    one = y.dtype.type(1)
    for i in range(cuda.grid(1), g.size, cuda.gridsize(1)):
        out[i] = g[i] * y[i] * (one - y[i])


def sigmoid_grad(g, y):
    """dL/dx of y = sigmoid(x), from the output: g · y · (1 - y)."""
    return _map(_sigmoid_grad_kernel, g, y) if _ours(g, y) else cpu.sigmoid_grad(g, y)


@cuda.jit
def _tanh_kernel(x, out):
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        out[i] = math.tanh(x[i])


def tanh(x):
    """tanh x, one thread per element."""
    return _map(_tanh_kernel, x) if _ours(x) else cpu.tanh(x)


@cuda.jit
def _tanh_grad_kernel(g, y, out):
    one = y.dtype.type(1)
    for i in range(cuda.grid(1), g.size, cuda.gridsize(1)):
        out[i] = g[i] * (one - y[i] * y[i])


def tanh_grad(g, y):
    """dL/dx of y = tanh(x), from the output: g · (1 - y²)."""
    return _map(_tanh_grad_kernel, g, y) if _ours(g, y) else cpu.tanh_grad(g, y)


@cuda.jit
def _erf_kernel(x, out):
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        out[i] = math.erf(x[i])


def erf(x):
    """erf(x) with CUDA's own ``erff``/``erf`` (the CPU interpolates a table: NumPy has no
    erf); one thread per element."""
    return _map(_erf_kernel, x) if _ours(x) else cpu.erf(x)


@cuda.jit
def _gelu_tanh_kernel(x, out):
    t = x.dtype.type
    half, one, c, k = t(0.5), t(1), t(_SQRT_2_OVER_PI), t(_GELU_CUBIC)
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        v = x[i]
        out[i] = half * v * (one + math.tanh(c * (v + k * (v * v * v))))


@cuda.jit
def _gelu_erf_kernel(x, out):
    t = x.dtype.type
    half, one, sqrt_2 = t(0.5), t(1), t(_SQRT_2)
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        v = x[i]
        out[i] = half * v * (one + math.erf(v / sqrt_2))


def gelu(x, approximate):
    """x·Φ(x) (the erf form), or its tanh form when ``approximate``; one thread per
    element."""
    if not _ours(x):
        return cpu.gelu(x, approximate)
    return _map(_gelu_tanh_kernel if approximate else _gelu_erf_kernel, x)


@cuda.jit
def _gelu_tanh_grad_kernel(g, x, out):
    t = x.dtype.type
    half, one, c, k, k3 = t(0.5), t(1), t(_SQRT_2_OVER_PI), t(_GELU_CUBIC), t(3 * _GELU_CUBIC)
    for i in range(cuda.grid(1), g.size, cuda.gridsize(1)):
        v = x[i]
        th = math.tanh(c * (v + k * (v * v * v)))
        du = c * (one + k3 * (v * v))
        out[i] = g[i] * (half * (one + th) + half * v * (one - th * th) * du)


@cuda.jit
def _gelu_erf_grad_kernel(g, x, out):
    t = x.dtype.type
    half, one, sqrt_2, inv_sqrt_2pi = t(0.5), t(1), t(_SQRT_2), t(_INV_SQRT_2PI)
    for i in range(cuda.grid(1), g.size, cuda.gridsize(1)):
        v = x[i]
        cdf = half * (one + math.erf(v / sqrt_2))
        pdf = inv_sqrt_2pi * math.exp(-half * (v * v))
        out[i] = g[i] * (cdf + v * pdf)


def gelu_grad(g, x, approximate):
    """dL/dx of gelu: g · (Φ(x) + x·φ(x)), or the tanh form's derivative when
    ``approximate`` (see ``kernels/cpu/activations.py``); one thread per element."""
    if not _ours(g, x):
        return cpu.gelu_grad(g, x, approximate)
    return _map(_gelu_tanh_grad_kernel if approximate else _gelu_erf_grad_kernel, g, x)
