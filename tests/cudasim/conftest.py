"""These tests run the CUDA kernels on the cuda backend (MINIKERAS_BACKEND=cuda), in a
process of their own:

* under Numba's simulator, NUMBA_ENABLE_CUDASIM=1, on any machine: tests/test_backend.py
  (test_cuda_backend_under_the_simulator) starts that process, since the simulator must be
  switched on before Numba is first imported;
* on a real NVIDIA GPU, without the simulator: ``benchmarks/gpu_check.sh`` runs them so.

Anywhere else (the main suite's process) they are skipped."""
import os

import pytest


def _real_gpu():
    """True when Numba finds a CUDA GPU (only asked on the cuda backend without the
    simulator, where importing numba.cuda is what the tests do anyway)."""
    try:
        from numba import cuda
        return bool(cuda.is_available())
    except Exception:  # noqa: BLE001  (no numba-cuda, no driver: no GPU)
        return False


def pytest_collection_modifyitems(config, items):
    if os.environ.get("MINIKERAS_BACKEND") == "cuda" and (
            os.environ.get("NUMBA_ENABLE_CUDASIM") == "1" or _real_gpu()):
        return
    skip = pytest.mark.skip(reason="run by test_backend.py in a process with "
                                   "NUMBA_ENABLE_CUDASIM=1 MINIKERAS_BACKEND=cuda, or on a "
                                   "GPU by benchmarks/gpu_check.sh")
    for item in items:
        item.add_marker(skip)
