"""Models as Keras's ``config.json``, and back.

* Sequential: ``{"module": "keras", "class_name": "Sequential", "config": {"name",
  "trainable", "dtype", "layers": [InputLayer, ...], "build_input_shape"}, ...}``;
* functional: ``{"module": "keras.src.models.functional", "class_name": "Functional",
  "registered_name": "Functional", "config": {"name", "trainable", "layers",
  "input_layers", "output_layers"}}``, where each layer also has its ``name`` and
  ``inbound_nodes``: the calls that made the graph, their tensor arguments written as
  ``__keras_tensor__`` dicts whose ``keras_history`` is ``[layer name, node index,
  tensor index]``;
* both carry ``build_config`` and ``compile_config`` (the arguments of ``compile``).

Reading a functional config replays the calls on ``keras.Input`` tensors, each call once
the tensors it needs exist, and so rebuilds the same graph.
"""
import numpy as np

from .. import losses, metrics, optim
from .. import registry as objects
from ..autograd import no_grad
from ..layers.attention import _Inputs
from ..layers.graph_order import keras_layer_order
from ..layers.input_layer import InputLayer, KerasTensor
from ..layers.layer import Layer
from ..layers.structure import flatten, map_structure
from . import keras_ops, serialization
from .serialization import model_class, serialize_layer

FUNCTIONAL_MODULE = "keras.src.models.functional"


# ---------------------------------------------------------------------- the public pair
def serialize_keras_object(obj):
    """``keras.saving.serialize_keras_object``: a model as ``config.json`` holds it
    (compile arguments included), any other object as ``serialization.py`` writes it."""
    if isinstance(obj, Layer) and hasattr(obj, "compile"):
        return serialize_model(obj)
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): serialize_keras_object(v) for k, v in obj.items()}
    return serialization.serialize_keras_object(obj)


def deserialize_keras_object(config, custom_objects=None, safe_mode=True):
    """``keras.saving.deserialize_keras_object``: a model dict rebuilt as a model (compiled
    when it has a ``compile_config``), any other as ``serialization.py`` reads it."""
    if _is_model(config, custom_objects):
        return model_from_dict(config, custom_objects, safe_mode)
    if isinstance(config, list):
        return [deserialize_keras_object(c, custom_objects, safe_mode) for c in config]
    if isinstance(config, dict) and "class_name" not in config:
        return {k: deserialize_keras_object(v, custom_objects, safe_mode)
                for k, v in config.items()}
    return serialization.deserialize_keras_object(config, custom_objects, safe_mode)


def _is_model(d, custom_objects):
    if not isinstance(d, dict) or not isinstance(d.get("class_name"), str):
        return False
    cls = serialization.find_layer_class(d, custom_objects)
    return isinstance(cls, type) and hasattr(cls, "compile")


# ---------------------------------------------------------------------- writing
def serialize_model(model, include_compile=True):
    """The whole ``config.json`` dict of a model."""
    if isinstance(model, model_class("Sequential")):
        d = _sequential(model)
    elif isinstance(model, model_class("Functional")):
        d = _functional(model)
    else:  # a subclassed model: its own get_config and class, the shape of its first call
        d = serialize_layer(model, build_shape=getattr(model, "_build_input_shape", None))
    if include_compile:
        d["compile_config"] = serialize_keras_object(model.get_compile_config() or {})
    return d


def _child(layer, build_shape):
    """A layer of a model's ``layers`` list (a nested model is written whole)."""
    if isinstance(layer, keras_ops.KerasOp):
        return layer.serialize()
    if hasattr(layer, "compile"):
        return serialize_model(layer, include_compile=False)
    return serialize_layer(layer, build_shape=build_shape)


def _input_layer_dict(tensor, name):
    return {"module": "keras.layers", "class_name": "InputLayer",
            "config": {"batch_shape": list(tensor.shape), "dtype": str(tensor.dtype),
                       "sparse": False, "ragged": False, "name": name, "optional": False},
            "registered_name": None}


