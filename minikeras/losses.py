"""Losses: ``keras.losses`` with Keras's names, defaults and numbers.

A loss has two layers, as in Keras:

* a **function** ``fn(y_true, y_pred) -> per-sample losses`` (``mean_squared_error``,
  ``categorical_crossentropy``, ...). It reduces only the last axis (the features or the
  classes), so ``(batch, classes)`` inputs give a ``(batch,)`` result;
* a **class** (``MeanSquaredError``, ``CategoricalCrossentropy``, ...), a :class:`Loss` whose
  ``__call__(y_true, y_pred, sample_weight=None)`` converts the inputs to the loss's dtype,
  calls the function, multiplies each sample's loss by its ``sample_weight`` and then
  reduces everything to one number (``reduction``, :func:`reduce_weighted_values`).

Everything is written with :mod:`minikeras.ops`, so the tape differentiates a loss like
any other computation. The cross-entropies of logits (``from_logits=True``) are each one
fused, numerically stable Function, at the top of this file: their forward never computes
``exp`` of a large number and their backward is the short closed form (``softmax - onehot``,
``sigmoid - target``).

Numerics follow Keras (``keras/src/losses/losses.py`` and the NumPy backend): probabilities
are renormalised to sum to 1 and clipped to ``[epsilon, 1 - epsilon]`` before the log,
with ``epsilon = minikeras.config.epsilon()`` (1e-7).
"""
import difflib
import re
import warnings

import numpy as np

from . import backend, ops
from .autograd import Function
from .ops.core import check_axis, constant, unbroadcast
from .tensor import Tensor

__all__ = [
    "Loss", "LossFunctionWrapper", "MeanSquaredError", "MeanAbsoluteError",
    "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "Huber", "LogCosh",
    "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
    "KLDivergence", "Poisson", "Hinge", "SquaredHinge", "CategoricalHinge", "CosineSimilarity",
    "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error", "huber", "log_cosh", "binary_crossentropy",
    "categorical_crossentropy", "sparse_categorical_crossentropy", "kl_divergence", "poisson",
    "hinge", "squared_hinge", "categorical_hinge", "cosine_similarity",
    "mse", "MSE", "mae", "MAE", "mape", "MAPE", "msle", "MSLE", "kld", "KLD", "bce", "BCE",
    "get", "get_loss", "serialize", "deserialize", "reduce_weighted_values",
    "squeeze_or_expand_to_same_rank", "resolve_crossentropy",
]


def _eps():
    return float(backend.epsilon())


# =============================================================================== fused ops
class SigmoidCrossEntropy(Function):
    """Binary cross-entropy of logits, elementwise: for logits x and targets z,

        loss = -z·log σ(x) - (1 - z)·log(1 - σ(x)) = max(x, 0) - x·z + log(1 + e^(-|x|)),

    the second form never overflows (e^(-|x|) <= 1).   dloss/dx = σ(x) - z,
    dloss/dz = -x.
    """

    def forward(self, x, z):
        xp = backend.xp
        return xp.maximum(x, 0) - x * z + xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, g):
        x, z = self.inputs
        nx, nz = self.needs_grad
        gx = unbroadcast(g * (ops.sigmoid(x) - z), x) if nx else None
        gz = unbroadcast(-g * x, z) if nz else None
        return gx, gz


class SoftmaxCrossEntropy(Function):
    """Categorical cross-entropy of logits x against target probabilities t (same shape):

        loss = -Σ t·log_softmax(x)   along ``axis`` (that axis disappears),

    with log_softmax computed after subtracting the maximum (no overflow).
    dloss/dx = softmax(x)·Σt - t  (= softmax - onehot for one-hot or smoothed labels, whose
    sum is 1);  dloss/dt = -log_softmax(x).
    """

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x, t):
        xp = backend.xp
        shifted = x - x.max(axis=self.axis, keepdims=True)
        log_p = shifted - xp.log(xp.exp(shifted).sum(axis=self.axis, keepdims=True))
        return -(t * log_p).sum(axis=self.axis)

    def backward(self, g):
        x, t = self.inputs
        nx, nt = self.needs_grad
        g = ops.expand_dims(g, self.axis)
        gx = gt = None
        if nx:
            total = ops.sum(t, axis=self.axis, keepdims=True)
            gx = g * (ops.softmax(x, axis=self.axis) * total - t)
        if nt:
            gt = -g * ops.log_softmax(x, axis=self.axis)
        return gx, gt


