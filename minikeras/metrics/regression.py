"""The regression metrics: the running means of the regression losses
(:class:`MeanSquaredError`, :class:`MeanAbsoluteError`, ..., :class:`CosineSimilarity`),
:class:`RootMeanSquaredError` and :class:`R2Score`."""
import warnings

import numpy as np

from .. import backend, ops
from .. import losses as _losses
from ..losses import squeeze_or_expand_to_same_rank
from .base import Mean, MeanMetricWrapper, Metric, _array, _scalar, _wrap


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
