"""Metrics: ``keras.metrics`` with Keras's names, defaults and numbers.

A metric accumulates over many batches. Its state lives in non-trainable
:class:`~minikeras.Variable` objects (``metric.variables``) that ``update_state`` changes in
place and ``reset_state`` sets back to zero; ``result()`` turns the state into the value
shown in the progress bar. For example :class:`Mean` keeps ``total`` (the weighted sum of
the values seen) and ``count`` (the sum of their weights), and its result is total / count:
the running mean over the epoch, not the mean of the batch means.

Nothing here is differentiated: ``update_state`` and ``result`` always run under
:func:`minikeras.no_grad` (the base class wraps them), so computing a metric inside a
``GradientTape`` adds nothing to the tape.

The files' parts, in order: the base class and the reductions (:class:`Mean`, :class:`Sum`,
:class:`MeanMetricWrapper`); the accuracies; the confusion-matrix metrics (Precision,
Recall, AUC, ...) and F-scores; the regression metrics; the metric versions of losses;
``get`` and :func:`resolve_accuracy`.
"""
import warnings

import numpy as np

from . import backend, ops
from . import losses as _losses
from .autograd import no_grad
from .losses import auto_name, squeeze_or_expand_to_same_rank, to_snake_case
from .tensor import Tensor, Variable

__all__ = [
    "Metric", "Mean", "Sum", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy",
    "CategoricalAccuracy", "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy", "Precision", "Recall", "TruePositives", "FalsePositives",
    "TrueNegatives", "FalseNegatives", "AUC", "FBetaScore", "F1Score", "MeanSquaredError",
    "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError",
    "RootMeanSquaredError", "LogCoshError", "CosineSimilarity", "R2Score",
    "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
    "KLDivergence", "Poisson", "Hinge", "SquaredHinge", "CategoricalHinge",
    "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "get", "get_metric",
    "resolve_accuracy", "update_confusion_matrix_variables",
]

NEG_INF = -1e10  # the "threshold" of Precision/Recall with top_k: every kept score is above


def _wrap(array):
    return Tensor._wrap(array)


def _array(x, dtype=None):
    """The backend array of x (a Tensor, an array, a list), cast to ``dtype``."""
    a = ops.convert_to_tensor(x).data
    return a if dtype is None else a.astype(dtype, copy=False)


def _divide_no_nan(a, b):
    """a / b on arrays, with 0 where b is 0."""
    xp = backend.xp
    zero = b == 0
    out = a / xp.where(zero, 1, b)
    return xp.where(zero, xp.zeros_like(out), out)