class SparseSoftmaxCrossEntropy(Function):
    """Cross-entropy of logits x against integer class indices k (x without ``axis``):

        loss = -log_softmax(x)[k] = log Σ eˣ - x[k]   (pick the true class),

    computed after subtracting the maximum (no overflow), without building a one-hot.
    dloss/dx = softmax(x) - onehot(k). The labels get no gradient.
    """

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x, labels):
        xp = backend.xp
        shifted = x - x.max(axis=self.axis, keepdims=True)
        lse = xp.log(xp.exp(shifted).sum(axis=self.axis, keepdims=True))
        picked = xp.take_along_axis(shifted, xp.expand_dims(labels, self.axis), axis=self.axis)
        return (lse - picked).squeeze(axis=self.axis)

    def backward(self, g):
        x, labels = self.inputs
        onehot = ops.one_hot(labels, x.shape[self.axis], axis=self.axis, dtype=x.dtype)
        return ops.expand_dims(g, self.axis) * (ops.softmax(x, axis=self.axis) - onehot), None


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


# =============================================================================== reduction
REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


def standardize_reduction(reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"Invalid value for argument `reduction`. Expected one of "
                         f"{list(REDUCTIONS)}. Received: reduction={reduction!r}")
    return reduction


def _weights_fit(values, weights):
    try:
        np.broadcast_shapes(tuple(values.shape), tuple(weights.shape))
        return True
    except ValueError:
        return False


def apply_mask(sample_weight, mask, dtype, reduction):
    """Fold a boolean ``mask`` of valid entries into the sample weights. For the mean
    reductions the valid entries are scaled by total/valid, so that dividing by the number
    of entries gives the mean over the valid ones."""
    if mask is None:
        return sample_weight
    m = mask.astype(dtype)
    if reduction in ("mean", "sum_over_batch_size"):
        valid = float(m.sum())
        m = m * (m.size / valid) if valid else m * 0.0
    m = constant(m.astype(dtype))
    if sample_weight is None:
        return m
    m, sample_weight = squeeze_or_expand_to_same_rank(m, sample_weight)
    return sample_weight * m


def reduce_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Reduce (already weighted) per-sample losses to the loss: their sum, divided by their
    number ("sum_over_batch_size", "mean") or by the sum of the weights
    ("mean_with_sample_weight"); "none"/None returns them as they are."""
    if reduction is None or reduction == "none" or tuple(values.shape) in ((), (0,)):
        return values
    loss = ops.sum(values)
    if reduction in ("sum_over_batch_size", "mean", "mean_with_sample_weight"):
        if reduction == "mean_with_sample_weight" and sample_weight is not None:
            divisor = float(ops.sum(sample_weight))
        else:
            divisor = float(values.size)
        loss = loss / divisor if divisor else loss * 0.0
    return loss


def reduce_weighted_values(values, sample_weight=None, mask=None,
                           reduction="sum_over_batch_size", dtype=None, name="loss"):
    """Multiply per-sample losses by ``sample_weight``, then reduce them
    (:func:`reduce_values`). Ranks are aligned first, so ``(batch,)`` and ``(batch, 1)``
    weights both work, and weights of shape ``(batch,)`` for losses of shape
    ``(batch, steps)`` weight whole rows (the leading axes are matched, not the trailing
    ones as NumPy broadcasting would). Otherwise they must broadcast against the losses."""
    reduction = standardize_reduction(reduction)
    values = ops.convert_to_tensor(values, dtype=dtype)
    if sample_weight is not None:
        sample_weight = ops.convert_to_tensor(sample_weight, dtype=values.dtype)
    sample_weight = apply_mask(sample_weight, mask, values.dtype, reduction)
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        lead = sample_weight.ndim
        if 0 < lead < values.ndim and tuple(sample_weight.shape) == tuple(values.shape[:lead]):
            # one weight per sample of a (batch, steps) loss: it weights the whole row
            sample_weight = ops.reshape(sample_weight, tuple(sample_weight.shape)
                                        + (1,) * (values.ndim - lead))
        if not _weights_fit(values, sample_weight):
            raise ValueError(f"{name}: sample_weight of shape {tuple(sample_weight.shape)} does "
                             f"not match the per-sample losses of shape {tuple(values.shape)}; "
                             "give one weight per sample, e.g. shape (batch_size,).")
        values = values * sample_weight
    return reduce_values(values, sample_weight, reduction)


# =============================================================================== naming
_name_counts = {}


def to_snake_case(name):
    """``"MeanSquaredError"`` -> ``"mean_squared_error"``, ``"AUC"`` -> ``"auc"``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name)
    return name.lower()


