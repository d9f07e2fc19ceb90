"""The loss classes: :class:`Loss` (convert the inputs, compute the per-sample losses, weight
and reduce them), :class:`LossFunctionWrapper` (a Loss around a loss function), the built-in
classes (``MeanSquaredError``, ``CategoricalCrossentropy``, ...: a fixed function and its
keyword arguments), and the default names that losses and metrics share
(:func:`auto_name`)."""
import inspect
import re

import numpy as np

from .. import backend, ops
from ..tensor import Tensor
from .functions import (binary_crossentropy, categorical_crossentropy, categorical_hinge,
                        cosine_similarity, hinge, huber, kl_divergence, log_cosh,
                        mean_absolute_error, mean_absolute_percentage_error,
                        mean_squared_error, mean_squared_logarithmic_error, poisson,
                        sparse_categorical_crossentropy, squared_hinge,
                        squeeze_or_expand_to_same_rank)
from .functions import _class_axis, _sparse_labels
from . import functions
from .fused import SparseSoftmaxCrossEntropy
from .reduction import reduce_weighted_values, standardize_reduction


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
def keras_mask_of(y_pred):
    """The mask a model output carries (``_keras_mask``: False at padded time steps), as a
    boolean array, or None."""
    mask = getattr(y_pred, "_keras_mask", None)
    return None if mask is None else backend.to_numpy(mask.data).astype(bool)


def _loss_function(name):
    """The function of ``functions.py`` called ``name`` (a config names it so)."""
    fn = vars(functions).get(name)
    if not inspect.isfunction(fn) or fn.__module__ != functions.__name__ or name[0] == "_":
        raise ValueError(f"LossFunctionWrapper: unknown loss function {name!r}; expected "
                         "the name of a loss function of keras.losses, such as "
                         "'mean_squared_error'.")
    return fn

class Loss:
    """The base class of losses (``keras.losses.Loss``).

    ``Loss(name=None, reduction="sum_over_batch_size", dtype=None)``. A subclass writes
    ``call(y_true, y_pred)``, returning the per-sample losses; ``__call__`` adds the rest:
    both inputs are converted to ``dtype`` (``floatx()``, float32, unless given), the
    per-sample losses are multiplied by ``sample_weight`` and reduced by ``reduction``. When
    ``y_pred`` carries a mask (the output of a masked sequence model), the padded steps get
    weight 0 and the mean reductions average over the real steps only, as in Keras:

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
        output_mask = keras_mask_of(y_pred)  # padded steps do not count (Keras)
        y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        y_true = ops.convert_to_tensor(y_true, dtype=self.dtype)
        losses = self.call(y_true, y_pred)
        mask = self._valid_mask(y_true, y_pred)
        if output_mask is not None:
            mask = output_mask if mask is None else (mask & output_mask)
        return reduce_weighted_values(losses, sample_weight=sample_weight, mask=mask,
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
            config["fn"] = _loss_function(config["fn"])
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

    def __call__(self, y_true, y_pred, sample_weight=None):
        if (self.from_logits and sample_weight is None and self.ignore_class is None
                and self.reduction == "sum_over_batch_size" and isinstance(y_pred, Tensor)
                and y_pred.dtype == self.dtype and y_pred.ndim >= 2
                and getattr(y_pred, "_keras_mask", None) is None):
            # A classifier's usual loss: the cross-entropies and their mean as one node,
            # the same numbers as the general path (Loss.__call__) computes in three.
            axis = _class_axis(self.axis, y_pred, "sparse_categorical_crossentropy")
            if y_pred.shape[axis] > 1:
                labels, _ = _sparse_labels(y_true, y_pred, axis, None)
                if labels.data.size:
                    return SparseSoftmaxCrossEntropy(axis, mean=True)(y_pred, labels)
        return super().__call__(y_true, y_pred, sample_weight)

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