# =============================================================================== base class
class Metric:
    """The base class of metrics (``keras.metrics.Metric``).

    ``Metric(dtype=None, name=None)``. A subclass creates its state in ``__init__`` with
    ``self.add_variable(shape, initializer="zeros", name=...)``, adds to it in
    ``update_state(...)`` (``var.assign_add(...)``) and computes the value from it in
    ``result()``. ``metric(y_true, y_pred)`` updates and returns the result.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for method in ("update_state", "result"):
            if method in cls.__dict__:
                setattr(cls, method, no_grad()(cls.__dict__[method]))

    def __init__(self, dtype=None, name=None):
        self.name = name or auto_name(type(self).__name__)
        self._dtype = np.dtype(dtype or backend.floatx()).name
        self._variables = []
        self._metrics = []

    def __setattr__(self, key, value):
        # Metrics held as attributes contribute their variables (as Keras tracks them).
        if isinstance(value, Metric) and "_metrics" in self.__dict__:
            if not any(m is value for m in self._metrics):
                self._metrics.append(value)
        super().__setattr__(key, value)

    @property
    def dtype(self):
        return self._dtype

    def add_variable(self, shape, initializer="zeros", dtype=None, aggregation="sum", name=None):
        """A new non-trainable state Variable of ``shape``, tracked in ``self.variables``.
        ``initializer``: "zeros", "ones", a number, or a callable ``(shape, dtype)``."""
        if "_variables" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() in __init__ "
                               "before add_variable().")
        dtype = np.dtype(dtype or self.dtype).name
        shape = tuple(shape)
        if callable(initializer):
            value = initializer(shape, dtype)
        else:
            fill = {"zeros": 0.0, "ones": 1.0}.get(initializer, initializer)
            value = np.full(shape, fill, dtype=dtype)
        variable = Variable(value, dtype=dtype, trainable=False, name=name)
        variable.path = f"{self.name}/{name}"
        self._variables.append(variable)
        return variable

    add_weight = add_variable

    @property
    def variables(self):
        """The state Variables of this metric and of the metrics it holds."""
        out = list(self._variables)
        for m in self._metrics:
            out.extend(m.variables)
        return out

    def reset_state(self):
        """Set every state variable back to zero (called at the start of each epoch)."""
        for v in self.variables:
            v.assign(backend.xp.zeros(v.shape, dtype=v.dtype))

    def update_state(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__}.update_state is not implemented.")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__}.result is not implemented.")

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


# =============================================================================== reductions
def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype):
    """One value per sample (the first axis), weighted, as Keras's ``Mean`` sees them.

    The weights' ranks are aligned with the values'; axes of the values beyond the
    weights' are reduced with ``reduce_fn`` first, then the values are multiplied by the
    weights (broadcast), and finally everything past the first axis is reduced. Returns the
    values and the per-sample weights (None without weights).
    """
    values = ops.cast(ops.convert_to_tensor(values), dtype)
    if sample_weight is not None:
        sample_weight = ops.cast(ops.convert_to_tensor(sample_weight), dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        if values.ndim > sample_weight.ndim:
            values = reduce_fn(values, axis=tuple(range(sample_weight.ndim, values.ndim)))
        try:
            sample_weight = ops.broadcast_to(sample_weight, values.shape)
        except ValueError:
            raise ValueError(f"sample_weight of shape {tuple(sample_weight.shape)} does not "
                             f"match values of shape {tuple(values.shape)}.") from None
        values = values * sample_weight
        if sample_weight.ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=tuple(range(1, sample_weight.ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


class Sum(Metric):
    """The (weighted) sum of all values seen."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), name="total")

    def update_state(self, values, sample_weight=None):
        values, _ = reduce_to_samplewise_values(values, sample_weight, ops.sum, self.dtype)
        self.total.assign_add(ops.sum(values))

    def result(self):
        return _wrap(self.total.data.copy())


class Mean(Metric):
    """The (weighted) mean of all values seen: ``total / count`` with total = Σ w·v and
    count = Σ w (the number of samples without weights)."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), name="total")
        self.count = self.add_variable((), name="count")

    def update_state(self, values, sample_weight=None):
        values, sample_weight = reduce_to_samplewise_values(values, sample_weight, ops.mean,
                                                            self.dtype)
        self.total.assign_add(ops.sum(values))
        if sample_weight is not None:
            n = float(ops.sum(sample_weight))
        else:
            n = values.shape[0] if values.ndim >= 1 else 1
        self.count.assign_add(n)

    def result(self):
        return _wrap(_divide_no_nan(self.total.data, self.count.data))


class MeanMetricWrapper(Mean):
    """The running mean of ``fn(y_true, y_pred, **kwargs)`` (a loss function, an accuracy
    function, ...), one value per sample, weighted by ``sample_weight``."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype}
        if type(self) is MeanMetricWrapper:
            config["fn"] = getattr(self._fn, "__name__", self._fn)
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if cls is MeanMetricWrapper and isinstance(config.get("fn"), str):
            config["fn"] = _function(config["fn"])
        return cls(**config)


# =============================================================================== accuracy
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


# =============================================================================== confusion matrix
def _filter_top_k(x, k):
    """x with everything but the k largest entries of each row (last axis) set to NEG_INF."""
    xp = backend.xp
    top = xp.argsort(-x, axis=-1, kind="stable")[..., :k]
    keep = (top[..., None] == xp.arange(x.shape[-1])).any(axis=-2)
    return xp.where(keep, x, NEG_INF).astype(x.dtype)


def is_evenly_distributed_thresholds(thresholds):
    """True for thresholds 0, 1/(n-1), ..., 1 (within epsilon), n >= 3: Keras then clips the
    predictions to [0, 1] (its bucketed fast path), so minikeras does too."""
    t = np.asarray(thresholds, dtype=np.float64)
    if t.size < 3:
        return False
    return bool(np.allclose(t, np.arange(t.size) / (t.size - 1), atol=backend.epsilon()))


