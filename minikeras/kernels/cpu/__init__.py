"""CPU kernels: vectorised NumPy. Each function has a CUDA twin in ``kernels/cuda`` with the
same name and signature, so an op calls ``backend.kernels.<name>`` and runs on either device.
"""
from .activations import relu, softmax

__all__ = ["relu", "softmax"]
