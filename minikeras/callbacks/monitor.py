"""``MonitorCallback``: the base of the callbacks that watch one value of the epoch logs
(``EarlyStopping``, ``ReduceLROnPlateau``, ``ModelCheckpoint``) and decide whether it improved.

Which way is "better" (``mode``):

* ``"min"`` / ``"max"``: lower / higher values are better;
* ``"auto"`` (Keras's rule): ``loss`` and ``val_loss`` are minimized; any other name is looked
  up, without its ``val_`` prefix, among the model's compiled metrics, and the metric says
  which way it improves (accuracies, AUC, precision... up; errors and cross-entropies down).
  A name found nowhere (or a metric with no direction, such as ``Mean``) is an error that
  asks for ``mode="min"`` or ``mode="max"``.

A value improves on the best so far when ``value - min_delta > best`` (``max``) or
``value + min_delta < best`` (``min``); the first value seen always does (``best`` starts at
``None``, or at the ``baseline`` given).
"""
import warnings

import numpy as np

from .base import Callback

# Keras marks each built-in metric with ``_direction``; minikeras's metrics are known by class.
_UP = {"Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
       "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "Precision", "Recall",
       "AUC", "FBetaScore", "F1Score", "R2Score", "CosineSimilarity", "IoU", "MeanIoU",
       "BinaryIoU", "OneHotIoU", "OneHotMeanIoU", "PrecisionAtRecall", "RecallAtPrecision",
       "SensitivityAtSpecificity", "SpecificityAtSensitivity", "PearsonCorrelation",
       "ConcordanceCorrelation"}
_DOWN = {"MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError",
         "MeanSquaredLogarithmicError", "RootMeanSquaredError", "LogCoshError",
         "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
         "KLDivergence", "Poisson", "Hinge", "SquaredHinge", "CategoricalHinge"}


def metric_direction(metric):
    """``"up"``, ``"down"`` or ``None`` (unknown) for a metric object."""
    direction = getattr(metric, "_direction", None)
    if direction in ("up", "down"):
        return direction
    for cls in type(metric).__mro__:
        if cls.__name__ in _UP:
            return "up"
        if cls.__name__ in _DOWN:
            return "down"
    return None


def compiled_metrics(model):
    """The metric objects ``compile`` built for ``model`` (empty before the first batch)."""
    entries = getattr(model, "_metrics", None) or []
    return [entry[1] if isinstance(entry, tuple) else entry for entry in entries]


class MonitorCallback(Callback):
    """Holds ``monitor``, ``mode``, ``best`` and ``min_delta`` and answers
    :meth:`_is_improvement`. The comparison is chosen on first use
    (:meth:`_set_monitor_op`), when the model's metrics exist."""

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto "
                          "mode.", stacklevel=3)
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _set_monitor_op(self):
        if self.mode == "min":
            op = np.less
        elif self.mode == "max":
            op = np.greater
        else:
            name = self.monitor.removeprefix("val_")
            op = np.less if name == "loss" or name.endswith("_loss") else None
            for metric in compiled_metrics(self.model):
                if getattr(metric, "name", None) == name and metric_direction(metric):
                    op = np.greater if metric_direction(metric) == "up" else np.less
            if op is None:
                raise ValueError(
                    f"{type(self).__name__} callback received monitor={self.monitor}, but "
                    "cannot tell whether that metric should be maximized or minimized (it is "
                    "not `loss` nor a compiled metric with a known direction). Pass "
                    "`mode='max'` in order to monitor based on the highest metric value, or "
                    "pass `mode='min'` in order to use the lowest value.")
        self.monitor_op = op
        if op is np.less:
            self.min_delta = -self.min_delta  # value + |min_delta| < best

    def _is_improvement(self, value, reference):
        if reference is None:
            return True
        if self.monitor_op is None:
            self._set_monitor_op()
        return bool(self.monitor_op(value - self.min_delta, reference))
