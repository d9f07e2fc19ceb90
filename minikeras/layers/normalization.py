"""Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization.

All three compute x̂ = (x - μ) / √(σ² + ε) and then ``x̂ · gamma + beta``; they differ in
*which* elements share one μ and σ²:

* BatchNormalization: one pair per channel, over the batch (and every other axis but the
  channel axis); at inference it uses moving averages of those statistics instead;
* LayerNormalization: one pair per sample, over the feature axis (or axes);
* GroupNormalization: one pair per sample and group of channels.

With the batch's own statistics they all use the fused ``standardize`` op
(ops/normalization.py; LayerNormalization through ``ops.layer_normalization``), whose
backward is the classic one-line formula.
"""
import math

import numpy as np

from .. import backend, constraints, initializers, ops, regularizers
from ..ops.normalization import standardize, standardize_with_stats
from ..tensor import Tensor
from .layer import Layer
from .structure import format_shape

__all__ = ["BatchNormalization", "LayerNormalization", "GroupNormalization"]

_MASK_EPSILON = 1e-7  # keras.config.epsilon(): keeps the masked mean finite when all is masked


def _serialize(module, obj):
    """An initializer/regularizer/constraint for get_config: Keras's dict, or the name or
    callable it was given when it has no config."""
    if obj is None or isinstance(obj, str) or not hasattr(obj, "get_config"):
        return obj
    return module.serialize(obj)


def _along(w, broadcast_shape):
    """``w`` reshaped to ``broadcast_shape`` (its sizes on their axes, 1 elsewhere); as it is
    when it already broadcasts that way (it holds the trailing axes)."""
    lead = len(broadcast_shape) - w.ndim
    if lead >= 0 and all(n == 1 for n in broadcast_shape[:lead]) and (
            tuple(broadcast_shape[lead:]) == tuple(w.shape)):
        return w
    return ops.reshape(w, broadcast_shape)


