"""Keep freed array memory in the process for the next training step.

A training step allocates the same large arrays every time (activations, im2col matrices,
gradients: tens of MiB for a small convnet) and frees them when the tape lets go. By
default glibc's ``malloc`` hands blocks that large straight back to the operating system
(``munmap``, or trimming the heap), so the next step gets fresh pages, and the kernel must
zero and map every one of them on first touch: for the MNIST convnet at batch 128 that was
about 300,000 page faults per 30 steps and a quarter of the step's time.

:func:`keep_freed_memory` raises two ``malloc`` thresholds (``mallopt``) so that blocks up
to ``mmap_threshold`` come from the heap and freed memory up to ``trim_threshold`` stays
there for reuse. PyTorch's CPU and GPU caching allocators make the same trade: a process
that trained once keeps the memory it needed (its resident size does not shrink back).

It runs once at import on Linux with glibc, unless ``MINIKERAS_KEEP_FREED_MEMORY=0``; on
other systems it does nothing. CuPy has its own memory pool on the GPU.
"""
import ctypes
import ctypes.util
import os
import sys

# mallopt's parameter numbers (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD = 32 * 2**20   # glibc's largest allowed value on 64-bit systems
TRIM_THRESHOLD = 512 * 2**20

#: True once the thresholds were raised in this process.
active = False


def keep_freed_memory(mmap_threshold=MMAP_THRESHOLD, trim_threshold=TRIM_THRESHOLD):
    """Raise glibc's malloc thresholds; returns True if it did (Linux with glibc only)."""
    global active
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt thresholds)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    ok = mallopt(_M_MMAP_THRESHOLD, int(mmap_threshold)) == 1
    ok = (mallopt(_M_TRIM_THRESHOLD, int(trim_threshold)) == 1) and ok
    active = active or ok
    return ok


if os.environ.get("MINIKERAS_KEEP_FREED_MEMORY", "1") != "0":
    keep_freed_memory()
