"""Embedding and Masking: the two layers that start a mask.

A *mask* marks which time steps of a padded batch of sequences are real. ``Embedding(...,
mask_zero=True)`` treats the id 0 as padding; ``Masking(mask_value)`` treats a step whose
features all equal ``mask_value`` as padding. Either one attaches a boolean tensor of shape
(batch, timesteps) to its output as ``output._keras_mask``; ``Layer.__call__`` hands it to
the next layer's ``call(..., mask=...)`` (an LSTM then skips the padded steps) and on through
every layer that supports masking, as in Keras.
"""
import numpy as np

from .. import backend, ops
from ..tensor import Tensor
from .core import _serialize
from .layer import Layer

__all__ = ["Embedding", "Masking"]


class Embedding(Layer):
    """``Embedding(input_dim, output_dim, embeddings_initializer="uniform",
    embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False, weights=None)``.

    Turns integer ids into dense vectors: row ``i`` of the weight ``embeddings`` (shape
    (input_dim, output_dim)) is the vector of id ``i``, so ``y = embeddings[x]`` and an input
    of shape (batch, timesteps) gives (batch, timesteps, output_dim). The gradient of a row is
    the sum of the output gradients at every place its id appears (the backward of
    ``ops.take`` is a scatter-add). With ``mask_zero=True`` the id 0 is padding: the output
    carries the mask ``x != 0`` (and ``input_dim`` must count the 0, i.e. vocabulary + 1).
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 weights=None, **kwargs):
        kwargs.pop("input_length", None)  # Keras 2's argument, ignored by Keras 3
        super().__init__(**kwargs)
        for name, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"Received an invalid value for `{name}`, expected a positive "
                                 f"integer. Received: {name}={value}")
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = embeddings_initializer
        self.embeddings_regularizer = embeddings_regularizer
        self.embeddings_constraint = embeddings_constraint
        self.mask_zero = bool(mask_zero)
        self._initial_weights = weights
        if weights is not None:
            self.build()
            self.set_weights(weights if isinstance(weights, (list, tuple)) else [weights])

    @property
    def supports_masking(self):
        return self.mask_zero

    def build(self, input_shape=None):
        if self.built:
            return
        self.embeddings = self.add_weight((self.input_dim, self.output_dim),
                                          self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint,
                                          name="embeddings")
        self.built = True

    def _autocast(self, x):
        # Ids are not cast to the layer's float dtype: they are turned into int32 in call.
        return x if x is None or isinstance(x, Tensor) else Tensor(x)

    def call(self, inputs):
        ids = inputs
        if ids.dtype.kind not in "iu":
            ids = ops.cast(ids, "int32")
        data = ids.data
        if data.size:
            low, high = int(data.min()), int(data.max())
            if low < 0 or high >= self.input_dim:
                bad = low if low < 0 else high
                raise ValueError(
                    f"Layer \"{self.name}\" (Embedding) got the id {bad}, outside "
                    f"[0, input_dim) = [0, {self.input_dim}) (input shape {tuple(ids.shape)}). "
                    "input_dim must be the vocabulary size (plus one for the padding id 0 "
                    "when mask_zero=True).")
        return ops.take(self.embeddings, ids, axis=0)

    def compute_mask(self, inputs, previous_mask=None):
        if not self.mask_zero:
            return None
        inputs = inputs if isinstance(inputs, Tensor) else Tensor(inputs)
        return ops.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(input_dim=self.input_dim, output_dim=self.output_dim,
                      embeddings_initializer=_serialize(self.embeddings_initializer),
                      embeddings_regularizer=_serialize(self.embeddings_regularizer),
                      embeddings_constraint=_serialize(self.embeddings_constraint),
                      activity_regularizer=_serialize(self.activity_regularizer),
                      mask_zero=self.mask_zero)
        return config


class Masking(Layer):
    """``Masking(mask_value=0.0)``: a time step whose features all equal ``mask_value`` is
    padding.

    The output is the input with those steps zeroed, and it carries the mask
    ``any(x != mask_value, axis=-1)`` of shape (batch, timesteps) for the layers after it.
    """

    _supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value

    def _keep(self, inputs):
        return ops.any(ops.not_equal(inputs, self.mask_value), axis=-1, keepdims=True)

    def call(self, inputs):
        keep = self._keep(inputs)
        outputs = inputs * ops.cast(keep, inputs.dtype)
        outputs._keras_mask = ops.squeeze(keep, axis=-1)
        return outputs

    def compute_mask(self, inputs, previous_mask=None):
        inputs = inputs if isinstance(inputs, Tensor) else Tensor(backend.asarray(inputs))
        return ops.squeeze(self._keep(inputs), axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config
