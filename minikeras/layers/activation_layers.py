"""Activation layers: ReLU, LeakyReLU, PReLU, ELU, Softmax.

Each is an activation function as a layer, with its options as constructor arguments
(``layers.LeakyReLU(negative_slope=0.1)``). Only PReLU has a weight: ``alpha``, the learned
slope for negative inputs, one per input position (``input_shape[1:]``) unless
``shared_axes`` makes positions share it.
"""
import warnings

from .. import activations, constraints, initializers, ops, regularizers
from .layer import Layer


class _ActivationLayer(Layer):
    """What the activation layers share: the output has the shape of the input, and the
    config holds the attributes named in ``_config_keys``, after the base ones. They all
    pass a mask on."""

    _supports_masking = True
    _config_keys = ()

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({key: getattr(self, key) for key in self._config_keys})
        return config


class ReLU(_ActivationLayer):
    """The rectified linear unit with Keras's options::

        f(x) = max_value                          for x >= max_value
        f(x) = x                                  for threshold < x < max_value
        f(x) = negative_slope · (x - threshold)   otherwise

    ``max_value=None`` means no upper limit; all three must be >= 0.
    """

    _config_keys = ("max_value", "negative_slope", "threshold")

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0.0:
            raise ValueError("max_value of a ReLU layer cannot be a negative value. Received: "
                             f"max_value={max_value}")
        if negative_slope is None or negative_slope < 0.0:
            raise ValueError("negative_slope of a ReLU layer cannot be a negative value. "
                             f"Received: negative_slope={negative_slope}")
        if threshold is None or threshold < 0.0:
            raise ValueError("threshold of a ReLU layer cannot be a negative value. Received: "
                             f"threshold={threshold}")
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold

    def call(self, inputs):
        return activations.relu(inputs, negative_slope=self.negative_slope,
                                max_value=self.max_value, threshold=self.threshold)


class LeakyReLU(_ActivationLayer):
    """x for x > 0, ``negative_slope`` · x otherwise. The layer's default slope is 0.3 (the
    function ``activations.leaky_relu`` defaults to 0.2), as in Keras."""

    _config_keys = ("negative_slope",)

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:   # the Keras 2 name of the argument
            negative_slope = kwargs.pop("alpha")
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.")
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError("The negative_slope value of a Leaky ReLU layer cannot be None or "
                             "negative value. Expected a float. Received: "
                             f"negative_slope={negative_slope}")
        self.negative_slope = negative_slope

    def call(self, inputs):
        return activations.leaky_relu(inputs, negative_slope=self.negative_slope)


class PReLU(_ActivationLayer):
    """The parametric ReLU: ``f(x) = x`` for x >= 0, ``alpha · x`` for x < 0, where
    ``alpha`` is a weight of shape ``input_shape[1:]`` (initialized to zeros, so the layer
    starts as a ReLU). ``shared_axes=[1, 2]`` on (batch, height, width, channels) inputs
    gives alpha the shape (1, 1, channels): one slope per channel.
    """

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        elif isinstance(shared_axes, (list, tuple)):
            self.shared_axes = [int(a) for a in shared_axes]
        else:
            self.shared_axes = [int(shared_axes)]

    def build(self, input_shape):
        rank = len(input_shape)
        shared = set(self.shared_axes or ())
        bad = [a for a in shared if not 1 <= a < rank]
        if bad:
            raise ValueError(f"Layer \"{self.name}\": shared_axes must be axes of the input "
                             f"other than the batch axis (1 to {rank - 1}). Received: "
                             f"shared_axes={self.shared_axes} for input shape "
                             f"{tuple(input_shape)}")
        param_shape = [1 if i in shared else n for i, n in enumerate(input_shape) if i > 0]
        if None in param_shape:
            raise ValueError(f"Layer \"{self.name}\": every non-shared axis of the input must "
                             f"have a known size to build alpha; got input shape "
                             f"{tuple(input_shape)}")
        self.alpha = self.add_weight(param_shape, self.alpha_initializer, name="alpha",
                                     regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint)
        self.input_spec_shape = (None,) + tuple(
            None if i in shared else n for i, n in enumerate(input_shape) if i > 0)
        self.built = True

    def call(self, inputs):
        # relu(x) - alpha · relu(-x): x where x > 0, alpha·x where x < 0.
        return ops.relu(inputs) - self.alpha * ops.relu(-inputs)

    def get_config(self):
        config = super().get_config()
        config.update(alpha_initializer=initializers.serialize(self.alpha_initializer),
                      alpha_regularizer=(None if self.alpha_regularizer is None else
                                         regularizers.serialize(self.alpha_regularizer)),
                      alpha_constraint=(None if self.alpha_constraint is None else
                                        constraints.serialize(self.alpha_constraint)),
                      shared_axes=self.shared_axes)
        return config


class ELU(_ActivationLayer):
    """The exponential linear unit: x for x > 0, ``alpha`` · (eˣ - 1) otherwise."""

    _config_keys = ("alpha",)

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = alpha

    def call(self, inputs):
        return activations.elu(inputs, alpha=self.alpha)


def _large_negative_number(dtype):
    """What a masked-out logit becomes: far below any real one, yet finite in ``dtype``."""
    return -3e4 if str(dtype) == "float16" else -1e9


class Softmax(_ActivationLayer):
    """The softmax along ``axis`` (an int, or a list of ints for a joint softmax over
    several axes). ``call(inputs, mask=None)``: where the mask (broadcastable to the inputs)
    is 0/False the logit gets -1e9 added, so that position receives ~0 probability.
    """

    _config_keys = ("axis",)

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis

    def call(self, inputs, mask=None):
        if mask is not None:
            keep = ops.cast(ops.convert_to_tensor(mask), inputs.dtype)
            inputs = inputs + (1.0 - keep) * _large_negative_number(inputs.dtype)
        axis = tuple(self.axis) if isinstance(self.axis, list) else self.axis
        return activations.softmax(inputs, axis=axis)


__all__ = ["ELU", "LeakyReLU", "PReLU", "ReLU", "Softmax"]
