"""The metric versions of the classification and probabilistic losses: the running mean over
an epoch of the cross-entropies, the KL divergence, the Poisson loss and the hinge losses
(:class:`BinaryCrossentropy`, ..., :class:`CategoricalHinge`)."""
from .. import losses as _losses
from .base import MeanMetricWrapper


class BinaryCrossentropy(MeanMetricWrapper):
    """The running mean of the binary cross-entropy."""

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0):
        super().__init__(_losses.binary_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing)


class CategoricalCrossentropy(MeanMetricWrapper):
    """The running mean of the categorical cross-entropy (one-hot labels)."""

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0, axis=-1):
        super().__init__(_losses.categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """The running mean of the sparse categorical cross-entropy (integer labels)."""

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False,
                 axis=-1):
        super().__init__(_losses.sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, axis=axis)


class KLDivergence(MeanMetricWrapper):
    """The running mean of the KL divergence."""

    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(_losses.kl_divergence, name=name, dtype=dtype)


class Poisson(MeanMetricWrapper):
    """The running mean of the Poisson loss."""

    def __init__(self, name="poisson", dtype=None):
        super().__init__(_losses.poisson, name=name, dtype=dtype)


class Hinge(MeanMetricWrapper):
    """The running mean of the hinge loss."""

    def __init__(self, name="hinge", dtype=None):
        super().__init__(_losses.hinge, name=name, dtype=dtype)


class SquaredHinge(MeanMetricWrapper):
    """The running mean of the squared hinge loss."""

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(_losses.squared_hinge, name=name, dtype=dtype)


class CategoricalHinge(MeanMetricWrapper):
    """The running mean of the categorical hinge loss."""

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(_losses.categorical_hinge, name=name, dtype=dtype)
