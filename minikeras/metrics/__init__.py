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

The code, in reading order: ``base.py`` (the base class and the reductions:
:class:`Mean`, :class:`Sum`, :class:`MeanMetricWrapper`); ``accuracy.py`` (the
accuracies); ``confusion.py`` (the confusion-matrix metrics: Precision, Recall, AUC, ...)
and ``fscore.py`` (F-scores); ``regression.py`` (the regression metrics);
``loss_metrics.py`` (the metric versions of losses); this module: ``get`` and
:func:`resolve_accuracy`.
"""
from .. import losses as _losses
from ..losses import to_snake_case
from .accuracy import (Accuracy, BinaryAccuracy, CategoricalAccuracy,
                       SparseCategoricalAccuracy, SparseTopKCategoricalAccuracy,
                       TopKCategoricalAccuracy, accuracy, binary_accuracy,
                       categorical_accuracy, sparse_categorical_accuracy,
                       sparse_top_k_categorical_accuracy, top_k_categorical_accuracy)
from . import base
from .base import Mean, MeanMetricWrapper, Metric, Sum
from .base import reduce_to_samplewise_values  # noqa: F401  (as before the split)
from .confusion import (AUC, FalseNegatives, FalsePositives, Precision, Recall,
                        TrueNegatives, TruePositives, update_confusion_matrix_variables)
from .confusion import NEG_INF, is_evenly_distributed_thresholds  # noqa: F401  (as before)
from .fscore import F1Score, FBetaScore
from .loss_metrics import (BinaryCrossentropy, CategoricalCrossentropy, CategoricalHinge,
                           Hinge, KLDivergence, Poisson, SparseCategoricalCrossentropy,
                           SquaredHinge)
from .regression import (CosineSimilarity, LogCoshError, MeanAbsoluteError,
                         MeanAbsolutePercentageError, MeanSquaredError,
                         MeanSquaredLogarithmicError, R2Score, RootMeanSquaredError)

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


base.WRAPPED_FUNCTIONS.update(
    {name: fn for name, fn in _losses.ALL_OBJECTS_DICT.items() if not isinstance(fn, type)})
base.WRAPPED_FUNCTIONS.update(_FUNCTIONS)


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