def update_confusion_matrix_variables(variables, y_true, y_pred, thresholds, top_k=None,
                                      class_id=None, sample_weight=None, multi_label=False,
                                      label_weights=None, evenly=False, what="metric"):
    """Add the weighted confusion counts at each threshold to ``variables``, a dict with
    some of the keys "tp", "fp", "tn", "fn".

    A prediction counts as positive at threshold t when ``y_pred > t`` (strictly); a label is
    positive when it is nonzero. Predictions and labels are flattened (or, with
    ``multi_label``, kept per label: the counts then have shape (thresholds, labels)).
    ``top_k`` keeps only the k best scores of each row as candidates; ``class_id`` looks at
    one column only.
    """
    xp = backend.xp
    dtype = next(iter(variables.values())).dtype
    y_true = ops.convert_to_tensor(_array(y_true, dtype))
    y_pred = ops.convert_to_tensor(_array(y_pred, dtype))
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    y_true, y_pred = y_true.data, y_pred.data
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{what}: y_true and y_pred must have the same shape; got y_true of "
                         f"shape {y_true.shape} and y_pred of shape {y_pred.shape}.")
    weights = None
    if sample_weight is not None:
        sw = ops.expand_dims(_array(sample_weight, dtype), -1)
        _, sw = squeeze_or_expand_to_same_rank(ops.convert_to_tensor(y_true), sw,
                                               expand_rank_1=False)
        weights = sw.data
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(f"{what}: when class_id is given, y_pred must have shape "
                             f"(num_samples, num_classes); got shape {y_pred.shape}.")
        y_true = y_true[..., class_id, None]
        y_pred = y_pred[..., class_id, None]
    if evenly:
        y_pred = xp.clip(y_pred, 0.0, 1.0)
    if weights is not None:
        try:
            weights = xp.broadcast_to(weights, y_pred.shape)
        except ValueError:
            raise ValueError(f"{what}: sample_weight of shape {weights.shape} does not "
                             f"broadcast to the predictions of shape {y_pred.shape}.") from None
    if label_weights is not None and not multi_label:
        lw = xp.broadcast_to(xp.asarray(label_weights, dtype=dtype), y_pred.shape)
        weights = lw if weights is None else weights * lw
    thresholds = xp.asarray(thresholds, dtype=dtype)
    if multi_label:      # (thresholds, samples, labels): count per label
        pred_pos = y_pred[None] > thresholds[:, None, None]
        label_pos = (y_true != 0)[None]
        w = None if weights is None else weights[None]
    else:                # (thresholds, everything flattened)
        pred_pos = y_pred.reshape(1, -1) > thresholds[:, None]
        label_pos = (y_true != 0).reshape(1, -1)
        w = None if weights is None else weights.reshape(1, -1)
    cells = {"tp": label_pos & pred_pos, "fp": ~label_pos & pred_pos,
             "tn": ~label_pos & ~pred_pos, "fn": label_pos & ~pred_pos}
    for key, variable in variables.items():
        hits = cells[key].astype(dtype)
        if w is not None:
            hits = hits * w
        variable.assign_add(hits.sum(axis=1))


def _check_thresholds(thresholds):
    values = [thresholds] if np.isscalar(thresholds) else list(thresholds)
    bad = [t for t in values if t is None or not 0 <= t <= 1]
    if bad:
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {bad}")
    return values


class _ConfusionCount(Metric):
    """TruePositives & co: one weighted count per threshold (default 0.5)."""

    _cell = None

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = [0.5] if thresholds is None else _check_thresholds(thresholds)
        self._evenly = is_evenly_distributed_thresholds(self.thresholds)
        self.accumulator = self.add_variable((len(self.thresholds),), name="accumulator")

    def update_state(self, y_true, y_pred, sample_weight=None):
        update_confusion_matrix_variables({self._cell: self.accumulator}, y_true, y_pred,
                                          self.thresholds, sample_weight=sample_weight,
                                          evenly=self._evenly, what=type(self).__name__)

    def result(self):
        value = self.accumulator.data.copy()
        return _wrap(value[0] if len(self.thresholds) == 1 else value)

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionCount):
    """The weighted number of true positives (label 1, y_pred > threshold)."""
    _cell = "tp"


