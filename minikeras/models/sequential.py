"""``keras.Sequential``: layers applied one after the other."""
from .. import saving
from ..layers.input_layer import InputLayer, KerasTensor
from ..layers.layer import Layer
from ..tensor import Tensor
from .model import Model, adjust_input_rank


class Sequential(Model):
    """``keras.Sequential(layers=None, trainable=True, name=None)``.

    Built from a ``keras.Input`` given as first element, from ``input_shape=`` of the first
    layer, by ``build(input_shape)``, or on the first call with data.
    """

    def __init__(self, layers=None, trainable=True, name=None):
        Model.__init__(self, trainable=trainable, name=name)
        self._input_tensor = None
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_build_from_input()

    def add(self, layer, rebuild=True):
        """Append a layer (or a ``keras.Input``) to the stack."""
        if isinstance(layer, KerasTensor):
            if self._layers or self._input_tensor is not None:
                raise ValueError("keras.Input can only be the first element of a Sequential model.")
            self._input_tensor = layer
            if rebuild:
                self._maybe_build_from_input()
            return
        if isinstance(layer, InputLayer):
            self._input_tensor = layer.output
            return
        if not isinstance(layer, Layer):
            raise ValueError(f"Only instances of `keras.Layer` can be added to a Sequential "
                             f"model. Received: {layer!r} (of type {type(layer).__name__})")
        if any(existing.name == layer.name for existing in self._layers):
            raise ValueError(f"All layers added to a Sequential model should have unique "
                             f"names. Name \"{layer.name}\" is already the name of a layer in "
                             "this model. Update the `name` argument to pass a unique name.")
        self._layers.append(layer)
        self.built = False
        if rebuild:
            self._maybe_build_from_input()

    def pop(self, rebuild=True):
        """Remove the last layer."""
        if not self._layers:
            raise TypeError("There are no layers in the model.")
        layer = self._layers.pop()
        self.built = False
        if rebuild:
            self._maybe_build_from_input()
        return layer

    def _maybe_build_from_input(self):
        if self._input_tensor is not None:
            self.build(self._input_tensor.shape)
        elif self._layers and self._layers[0]._input_shape_arg is not None:
            self.build(self._layers[0]._input_shape_arg)

    def build(self, input_shape=None):
        """Build every layer by passing a symbolic input of ``input_shape`` through."""
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        x = self._input_tensor if self._input_tensor is not None else KerasTensor(input_shape)
        self._input_tensor = x
        for layer in self._layers:
            x = layer(x)
        self._output_tensor = x
        self.built = True

    def _maybe_build(self, inputs):
        if not self.built:
            self.build((None,) + tuple(inputs.shape[1:]))

    def call(self, inputs, training=None):
        x = inputs
        if self._input_tensor is not None and isinstance(x, Tensor):
            x = adjust_input_rank(x, self._input_tensor, self.name)
        for layer in self._layers:
            x = layer(x, training=training)
        return x

    @property
    def layers(self):
        return list(self._layers)

    @property
    def input_shape(self):
        if self._input_tensor is None:
            raise AttributeError(f"The layer {self.name} has never been called and thus has no "
                                 "defined input shape.")
        return self._input_tensor.shape

    @property
    def inputs(self):
        if self._input_tensor is None:
            raise ValueError(f"The layer sequential {self.name} has never been called and thus "
                             "has no defined input.")
        return [self._input_tensor]

    @property
    def outputs(self):
        if not self.built:
            raise ValueError(f"The layer {self.name} has never been called and thus has no "
                             "defined output.")
        return [self._output_tensor]

    @property
    def input(self):
        return self.inputs[0]

    @property
    def output(self):
        return self.outputs[0]

    def get_config(self):
        """Keras's Sequential config: ``name``, ``trainable``, ``dtype``, ``layers`` (the
        InputLayer first when there is one), ``build_input_shape`` once built."""
        return saving.serialize_model(self, include_compile=False)["config"]

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """The model ``get_config`` describes, with new weights."""
        if cls is Sequential:
            return saving.model_from_dict({"class_name": "Sequential", "config": config},
                                          custom_objects, compile=False)
        return saving.sequential_from_config(config, custom_objects, cls=cls)
