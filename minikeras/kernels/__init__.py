"""Kernels: the compute on raw arrays, one table per device.

``cpu`` holds vectorised NumPy functions; ``cuda`` holds Numba ``cuda.jit`` kernels, each
beside a small launcher with the same signature as its CPU twin. The backend picks one table
(``minikeras.backend.kernels``); nothing here knows what a Tensor is.
"""