def _sequential(model):
    layers, x = [], model._input_tensor
    if x is not None:
        source = x.node.layer if x.node is not None else None
        name = source.name if isinstance(source, InputLayer) else "input_layer"
        layers.append(_input_layer_dict(x, name))
    for layer in model.layers:
        # the layer's latest call on the chain of symbolic tensors that built the model
        node = next((n for n in reversed(layer._inbound) if x is not None and n.inputs is x),
                    None)
        layers.append(_child(layer, x.shape if node else None))
        x = node.outputs if node is not None else None
    config = {"name": model.name, "trainable": model.trainable,
              "dtype": serialization.dtype_policy(model.dtype), "layers": layers}
    registered = objects.get_registered_name(type(model))
    d = {"module": "keras", "class_name": type(model).__name__, "config": config,
         "registered_name": registered if ">" in registered else None}
    if type(model) is not model_class("Sequential"):  # your subclass, found by its name
        d["module"] = type(model).__module__
    if model.built and model._input_tensor is not None:
        shape = list(model._input_tensor.shape)
        config["build_input_shape"] = shape
        d["build_config"] = {"input_shape": shape}
    return d


def _functional(model):
    node_ids = {id(n) for n in model._nodes} | {id(t.node) for t in model.inputs}

    def nodes_of(layer):
        if isinstance(layer, InputLayer):
            return []
        return [n for n in layer._inbound if id(n) in node_ids]

    def history(t):
        layer = t.node.layer
        index = 0 if isinstance(layer, InputLayer) else [
            id(n) for n in nodes_of(layer)].index(id(t.node))
        return [layer.name, index, t.index]

    def value(v):
        if isinstance(v, KerasTensor):
            return {"class_name": "__keras_tensor__",
                    "config": {"shape": list(v.shape), "dtype": str(v.dtype),
                               "keras_history": history(v)}}
        if isinstance(v, (list, tuple)):
            return [value(x) for x in v]
        if isinstance(v, dict):
            return {k: value(x) for k, x in v.items()}
        return serialize_keras_object(v)

    layers = []
    for layer in keras_layer_order(model):
        nodes = nodes_of(layer)
        if isinstance(layer, InputLayer):
            d = _input_layer_dict(layer.output, layer.name)
        else:
            d = _child(layer, None)
            build_config = _build_config(nodes[0]) if nodes else None
            if build_config is not None and "build_config" not in d and not isinstance(
                    layer, keras_ops.KerasOp):  # an operation is never "built"
                d["build_config"] = build_config
        d["name"] = layer.name
        d["inbound_nodes"] = [{"args": value(_call_arguments(n)),
                               "kwargs": value(dict(n.kwargs))} for n in nodes]
        layers.append(d)

    def ends(structure):
        if isinstance(structure, KerasTensor):
            return history(structure)
        return [history(t) for t in flatten(structure)]

    config = {"name": model.name, "trainable": model.trainable, "layers": layers,
              "input_layers": ends(model._input_struct),
              "output_layers": ends(model._output_struct)}
    return {"module": FUNCTIONAL_MODULE, "class_name": "Functional", "config": config,
            "registered_name": "Functional", "build_config": {"input_shape": None}}


def _build_config(node):
    """Keras's ``build_config`` of a layer from its first call: ``{"input_shape": ...}``,
    or ``{"shapes_dict": {"query_shape": ..., ...}}`` for an attention layer (whose
    ``build`` takes one shape per argument); None when the call had other tensors."""
    if isinstance(node.inputs, _Inputs):
        names = ("query_shape", "value_shape", "key_shape")
        return {"shapes_dict": {n: list(t.shape) for n, t in zip(names, node.inputs)
                                if t is not None}}
    if not all(isinstance(t, KerasTensor) for t in flatten(node.inputs)) or any(
            isinstance(a, KerasTensor) for a in flatten([list(node.args), node.kwargs])):
        return None
    return {"input_shape": serialize_keras_object(map_structure(lambda t: t.shape, node.inputs))}


def _call_arguments(node):
    """The positional arguments of a recorded call, as the user wrote them: an attention
    layer's node keeps (query, value, key) as one structure, Keras lists them."""
    if isinstance(node.inputs, _Inputs):
        query, value, key = node.inputs
        return [query, value] + ([key] if key is not None else []) + list(node.args)
    return [node.inputs] + list(node.args)