def auto_name(class_name):
    """A fresh default name: the snake_case class name, then ``_1``, ``_2``, ..."""
    base = to_snake_case(class_name)
    count = _name_counts.get(base, 0)
    _name_counts[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


# =============================================================================== classes
class Loss:
    """The base class of losses (``keras.losses.Loss``).

    ``Loss(name=None, reduction="sum_over_batch_size", dtype=None)``. A subclass writes
    ``call(y_true, y_pred)``, returning the per-sample losses; ``__call__`` adds the rest:
    both inputs are converted to ``dtype`` (``floatx()``, float32, unless given), the
    per-sample losses are multiplied by ``sample_weight`` and reduced by ``reduction``:

    * ``"sum_over_batch_size"`` (the default) and ``"mean"``: sum / number of entries;
    * ``"sum"``: the sum;
    * ``"mean_with_sample_weight"``: sum / sum of the sample weights;
    * ``None`` or ``"none"``: the per-sample losses, unreduced.
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or auto_name(type(self).__name__)
        self.reduction = standardize_reduction(reduction)
        self._dtype = np.dtype(dtype or backend.floatx()).name

    @property
    def dtype(self):
        return self._dtype

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        y_true = ops.convert_to_tensor(y_true, dtype=self.dtype)
        losses = self.call(y_true, y_pred)
        return reduce_weighted_values(losses, sample_weight=sample_weight,
                                      mask=self._valid_mask(y_true, y_pred),
                                      reduction=self.reduction, dtype=self.dtype,
                                      name=type(self).__name__)

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__}.call(y_true, y_pred) is not "
                                  "implemented: a Loss subclass must compute the per-sample "
                                  "losses there.")

    def _valid_mask(self, y_true, y_pred):
        """A boolean array marking the entries that count, or None for all of them."""
        return None

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name} reduction={self.reduction}>"


class LossFunctionWrapper(Loss):
    """A Loss around a loss function: ``LossFunctionWrapper(fn, reduction=..., name=None,
    dtype=None, **kwargs)`` computes ``fn(y_true, y_pred, **kwargs)`` after aligning the
    ranks of y_true and y_pred (:func:`squeeze_or_expand_to_same_rank`)."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config = super().get_config()
        config["fn"] = getattr(self.fn, "__name__", self.fn)
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("fn"), str):
            config["fn"] = get(config["fn"])
        return cls(**config)

    def __repr__(self):
        fn = getattr(self.fn, "__name__", self.fn)
        return f"<{type(self).__name__} name={self.name} fn={fn} kwargs={self._fn_kwargs}>"


class _Builtin(LossFunctionWrapper):
    """The built-in loss classes: a fixed function, and the keyword arguments in
    ``_config_keys`` are also the class's constructor arguments and config."""

    _config_keys = ()

    def __init__(self, reduction, name, dtype, **kwargs):
        super().__init__(type(self)._function, reduction=reduction, name=name, dtype=dtype,
                         **kwargs)
        for key, value in kwargs.items():
            setattr(self, key, value)

    def get_config(self):
        config = Loss.get_config(self)
        config.update({key: self._fn_kwargs[key] for key in self._config_keys})
        return config


class MeanSquaredError(_Builtin):
    """mean((y_true - y_pred)²) per sample (``keras.losses.MeanSquaredError``)."""
    _function = staticmethod(mean_squared_error)

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(reduction, name, dtype)


