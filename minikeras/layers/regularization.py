"""Noise and dropout layers: SpatialDropout1D/2D, GaussianNoise, GaussianDropout.

Like Dropout (layers/core.py), they act only in training (``training=True``, which ``fit``
passes) and are the identity at inference. Each keeps a ``SeedGenerator``, so every call
draws new noise and a given ``seed`` makes the whole sequence reproducible.

* SpatialDropout1D/2D drop whole channels: one keep/drop decision per sample and channel,
  shared by every time step or pixel (the dropout mask has shape (batch, 1, channels) or
  (batch, 1, 1, channels)), because neighbouring values of a feature map are so correlated
  that dropping single ones hardly regularizes;
* GaussianNoise adds N(0, stddev²) noise;
* GaussianDropout multiplies by N(1, rate/(1 - rate)) noise: the same mean and variance as
  the factor m/(1 - rate) of dropout, with m ~ Bernoulli(1 - rate).
"""
import math

from .. import random as mk_random
from ..ops.arguments import standardize_data_format
from .core import Dropout
from .layer import Layer

__all__ = ["SpatialDropout1D", "SpatialDropout2D", "GaussianNoise", "GaussianDropout"]


def _check_fraction(value, what, allow_one=True):
    """``value`` in [0, 1] (or [0, 1)), in Keras's words."""
    ok = 0 <= value <= 1 if allow_one else 0 <= value < 1
    if not ok:
        extra = "" if allow_one else (" (1 excluded: the noise would have an infinite "
                                      "standard deviation, sqrt(rate / (1 - rate)))")
        raise ValueError(f"Invalid value received for argument `{what}`. Expected a float "
                         f"value between 0 and 1{extra}. Received: {what}={value}")
    return float(value)


class _SpatialDropout(Dropout):
    """Dropout with one mask value per (sample, channel)."""

    rank = None  # the input rank the layer takes

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.input_spec_shape = (None,) * self.rank

    def call(self, inputs, training=None):
        if training and self.rate > 0:
            return mk_random.dropout(inputs, self.rate, noise_shape=self._noise_shape(inputs),
                                     seed=self.seed_generator)
        return inputs

    def get_config(self):
        # Keras's keys for these layers: rate, seed, name, dtype.
        config = {k: v for k, v in super().get_config().items()
                  if k not in ("noise_shape", "trainable")}
        return config


class SpatialDropout1D(_SpatialDropout):
    """Drops whole channels of (batch, steps, channels) inputs: each channel of each sample
    is zeroed with probability ``rate`` at every step at once; kept ones are scaled by
    1/(1 - rate)."""

    rank = 3

    def _noise_shape(self, inputs):
        return (inputs.shape[0], 1, inputs.shape[2])


class SpatialDropout2D(_SpatialDropout):
    """Drops whole feature maps of images: (batch, rows, cols, channels) with
    ``data_format="channels_last"`` (the default, from ``keras.config.image_data_format()``)
    or (batch, channels, rows, cols) with ``"channels_first"``."""

    rank = 4

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = standardize_data_format(data_format)

    def _noise_shape(self, inputs):
        n = inputs.shape
        if self.data_format == "channels_first":
            return (n[0], n[1], 1, 1)
        return (n[0], 1, 1, n[3])

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class GaussianNoise(Layer):
    """In training, y = x + n with n ~ N(0, stddev²) drawn anew for every element and call;
    at inference y = x. (Keras accepts stddev only in [0, 1].)"""

    _supports_masking = True

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.stddev = _check_fraction(stddev, "stddev")
        self.seed = seed
        self.seed_generator = mk_random.SeedGenerator(seed)
        self.built = True

    def call(self, inputs, training=None):
        if training and self.stddev > 0:
            noise = mk_random.normal(inputs.shape, mean=0.0, stddev=self.stddev,
                                     dtype=self.dtype, seed=self.seed_generator)
            return inputs + noise
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(stddev=self.stddev, seed=self.seed)
        return config


class GaussianDropout(Layer):
    """In training, y = x · n with n ~ N(1, rate/(1 - rate)) per element; at inference
    y = x. The gradient is n, the same noise."""

    _supports_masking = True

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _check_fraction(rate, "rate", allow_one=False)
        self.seed = seed
        self.seed_generator = mk_random.SeedGenerator(seed)
        self.built = True

    def call(self, inputs, training=None):
        if training and self.rate > 0:
            stddev = math.sqrt(self.rate / (1.0 - self.rate))
            noise = mk_random.normal(inputs.shape, mean=1.0, stddev=stddev, dtype=self.dtype,
                                     seed=self.seed_generator)
            return inputs * noise
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, seed=self.seed)
        return config