def compile_config(model):
    """The arguments ``compile`` was given, as Keras writes them ({} when not compiled)."""
    if not getattr(model, "compiled", False):
        return {}

    def spec(value):
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, (list, tuple)):
            return [spec(v) for v in value]
        if isinstance(value, dict):
            return {k: spec(v) for k, v in value.items()}
        return serialize_keras_object(value)

    return {"optimizer": serialize_keras_object(model.optimizer), "loss": spec(model.loss),
            "loss_weights": model.loss_weights, "metrics": spec(model._metric_specs) or None,
            "weighted_metrics": spec(model._weighted_metric_specs) or None,
            "run_eagerly": False, "steps_per_execution": 1, "jit_compile": True}


# ---------------------------------------------------------------------- reading
def unknown_layers(d, custom_objects=None):
    """``"ClassName (layer 'name')"`` for every layer in a model dict (nested models,
    wrapped layers and cells included) that no class here or in custom objects matches."""
    found = []

    def visit(entry, top=False):
        if not isinstance(entry, dict) or "class_name" not in entry:
            return
        config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
        module = entry.get("module") if isinstance(entry.get("module"), str) else ""
        is_layer = top or module.startswith("keras.layers") or "layers" in config
        if is_layer and entry["class_name"] not in ("InputLayer", "Functional") and \
                not keras_ops.is_keras_op(entry) and \
                serialization.find_layer_class(entry, custom_objects) is None:
            found.append(f"{entry['class_name']} (layer '{config.get('name')}')")
        for sub in config.get("layers", []) if isinstance(config.get("layers"), list) else []:
            visit(sub)
        for key in ("layer", "backward_layer", "cell"):
            visit(config.get(key))
        if isinstance(config.get("cells"), list):
            for cell in config["cells"]:
                visit(cell)

    visit(d, top=True)
    return found


def model_from_dict(d, custom_objects=None, safe_mode=True, compile=True):
    """A model from its Keras dict (compiled from ``compile_config`` when asked)."""
    missing = unknown_layers(d, custom_objects)
    if missing:
        raise ValueError("Cannot rebuild this model: minikeras has no layer class for "
                         f"{', '.join(missing)}. If a class is your own, register it with "
                         "@keras.saving.register_keras_serializable() or pass it in "
                         "custom_objects.")
    class_name = d.get("class_name")
    config = d.get("config") or {}
    if class_name == "Sequential":
        model = sequential_from_config(config, custom_objects, safe_mode)
    elif class_name == "Functional" or (class_name == "Model" and "layers" in config):
        model = _functional_from_config(config, custom_objects, safe_mode)
    else:
        cls = serialization.find_layer_class(d, custom_objects)
        if cls is None:
            raise ValueError(f"Unknown model class '{class_name}': register it with "
                             "@keras.saving.register_keras_serializable() or pass it in "
                             "custom_objects.")
        model = cls.from_config(serialization._plain(config))
        shape = (d.get("build_config") or {}).get("input_shape")
        if shape is not None and not model.built:
            _build_by_calling(model, shape)
    if compile and d.get("compile_config"):
        with objects.CustomObjectScope(custom_objects or {}):
            model.compile_from_config(d["compile_config"])
    return model


def _build_by_calling(model, shape):
    """Build a subclassed model (its ``build`` may not create its layers' weights) by
    calling it once on zeros of the recorded input shape."""
    def zeros(s):
        if isinstance(s, (list, tuple)) and s and isinstance(s[0], (list, tuple)):
            return [zeros(x) for x in s]
        return np.zeros([1 if d is None else d for d in s], dtype="float32")
    with no_grad():
        model(zeros(shape), training=False)


def _input_layer(config):
    config = serialization._plain(config)
    if config.get("sparse") or config.get("ragged"):
        raise ValueError(f"InputLayer '{config.get('name')}': sparse and ragged inputs are "
                         "not supported by minikeras.")
    shape = config.get("batch_shape") or config.get("batch_input_shape")
    return InputLayer(batch_shape=tuple(shape), dtype=config.get("dtype"),
                      name=config.get("name"))


def _layer(d, custom_objects, safe_mode):
    if d.get("class_name") == "InputLayer":
        return _input_layer(d.get("config") or {})
    if keras_ops.is_keras_op(d):
        return keras_ops.op_from_dict(d)
    if _is_model(d, custom_objects):  # a model inside a model
        return model_from_dict(d, custom_objects, safe_mode)
    return serialization.layer_from_dict(d, custom_objects, safe_mode)