class FalsePositives(_ConfusionCount):
    """The weighted number of false positives (label 0, y_pred > threshold)."""
    _cell = "fp"


class TrueNegatives(_ConfusionCount):
    """The weighted number of true negatives (label 0, y_pred <= threshold)."""
    _cell = "tn"


class FalseNegatives(_ConfusionCount):
    """The weighted number of false negatives (label 1, y_pred <= threshold)."""
    _cell = "fn"


class Precision(Metric):
    """TP / (TP + FP): of the predictions called positive (y_pred > threshold), the share
    that are. ``thresholds`` (default 0.5; a list gives one value per threshold),
    ``top_k`` (only the k best scores of each row can be positive), ``class_id`` (one
    column of a multi-class output)."""

    _other = ("fp", "false_positives")

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        if thresholds is None:
            self.thresholds = [0.5 if top_k is None else NEG_INF]
        else:
            self.thresholds = _check_thresholds(thresholds)
        self._evenly = is_evenly_distributed_thresholds(self.thresholds)
        n = len(self.thresholds)
        self.true_positives = self.add_variable((n,), name="true_positives")
        setattr(self, self._other[1], self.add_variable((n,), name=self._other[1]))

    def update_state(self, y_true, y_pred, sample_weight=None):
        update_confusion_matrix_variables(
            {"tp": self.true_positives, self._other[0]: getattr(self, self._other[1])},
            y_true, y_pred, self.thresholds, top_k=self.top_k, class_id=self.class_id,
            sample_weight=sample_weight, evenly=self._evenly, what=type(self).__name__)

    def result(self):
        tp = self.true_positives.data
        value = _divide_no_nan(tp, tp + getattr(self, self._other[1]).data)
        return _wrap(value[0] if len(self.thresholds) == 1 else value)

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}


class Recall(Precision):
    """TP / (TP + FN): of the true positives, the share predicted positive. Same
    arguments as :class:`Precision`."""

    _other = ("fn", "false_negatives")


