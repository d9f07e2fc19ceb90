"""Cases for minikeras/losses/: its fused Functions (SigmoidCrossEntropy,
SoftmaxCrossEntropy, SparseSoftmaxCrossEntropy) and every loss function, each against an
independent NumPy reference. tests/test_losses.py reuses ``SPECS`` (how to draw labels and
predictions for a loss, and its NumPy reference) for the reductions and sample weights.

The references avoid the formulas of the implementation where another one exists:
log-sigmoid via ``np.logaddexp``, softmax cross-entropy via ``np.log`` of an explicit
softmax, log-cosh via ``np.log(np.cosh)``, hinge by a Python-level comparison.
"""
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from hypothesis import strategies as st

from minikeras import losses
from minikeras.losses import SigmoidCrossEntropy, SoftmaxCrossEntropy, SparseSoftmaxCrossEntropy

from . import Case, shapes, values

EPS = 1e-7


# ----------------------------------------------------------------------------- drawing
def _seed(d):
    return np.random.default_rng(d(st.integers(0, 2**32 - 1)))


def batch_shape(d, min_dims=2, max_dims=3):
    """(batch, ..., features): at least 1 sample and 1 feature, small."""
    return d(shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=3))


def class_shape(d, min_classes=2):
    """(batch, ..., classes) with at least two classes."""
    shape = batch_shape(d)
    return shape[:-1] + (d(st.integers(min_classes, 5)),)


def _apart(a, b, gap=0.05):
    """Move a away from b where they are closer than ``gap`` (kinks of |a - b|)."""
    close = np.abs(a - b) < gap
    return np.where(close, a + 3 * gap, a)


# ----------------------------------------------------------------------------- references
def _log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


def ref_sigmoid_ce(x, z):
    return -(z * _log_sigmoid(x) + (1 - z) * _log_sigmoid(-x))


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def ref_softmax_ce(x, t, axis=-1):
    return -(t * _log_softmax(x, axis)).sum(axis=axis)


def ref_sparse_ce_logits(labels, x, axis=-1):
    hot = np.moveaxis(np.eye(x.shape[axis])[labels], -1, axis)
    return ref_softmax_ce(x, hot, axis)


def ref_mse(t, p):
    return ((t - p) ** 2).mean(-1)


def ref_mae(t, p):
    return np.abs(t - p).mean(-1)


def ref_mape(t, p):
    return 100 * (np.abs(t - p) / np.maximum(np.abs(t), EPS)).mean(-1)


def ref_msle(t, p):
    return ((np.log1p(np.maximum(p, EPS)) - np.log1p(np.maximum(t, EPS))) ** 2).mean(-1)


def ref_huber(t, p, delta=1.0):
    e = np.abs(p - t)
    return np.where(e <= delta, 0.5 * e ** 2, delta * (e - 0.5 * delta)).mean(-1)


def ref_log_cosh(t, p):
    return np.log(np.cosh(p - t)).mean(-1)


def ref_kld(t, p):
    t, p = np.clip(t, EPS, 1), np.clip(p, EPS, 1)
    return (t * (np.log(t) - np.log(p))).sum(-1)


def ref_poisson(t, p):
    return (p - t * np.log(p + EPS)).mean(-1)


def _signed(t):
    return 2 * t - 1 if np.isin(t, (0.0, 1.0)).all() else t


def ref_hinge(t, p):
    margin = 1 - _signed(t) * p
    return (margin * (margin > 0)).mean(-1)


def ref_squared_hinge(t, p):
    margin = 1 - _signed(t) * p
    return ((margin * (margin > 0)) ** 2).mean(-1)


def ref_categorical_hinge(t, p):
    pos = (t * p).sum(-1)
    neg = ((1 - t) * p).max(-1)
    return np.maximum(neg - pos + 1, 0)


def ref_cosine(t, p, axis=-1):
    nt = t / np.maximum(np.linalg.norm(t, axis=axis, keepdims=True), EPS)
    np_ = p / np.maximum(np.linalg.norm(p, axis=axis, keepdims=True), EPS)
    return -(nt * np_).sum(axis=axis)


