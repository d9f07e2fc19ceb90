"""The loss functions ``fn(y_true, y_pred) -> per-sample losses`` (``mean_squared_error``,
``categorical_crossentropy``, ...), the checks and conversions of their inputs
(:func:`squeeze_or_expand_to_same_rank`, the label checks of the cross-entropies), and
:func:`resolve_crossentropy`, the rule behind ``loss="crossentropy"``.

Numerics follow Keras (``keras/src/losses/losses.py`` and the NumPy backend): probabilities
are renormalised to sum to 1 and clipped to ``[epsilon, 1 - epsilon]`` before the log,
with ``epsilon = minikeras.config.epsilon()`` (1e-7).
"""
import warnings

import numpy as np

from .. import backend, ops
from ..ops.core import check_axis, constant
from ..tensor import Tensor
from .fused import SigmoidCrossEntropy, SoftmaxCrossEntropy, SparseSoftmaxCrossEntropy


def _eps():
    return float(backend.epsilon())


# =============================================================================== helpers
def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Make ranks agree when they differ by one and the longer has a last axis of 1, as
    Keras does before comparing labels and predictions: ``(32,)`` against ``(32, 1)``
    becomes ``(32, 1)`` and ``(32, 1)`` (the rank-1 one is expanded) and ``(32, 4)``
    against ``(32, 4, 1)`` becomes ``(32, 4)`` and ``(32, 4)`` (the longer one is squeezed).
    Other shapes are returned unchanged."""
    r1, r2 = len(x1.shape), len(x2.shape)
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = ops.expand_dims(x2, -1)
        else:
            x1 = ops.squeeze(x1, -1)
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = ops.expand_dims(x1, -1)
        else:
            x2 = ops.squeeze(x2, -1)
    return x1, x2


def _pred_and_true(y_true, y_pred):
    """y_pred as a float Tensor and y_true as a Tensor of its dtype, ranks aligned."""
    y_pred = ops.convert_to_tensor(y_pred)
    if y_pred.dtype.kind != "f":
        y_pred = ops.cast(y_pred, backend.floatx())
    y_true = ops.cast(ops.convert_to_tensor(y_true), y_pred.dtype)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def _class_axis(axis, y_pred, what):
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise ValueError(f"{what}: `axis` must be an int, got {axis!r}.")
    if y_pred.ndim == 0:
        raise ValueError(f"{what}: y_pred must have a class axis (rank 1 or more), got a scalar.")
    return check_axis(axis, y_pred.ndim, what)[0]


def _l2_normalize(x, axis):
    """x / max(‖x‖₂, epsilon) along ``axis`` (Keras's ``normalize``). A zero vector stays
    zero, with a zero gradient instead of 0·∞."""
    eps = _eps()
    squares = ops.sum(ops.square(x), axis=axis, keepdims=True)
    big = constant((squares.data >= eps * eps).astype(x.dtype))
    norm = ops.sqrt(squares * big + (1.0 - big)) * big + eps * (1.0 - big)
    return x / norm


def _without(shape, axis):
    return tuple(n for i, n in enumerate(shape) if i != axis)


def _check_same_shape(y_true, y_pred, what):
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(f"{what}: y_true and y_pred must have the same shape; got y_true of "
                         f"shape {tuple(y_true.shape)} and y_pred of shape "
                         f"{tuple(y_pred.shape)}.")


def _check_one_hot_labels(y_true, y_pred, axis):
    """CategoricalCrossentropy wants one-hot labels shaped like y_pred; integer class
    indices are the mistake the message explains."""
    t, p = tuple(y_true.shape), tuple(y_pred.shape)
    if t == p:
        return
    classes = _without(p, axis)
    if t == classes or (len(t) == len(p) and t[axis] == 1 and _without(t, axis) == classes):
        raise ValueError(
            f"CategoricalCrossentropy expects one-hot labels of the same shape as y_pred {p}; "
            f"got y_true of shape {t}, which looks like integer class indices: use "
            "SparseCategoricalCrossentropy (loss='sparse_categorical_crossentropy') for "
            "integer labels, or one-hot encode them with keras.utils.to_categorical.")
    raise ValueError(f"CategoricalCrossentropy: y_true and y_pred must have the same shape; got "
                     f"y_true of shape {t} and y_pred of shape {p}.")


def _sparse_labels(y_true, y_pred, axis, ignore_class):
    """Check integer class indices against y_pred and return them as an int32 Tensor of
    y_pred's shape without the class axis (ignored entries set to 0), and the mask of the
    entries that count (None without ``ignore_class``)."""
    xp = backend.xp
    y_true = ops.convert_to_tensor(y_true)
    p = tuple(y_pred.shape)
    if y_true.ndim == y_pred.ndim and y_true.ndim > 0 and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, -1)
    expected = _without(p, axis)
    t = tuple(y_true.shape)
    if t != expected:
        if len(t) == len(p) and t[axis] > 1:
            raise ValueError(
                f"SparseCategoricalCrossentropy expects integer class indices of shape "
                f"{expected} (or {expected + (1,)}) for y_pred of shape {p}; got y_true of "
                f"shape {t}, which looks one-hot: use CategoricalCrossentropy "
                "(loss='categorical_crossentropy') for one-hot labels, or turn them into "
                "indices with ops.argmax(y_true, axis=-1).")
        raise ValueError(f"SparseCategoricalCrossentropy expects integer class indices of shape "
                         f"{expected} for y_pred of shape {p}; got y_true of shape {t}.")
    labels = y_true.data
    if labels.dtype.kind == "f":
        if not bool(xp.all(labels == xp.floor(labels))):
            bad = backend.to_numpy(labels[labels != xp.floor(labels)]).ravel()[0]
            raise ValueError(f"SparseCategoricalCrossentropy expects integer class indices; got "
                             f"y_true with non-integer values such as {bad}. For soft or "
                             "one-hot targets use CategoricalCrossentropy.")
    elif labels.dtype.kind not in "iub":
        raise ValueError(f"SparseCategoricalCrossentropy expects integer class indices; got "
                         f"y_true of dtype {labels.dtype}.")
    labels = labels.astype("int64")
    valid = None
    if ignore_class is not None:
        valid = labels != int(ignore_class)
        labels = xp.where(valid, labels, 0)
    n = p[axis]
    if labels.size:
        low, high = int(labels.min()), int(labels.max())
        if low < 0 or high >= n:
            bad = low if low < 0 else high
            raise ValueError(
                f"SparseCategoricalCrossentropy: label {bad} is out of range for y_pred with "
                f"{n} classes (shape {p}); labels must be in 0..{n - 1}. The output layer needs "
                "one unit per class.")
    return Tensor._wrap(labels.astype("int32")), valid


def _hinge_labels(y_true):
    """Labels in {0, 1} become {-1, 1}; other labels are used as they are."""
    data = y_true.data
    if bool(backend.xp.all((data == 0) | (data == 1))):
        return 2.0 * y_true - 1.0
    return y_true


# =============================================================================== functions
def mean_squared_error(y_true, y_pred):
    """mean((y_true - y_pred)²) over the last axis."""
    y_true, y_pred = _pred_and_true(y_true, y_pred)
    return ops.mean(ops.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """mean(|y_true - y_pred|) over the last axis."""
    y_true, y_pred = _pred_and_true(y_true, y_pred)
    return ops.mean(ops.abs(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """100 · mean(|y_true - y_pred| / max(|y_true|, epsilon)) over the last axis."""
    y_true, y_pred = _pred_and_true(y_true, y_pred)
    diff = ops.abs((y_true - y_pred) / ops.maximum(ops.abs(y_true), _eps()))
    return 100.0 * ops.mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """mean((log(1 + max(y_pred, eps)) - log(1 + max(y_true, eps)))²) over the last axis."""
    y_true, y_pred = _pred_and_true(y_true, y_pred)
    first = ops.log(ops.maximum(y_pred, _eps()) + 1.0)
    second = ops.log(ops.maximum(y_true, _eps()) + 1.0)
    return ops.mean(ops.square(first - second), axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """mean over the last axis of ½e² where |e| <= delta, else delta·|e| - ½delta², with
    e = y_pred - y_true: quadratic near 0, linear (robust to outliers) further out."""
    y_true, y_pred = _pred_and_true(y_true, y_pred)
    delta = float(delta)
    error = y_pred - y_true
    abs_error = ops.abs(error)
    return ops.mean(ops.where(abs_error <= delta, 0.5 * ops.square(error),
                              delta * abs_error - 0.5 * delta * delta), axis=-1)


def log_cosh(y_true, y_pred):
    """mean(log(cosh(y_pred - y_true))) over the last axis, computed as
    x + softplus(-2x) - log 2 so that cosh never overflows."""
    y_true, y_pred = _pred_and_true(y_true, y_pred)
    x = y_pred - y_true
    return ops.mean(x + ops.softplus(-2.0 * x) - float(np.log(2.0)), axis=-1)


def kl_divergence(y_true, y_pred):
    """Σ t·log(t / p) over the last axis, with t and p clipped to [epsilon, 1]."""
    y_true, y_pred = _pred_and_true(y_true, y_pred)
    t = ops.clip(y_true, _eps(), 1.0)
    p = ops.clip(y_pred, _eps(), 1.0)
    return ops.sum(t * ops.log(t / p), axis=-1)


def poisson(y_true, y_pred):
    """mean(y_pred - y_true·log(y_pred + epsilon)) over the last axis."""
    y_true, y_pred = _pred_and_true(y_true, y_pred)
    return ops.mean(y_pred - y_true * ops.log(y_pred + _eps()), axis=-1)


def hinge(y_true, y_pred):
    """mean(max(1 - y_true·y_pred, 0)) over the last axis; labels in {0, 1} are first
    mapped to {-1, 1}."""
    y_true, y_pred = _pred_and_true(y_true, y_pred)
    return ops.mean(ops.maximum(1.0 - _hinge_labels(y_true) * y_pred, 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    """mean(max(1 - y_true·y_pred, 0)²) over the last axis (labels {0, 1} -> {-1, 1})."""
    y_true, y_pred = _pred_and_true(y_true, y_pred)
    return ops.mean(ops.square(ops.maximum(1.0 - _hinge_labels(y_true) * y_pred, 0.0)),
                    axis=-1)


def categorical_hinge(y_true, y_pred):
    """max(neg - pos + 1, 0) with pos = Σ y_true·y_pred and neg = max((1 - y_true)·y_pred),
    over the last axis (one-hot y_true)."""
    y_true, y_pred = _pred_and_true(y_true, y_pred)
    pos = ops.sum(y_true * y_pred, axis=-1)
    neg = ops.max((1.0 - y_true) * y_pred, axis=-1)
    return ops.maximum(neg - pos + 1.0, 0.0)


def cosine_similarity(y_true, y_pred, axis=-1):
    """-Σ (y_true/‖y_true‖)·(y_pred/‖y_pred‖) along ``axis``: -1 for vectors pointing the
    same way, 0 for orthogonal ones (and whenever one of them is zero)."""
    y_true, y_pred = _pred_and_true(y_true, y_pred)
    return -ops.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), axis=axis)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """mean over ``axis`` of -(t·log p + (1 - t)·log(1 - p)).

    Probabilities are clipped to [epsilon, 1 - epsilon]; logits (``from_logits=True``) go
    through :class:`SigmoidCrossEntropy`, exact and stable for any logit.
    ``label_smoothing`` s moves the targets towards ½: t·(1 - s) + s/2.
    """
    y_true, y_pred = _pred_and_true(y_true, y_pred)
    _check_same_shape(y_true, y_pred, "binary_crossentropy")
    if label_smoothing:
        s = float(label_smoothing)
        y_true = y_true * (1.0 - s) + 0.5 * s
    if from_logits:
        per_element = SigmoidCrossEntropy()(y_pred, y_true)
    else:
        eps = _eps()
        p = ops.clip(y_pred, eps, 1.0 - eps)
        per_element = -(y_true * ops.log(p) + (1.0 - y_true) * ops.log(1.0 - p))
    return ops.mean(per_element, axis=axis)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """-Σ t·log p along ``axis`` for one-hot (or soft) targets t.

    Probabilities are renormalised to sum to 1 along ``axis`` and clipped to
    [epsilon, 1 - epsilon]; logits go through :class:`SoftmaxCrossEntropy`.
    ``label_smoothing`` s gives t·(1 - s) + s/num_classes.
    """
    y_pred = ops.convert_to_tensor(y_pred)
    if y_pred.dtype.kind != "f":
        y_pred = ops.cast(y_pred, backend.floatx())
    y_true = ops.cast(ops.convert_to_tensor(y_true), y_pred.dtype)
    axis = _class_axis(axis, y_pred, "categorical_crossentropy")
    _check_one_hot_labels(y_true, y_pred, axis)
    if y_pred.shape[-1] == 1:
        warnings.warn(f"In loss categorical_crossentropy, expected y_pred.shape to be "
                      f"(batch_size, num_classes) with num_classes > 1. Received: "
                      f"y_pred.shape={tuple(y_pred.shape)}. Consider using "
                      "'binary_crossentropy' if you only have 2 classes.", SyntaxWarning,
                      stacklevel=2)
    if label_smoothing:
        s = float(label_smoothing)
        y_true = y_true * (1.0 - s) + s / y_pred.shape[axis]
    if from_logits:
        return SoftmaxCrossEntropy(axis)(y_pred, y_true)
    eps = _eps()
    p = y_pred / ops.sum(y_pred, axis=axis, keepdims=True)
    p = ops.clip(p, eps, 1.0 - eps)
    return -ops.sum(y_true * ops.log(p), axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    """-log p[k] for integer class indices k: y_true of shape ``(batch,)`` (or
    ``(batch, 1)``) against y_pred of shape ``(batch, num_classes)``.

    Probabilities are renormalised and clipped as in :func:`categorical_crossentropy`;
    logits go through :class:`SparseSoftmaxCrossEntropy`. Labels are checked: one-hot
    labels, non-integer values and indices outside ``[0, num_classes)`` raise a ValueError.
    Entries whose label is ``ignore_class`` get a loss of 0 (the class
    :class:`SparseCategoricalCrossentropy` also leaves them out of the mean).
    """
    y_pred = ops.convert_to_tensor(y_pred)
    if y_pred.dtype.kind != "f":
        y_pred = ops.cast(y_pred, backend.floatx())
    axis = _class_axis(axis, y_pred, "sparse_categorical_crossentropy")
    labels, valid = _sparse_labels(y_true, y_pred, axis, ignore_class)
    if valid is not None:
        # Ignored rows compute on harmless ones (no 0/0 from a zero row, no NaN gradient).
        y_pred = ops.where(Tensor._wrap(backend.xp.expand_dims(valid, axis)), y_pred, 1.0)
    if from_logits:
        result = SparseSoftmaxCrossEntropy(axis)(y_pred, labels)
    else:
        eps = _eps()
        p = y_pred / ops.sum(y_pred, axis=axis, keepdims=True)
        picked = ops.take_along_axis(p, ops.expand_dims(labels, axis), axis=axis)
        result = -ops.squeeze(ops.log(ops.clip(picked, eps, 1.0 - eps)), axis)
    if valid is not None:
        result = result * constant(valid.astype(result.dtype))
    return result


def resolve_crossentropy(y_true_shape, y_pred_shape):
    """The loss function ``compile(loss="crossentropy")`` (or ``"ce"``) means for these
    shapes, by Keras's rule: binary if y_pred has one unit, sparse if y_true has fewer axes
    (or a last axis of 1 against several classes), categorical otherwise."""
    binary, sparse = _binary_or_sparse(y_true_shape, y_pred_shape)
    if binary:
        return binary_crossentropy
    return sparse_categorical_crossentropy if sparse else categorical_crossentropy


def _binary_or_sparse(y_true_shape, y_pred_shape):
    t, p = tuple(y_true_shape), tuple(y_pred_shape)
    binary = len(p) > 0 and p[-1] == 1
    sparse = len(t) < len(p) or (len(t) > 0 and len(p) > 0 and t[-1] == 1 and p[-1] > 1)
    return binary, sparse