class _Normalization(Layer):
    """What the three layers share: the gamma/beta arguments, their weights and config."""

    _supports_masking = True

    def __init__(self, epsilon, center, scale, beta_initializer, gamma_initializer,
                 beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint,
                 **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.gamma = self.beta = None

    def _axis_error(self, axis, input_shape):
        return ValueError(f"Layer \"{self.name}\": axis {axis} is out of bounds for input shape "
                          f"{format_shape(input_shape)} (valid axes: {-len(input_shape)} to "
                          f"{len(input_shape) - 1}). Received: axis={self.axis}")

    def _normalize_axis(self, axis, input_shape):
        """``axis`` as a non-negative int, its size known, or an error naming the layer."""
        rank = len(input_shape)
        if not -rank <= axis < rank:
            raise self._axis_error(axis, input_shape)
        axis = axis % rank
        if input_shape[axis] is None:
            raise ValueError(f"Layer \"{self.name}\": axis {axis} of the input must have a known "
                             f"size to build the layer; got input shape {format_shape(input_shape)}.")
        return axis

    def _add_gamma_beta(self, shape, gamma=None, beta=None):
        gamma = self.scale if gamma is None else gamma
        beta = self.center if beta is None else beta
        if gamma:
            self.gamma = self.add_weight(shape, self.gamma_initializer, name="gamma",
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        if beta:
            self.beta = self.add_weight(shape, self.beta_initializer, name="beta",
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)

    @staticmethod
    def _affine(y, broadcast_shape, gamma, beta):
        """y · gamma + beta (either may be None), both broadcast along their axes."""
        if gamma is not None:
            y = y * _along(gamma, broadcast_shape)
        if beta is not None:
            y = y + _along(beta, broadcast_shape)
        return y

    def compute_output_shape(self, input_shape):
        for a in (self.axis if isinstance(self.axis, list) else [self.axis]):
            if not -len(input_shape) <= a < len(input_shape):
                raise self._axis_error(a, input_shape)
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            epsilon=self.epsilon, center=self.center, scale=self.scale,
            beta_initializer=_serialize(initializers, self.beta_initializer),
            gamma_initializer=_serialize(initializers, self.gamma_initializer),
            beta_regularizer=_serialize(regularizers, self.beta_regularizer),
            gamma_regularizer=_serialize(regularizers, self.gamma_regularizer),
            beta_constraint=_serialize(constraints, self.beta_constraint),
            gamma_constraint=_serialize(constraints, self.gamma_constraint))
        return config


# --------------------------------------------------------------------------- BatchNormalization
class BatchNormalization(_Normalization):
    """Normalizes each channel (the ``axis``) with the statistics of the batch in training
    and with their moving averages at inference.

    Training (``training=True`` and ``layer.trainable``): y = (x - μ_B)/√(σ²_B + ε)·γ + β,
    μ_B and σ²_B (biased) taken over every axis but ``axis``; then, outside the tape,
    ``moving = moving·momentum + batch_stat·(1 - momentum)`` for the mean and the variance.
    Inference (``training`` falsy, **or** ``layer.trainable = False``, as in Keras 3):
    y = (x - moving_mean)/√(moving_variance + ε)·γ + β.

    Weights: gamma, beta (trainable), then moving_mean, moving_variance (non-trainable), all
    of shape (channels,). A ``mask`` (True = a real step, shape = the input's without the
    channel axis) restricts the batch statistics to the unmasked positions.
    ``synchronized`` (statistics across devices) changes nothing on minikeras's one device.

    ``renorm=True`` is batch renormalization (Ioffe, 2017): in training the normalized
    values are corrected towards what the moving statistics would give,
    x̂·r + d with r = σ_B/σ_R and d = (μ_B - μ_R)/σ_R (constants for the gradient, clipped by
    ``renorm_clipping``'s rmin, rmax, dmax), where μ_R, σ_R are moving averages with
    ``renorm_momentum``. It adds the non-trainable weights moving_stddev, renorm_mean and
    renorm_stddev; inference is unchanged.
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=0.001, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, renorm=False,
                 renorm_clipping=None, renorm_momentum=0.99, **kwargs):
        super().__init__(epsilon, center, scale, beta_initializer, gamma_initializer,
                         beta_regularizer, gamma_regularizer, beta_constraint,
                         gamma_constraint, **kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"BatchNormalization: `axis` must be an int (the channel axis), "
                            f"got {axis!r}. (LayerNormalization accepts a list of axes.)")
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.synchronized = bool(synchronized)
        self.renorm = bool(renorm)
        if self.renorm:
            renorm_clipping = dict(renorm_clipping or {})
            _check_clipping(renorm_clipping)
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = float(renorm_momentum)

    def build(self, input_shape):
        axis = self._normalize_axis(self.axis, input_shape)
        channels = input_shape[axis]
        self._add_gamma_beta((channels,))
        self.moving_mean = self.add_weight((channels,), self.moving_mean_initializer,
                                           trainable=False, name="moving_mean")
        self.moving_variance = self.add_weight((channels,), self.moving_variance_initializer,
                                               trainable=False, name="moving_variance")
        if self.renorm:
            def stddev_init(shape, dtype=None):  # √ of what the variance starts at
                start = self.moving_variance_initializer(shape, dtype=dtype)
                return ops.sqrt(ops.convert_to_tensor(start, dtype=dtype))
            self.moving_stddev = self.add_weight((channels,), stddev_init, trainable=False,
                                                 name="moving_stddev")
            self.renorm_mean = self.add_weight((channels,), self.moving_mean_initializer,
                                               trainable=False, name="renorm_mean")
            self.renorm_stddev = self.add_weight((channels,), stddev_init, trainable=False,
                                                 name="renorm_stddev")
        self._axis = axis
        self._reduction_axes = tuple(i for i in range(len(input_shape)) if i != axis)
        self.input_spec_shape = tuple(channels if i == axis else None
                                      for i in range(len(input_shape)))
        self.built = True

    def call(self, inputs, training=None, mask=None):
        if mask is not None:
            mask = ops.convert_to_tensor(mask)
            if mask.ndim != inputs.ndim - 1:
                raise ValueError(f"Layer \"{self.name}\": the mask provided should be one "
                                 "dimension less than the inputs. Received: "
                                 f"mask.shape={format_shape(mask.shape)}, "
                                 f"inputs.shape={format_shape(inputs.shape)}")
        gamma, beta = self.gamma, self.beta
        if not (training and self.trainable):
            return ops.batch_normalization(inputs, self.moving_mean, self.moving_variance,
                                           self._axis, offset=beta, scale=gamma,
                                           epsilon=self.epsilon)
        channels = inputs.shape[self._axis]
        if mask is None:
            y, mean, variance = standardize_with_stats(inputs, self._reduction_axes,
                                                       self.epsilon)
            broadcast = mean.shape
            mean, variance = mean.reshape(channels), variance.reshape(channels)
        else:
            mean_t, var_t = self._masked_moments(inputs, mask)
            mean, variance = mean_t.data, var_t.data
        if self.renorm:
            gamma, beta = self._renorm_transform(mean, variance, gamma, beta)
            self._update_renorm(mean, variance)
        else:
            self._update(self.moving_mean, mean, self.momentum)
            self._update(self.moving_variance, variance, self.momentum)
        if mask is None:
            return self._affine(y, broadcast, gamma, beta)
        return ops.batch_normalization(inputs, mean_t, var_t, self._axis, offset=beta,
                                       scale=gamma, epsilon=self.epsilon)

    def _masked_moments(self, inputs, mask):
        """The mean and biased variance over the unmasked positions, per channel (Tensors
        of shape (channels,), on the tape: the output depends on x through them too)."""
        w = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
        axes = self._reduction_axes
        count = ops.sum(w, axis=axes, keepdims=True) + _MASK_EPSILON
        mean = ops.sum(w * inputs, axis=axes, keepdims=True) / count
        variance = ops.sum(w * ops.square(inputs - mean), axis=axes, keepdims=True) / count
        channels = inputs.shape[self._axis]
        return ops.reshape(mean, (channels,)), ops.reshape(variance, (channels,))

    @staticmethod
    def _update(moving, stat, momentum):
        """moving = moving·momentum + stat·(1 - momentum), in place, on the arrays: a state
        update, not part of what is differentiated."""
        stat = stat.astype(moving.dtype, copy=False)
        moving.assign(moving.data * momentum + stat * (1.0 - momentum))

    # ---------------------------------------------------------------- batch renormalization
    def _renorm_transform(self, mean, variance, gamma, beta):
        """γ' = r·γ and β' = d·γ + β, so that x̂·γ' + β' = (x̂·r + d)·γ + β; r and d are
        arrays (constants: no gradient flows through them, as in the paper)."""
        xp = backend.xp
        stddev = xp.sqrt(variance + self.epsilon)
        # σ_R bounded below by √ε so that the first steps never divide by ~0
        renorm_stddev = xp.maximum(self.renorm_stddev.data, math.sqrt(self.epsilon))
        r = stddev / renorm_stddev
        d = (mean - self.renorm_mean.data) / renorm_stddev
        clip = self.renorm_clipping
        if clip.get("rmin") is not None:
            r = xp.maximum(r, clip["rmin"])
        if clip.get("rmax") is not None:
            r = xp.minimum(r, clip["rmax"])
        if clip.get("dmax") is not None:
            d = xp.clip(d, -clip["dmax"], clip["dmax"])
        r, d = Tensor._wrap(r.astype(mean.dtype)), Tensor._wrap(d.astype(mean.dtype))
        new_gamma = r if gamma is None else r * gamma
        new_beta = d if gamma is None else d * gamma
        return new_gamma, (new_beta if beta is None else new_beta + beta)

    def _update_renorm(self, mean, variance):
        """μ_R, σ_R with renorm_momentum; the inference statistics with momentum, the
        variance kept as a standard deviation and squared back (never below 0)."""
        xp = backend.xp
        stddev = xp.sqrt(variance + self.epsilon)
        self._update(self.renorm_mean, mean, self.renorm_momentum)
        self._update(self.renorm_stddev, stddev, self.renorm_momentum)
        self._update(self.moving_mean, mean, self.momentum)
        self._update(self.moving_stddev, stddev, self.momentum)
        s = self.moving_stddev.data
        self.moving_variance.assign(xp.maximum(s * s - self.epsilon, 0.0).astype(s.dtype))

    def get_config(self):
        config = super().get_config()
        config.update(
            axis=self.axis, momentum=self.momentum,
            moving_mean_initializer=_serialize(initializers, self.moving_mean_initializer),
            moving_variance_initializer=_serialize(initializers,
                                                   self.moving_variance_initializer),
            synchronized=self.synchronized, renorm=self.renorm,
            renorm_clipping=self.renorm_clipping, renorm_momentum=self.renorm_momentum)
        return config


def _check_clipping(clipping):
    """renorm_clipping: only rmin, rmax, dmax, with rmin <= rmax and dmax >= 0."""
    keys = ["rmax", "rmin", "dmax"]
    if set(clipping) - set(keys):
        raise ValueError(f"Received invalid keys for `renorm_clipping` argument: {clipping}. "
                         f"Supported values: {keys}.")
    rmax, rmin, dmax = clipping.get("rmax"), clipping.get("rmin"), clipping.get("dmax")
    if rmax is not None and rmin is not None and rmax < rmin:
        raise ValueError("rmax should be greater than rmin in the `renorm_clipping` argument. "
                         f"Received: rmax={rmax}, rmin={rmin}.")
    if dmax is not None and dmax < 0:
        raise ValueError("dmax should be non-negative in the `renorm_clipping` argument. "
                         f"Received: dmax={dmax}.")


# --------------------------------------------------------------------------- LayerNormalization
class LayerNormalization(_Normalization):
    """Normalizes each sample over ``axis`` (an int or a list of ints, default the last):
    y = (x - μ)/√(σ² + ε)·γ + β, μ and σ² over those axes, γ and β of the shape of those
    axes. Training and inference compute the same thing.

    ``rms_scaling=True`` skips the centring, as Keras does: y = x/√(σ² + ε)·γ (σ² is still
    the variance about the mean, not the mean square: Keras keeps this for compatibility and
    points to ``ops.rms_normalization`` for the real RMS norm), with no beta, and gamma even
    if ``scale=False``.
    """

    def __init__(self, axis=-1, epsilon=0.001, center=True, scale=True, rms_scaling=False,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(epsilon, center, scale, beta_initializer, gamma_initializer,
                         beta_regularizer, gamma_regularizer, beta_constraint,
                         gamma_constraint, **kwargs)
        if isinstance(axis, (list, tuple)) and all(isinstance(a, (int, np.integer))
                                                   for a in axis):
            self.axis = [int(a) for a in axis]
        elif isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
            self.axis = int(axis)
        else:
            raise TypeError("Expected an int or a list/tuple of ints for the argument 'axis', "
                            f"but received: {axis!r}")
        self.rms_scaling = bool(rms_scaling)

    def build(self, input_shape):
        given = self.axis if isinstance(self.axis, list) else [self.axis]
        axes = [self._normalize_axis(a, input_shape) for a in given]
        if len(set(axes)) != len(axes):
            raise ValueError(f"Layer \"{self.name}\": repeated axis in axis={self.axis} for "
                             f"input shape {format_shape(input_shape)}.")
        # gamma/beta have the sizes of the axes in the order given, as in Keras.
        shape = tuple(input_shape[a] for a in axes)
        self._add_gamma_beta(shape, gamma=self.scale or self.rms_scaling,
                             beta=self.center and not self.rms_scaling)
        self._axes = tuple(sorted(axes))
        self.input_spec_shape = tuple(n if i in self._axes else None
                                      for i, n in enumerate(input_shape))
        self.built = True

    def call(self, inputs):
        return ops.layer_normalization(inputs, self.gamma, self.beta, axis=self._axes,
                                       epsilon=self.epsilon, rms_scaling=self.rms_scaling)

    def get_config(self):
        config = super().get_config()
        config.update(axis=self.axis, rms_scaling=self.rms_scaling)
        return config


# --------------------------------------------------------------------------- GroupNormalization
class GroupNormalization(_Normalization):
    """Splits the channels (``axis``) into ``groups`` groups of equal size and normalizes
    each sample and group over the group's channels and every other non-batch axis; then
    y·γ + β per channel. ``groups=1`` is a layer normalization over all non-batch axes
    (with per-channel γ, β); ``groups=-1`` (one channel per group) is instance normalization.
    """

    def __init__(self, groups=32, axis=-1, epsilon=0.001, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(epsilon, center, scale, beta_initializer, gamma_initializer,
                         beta_regularizer, gamma_regularizer, beta_constraint,
                         gamma_constraint, **kwargs)
        if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or not (
                groups >= 1 or groups == -1):
            raise ValueError("Received an invalid value for argument `groups`, expected a "
                             "positive integer (or `-1` for instance normalization). "
                             f"Received: groups={groups!r}")
        self.groups, self.axis = int(groups), int(axis)

    def build(self, input_shape):
        axis = self._normalize_axis(self.axis, input_shape)
        if axis == 0:
            raise ValueError(f"Layer \"{self.name}\": axis {self.axis} is the batch axis; "
                             "GroupNormalization needs the channel axis.")
        dim = input_shape[axis]
        if self.groups == -1:
            self.groups = dim
        if dim < self.groups:
            raise ValueError(f"Layer \"{self.name}\": number of groups ({self.groups}) cannot "
                             f"be more than the number of channels ({dim}); input shape "
                             f"{format_shape(input_shape)}.")
        if dim % self.groups:
            raise ValueError(f"Layer \"{self.name}\": the number of channels ({dim}) must be a "
                             f"multiple of the number of groups ({self.groups}); input shape "
                             f"{format_shape(input_shape)}.")
        self._add_gamma_beta((dim,))
        self._axis = axis
        self.input_spec_shape = tuple(dim if i == axis else None
                                      for i in range(len(input_shape)))
        self.built = True

    def call(self, inputs):
        shape, a = inputs.shape, self._axis
        # (..., channels, ...) -> (..., groups, channels per group, ...)
        grouped = shape[:a] + (self.groups, shape[a] // self.groups) + shape[a + 1:]
        axes = tuple(i for i in range(1, len(grouped)) if i != a)
        y = ops.reshape(standardize(ops.reshape(inputs, grouped), axes, self.epsilon), shape)
        return self._affine(y, tuple(n if i == a else 1 for i, n in enumerate(shape)),
                            self.gamma, self.beta)

    def get_config(self):
        config = super().get_config()
        config.update(groups=self.groups, axis=self.axis)
        return config
