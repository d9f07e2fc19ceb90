"""CPU kernels: vectorised NumPy, and Numba loops where one pass beats NumPy's several
(``updates``, ``dense``, ``crossentropy``, max pooling). Each function has a CUDA twin in
``kernels/cuda`` with the same name and signature, so an op calls
``backend.kernels.<name>`` and runs on either device.
"""
from . import conv, crossentropy, dense, pooling, recurrent, updates
from .activations import log_softmax, relu, softmax
from .conv import *  # noqa: F401,F403
from .crossentropy import *  # noqa: F401,F403
from .dense import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403
from .updates import *  # noqa: F401,F403

__all__ = (["relu", "softmax", "log_softmax"] + conv.__all__ + crossentropy.__all__ + dense.__all__
           + pooling.__all__ + recurrent.__all__ + updates.__all__)
