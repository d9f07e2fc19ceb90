"""Reshaping layers: Permute and RepeatVector.

(Flatten and Reshape live in ``core.py``.) Neither layer has weights; both move values
around, so their gradients route each output gradient back to where its value came from.
"""
import numpy as np

from .. import ops
from .layer import Layer


class Permute(Layer):
    """Reorders the axes of each sample: ``dims`` is a permutation of 1..rank-1 (the batch
    axis 0 stays first). ``Permute((2, 1))`` turns (batch, 10, 64) into (batch, 64, 10).
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        dims = tuple(int(d) for d in dims)
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError("Invalid permutation argument `dims` for Permute Layer. The set of "
                             "indices in `dims` must be consecutive and start from 1. "
                             f"Received dims={dims}")
        self.dims = dims
        self.input_spec_shape = (None,) * (len(dims) + 1)   # checks the rank only

    def call(self, inputs):
        return ops.transpose(inputs, (0,) + self.dims)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        config = super().get_config()
        config["dims"] = self.dims
        return config


class RepeatVector(Layer):
    """Repeats each sample ``n`` times: (batch, features) -> (batch, n, features). Often
    used to feed one vector to every step of a sequence model."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError(f"Expected an integer value for `n`, got {type(n)}.")
        self.n = int(n)
        self.input_spec_shape = (None, None)   # 2-D inputs only

    def call(self, inputs):
        batch, features = inputs.shape
        return ops.repeat(ops.reshape(inputs, (batch, 1, features)), self.n, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config


__all__ = ["Permute", "RepeatVector"]
