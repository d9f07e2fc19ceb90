"""These tests run in their own process with NUMBA_ENABLE_CUDASIM=1 and
MINIKERAS_BACKEND=cuda (see tests/test_backend.py::test_cuda_backend_under_the_simulator):
the simulator must be switched on before Numba is first imported."""
import os

import pytest


def pytest_collection_modifyitems(config, items):
    if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1" or os.environ.get("MINIKERAS_BACKEND") != "cuda":
        skip = pytest.mark.skip(reason="run by test_backend.py in a process with "
                                       "NUMBA_ENABLE_CUDASIM=1 MINIKERAS_BACKEND=cuda")
        for item in items:
            item.add_marker(skip)
