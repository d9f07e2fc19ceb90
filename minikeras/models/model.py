"""``Model``: a layer that can be trained, in its three Keras forms.

* functional: ``keras.Model(inputs, outputs)`` replays the layer calls recorded on
  ``keras.Input`` tensors (:class:`Functional`);
* subclassed: ``class MyModel(keras.Model)`` with ``__init__`` and ``call``;
* ``keras.Sequential`` (in ``sequential.py``), a stack of layers.

Training (``compile``, ``fit``, ``evaluate``, ``predict``) lives in ``trainer.py``, mixed in
here.
"""
from .. import ops, saving
from ..layers.graph_order import keras_layer_order
from ..layers.input_layer import InputLayer, KerasTensor
from ..layers.layer import Layer
from ..layers.structure import flatten, map_structure
from .summary import print_summary
from .trainer import Trainer


class Model(Trainer, Layer):
    """``keras.Model``: ``Model(inputs, outputs, name=None)`` for the functional API, or a
    base class to subclass with ``call``."""

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs):
            return super().__new__(Functional)
        if not issubclass(cls, Functional) and _functional_arguments(args, kwargs):
            # A subclass built as MyModel(inputs, outputs) is a functional model that keeps
            # the subclass's methods (a custom train_step), as in Keras.
            return super().__new__(_functional_subclass(cls))
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        trainable = kwargs.pop("trainable", True)
        name = kwargs.pop("name", None)
        Layer.__init__(self, trainable=trainable, name=name, **kwargs)
        Trainer.__init__(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A functional config (one with ``layers`` and ``input_layers``) rebuilds the graph;
        any other config is passed to ``cls(**config)``, as for a layer."""
        if "layers" in config and "input_layers" in config:
            return _from_functional_config(cls, config, custom_objects)
        return super().from_config(config)

    @property
    def input_shape(self):
        """The shape(s) of the model's symbolic input(s), None for unknown sizes."""
        return map_structure(lambda t: tuple(t.shape), self.input)

    @property
    def output_shape(self):
        """The shape(s) of the model's symbolic output(s), None for unknown sizes."""
        return map_structure(lambda t: tuple(t.shape), self.output)

    def get_layer(self, name=None, index=None):
        """A layer of the model by ``name`` or by ``index`` in ``model.layers``."""
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only "
                                 f"has {len(self.layers)} layers.")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: "
                         f"{[layer.name for layer in self.layers]}.")

    @property
    def layers(self):
        return [layer for layer in self._layers if not isinstance(layer, InputLayer)]

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Print the table of layers, output shapes and parameter counts, as Keras does
        (``show_trainable=True`` adds Keras's "Trainable" column)."""
        if expand_nested or layer_range is not None:
            raise NotImplementedError("summary(expand_nested=..., layer_range=...) is not "
                                      "available in minikeras yet; show_trainable, positions "
                                      "and line_length are.")
        print_summary(self, line_length=line_length, print_fn=print_fn,
                      show_trainable=show_trainable, positions=positions)

    # ------------------------------------------------------------------ saving (minikeras.saving)
    def _maybe_build(self, inputs):
        """Build on the first call, remembering the input shape (the ``build_config`` of a
        saved file), so that a loaded subclassed model can be built before its weights
        are read."""
        if not self.built:
            self._build_input_shape = map_structure(
                lambda t: (None,) + tuple(t.shape[1:]) if hasattr(t, "shape") else None, inputs)
        Layer._maybe_build(self, inputs)

    def get_compile_config(self):
        """The arguments ``compile`` was given, as a saved file holds them (None when the
        model is not compiled). Override it with ``compile_from_config`` to save more."""
        return saving.compile_config(self) if self.compiled else None

    def compile_from_config(self, config):
        """``compile`` again from what ``get_compile_config`` returned (``load_model`` calls
        it; the custom objects of the load are in scope)."""
        saving.compile_from_config(self, config)

    def save(self, filepath, overwrite=True, zipped=None, **kwargs):
        """Save the whole model to a ``.keras`` file that Keras 3 can load."""
        saving.save_model(self, filepath, overwrite=overwrite, zipped=zipped, **kwargs)

    def save_weights(self, filepath, overwrite=True, max_shard_size=None):
        """Save the weights to a ``.weights.h5`` file in Keras 3's layout."""
        saving.save_weights(self, filepath, overwrite=overwrite, max_shard_size=max_shard_size)

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        """Load weights from a ``.weights.h5`` or ``.keras`` file (all, or none on a misfit)."""
        saving.load_weights(self, filepath, skip_mismatch=skip_mismatch, **kwargs)

    def to_json(self, **kwargs):
        """The model's config as Keras's JSON string (``models.model_from_json``)."""
        return saving.to_json(self, **kwargs)


class Functional(Model):
    """A model made of the layer calls between ``inputs`` and ``outputs``."""

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        Model.__init__(self, name=name, trainable=trainable)
        self._input_struct = inputs
        self._output_struct = outputs
        self.inputs = flatten(inputs)
        self.outputs = flatten(outputs)
        for t in self.inputs + self.outputs:
            if not isinstance(t, KerasTensor):
                raise TypeError(f"keras.Model(inputs, outputs) expects symbolic tensors from "
                                f"keras.Input and layer calls; got {type(t).__name__}.")
        self._nodes = self._order_nodes()
        # model.layers (and so model.weights) in Keras's order: by depth from the outputs,
        # the deepest first (layers/graph_order.py)
        for layer in keras_layer_order(self):
            if layer not in self._layers:
                self._layers.append(layer)
        self.built = True

    def _order_nodes(self):
        """The nodes between inputs and outputs, each after the nodes it depends on."""
        input_nodes = {id(t.node) for t in self.inputs}
        order, state = [], {}
        for out in self.outputs:
            stack = [(out.node, False)]
            while stack:
                node, expanded = stack.pop()
                key = id(node)
                if expanded:
                    if state.get(key) != "done":
                        state[key] = "done"
                        order.append(node)
                    continue
                if state.get(key):
                    continue
                state[key] = "open"
                stack.append((node, True))
                if key in input_nodes:
                    continue
                parents = node.parents
                if not parents and not isinstance(node.layer, InputLayer):
                    raise ValueError(f"Layer {node.layer.name} has no connection to the model's "
                                     "inputs.")
                for parent in parents:
                    if isinstance(parent.layer, InputLayer) and id(parent) not in input_nodes:
                        raise ValueError(
                            f"Graph disconnected: cannot find the value of {parent.outputs} "
                            f"at layer \"{node.layer.name}\". The following previous layers "
                            f"were accessed without issue: {[n.layer.name for n in order]}. "
                            "Pass that Input to keras.Model(inputs=...).")
                    stack.append((parent, False))
        return order

    @property
    def layers(self):
        """Every layer, the InputLayers first, in the order of the graph (as Keras lists a
        functional model's layers)."""
        return list(self._layers)

    @property
    def input(self):
        return self._input_struct

    @property
    def output(self):
        return self._output_struct

    def call(self, inputs, training=None):
        flat = flatten(inputs) if not isinstance(inputs, dict) else [
            inputs[t.name] for t in self.inputs]
        if len(flat) != len(self.inputs):
            raise ValueError(f"Model \"{self.name}\" expects {len(self.inputs)} input(s), but "
                             f"it received {len(flat)} input tensors.")
        values = {}
        for t, x in zip(self.inputs, flat):
            x = adjust_input_rank(x, t, self.name)
            expected, got = t.shape, tuple(x.shape)
            if any(e is not None and e != g for e, g in zip(expected[1:], got[1:])):
                raise ValueError(f"Input {t.name!r} of model \"{self.name}\" is incompatible: "
                                 f"expected shape {expected}, but received input with shape {got}")
            values[id(t)] = x

        def concrete(structure):  # the symbolic tensors of a structure replaced by their values
            return map_structure(lambda t: values[id(t)] if isinstance(t, KerasTensor) else t, structure)

        for node in self._nodes:
            if isinstance(node.layer, InputLayer):
                continue
            out = node.layer(concrete(node.inputs), *concrete(list(node.args)), training=training,
                             **concrete(dict(node.kwargs)))
            for sym, real in zip(flatten(node.outputs), flatten(out)):
                values[id(sym)] = real
        return map_structure(lambda t: values[id(t)], self._output_struct)

    def get_config(self):
        """Keras's functional config: ``name``, ``trainable``, ``layers`` (each with its
        ``inbound_nodes``), ``input_layers``, ``output_layers``."""
        return saving.serialize_model(self, include_compile=False)["config"]

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return _from_functional_config(cls, config, custom_objects)


def adjust_input_rank(x, symbolic, model_name):
    """``x`` with the rank of the model input ``symbolic``, as Keras's functional models do:
    a missing or extra last axis of size 1 is added or removed; any other rank is an error
    (a single sample without its batch axis, most often)."""
    expected, got = tuple(symbolic.shape), tuple(x.shape)
    if len(got) == len(expected):
        return x
    if len(got) == len(expected) + 1 and got[-1] == 1:
        return ops.squeeze(x, axis=-1)
    if len(got) == len(expected) - 1 and expected[-1] == 1:
        return ops.expand_dims(x, axis=-1)
    hint = (" A single sample still needs its batch axis: pass x[None] (or "
            "np.expand_dims(x, 0))." if len(got) == len(expected) - 1 else "")
    raise ValueError(f"Invalid input shape for input {symbolic.name!r} of model "
                     f"\"{model_name}\". Expected shape {expected}, but input has "
                     f"incompatible shape {got}.{hint}")


def _from_functional_config(cls, config, custom_objects):
    """The model a functional config describes (``Model.from_config(model.get_config())``);
    a subclass of Model gets its own class back, with the same graph."""
    model = saving.model_from_dict({"class_name": "Functional", "config": config},
                                   custom_objects, compile=False)
    if cls in (Model, Functional):
        return model
    return cls(model._input_struct, model._output_struct, name=model.name)


def _functional_arguments(args, kwargs):
    """True when the arguments are ``(inputs, outputs)`` made of symbolic tensors."""
    given = list(args[:2]) if len(args) >= 2 else [kwargs.get("inputs"), kwargs.get("outputs")]
    if len(args) == 1:
        given = [args[0], kwargs.get("outputs")]
    return all(g is not None and flatten(g) and all(isinstance(t, KerasTensor) for t in flatten(g))
               for g in given)


_FUNCTIONAL_SUBCLASSES = {}


def _functional_subclass(cls):
    """``cls`` with Functional behind it: its own methods first, then the graph's."""
    if cls not in _FUNCTIONAL_SUBCLASSES:
        _FUNCTIONAL_SUBCLASSES[cls] = type(cls.__name__, (cls, Functional),
                                           {"__module__": cls.__module__,
                                            "__qualname__": cls.__qualname__})
    return _FUNCTIONAL_SUBCLASSES[cls]
