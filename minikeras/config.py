"""``minikeras.config``: the settings Keras keeps in ``keras.config`` (see
:mod:`minikeras.backend.settings` for where they are read from)."""
from .backend.settings import (backend, config_path, epsilon, floatx, image_data_format,  # noqa: F401
                               matmul, set_epsilon, set_floatx, set_image_data_format, set_matmul)
from .kernels.cpu.threads import num_threads, set_num_threads  # noqa: F401

__all__ = ["backend", "config_path", "epsilon", "floatx", "image_data_format", "matmul",
           "num_threads", "set_epsilon", "set_floatx", "set_image_data_format", "set_matmul",
           "set_num_threads"]