class AUC(Metric):
    """Area under the ROC curve (``curve="ROC"``) or the precision-recall curve
    (``curve="PR"``), as Keras computes it: the confusion counts at ``num_thresholds``
    thresholds (0 - ε, 1/(n-1), ..., 1 + ε), then a Riemann sum between consecutive
    thresholds (``summation_method``: "interpolation" = trapezoids, "minoring",
    "majoring"). PR with interpolation uses Davis & Goadrich's interpolation.
    ``multi_label=True`` computes one AUC per label column and averages them
    (weighted by ``label_weights``); ``from_logits=True`` applies a sigmoid first.
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        super().__init__(name=name, dtype=dtype)
        self.curve = str(curve).upper()
        if self.curve not in ("ROC", "PR"):
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are '
                             '["PR", "ROC"]')
        self.summation_method = str(summation_method).lower()
        if self.summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". '
                             'Expected values are ["interpolation", "majoring", "minoring"]')
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(_check_thresholds(thresholds))
            self.num_thresholds = len(inner) + 2
            self._evenly = is_evenly_distributed_thresholds([0.0] + inner + [1.0])
        else:
            if num_thresholds <= 1:
                raise ValueError(f"Argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds}")
            self.num_thresholds = int(num_thresholds)
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._evenly = True
        eps = backend.epsilon()
        self._thresholds = np.array([0.0 - eps] + inner + [1.0 + eps])
        self.multi_label = bool(multi_label)
        self.num_labels = num_labels
        if label_weights is not None:
            label_weights = np.asarray(label_weights, dtype=self.dtype)
            if (label_weights < 0).any():
                raise ValueError(f"All values of `label_weights` must be non-negative. "
                                 f"Received: label_weights={label_weights.tolist()}")
        self.label_weights = label_weights
        self._from_logits = from_logits
        self._built = False
        if self.multi_label:
            if num_labels:
                self._build((None, num_labels))
        else:
            if num_labels:
                raise ValueError("`num_labels` is needed only when `multi_label` is True.")
            self._build(None)

    @property
    def thresholds(self):
        return list(self._thresholds)

    def _build(self, shape):
        if self.multi_label:
            if len(shape) != 2:
                raise ValueError(f"AUC(multi_label=True): y_pred must have rank 2 "
                                 f"(samples, labels); got shape {tuple(shape)}.")
            self.num_labels = int(shape[1])
            variable_shape = (self.num_thresholds, self.num_labels)
        else:
            variable_shape = (self.num_thresholds,)
        for name in ("true_positives", "false_positives", "true_negatives", "false_negatives"):
            setattr(self, name, self.add_variable(variable_shape, name=name))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self._built:
            self._build(tuple(ops.convert_to_tensor(y_pred).shape))
        if self._from_logits:
            y_pred = ops.sigmoid(ops.convert_to_tensor(y_pred))
        update_confusion_matrix_variables(
            {"tp": self.true_positives, "fp": self.false_positives,
             "tn": self.true_negatives, "fn": self.false_negatives},
            y_true, y_pred, self._thresholds, sample_weight=sample_weight,
            multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights,
            evenly=self._evenly, what="AUC")

    def _average(self, per_threshold):
        """Sum over thresholds; with multi_label, average the labels' areas."""
        if not self.multi_label:
            return per_threshold.sum()
        by_label = per_threshold.sum(axis=0)
        if self.label_weights is None:
            return by_label.mean()
        lw = backend.xp.asarray(self.label_weights)
        return _divide_no_nan((by_label * lw).sum(), lw.sum())

    def _interpolate_pr_auc(self):
        """PR-AUC by Davis & Goadrich (2006): between two thresholds precision is
        interpolated along the line of true positives against predicted positives, and the
        area of each piece integrated in closed form."""
        xp = backend.xp
        n = self.num_thresholds
        tp, fp, fn = self.true_positives.data, self.false_positives.data, self.false_negatives.data
        dtp = tp[:n - 1] - tp[1:]
        p = tp + fp
        dp = p[:n - 1] - p[1:]
        slope = _divide_no_nan(dtp, xp.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:n - 1] > 0) & (p[1:] > 0)
        ratio = xp.where(both, _divide_no_nan(p[:n - 1], xp.maximum(p[1:], 0)), 1.0)
        with np.errstate(divide="ignore"):
            log_ratio = xp.log(ratio)
        increment = _divide_no_nan(slope * (dtp + intercept * log_ratio),
                                   xp.maximum(tp[1:] + fn[1:], 0))
        return self._average(increment)

    def result(self):
        if self.curve == "PR" and self.summation_method == "interpolation":
            return _wrap(_scalar(self._interpolate_pr_auc(), self.dtype))
        xp = backend.xp
        n = self.num_thresholds
        tp, fp = self.true_positives.data, self.false_positives.data
        tn, fn = self.true_negatives.data, self.false_negatives.data
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, _divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:n - 1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = xp.minimum(y[:n - 1], y[1:])
        else:
            heights = xp.maximum(y[:n - 1], y[1:])
        return _wrap(_scalar(self._average((x[:n - 1] - x[1:]) * heights), self.dtype))

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        lw = self.label_weights
        config = {**super().get_config(), "num_thresholds": self.num_thresholds,
                  "curve": self.curve, "summation_method": self.summation_method,
                  "multi_label": self.multi_label, "num_labels": self.num_labels,
                  "label_weights": None if lw is None else lw.tolist(),
                  "from_logits": self._from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config


def _scalar(value, dtype):
    """A 0-d backend array of ``dtype``."""
    return backend.xp.asarray(value, dtype=dtype)


# =============================================================================== F-scores
class FBetaScore(Metric):
    """F-beta per class: (1 + β²)·P·R / (β²·P + R), from counts accumulated over batches.

    Inputs are ``(batch, num_classes)``. With ``threshold=None`` the largest score of each
    row is the predicted class; otherwise every score above ``threshold`` is. ``average``:
    None (one score per class), "micro" (counts pooled over classes), "macro" (mean of the
    classes' scores), "weighted" (mean weighted by the number of true labels per class).
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError("Invalid `average` argument value. Expected one of: {None, "
                             f"'micro', 'macro', 'weighted'}}. Received: average={average}")
        if not isinstance(beta, float):
            raise ValueError(f"Invalid `beta` argument value. It should be a Python float. "
                             f"Received: beta={beta} of type '{type(beta)}'")
        if beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be > 0. "
                             f"Received: beta={beta}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError(f"Invalid `threshold` argument value. It should be a Python "
                                 f"float. Received: threshold={threshold} of type "
                                 f"'{type(threshold)}'")
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError(f"Invalid `threshold` argument value. It should verify "
                                 f"0 < threshold <= 1. Received: threshold={threshold}")
        self.average, self.beta, self.threshold = average, beta, threshold
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, true_shape, pred_shape):
        if len(pred_shape) != 2 or len(true_shape) != 2:
            raise ValueError(f"{type(self).__name__} expects 2D inputs with shape (batch_size, "
                             f"output_dim). Received input shapes: y_pred.shape={pred_shape} "
                             f"and y_true.shape={true_shape}.")
        shape = () if self.average == "micro" else (pred_shape[-1],)
        for name in ("true_positives", "false_positives", "false_negatives",
                     "intermediate_weights"):
            setattr(self, name, self.add_variable(shape, name=name))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        xp = backend.xp
        y_true = _array(y_true, self.dtype)
        y_pred = _array(y_pred, self.dtype)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        if self.threshold is None:
            top = y_pred.max(axis=-1, keepdims=True)
            predicted = (y_pred >= top) & (xp.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.astype(self.dtype)
        w = None if sample_weight is None else _array(sample_weight, self.dtype).reshape(-1, 1)

        def weighted_sum(values):
            if w is not None:
                values = values * w
            return values.sum(axis=self.axis)

        self.true_positives.assign_add(weighted_sum(predicted * y_true))
        self.false_positives.assign_add(weighted_sum(predicted * (1 - y_true)))
        self.false_negatives.assign_add(weighted_sum((1 - predicted) * y_true))
        self.intermediate_weights.assign_add(weighted_sum(y_true))

    def result(self):
        if not self._built:
            return _wrap(_scalar(0.0, self.dtype))
        eps = backend.epsilon()
        tp, fp, fn = self.true_positives.data, self.false_positives.data, self.false_negatives.data
        precision = tp / (tp + fp + eps)
        recall = tp / (tp + fn + eps)
        b2 = self.beta ** 2
        score = (1 + b2) * (precision * recall) / (b2 * precision + recall + eps)
        if self.average == "weighted":
            weights = self.intermediate_weights.data
            score = (score * weights / (weights.sum() + eps)).sum()
        elif self.average is not None:
            score = score.mean()
        return _wrap(_scalar(score, self.dtype))

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta,
                "threshold": self.threshold}


class F1Score(FBetaScore):
    """F1 = 2·P·R / (P + R) per class: :class:`FBetaScore` with beta = 1."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config


# =============================================================================== regression
class MeanSquaredError(MeanMetricWrapper):
    """The running mean of mean((y_true - y_pred)²)."""

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(_losses.mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """The running mean of mean(|y_true - y_pred|)."""

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(_losses.mean_absolute_error, name=name, dtype=dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """The running mean of the mean absolute percentage error."""

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(_losses.mean_absolute_percentage_error, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """The running mean of the mean squared logarithmic error."""

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(_losses.mean_squared_logarithmic_error, name=name, dtype=dtype)


class LogCoshError(MeanMetricWrapper):
    """The running mean of log(cosh(y_pred - y_true))."""

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(_losses.log_cosh, name=name, dtype=dtype)


def _cosine(y_true, y_pred, axis=-1):
    return -_losses.cosine_similarity(y_true, y_pred, axis=axis)


class CosineSimilarity(MeanMetricWrapper):
    """The running mean of cos(y_true, y_pred) along ``axis`` (+1 for the same
    direction; note the loss of the same name is its negative)."""

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(_cosine, name=name, dtype=dtype, axis=axis)


class RootMeanSquaredError(Mean):
    """sqrt of the running mean of (y_pred - y_true)², over all elements seen."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.convert_to_tensor(y_true, dtype=self.dtype)
        y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        super().update_state(ops.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self):
        return _wrap(backend.xp.sqrt(super().result().data))


class R2Score(Metric):
    """The coefficient of determination 1 - SS_res / SS_tot per output column, from sums
    accumulated over batches. ``class_aggregation``: "uniform_average" (mean over the
    columns), "variance_weighted_average" (weighted by each column's SS_tot) or None (one
    score per column). ``num_regressors`` p > 0 gives the adjusted R²
    1 - (1 - R²)(n - 1)/(n - p - 1). Inputs are ``(batch, outputs)``."""

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score",
                 dtype=None):
        super().__init__(name=name, dtype=dtype)
        valid = (None, "uniform_average", "variance_weighted_average")
        if class_aggregation not in valid:
            raise ValueError(f"Invalid value for argument `class_aggregation`. Expected one of "
                             f"{valid}. Received: class_aggregation={class_aggregation}")
        if num_regressors < 0:
            raise ValueError(f"Invalid value for argument `num_regressors`. Expected a value "
                             f">= 0. Received: num_regressors={num_regressors}")
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.num_samples = self.add_variable((), name="num_samples")
        self._built = False

    def _build(self, true_shape, pred_shape):
        if len(pred_shape) != 2 or len(true_shape) != 2:
            raise ValueError(f"R2Score expects 2D inputs with shape (batch_size, output_dim). "
                             f"Received input shapes: y_pred.shape={pred_shape} and "
                             f"y_true.shape={true_shape}.")
        n = pred_shape[-1]
        self.squared_sum = self.add_variable((n,), name="squared_sum")
        self.sum = self.add_variable((n,), name="sum")
        self.total_mse = self.add_variable((n,), name="residual")
        self.count = self.add_variable((n,), name="count")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.convert_to_tensor(y_true, dtype=self.dtype)
        y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        y_true, y_pred = y_true.data, y_pred.data
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        w = backend.xp.asarray(1.0 if sample_weight is None else _array(sample_weight),
                               dtype=self.dtype)
        if w.ndim == 1:
            w = w[:, None]
        w = backend.xp.broadcast_to(w, y_true.shape)
        self.sum.assign_add((y_true * w).sum(axis=0))
        self.squared_sum.assign_add((y_true * y_true * w).sum(axis=0))
        self.total_mse.assign_add(((y_true - y_pred) ** 2 * w).sum(axis=0))
        self.count.assign_add(w.sum(axis=0))
        self.num_samples.assign_add(y_true.size)

    def result(self):
        xp = backend.xp
        if not self._built:
            return _wrap(_scalar(0.0, self.dtype))
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = self.sum.data / self.count.data
            total = self.squared_sum.data - self.sum.data * mean
            raw = 1 - self.total_mse.data / total
        raw = xp.where(xp.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score = raw.mean()
        elif self.class_aggregation == "variance_weighted_average":
            score = (total * raw).sum() / total.sum()
        else:
            score = raw
        if self.num_regressors:
            n, p = float(self.num_samples.data), float(self.num_regressors)
            if p > n - 1:
                warnings.warn("More independent predictors than datapoints in adjusted R2 "
                              "score. Falling back to standard R2 score.", stacklevel=2)
            elif p == n - 1:
                warnings.warn("Division by zero in Adjusted R2 score. Falling back to "
                              "standard R2 score.", stacklevel=2)
            else:
                score = 1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)
        return _wrap(xp.asarray(score, dtype=self.dtype))

    def get_config(self):
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}


# =============================================================================== losses as metrics
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


# =============================================================================== get
_CLASSES = (Mean, Sum, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
            TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, Precision, Recall,
            TruePositives, FalsePositives, TrueNegatives, FalseNegatives, AUC, FBetaScore,
            F1Score, MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
            MeanSquaredLogarithmicError, RootMeanSquaredError, LogCoshError, CosineSimilarity,
            R2Score, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
            KLDivergence, Poisson, Hinge, SquaredHinge, CategoricalHinge)
#: Every string ``get`` resolves: class names and their snake_case forms (a new object of
#: the class each time), and the aliases of Keras.
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS_DICT.update({to_snake_case(cls.__name__): cls for cls in _CLASSES})
ALL_OBJECTS_DICT.update({"bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
                         "mse": MeanSquaredError, "MSE": MeanSquaredError,
                         "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
                         "mape": MeanAbsolutePercentageError,
                         "MAPE": MeanAbsolutePercentageError,
                         "msle": MeanSquaredLogarithmicError,
                         "MSLE": MeanSquaredLogarithmicError})

_FUNCTIONS = {f.__name__: f for f in (accuracy, binary_accuracy, categorical_accuracy,
                                      sparse_categorical_accuracy, top_k_categorical_accuracy,
                                      sparse_top_k_categorical_accuracy)}


def _function(name):
    """A metric or loss function by name (for MeanMetricWrapper configs)."""
    if name in _FUNCTIONS:
        return _FUNCTIONS[name]
    fn = _losses.ALL_OBJECTS_DICT.get(name)
    if fn is None or isinstance(fn, type):
        raise ValueError(f"MeanMetricWrapper: unknown function {name!r}.")
    return fn


def get(identifier):
    """A metric from a string, a config dict, a class or a callable (``keras.metrics.get``).

    Strings name a class (``"AUC"``, ``"auc"``, ``"MeanSquaredError"``,
    ``"mean_squared_error"``, ``"mse"``, ...) and give a new object of it. As in Keras,
    ``"accuracy"`` is the class :class:`Accuracy` (exact equality of y_true and y_pred):
    the shape-dependent choice that ``compile(metrics=["accuracy"])`` makes is
    :func:`get_metric` / :func:`resolve_accuracy`. An unknown string raises a ValueError
    listing the valid names.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        classes = {cls.__name__: cls for cls in _CLASSES}
        name = identifier.get("class_name")
        if name not in classes:
            raise ValueError(_losses._unknown("metric class", name, list(classes)))
        return classes[name].from_config(identifier.get("config", {}))
    if isinstance(identifier, str):
        if identifier == "acc":
            raise ValueError("metrics.get('acc'): 'acc' is resolved from the shapes of y_true "
                             "and y_pred when a model is compiled; call "
                             "metrics.get_metric('acc', y_true_shape, y_pred_shape) (or "
                             "resolve_accuracy), or name the metric, e.g. "
                             "'sparse_categorical_accuracy'.")
        obj = ALL_OBJECTS_DICT.get(identifier)
        if obj is None:
            names = list(ALL_OBJECTS_DICT)
            raise ValueError(_losses._unknown("metric", identifier, names))
        return obj()
    if isinstance(identifier, type):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


def get_metric(identifier, y_true_shape=None, y_pred_shape=None):
    """The Metric object ``compile(metrics=[identifier])`` uses (Keras's
    ``compile_utils.get_metric``): ``"accuracy"``/``"acc"`` resolved from the shapes
    (:func:`resolve_accuracy`), other identifiers through :func:`get`, a plain function
    wrapped in a :class:`MeanMetricWrapper`. A string identifier becomes the metric's name
    (``metrics=["mse"]`` logs ``"mse"``)."""
    if identifier is None:
        return None
    if isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc"):
        if y_true_shape is None or y_pred_shape is None:
            raise ValueError(f"metrics=[{identifier!r}] is resolved from the shapes of y_true "
                             "and y_pred: pass y_true_shape and y_pred_shape.")
        return resolve_accuracy(y_true_shape, y_pred_shape, name=identifier)
    metric = get(identifier)
    if not isinstance(metric, Metric):
        metric = MeanMetricWrapper(metric, name=getattr(metric, "__name__", None))
    if isinstance(identifier, str):
        metric.name = identifier
    return metric


def resolve_accuracy(y_true_shape, y_pred_shape, name="accuracy"):
    """The accuracy metric ``compile(metrics=["accuracy"])`` means for these shapes, named
    ``name`` (Keras's rule, ``compile_utils.get_metric``):

    * y_pred has one unit (last axis 1): :class:`BinaryAccuracy`;
    * y_true has fewer axes than y_pred, or a last axis of 1 against several classes:
      :class:`SparseCategoricalAccuracy`;
    * otherwise (one-hot labels): :class:`CategoricalAccuracy`.
    """
    binary, sparse = _losses._binary_or_sparse(y_true_shape, y_pred_shape)
    if binary:
        return BinaryAccuracy(name=name)
    if sparse:
        return SparseCategoricalAccuracy(name=name)
    return CategoricalAccuracy(name=name)
