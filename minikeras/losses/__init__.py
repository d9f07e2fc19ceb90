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
fused, numerically stable Function (``fused.py``): their forward never computes
``exp`` of a large number and their backward is the short closed form (``softmax - onehot``,
``sigmoid - target``).

The code, in reading order: ``fused.py`` (the fused Functions), ``functions.py`` (the loss
functions and their numerics), ``reduction.py`` (sample weights and ``reduction``),
``classes.py`` (:class:`Loss` and the classes); this module adds the short aliases
(``mse``, ``bce``, ...) and the lookup by name (``get``, ``get_loss``, ``serialize``,
``deserialize``).
"""
import difflib

from .classes import (BinaryCrossentropy, CategoricalCrossentropy, CategoricalHinge,
                      CosineSimilarity, Hinge, Huber, KLDivergence, LogCosh, Loss,
                      LossFunctionWrapper, MeanAbsoluteError, MeanAbsolutePercentageError,
                      MeanSquaredError, MeanSquaredLogarithmicError, Poisson,
                      SparseCategoricalCrossentropy, SquaredHinge)
from .classes import auto_name, to_snake_case  # noqa: F401  (minikeras.metrics names with them)
from .functions import (binary_crossentropy, categorical_crossentropy, categorical_hinge,
                        cosine_similarity, hinge, huber, kl_divergence, log_cosh,
                        mean_absolute_error, mean_absolute_percentage_error,
                        mean_squared_error, mean_squared_logarithmic_error, poisson,
                        resolve_crossentropy, sparse_categorical_crossentropy, squared_hinge,
                        squeeze_or_expand_to_same_rank)
from .functions import _binary_or_sparse  # noqa: F401  (metrics.resolve_accuracy uses it)
from .fused import (SigmoidCrossEntropy, SoftmaxCrossEntropy,  # noqa: F401
                    SparseSoftmaxCrossEntropy)
from .reduction import (REDUCTIONS, apply_mask, reduce_values,  # noqa: F401
                        reduce_weighted_values, standardize_reduction)

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
