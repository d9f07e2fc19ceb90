"""CPU kernels: vectorised NumPy, and Numba loops where one pass beats NumPy's several
(``updates``, ``crossentropy``, the ReLU mask, max pooling). Each function has a CUDA twin in
``kernels/cuda`` with the same name and signature, so an op calls
``backend.kernels.<name>`` and runs on either device.
"""
from . import conv, crossentropy, pooling, recurrent, updates
from .activations import log_softmax, relu, relu_grad, softmax
from .conv import *  # noqa: F401,F403
from .crossentropy import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403
from .updates import *  # noqa: F401,F403

__all__ = (["relu", "relu_grad", "softmax", "log_softmax"] + conv.__all__ + crossentropy.__all__
           + pooling.__all__ + recurrent.__all__ + updates.__all__)