def sequential_from_config(config, custom_objects=None, safe_mode=True, cls=None):
    """A Sequential model (or ``cls``, a subclass of it) from its config."""
    layers = [_layer(d, custom_objects, safe_mode) for d in config.get("layers", [])]
    model = (cls or model_class("Sequential"))(layers, trainable=config.get("trainable", True),
                                               name=config.get("name"))
    shape = config.get("build_input_shape")
    if not model.built and shape is not None:
        model.build(tuple(shape))
    return model


def _functional_from_config(config, custom_objects, safe_mode):
    created, outputs_of = {}, {}   # layer name -> layer; -> the outputs of each node
    queue = []                     # (layer, its nodes still to call)
    for d in config.get("layers", []):
        layer = _layer(d, custom_objects, safe_mode)
        name = d.get("name", layer.name)
        created[name] = layer
        if isinstance(layer, InputLayer):
            outputs_of[name] = [[layer.output]]
        else:
            outputs_of[name] = []
            queue.append((layer, name, list(d.get("inbound_nodes") or [])))

    def tensor(history):
        name, node_index, tensor_index = history
        nodes = outputs_of.get(name)
        if nodes is None or node_index >= len(nodes):
            raise LookupError(name)
        return flatten(nodes[node_index])[tensor_index]

    def value(v):
        if isinstance(v, dict) and v.get("class_name") == "__keras_tensor__":
            return tensor(v["config"]["keras_history"])
        if isinstance(v, (list, tuple)):  # lists in a file, tuples in a live get_config()
            return [value(x) for x in v]
        if isinstance(v, dict):
            return {k: value(x) for k, x in v.items()}
        return v

    while any(nodes for _, _, nodes in queue):
        progress = False
        for layer, name, nodes in queue:
            while nodes:  # a layer's calls in their order
                try:
                    args = value(nodes[0].get("args") or [])
                    kwargs = value(nodes[0].get("kwargs") or {})
                except LookupError:
                    break
                kwargs = {k: v for k, v in kwargs.items()
                          if k != "training" and not (k == "mask" and v is None)}
                if not args:
                    raise ValueError(f"Layer '{name}': a call in the config has no inputs.")
                outputs_of[name].append(layer(args[0], *args[1:], **kwargs))
                nodes.pop(0)
                progress = True
        if not progress:
            stuck = [name for _, name, nodes in queue if nodes]
            raise ValueError(f"The functional config cannot be rebuilt: the inputs of the "
                             f"layer(s) {stuck} are never produced by another layer.")

    def ends(spec):
        if spec and isinstance(spec[0], str):
            return tensor(spec)
        return [tensor(s) for s in spec]

    try:
        inputs, outputs = ends(config["input_layers"]), ends(config["output_layers"])
    except LookupError as e:
        raise ValueError(f"The functional config names an input or output of layer {e}, "
                         "which it does not define.") from None
    return model_class("Model")(inputs, outputs, name=config.get("name"),
                                trainable=config.get("trainable", True))


def compile_from_config(model, config, custom_objects=None, safe_mode=True):
    """``model.compile(...)`` with the arguments of a ``compile_config``."""
    def resolve(value, kind):
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, list):
            return [resolve(v, kind) for v in value]
        if isinstance(value, dict) and "class_name" not in value:
            return {k: resolve(v, kind) for k, v in value.items()}
        if kind == "loss" and value.get("module", "").startswith("keras.losses"):
            return losses.deserialize(serialization._plain(value))
        if kind == "metric" and value.get("module", "").startswith("keras.metrics"):
            return metrics.get(serialization._plain(value))
        return serialization.deserialize_keras_object(value, custom_objects, safe_mode)

    optimizer = config.get("optimizer", "rmsprop")
    if isinstance(optimizer, dict):
        optimizer = serialization.deserialize_keras_object(optimizer, custom_objects,
                                                           safe_mode)
    model.compile(optimizer=optim.get(optimizer), loss=resolve(config.get("loss"), "loss"),
                  loss_weights=config.get("loss_weights"),
                  metrics=resolve(config.get("metrics"), "metric"),
                  weighted_metrics=resolve(config.get("weighted_metrics"), "metric"))