class MeanAbsoluteError(_Builtin):
    """mean(|y_true - y_pred|) per sample."""
    _function = staticmethod(mean_absolute_error)

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(reduction, name, dtype)


class MeanAbsolutePercentageError(_Builtin):
    """100·mean(|y_true - y_pred| / |y_true|) per sample."""
    _function = staticmethod(mean_absolute_percentage_error)

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error",
                 dtype=None):
        super().__init__(reduction, name, dtype)


class MeanSquaredLogarithmicError(_Builtin):
    """mean((log(1 + y_pred) - log(1 + y_true))²) per sample."""
    _function = staticmethod(mean_squared_logarithmic_error)

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error",
                 dtype=None):
        super().__init__(reduction, name, dtype)


class Huber(_Builtin):
    """Huber loss with threshold ``delta`` (quadratic below, linear above)."""
    _function = staticmethod(huber)
    _config_keys = ("delta",)

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(reduction, name, dtype, delta=delta)


class LogCosh(_Builtin):
    """mean(log(cosh(y_pred - y_true))) per sample."""
    _function = staticmethod(log_cosh)

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(reduction, name, dtype)


class BinaryCrossentropy(_Builtin):
    """Binary cross-entropy, for labels in {0, 1} and one probability (or logit, with
    ``from_logits=True``) per output unit."""
    _function = staticmethod(binary_crossentropy)
    _config_keys = ("from_logits", "label_smoothing", "axis")

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(reduction, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class CategoricalCrossentropy(_Builtin):
    """Cross-entropy for one-hot labels shaped like y_pred ``(batch, num_classes)``. For
    integer labels use :class:`SparseCategoricalCrossentropy`."""
    _function = staticmethod(categorical_crossentropy)
    _config_keys = ("from_logits", "label_smoothing", "axis")

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(reduction, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(_Builtin):
    """Cross-entropy for integer labels ``(batch,)`` against y_pred
    ``(batch, num_classes)``. With ``ignore_class=k`` the entries labelled k count neither
    in the sum nor in the mean."""
    _function = staticmethod(sparse_categorical_crossentropy)
    _config_keys = ("from_logits", "ignore_class", "axis")

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 axis=-1, name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(reduction, name, dtype, from_logits=from_logits,
                         ignore_class=ignore_class, axis=axis)

    def _valid_mask(self, y_true, y_pred):
        if self.ignore_class is None:
            return None
        labels = y_true.data
        if labels.ndim == y_pred.ndim and labels.ndim > 0 and labels.shape[-1] == 1:
            labels = labels[..., 0]
        return labels != self.ignore_class


class KLDivergence(_Builtin):
    """Kullback-Leibler divergence Σ y_true·log(y_true / y_pred) per sample."""
    _function = staticmethod(kl_divergence)

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(reduction, name, dtype)


class Poisson(_Builtin):
    """mean(y_pred - y_true·log(y_pred)) per sample."""
    _function = staticmethod(poisson)

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(reduction, name, dtype)


class Hinge(_Builtin):
    """mean(max(1 - y_true·y_pred, 0)) per sample, labels -1/1 (or 0/1)."""
    _function = staticmethod(hinge)

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(reduction, name, dtype)


class SquaredHinge(_Builtin):
    """mean(max(1 - y_true·y_pred, 0)²) per sample."""
    _function = staticmethod(squared_hinge)

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(reduction, name, dtype)


class CategoricalHinge(_Builtin):
    """max(max_wrong - true + 1, 0) per sample, one-hot labels."""
    _function = staticmethod(categorical_hinge)

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(reduction, name, dtype)


class CosineSimilarity(_Builtin):
    """-cos(y_true, y_pred) along ``axis`` per sample."""
    _function = staticmethod(cosine_similarity)
    _config_keys = ("axis",)

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity",
                 dtype=None):
        super().__init__(reduction, name, dtype, axis=axis)


# =============================================================================== aliases, get
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence
bce = BCE = binary_crossentropy

_CLASSES = (MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
            MeanSquaredLogarithmicError, Huber, LogCosh, BinaryCrossentropy,
            CategoricalCrossentropy, SparseCategoricalCrossentropy, KLDivergence, Poisson, Hinge,
            SquaredHinge, CategoricalHinge, CosineSimilarity)
_FUNCTIONS = (mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
              mean_squared_logarithmic_error, huber, log_cosh, binary_crossentropy,
              categorical_crossentropy, sparse_categorical_crossentropy, kl_divergence, poisson,
              hinge, squared_hinge, categorical_hinge, cosine_similarity)
_ALIASES = {"mse": mse, "MSE": mse, "mae": mae, "MAE": mae, "mape": mape, "MAPE": mape,
            "msle": msle, "MSLE": msle, "kld": kld, "KLD": kld, "bce": bce, "BCE": bce}
#: Every name ``get`` resolves: class names give a Loss object, function names and the
#: short aliases give the function (as in Keras; ``compile`` wraps it).
ALL_OBJECTS_DICT = {obj.__name__: obj for obj in _CLASSES + _FUNCTIONS}
ALL_OBJECTS_DICT.update(_ALIASES)


def _unknown(kind, identifier, names):
    close = difflib.get_close_matches(str(identifier), names, n=3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return (f"Could not interpret {kind} identifier: {identifier!r}.{hint} Valid names: "
            f"{', '.join(sorted(names, key=str.lower))}.")


def get(identifier):
    """A loss from a string, a config dict, a class or a callable (``keras.losses.get``).

    ``"CategoricalCrossentropy"`` gives a ``CategoricalCrossentropy()`` object;
    ``"categorical_crossentropy"`` (and the aliases ``"mse"``, ``"mae"``, ``"mape"``,
    ``"msle"``, ``"kld"``, ``"bce"``) give the function, as in Keras. An unknown string
    raises a ValueError listing the valid names.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        obj = ALL_OBJECTS_DICT.get(identifier)
        if obj is None:
            raise ValueError(_unknown("loss", identifier, list(ALL_OBJECTS_DICT)))
    else:
        obj = identifier
    if isinstance(obj, type):
        obj = obj()
    if not callable(obj):
        raise ValueError(f"Could not interpret loss identifier: {identifier!r} (expected a "
                         "string, a Loss, a loss function or a config dict).")
    return obj


def get_loss(identifier, y_true_shape=None, y_pred_shape=None):
    """The Loss object ``compile(loss=identifier)`` uses (Keras's ``compile_utils.get_loss``):
    what :func:`get` gives, with a function wrapped in a :class:`LossFunctionWrapper` named
    after the string (``"mse"`` stays ``"mse"``). ``"crossentropy"``/``"ce"`` become the
    binary, sparse or categorical cross-entropy by the shapes (:func:`resolve_crossentropy`)."""
    if identifier is None:
        return None
    if isinstance(identifier, str) and identifier.lower() in ("crossentropy", "ce"):
        if y_true_shape is None or y_pred_shape is None:
            raise ValueError(f"loss={identifier!r} is resolved from the shapes of y_true and "
                             "y_pred: pass y_true_shape and y_pred_shape.")
        obj = resolve_crossentropy(y_true_shape, y_pred_shape)
    else:
        obj = get(identifier)
    if isinstance(obj, Loss):
        return obj
    name = identifier if isinstance(identifier, str) else getattr(obj, "__name__", None)
    return LossFunctionWrapper(obj, name=name)


def serialize(loss):
    """A built-in function as its name; a Loss as ``{"module", "class_name", "config",
    "registered_name"}`` (the Keras format)."""
    if isinstance(loss, Loss):
        return {"module": "keras.losses", "class_name": type(loss).__name__,
                "config": loss.get_config(), "registered_name": None}
    return getattr(loss, "__name__", loss)


def deserialize(config):
    """The inverse of :func:`serialize`."""
    if isinstance(config, str):
        return get(config)
    class_name = config.get("class_name")
    if class_name == "function":
        return get(config["config"])
    classes = {cls.__name__: cls for cls in _CLASSES + (LossFunctionWrapper,)}
    if class_name not in classes:
        raise ValueError(_unknown("loss class", class_name, list(classes)))
    return classes[class_name].from_config(config.get("config", {}))
