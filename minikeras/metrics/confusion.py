"""The metrics computed from confusion counts at thresholds: the weighted counts
themselves (:class:`TruePositives`, :class:`FalsePositives`, :class:`TrueNegatives`,
:class:`FalseNegatives`), :class:`Precision`, :class:`Recall` and :class:`AUC`, all
accumulated by :func:`update_confusion_matrix_variables`."""
import numpy as np

from .. import backend, ops
from ..losses import squeeze_or_expand_to_same_rank
from .base import Metric, _array, _divide_no_nan, _scalar, _wrap

NEG_INF = -1e10  # the "threshold" of Precision/Recall with top_k: every kept score is above


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
