"""The matrix product on the CPU: NumPy's ``matmul`` (one BLAS call, sgemm for float32).

Its twin in the CUDA table (``kernels/cuda/matmul.py``) runs either cuBLAS or our tiled
kernel, by the setting ``minikeras.config.set_matmul``; on the CPU that setting changes
nothing.
"""
import numpy as np

__all__ = ["matmul"]


def matmul(a, b):
    """``a @ b`` with NumPy's rules (1-D operands, broadcast batch axes): ``np.matmul``."""
    return np.matmul(a, b)
