"""Core layers: Dense, Activation, Dropout, Flatten, Reshape, Identity, Lambda, Rescaling."""
import numpy as np

from .. import activations, ops, registry
from .. import random as mk_random
from .layer import Layer


def _serialize(obj):
    """An initializer, regularizer or constraint argument as config: a name, or a
    ``{class_name, config}`` dict (with its ``registered_name`` when you registered the
    class); a dict that came from a config stays as it is."""
    if obj is None:
        return None
    if isinstance(obj, (str, dict)):  # a name, or already a config ({"class_name": ...})
        return obj
    if hasattr(obj, "get_config"):
        config = {"class_name": type(obj).__name__, "config": obj.get_config()}
        registered = registry.get_registered_name(type(obj))
        if ">" in registered:
            config["registered_name"] = registered
        return config
    return getattr(obj, "__name__", str(obj))


class Dense(Layer):
    """``y = activation(x @ kernel + bias)`` on the last axis of ``x``.

    ``kernel`` has shape (input features, units), ``bias`` (units,): Keras's layout, so
    weights move between minikeras and Keras unchanged.
    """

    _supports_masking = True

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"Received an invalid value for `units`, expected a positive "
                             f"integer. Received: units={units}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.kernel_constraint, self.bias_constraint = kernel_constraint, bias_constraint

    def build(self, input_shape):
        in_features = input_shape[-1]
        if in_features is None:
            raise ValueError(f"Layer \"{self.name}\": the last axis of the input must be known to "
                             f"build a Dense layer; got input shape {input_shape}.")
        self.kernel = self.add_weight((in_features, self.units), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, name="kernel")
        self.bias = (self.add_weight((self.units,), self.bias_initializer,
                                     regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint, name="bias")
                     if self.use_bias else None)
        self.input_spec_shape = (Ellipsis, in_features)
        self.built = True

    def call(self, inputs):
        y = ops.matmul(inputs, self.kernel)
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y) if self.activation is not None else y

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, activation=activations.serialize(self.activation),
                      use_bias=self.use_bias,
                      kernel_initializer=_serialize(self.kernel_initializer),
                      bias_initializer=_serialize(self.bias_initializer),
                      kernel_regularizer=_serialize(self.kernel_regularizer),
                      bias_regularizer=_serialize(self.bias_regularizer),
                      kernel_constraint=_serialize(self.kernel_constraint),
                      bias_constraint=_serialize(self.bias_constraint))
        return config


class Activation(Layer):
    """Applies an activation function by name or callable: ``Activation("relu")``."""

    _supports_masking = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


class Dropout(Layer):
    """Inverted dropout: in training each value is zeroed with probability ``rate`` and the
    kept ones are scaled by 1/(1 - rate); at inference it passes the input through."""

    _supports_masking = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate <= 1:
            raise ValueError(f"Invalid value received for argument `rate`. Expected a float "
                             f"value between 0 and 1. Received: rate={rate}")
        self.rate, self.noise_shape, self.seed = float(rate), noise_shape, seed
        self.seed_generator = mk_random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        if training and self.rate > 0:
            return mk_random.dropout(inputs, self.rate, noise_shape=self.noise_shape,
                                     seed=self.seed_generator)
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, noise_shape=self.noise_shape, seed=self.seed)
        return config


class Flatten(Layer):
    """(batch, d1, d2, ...) -> (batch, d1·d2·...), row-major (channels_last order)."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = ops.moveaxis(inputs, 1, -1)
        return ops.reshape(inputs, (inputs.shape[0], -1))

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(s is None for s in rest) else int(np.prod(rest))
        return (input_shape[0], size)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Reshape(Layer):
    """Reshape each sample to ``target_shape`` (the batch axis is kept; one entry may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(s) for s in target_shape)

    def call(self, inputs):
        sample = int(np.prod(inputs.shape[1:]))
        target = self.target_shape
        known = int(np.prod([s for s in target if s != -1]))
        if (-1 not in target and known != sample) or (-1 in target and sample % max(known, 1)):
            raise ValueError(f"Layer \"{self.name}\": cannot reshape samples of shape "
                             f"{tuple(inputs.shape[1:])} ({sample} values) to target_shape "
                             f"{self.target_shape}.")
        return ops.reshape(inputs, (inputs.shape[0],) + target)

    def compute_output_shape(self, input_shape):
        """The target shape after the batch axis; a -1 is worked out from the input's size
        when every input size is known, and stays unknown (None) otherwise."""
        target = list(self.target_shape)
        if -1 in target:
            rest = input_shape[1:]
            if any(s is None for s in rest):
                target[target.index(-1)] = None
            else:
                known = int(np.prod([s for s in target if s != -1]))
                target[target.index(-1)] = int(np.prod(rest)) // max(known, 1)
        return (input_shape[0],) + tuple(target)

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = self.target_shape
        return config


class Identity(Layer):
    """Returns its input unchanged."""

    _supports_masking = True

    def call(self, inputs):
        return inputs


class Lambda(Layer):
    """Wraps a function of tensors as a layer: ``Lambda(lambda x: x * 2)``."""

    def __init__(self, function, output_shape=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        self.function, self.output_shape, self.arguments = function, output_shape, arguments or {}

    def call(self, inputs):
        return self.function(inputs, **self.arguments)

    def get_config(self):
        config = super().get_config()
        config.update(function=getattr(self.function, "__name__", "<lambda>"),
                      output_shape=self.output_shape, arguments=self.arguments)
        return config


class Rescaling(Layer):
    """``y = x * scale + offset`` (e.g. ``Rescaling(1/255)`` for pixels)."""

    _supports_masking = True

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = scale, offset

    def call(self, inputs):
        return inputs * self.scale + self.offset

    def get_config(self):
        config = super().get_config()
        config.update(scale=self.scale, offset=self.offset)
        return config