def ref_bce(t, p, from_logits=False, label_smoothing=0.0, axis=-1):
    t = t * (1 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        per = ref_sigmoid_ce(p, t)
    else:
        q = np.clip(p, EPS, 1 - EPS)
        per = -(t * np.log(q) + (1 - t) * np.log(1 - q))
    return per.mean(axis=axis)


def ref_cce(t, p, from_logits=False, label_smoothing=0.0, axis=-1):
    t = t * (1 - label_smoothing) + label_smoothing / p.shape[axis]
    if from_logits:
        return ref_softmax_ce(p, t, axis)
    q = np.clip(p / p.sum(axis=axis, keepdims=True), EPS, 1 - EPS)
    return -(t * np.log(q)).sum(axis=axis)


def ref_scce(labels, p, from_logits=False, ignore_class=None, axis=-1):
    labels = np.asarray(labels).astype(np.int64)
    if labels.ndim == p.ndim:
        labels = labels[..., 0]
    valid = np.ones(labels.shape, bool) if ignore_class is None else labels != ignore_class
    safe = np.where(valid, labels, 0)
    hot = np.moveaxis(np.eye(p.shape[axis])[safe], -1, axis)
    return np.where(valid, ref_cce(hot, p, from_logits, 0.0, axis), 0.0)


# ----------------------------------------------------------------------------- draws
def draw_regression(d, low=-2.0, high=2.0, apart=False, shape=None):
    shape = shape or batch_shape(d)
    t, p = values(d, shape, low, high), values(d, shape, low, high)
    return t, (_apart(p, t) if apart else p)


def draw_positive(d):
    return draw_regression(d, 0.05, 3.0)


def draw_mape(d):
    shape = batch_shape(d)
    t = values(d, shape, 0.3, 2.0) * np.where(_seed(d).random(shape) < 0.5, -1, 1)
    return t, _apart(values(d, shape, -2.0, 2.0), t)


def draw_huber(d):
    t, p = draw_regression(d, -2.0, 2.0)
    e = np.abs(p - t)
    return t, np.where(np.abs(e - 1.0) < 0.05, p + 0.2, p)


def draw_probabilities(d):
    shape = batch_shape(d)
    return values(d, shape, 0.05, 0.95), values(d, shape, 0.05, 0.95)


def draw_hinge(d):
    shape = batch_shape(d)
    t = np.where(_seed(d).random(shape) < 0.5, -1.0, 1.0)
    t.flat[0] = -1.0   # not all in {0, 1}: the labels are used as they are
    p = values(d, shape, -2.0, 2.0)
    return t, np.where(np.abs(np.abs(p) - 1) < 0.05, p * 1.2, p)


def draw_binary_labels(d):
    shape = batch_shape(d)
    return (_seed(d).random(shape) < 0.5).astype(np.float64), values(d, shape, 0.05, 0.95)


def draw_bce_logits(d):
    shape = batch_shape(d)
    return (_seed(d).random(shape) < 0.5).astype(np.float64), values(d, shape, -4.0, 4.0)


def _one_hot(d, shape):
    labels = _seed(d).integers(0, shape[-1], size=shape[:-1])
    return np.eye(shape[-1])[labels]


def draw_one_hot_probs(d):
    shape = class_shape(d)
    return _one_hot(d, shape), values(d, shape, 0.05, 1.0)


def draw_one_hot_logits(d):
    shape = class_shape(d)
    return _one_hot(d, shape), values(d, shape, -4.0, 4.0)


def draw_categorical_hinge(d):
    shape = class_shape(d)
    t = _one_hot(d, shape)
    p = values(d, shape, -2.0, 2.0)
    margin = ((1 - t) * p).max(-1) - (t * p).sum(-1) + 1
    return t, p + 0.3 * t * (np.abs(margin) < 0.05)[..., None]


def draw_sparse_probs(d):
    shape = class_shape(d)
    return _seed(d).integers(0, shape[-1], size=shape[:-1]).astype(np.int32), \
        values(d, shape, 0.05, 1.0)


def draw_sparse_logits(d):
    shape = class_shape(d)
    return _seed(d).integers(0, shape[-1], size=shape[:-1]).astype(np.int32), \
        values(d, shape, -4.0, 4.0)


def draw_cosine(d):
    shape = batch_shape(d)
    return values(d, shape, -2.0, 2.0, avoid=0.0), values(d, shape, -2.0, 2.0, avoid=0.0)


# ----------------------------------------------------------------------------- specs
@dataclass
class Spec:
    name: str                  # a unique id
    cls: type                  # the Loss class
    fn: Callable               # the loss function
    ref: Callable              # NumPy per-sample reference (y_true, y_pred) -> array
    draw: Callable             # (draw) -> (y_true, y_pred) numpy arrays
    kwargs: dict = field(default_factory=dict)   # class and function keyword arguments
    sparse: bool = False       # y_true holds integer labels (not differentiated)
    second: bool = False       # a smooth loss: check second derivatives too
    grad: bool = True          # False where the loss is not continuous in y_true


SPECS = [
    Spec("mean_squared_error", losses.MeanSquaredError, losses.mean_squared_error, ref_mse,
         draw_regression, second=True),
    Spec("mean_absolute_error", losses.MeanAbsoluteError, losses.mean_absolute_error, ref_mae,
         lambda d: draw_regression(d, apart=True)),
    Spec("mean_absolute_percentage_error", losses.MeanAbsolutePercentageError,
         losses.mean_absolute_percentage_error, ref_mape, draw_mape),
    Spec("mean_squared_logarithmic_error", losses.MeanSquaredLogarithmicError,
         losses.mean_squared_logarithmic_error, ref_msle, draw_positive),
    Spec("huber", losses.Huber, losses.huber, ref_huber, draw_huber),
    Spec("huber_delta", losses.Huber, losses.huber, lambda t, p: ref_huber(t, p, 0.5),
         lambda d: draw_regression(d, apart=True), kwargs={"delta": 0.5}),
    Spec("log_cosh", losses.LogCosh, losses.log_cosh, ref_log_cosh, draw_regression,
         second=True),
    Spec("kl_divergence", losses.KLDivergence, losses.kl_divergence, ref_kld,
         draw_probabilities, second=True),
    Spec("poisson", losses.Poisson, losses.poisson, ref_poisson, draw_positive, second=True),
    Spec("hinge", losses.Hinge, losses.hinge, ref_hinge, draw_hinge),
    Spec("hinge_binary_labels", losses.Hinge, losses.hinge, ref_hinge, draw_binary_labels,
         grad=False),
    Spec("squared_hinge", losses.SquaredHinge, losses.squared_hinge, ref_squared_hinge,
         draw_hinge),
    Spec("categorical_hinge", losses.CategoricalHinge, losses.categorical_hinge,
         ref_categorical_hinge, draw_categorical_hinge),
    Spec("cosine_similarity", losses.CosineSimilarity, losses.cosine_similarity, ref_cosine,
         draw_cosine, second=True),
    Spec("binary_crossentropy", losses.BinaryCrossentropy, losses.binary_crossentropy, ref_bce,
         draw_binary_labels, second=True),
    Spec("binary_crossentropy_smoothed", losses.BinaryCrossentropy, losses.binary_crossentropy,
         lambda t, p: ref_bce(t, p, label_smoothing=0.2), draw_binary_labels,
         kwargs={"label_smoothing": 0.2}),
    Spec("binary_crossentropy_logits", losses.BinaryCrossentropy, losses.binary_crossentropy,
         lambda t, p: ref_bce(t, p, from_logits=True), draw_bce_logits,
         kwargs={"from_logits": True}, second=True),
    Spec("categorical_crossentropy", losses.CategoricalCrossentropy,
         losses.categorical_crossentropy, ref_cce, draw_one_hot_probs, second=True),
    Spec("categorical_crossentropy_logits", losses.CategoricalCrossentropy,
         losses.categorical_crossentropy, lambda t, p: ref_cce(t, p, from_logits=True),
         draw_one_hot_logits, kwargs={"from_logits": True}, second=True),
    Spec("categorical_crossentropy_smoothed", losses.CategoricalCrossentropy,
         losses.categorical_crossentropy,
         lambda t, p: ref_cce(t, p, from_logits=True, label_smoothing=0.1),
         draw_one_hot_logits, kwargs={"from_logits": True, "label_smoothing": 0.1}),
    Spec("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy,
         losses.sparse_categorical_crossentropy, ref_scce, draw_sparse_probs, sparse=True,
         second=True),
    Spec("sparse_categorical_crossentropy_logits", losses.SparseCategoricalCrossentropy,
         losses.sparse_categorical_crossentropy, lambda t, p: ref_scce(t, p, from_logits=True),
         draw_sparse_logits, kwargs={"from_logits": True}, sparse=True, second=True),
]


def _loss_case(spec):
    def fn(t, p):
        return spec.fn(t, p, **spec.kwargs)

    def draw(d):
        t, p = spec.draw(d)
        return [t, p]
    return Case("loss_" + spec.name, fn, spec.ref, draw, covers=(), ops=(),
                grad=spec.grad, second=spec.second)


# ----------------------------------------------------------------------------- fused Functions
def _logits_and_targets(low, high):
    def draw(d):
        shape = d(shapes(min_dims=1, max_dims=3))
        return [values(d, shape, low, high), values(d, shape, 0.0, 1.0)]
    return draw


def _logits_and_soft_targets(low=-4.0, high=4.0):
    """Logits, non-negative targets that need not sum to 1 (the general gradient), and an
    axis."""
    def draw(d):
        shape = d(shapes(min_dims=1, max_dims=3))
        axis = d(st.integers(-len(shape), len(shape) - 1))
        return [values(d, shape, low, high), values(d, shape, 0.0, 1.0), axis]
    return draw


def _logits_and_labels(low=-4.0, high=4.0):
    def draw(d):
        shape = d(shapes(min_dims=1, max_dims=3))
        axis = d(st.integers(-len(shape), len(shape) - 1))
        rest = tuple(n for i, n in enumerate(shape) if i != axis % len(shape))
        labels = _seed(d).integers(0, shape[axis], size=rest).astype(np.int32)
        return [values(d, shape, low, high), labels, axis]
    return draw


def _int(axis):
    return int(axis.numpy()) if hasattr(axis, "numpy") else int(axis)


def _softmax_ce(x, t, axis):
    axis = _int(axis)
    return SoftmaxCrossEntropy(axis % x.ndim)(x, t)


def _sparse_softmax_ce(x, labels, axis):
    axis = _int(axis)
    return SparseSoftmaxCrossEntropy(axis % x.ndim)(x, labels)


def _sparse_softmax_ce_mean(x, labels, axis):
    axis = _int(axis)
    return SparseSoftmaxCrossEntropy(axis % x.ndim, mean=True)(x, labels)


CASES = [
    Case("sparse_softmax_cross_entropy_mean", _sparse_softmax_ce_mean,
         lambda x, k, axis: np.mean(ref_sparse_ce_logits(k, x, axis)), _logits_and_labels(),
         ("SparseSoftmaxCrossEntropy",), ops=(), second=True),
    Case("sigmoid_cross_entropy", lambda x, z: SigmoidCrossEntropy()(x, z), ref_sigmoid_ce,
         _logits_and_targets(-6.0, 6.0), ("SigmoidCrossEntropy",), ops=(), second=True),
    Case("sigmoid_cross_entropy_large", lambda x, z: SigmoidCrossEntropy()(x, z),
         ref_sigmoid_ce, _logits_and_targets(-1000.0, 1000.0), ("SigmoidCrossEntropy",),
         ops=(), grad=False),
    Case("softmax_cross_entropy", _softmax_ce, lambda x, t, axis: ref_softmax_ce(x, t, axis),
         _logits_and_soft_targets(), ("SoftmaxCrossEntropy",), ops=(), second=True),
    Case("softmax_cross_entropy_large", _softmax_ce,
         lambda x, t, axis: ref_softmax_ce(x, t, axis), _logits_and_soft_targets(-900.0, 900.0),
         ("SoftmaxCrossEntropy",), ops=(), grad=False),
    Case("sparse_softmax_cross_entropy", _sparse_softmax_ce,
         lambda x, k, axis: ref_sparse_ce_logits(k, x, axis), _logits_and_labels(),
         ("SparseSoftmaxCrossEntropy",), ops=(), second=True),
    Case("sparse_softmax_cross_entropy_large", _sparse_softmax_ce,
         lambda x, k, axis: ref_sparse_ce_logits(k, x, axis), _logits_and_labels(-900.0, 900.0),
         ("SparseSoftmaxCrossEntropy",), ops=(), grad=False),
] + [_loss_case(spec) for spec in SPECS]
