"""The accuracies: the functions (``accuracy``, ``binary_accuracy``,
``categorical_accuracy``, ``sparse_categorical_accuracy`` and the top-k ones), one value
per sample, and the metric classes that average them over an epoch (:class:`Accuracy`,
:class:`BinaryAccuracy`, ...)."""
import numpy as np

from .. import backend, ops
from ..losses import squeeze_or_expand_to_same_rank
from .base import MeanMetricWrapper, _array, _wrap


def accuracy(y_true, y_pred):
    """1.0 where y_pred == y_true exactly, else 0.0 (mean over the last axis)."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(ops.convert_to_tensor(y_true), y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return ops.mean(ops.cast(ops.equal(y_true, y_pred), backend.floatx()), axis=-1)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where (y_pred > threshold) equals the 0/1 label (mean over the last axis)."""
    y_true = ops.convert_to_tensor(y_true)
    y_pred = ops.convert_to_tensor(y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    predicted = ops.cast(ops.greater(y_pred, threshold), y_true.dtype)
    return ops.mean(ops.cast(ops.equal(y_true, predicted), backend.floatx()), axis=-1)


def categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) == argmax(y_true) (one-hot labels), per sample."""
    y_true = ops.argmax(ops.convert_to_tensor(y_true), axis=-1)
    y_pred = ops.convert_to_tensor(y_pred)
    shape = tuple(y_true.shape)
    reshape = y_true.ndim == y_pred.ndim
    if reshape:
        y_true = ops.squeeze(y_true, -1)
    matches = ops.cast(ops.equal(y_true, ops.argmax(y_pred, axis=-1)), backend.floatx())
    return ops.reshape(matches, shape) if reshape else matches


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) equals the integer label, per sample (labels ``(batch,)``
    or ``(batch, 1)``)."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.convert_to_tensor(y_true)
    shape = tuple(y_true.shape)
    reshape = y_true.ndim == y_pred.ndim and y_true.ndim > 0 and y_true.shape[-1] == 1
    if reshape:
        y_true = ops.squeeze(y_true, -1)
    predicted = ops.cast(ops.argmax(y_pred, axis=-1), y_true.dtype)
    matches = ops.cast(ops.equal(y_true, predicted), backend.floatx())
    if reshape:
        matches = ops.reshape(matches, shape)
    if matches.ndim > 1 and matches.shape[-1] == 1:
        matches = ops.squeeze(matches, -1)
    return matches


def _in_top_k(targets, predictions, k):
    """For each row: is the score of class ``targets[i]`` among the k largest of
    ``predictions[i]``? Ties with the k-th largest count as in (as in Keras)."""
    xp = backend.xp
    n = predictions.shape[-1]
    inside = (targets >= 0) & (targets < n)
    picked = xp.take_along_axis(predictions, xp.where(inside, targets, 0)[:, None], axis=-1)[:, 0]
    if k >= n:
        return inside
    kth_largest = xp.sort(predictions, axis=-1)[:, n - k]
    return inside & (picked >= kth_largest)


def _top_k_matches(labels, y_pred, k):
    """1.0 where the integer labels are in the top k of y_pred, shaped like the labels."""
    shape = labels.shape
    scores = y_pred.reshape(-1, y_pred.shape[-1])
    hits = _in_top_k(labels.reshape(-1).astype(np.int64), scores, int(k))
    return _wrap(hits.reshape(shape).astype(backend.floatx()))


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the true class (argmax of the one-hot y_true) is in the k best scores."""
    labels = backend.xp.argmax(_array(y_true), axis=-1)
    return _top_k_matches(labels, _array(y_pred), k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the integer label is in the k best scores."""
    labels = _array(y_true)
    y_pred = _array(y_pred)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    return _top_k_matches(labels, y_pred, k)


class Accuracy(MeanMetricWrapper):
    """How often y_pred equals y_true exactly."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often (y_pred > threshold) equals the 0/1 label."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        if threshold is not None and not 0 < threshold < 1:
            raise ValueError(f"Invalid value for argument `threshold`. Expected a value in "
                             f"interval (0, 1). Received: threshold={threshold}")
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold


class CategoricalAccuracy(MeanMetricWrapper):
    """How often argmax(y_pred) matches argmax of the one-hot y_true."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often argmax(y_pred) matches the integer label."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the true class (one-hot y_true) is among the ``k`` best scores."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the ``k`` best scores."""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k
