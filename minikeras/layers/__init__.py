"""``minikeras.layers``: the layers, under Keras's names."""
from .core import Activation, Dense, Dropout, Flatten, Identity, Lambda, Rescaling, Reshape  # noqa: F401
from .input_layer import Input, InputLayer, KerasTensor  # noqa: F401
from .layer import Layer  # noqa: F401

__all__ = ["Activation", "Dense", "Dropout", "Flatten", "Identity", "Input", "InputLayer",
           "KerasTensor", "Lambda", "Layer", "Rescaling", "Reshape"]

from .activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from .merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply,
                      Subtract, add, average, concatenate, dot, maximum, minimum, multiply,
                      subtract)
from .preprocessing import Normalization
from .reshaping import Permute, RepeatVector

__all__ += ["ELU", "Add", "Average", "Concatenate", "Dot", "LeakyReLU", "Maximum", "Minimum",
            "Multiply", "Normalization", "PReLU", "Permute", "ReLU", "RepeatVector", "Softmax",
            "Subtract", "add", "average", "concatenate", "dot", "maximum", "minimum", "multiply",
            "subtract"]

from . import (attention, convolution, embedding, image_reshaping, normalization, pooling,
               recurrent, regularization, wrappers)
from .attention import *  # noqa: F401,F403
from .convolution import *  # noqa: F401,F403
from .embedding import *  # noqa: F401,F403
from .image_reshaping import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403
from .regularization import *  # noqa: F401,F403
from .wrappers import *  # noqa: F401,F403

for _module in (attention, convolution, embedding, image_reshaping, normalization, pooling,
                recurrent, regularization, wrappers):
    __all__ += _module.__all__
