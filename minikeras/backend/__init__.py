"""The array layer: which array module (``xp``) and which kernels minikeras computes with.

The backend is chosen once, at import (see :mod:`minikeras.backend.settings`):

* ``numpy`` (the default): NumPy arrays on the CPU, kernels from ``minikeras.kernels.cpu``;
* ``cuda``: CuPy arrays on an NVIDIA GPU, kernels from ``minikeras.kernels.cuda`` (Numba
  ``cuda.jit``). With ``NUMBA_ENABLE_CUDASIM=1`` the same kernels run in Numba's CUDA
  simulator on NumPy arrays, so the GPU code can be read, stepped through and tested on a
  laptop.

Everything above this floor reaches arrays only through the names below: ``xp`` for array
math, ``kernels`` for the hand-written kernels, ``asarray``/``to_numpy`` to cross between the
host and the device.
"""
import numpy as _numpy

from . import settings
from .settings import (backend, epsilon, floatx, image_data_format, set_epsilon, set_floatx,  # noqa: F401
                       set_image_data_format)

_CHOICES = ("Choices: 'numpy' (NumPy on the CPU, the default) and 'cuda' (CuPy arrays and "
            "Numba CUDA kernels on an NVIDIA GPU: pip install 'minikeras[gpu]'; or the same "
            "kernels in Numba's CUDA simulator: set NUMBA_ENABLE_CUDASIM=1 before importing "
            "minikeras). Pick one with the environment variable MINIKERAS_BACKEND or the field "
            f"\"backend\" of {settings.config_path()}.")

_name = settings.backend()
if _name == "numpy":
    from . import numpy_backend as _impl
elif _name == "cuda":
    from . import cuda_backend as _impl
else:
    raise ValueError(f"minikeras: unknown backend {_name!r} "
                     f"(from {settings._settings['backend_source']}). {_CHOICES}")

#: The array module: ``numpy``, or ``cupy`` on a GPU.
xp = _impl.xp
#: The kernel table of this device: the same function names on every backend.
kernels = _impl.kernels
#: ``"numpy"``, ``"cuda"`` or ``"cudasim"`` (the CUDA backend inside Numba's simulator).
mode = _impl.mode
#: The array types that live on this backend's device.
array_types = _impl.array_types
asarray = _impl.asarray
to_numpy = _impl.to_numpy
default_rng = _impl.default_rng


def is_device_array(a):
    """True if ``a`` is an array of this backend's device."""
    return isinstance(a, array_types)


def is_gpu_array(a):
    """True for arrays that live in GPU memory (CuPy, Numba device arrays)."""
    return hasattr(a, "__cuda_array_interface__") or hasattr(a, "copy_to_host")


def is_foreign_array(a):
    """True if ``a`` is an array, but not of this backend's device: an op refuses it."""
    if isinstance(a, array_types):
        return False
    return isinstance(a, _numpy.ndarray) or is_gpu_array(a)


def device_mismatch(a, where):
    """The error for an array of another device handed to an op (never copied silently)."""
    kind = f"{type(a).__module__}.{type(a).__name__}"
    return TypeError(
        f"{where}: got an array of type {kind}, which is not on this backend's device "
        f"(backend {_name!r}, mode {mode!r}, expects {', '.join(t.__name__ for t in array_types)}). "
        "minikeras does not copy arrays between devices behind your back: convert it once "
        "with minikeras.ops.convert_to_tensor(...) (or .numpy() to bring a tensor to the host).")
