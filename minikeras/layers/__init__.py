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
