"""The GPU backend: CuPy arrays and Numba CUDA kernels.

Two modes, decided here once:

* ``"cuda"``: a real NVIDIA GPU. Arrays are ``cupy.ndarray``; kernels receive them without a
  copy through ``__cuda_array_interface__``.
* ``"cudasim"``: ``NUMBA_ENABLE_CUDASIM=1`` was set before Numba was imported. Arrays are
  NumPy arrays and every kernel runs in Numba's CUDA simulator, one Python thread per CUDA
  thread, so it can be stepped through with pdb. The dispatch code is the same in both modes.
"""
import os

import numpy


def _unavailable(why):
    return RuntimeError(
        f"minikeras: the 'cuda' backend cannot start: {why}. It needs an NVIDIA GPU with CuPy "
        "and numba-cuda (pip install 'minikeras[gpu]'), or Numba's CUDA simulator "
        "(NUMBA_ENABLE_CUDASIM=1 set before importing minikeras, with numba-cuda installed). "
        "Choices: 'numpy' (the CPU, the default) or 'cuda'; set MINIKERAS_BACKEND=numpy to "
        "run on the CPU.")


def _cupy_usable():
    try:
        import cupy
    except Exception:
        return None
    try:
        if not cupy.is_available():
            return None
        cupy.zeros(1)
    except Exception:
        return None
    return cupy


if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
    try:
        from numba import cuda
    except ImportError:
        raise _unavailable("NUMBA_ENABLE_CUDASIM=1 is set but numba is not installed") from None
    if "simulator" not in type(cuda.to_device(numpy.zeros(1))).__module__:
        raise _unavailable("NUMBA_ENABLE_CUDASIM=1 was set after numba had been imported")
    xp = numpy
    mode = "cudasim"
    array_types = (numpy.ndarray,)
else:
    _cupy = _cupy_usable()
    if _cupy is None:
        raise _unavailable("CuPy is not installed or finds no GPU")
    try:
        from numba import cuda
        _has_gpu = cuda.is_available()
    except Exception:
        _has_gpu = False
    if not _has_gpu:
        raise _unavailable("numba-cuda is not installed or finds no GPU")
    xp = _cupy
    mode = "cuda"
    array_types = (_cupy.ndarray,)

from ..kernels import cuda as kernels  # noqa: E402,F401  (the table; after the mode)
from ..kernels.cuda.matmul import SETTING as _matmul_setting  # noqa: E402
from .settings import matmul as _matmul_choice  # noqa: E402

# The table's matmul runs cuBLAS or our tiled kernel by minikeras.config.set_matmul.
_matmul_setting["matmul"] = _matmul_choice


def asarray(data, dtype=None):
    """Host data as an array on the device (a copy to the GPU in mode ``cuda``)."""
    return xp.asarray(data, dtype=dtype)


def to_numpy(a):
    """A device array copied to the host as a NumPy array."""
    if xp is numpy:
        return numpy.asarray(a)
    return xp.asnumpy(a)


def default_rng(seed=None):
    """A random Generator that draws on the device."""
    return xp.random.default_rng(seed)
