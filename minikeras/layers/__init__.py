"""``minikeras.layers``: the layers, under Keras's names."""
from .core import Activation, Dense, Dropout, Flatten, Identity, Lambda, Rescaling, Reshape  # noqa: F401
from .input_layer import Input, InputLayer, KerasTensor  # noqa: F401
from .layer import Layer  # noqa: F401

__all__ = ["Activation", "Dense", "Dropout", "Flatten", "Identity", "Input", "InputLayer",
           "KerasTensor", "Lambda", "Layer", "Rescaling", "Reshape"]
