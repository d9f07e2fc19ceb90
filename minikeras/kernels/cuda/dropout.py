"""The dropout keep-mask on the GPU, from the counter-based generator of
``kernels/cpu/dropout.py`` (read its docstring first: the hash, the keys, why no state).

One thread per element (grid-stride): thread i hashes its own flat index,
``mix32(mix32(i ^ key_0) ^ key_1)``, and writes True where the number is below
``keep_prob · 2³²``. No thread reads another's result, so there is no shared memory, no
barrier and no atomic; and since a number depends only on (seed, step, i), the mask is the
CPU's bit for bit, whatever the grid. The two keys and the threshold are computed once on
the host (``stream_keys``, ``keep_threshold``: the CPU module's own functions).

The kernel holds the 32-bit words in ``uint64`` (Numba computes unsigned arithmetic in 64
bits) and cuts each product back to 32 bits; a word times a 32-bit constant stays below 2⁶⁴,
so nothing overflows, in the compiled kernel or in the simulator. ``mix32`` is written out
inside the kernel: a device function called from a kernel cannot be compiled to PTX on a
machine without a GPU, which is how the tests check the kernels.
"""
import math

import numpy as np
from numba import config, cuda, uint64

from ..cpu import dropout as _cpu
from .launch import grid_1d, launch

__all__ = ["dropout_mask"]

# The constants of the CPU's mix32, as uint64 words (Numba compiles them in as constants).
_MASK32 = np.uint64(_cpu.MASK32)
_MUL_1 = np.uint64(_cpu.MUL_1)
_MUL_2 = np.uint64(_cpu.MUL_2)

# The array module of this device, for the mask (the launcher has no input array to take it
# from): NumPy in the simulator, CuPy on a GPU. The PTX test imports this module on a
# machine that may have no CuPy; it launches nothing.
if config.ENABLE_CUDASIM:
    _device_arrays = np
else:
    try:
        import cupy as _device_arrays
    except ImportError:
        _device_arrays = None

#: The types each kernel is compiled for in the PTX test (tests/cudasim/test_ptx.py).
PTX_SIGNATURES = {
    "_dropout_mask_kernel": ["void(boolean[::1], uint64, uint64, uint64)"],
}


@cuda.jit
def _dropout_mask_kernel(kept, key_0, key_1, threshold):
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for i in range(start, kept.size, stride):
        x = uint64(i)
        for rnd in range(2):                 # two rounds: x = mix32(x ^ key)
            x = x ^ (key_0 if rnd == 0 else key_1)
            x = x ^ (x >> 16)
            x = (x * _MUL_1) & _MASK32
            x = x ^ (x >> 15)
            x = (x * _MUL_2) & _MASK32
            x = x ^ (x >> 16)
        kept[i] = x < threshold


def dropout_mask(shape, keep_prob, seed, step):
    """The keep-mask of ``kernels.cpu.dropout_mask``, the same bits, made on the device:
    one thread per element (grid-stride)."""
    n = math.prod(shape)
    _cpu.check_size(n)
    kept = _device_arrays.empty(n, dtype=bool)
    if n:
        key_0, key_1 = _cpu.stream_keys(seed, step)
        blocks, threads = grid_1d(n)
        launch(_dropout_mask_kernel, blocks, threads, kept, np.uint64(key_0), np.uint64(key_1),
               np.uint64(_cpu.keep_threshold(keep_prob)))
    return kept.reshape(shape)
