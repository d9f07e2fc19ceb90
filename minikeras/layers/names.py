"""The automatic names of layers: ``dense``, ``dense_1``, ``dense_2``..., as Keras gives them.

Layers, the weights file (``layers/dense/vars/0``) and the ``keras.ops`` layers of a saved
config all spell a class name the same way, with :func:`snake_case`.
"""
import re

_name_counts = {}


def snake_case(name):
    """``Conv2DTranspose`` -> ``conv2d_transpose``, ``LSTMCell`` -> ``lstm_cell``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(base):
    """``dense``, then ``dense_1``, ``dense_2``..., as Keras names layers."""
    n = _name_counts.get(base, 0)
    _name_counts[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def reset_names():
    """Start the automatic names again from ``dense``, ``dense_1``... (``clear_session``)."""
    _name_counts.clear()
