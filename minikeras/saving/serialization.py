"""Objects as Keras's JSON, and back: ``serialize_keras_object`` /
``deserialize_keras_object``.

Every object is written as ``{"module", "class_name", "config", "registered_name"}``:
``module`` is the public Keras module (``keras.layers``, ``keras.initializers``...), so
that real Keras finds the class; ``registered_name`` is ``"package>Name"`` for your own
registered classes and null for Keras's. Built-in functions (activations, losses) are
plain strings; NumPy arrays ``{"class_name": "__numpy__", ...}``; a Python lambda
``{"class_name": "__lambda__", ...}`` (its bytecode, which only ``safe_mode=False`` will
ever turn back into a function).

Reading accepts what Keras 3 writes: the ``DTypePolicy`` dict where a dtype is expected,
``shared_object_id`` keys, options that minikeras does not have when they hold their
default value (``quantization_config: null``). An option it cannot honour is an error
that names the layer and the option.
"""
import base64
import inspect
import marshal
import types
import warnings

import numpy as np

from .. import registry as objects
from .. import (activations, constraints, initializers, layers, losses, metrics, ops, optim,
               regularizers, schedules)
from ..layers.core import Lambda
from ..layers.layer import Layer
from ..layers.nested import find_layer_class as find_subclass

_LAMBDA_REFUSED = (
    "Requested the deserialization of a `Lambda` layer whose `function` is a Python lambda. "
    "This carries a potential risk of arbitrary code execution and thus it is disallowed by "
    "default. If you trust the source of the artifact, you can override this error by "
    "passing `safe_mode=False` to the loading function.")

MODEL_CLASSES = ("Model", "Functional", "Sequential")

# The names a stored lambda sees as globals. ``keras``, the whole minikeras package, is
# added by minikeras/__init__.py, the one module above every floor.
LAMBDA_GLOBALS = {"ops": ops, "np": np, "numpy": np}

_SUFFIX_MODULES = {"_initializer": ("keras.initializers", initializers),
                   "_regularizer": ("keras.regularizers", regularizers),
                   "_constraint": ("keras.constraints", constraints)}


def dtype_policy(name):
    """Keras's form of a layer's dtype."""
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": str(name)},
            "registered_name": None}


# ---------------------------------------------------------------------- writing
def serialize_keras_object(obj):
    """``obj`` as JSON-ready values in Keras's format (see the module docstring)."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, float)):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return {"class_name": "__numpy__",
                "config": {"value": obj.tolist(), "dtype": str(obj.dtype)}}
    if isinstance(obj, bytes):
        return {"class_name": "__bytes__", "config": {"value": obj.decode("utf-8")}}
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): serialize_keras_object(v) for k, v in obj.items()}
    if isinstance(obj, Layer):  # a whole model is written by model_config.py
        return serialize_layer(obj)
    if isinstance(obj, optim.Optimizer):
        return _with_registration(obj, optim.serialize(obj))
    if isinstance(obj, schedules.LearningRateSchedule):
        return _with_registration(obj, schedules.serialize(obj))
    if isinstance(obj, losses.Loss):
        return _with_registration(obj, losses.serialize(obj))
    if isinstance(obj, metrics.Metric):
        return _with_registration(obj, _class_dict("keras.metrics", obj))
    for module_name, module, base in ((
            "keras.initializers", initializers, initializers.Initializer), (
            "keras.regularizers", regularizers, regularizers.Regularizer), (
            "keras.constraints", constraints, constraints.Constraint)):
        if isinstance(obj, base):
            return _with_registration(obj, _class_dict(module_name, obj))
    if callable(obj):
        return serialize_function(obj)
    raise TypeError(f"Cannot serialize {obj!r} (of type {type(obj).__name__}) into a Keras "
                    "config: it is not a Keras object, a function or a JSON value.")


def _class_dict(module, obj):
    return {"module": module, "class_name": type(obj).__name__, "config": obj.get_config(),
            "registered_name": None}


def _with_registration(obj, d):
    """A user's class: its own module and registered name, so that it is found again."""
    registered = objects._REGISTERED_NAMES.get(id(type(obj)))
    if registered is not None or not type(obj).__module__.startswith("minikeras."):
        d = dict(d, module=type(obj).__module__, registered_name=registered)
    d["config"] = serialize_keras_object(d.get("config"))
    return d


def serialize_function(fn):
    """A built-in activation or loss as its name; another function by reference; a
    lambda as its bytecode (with Keras's warning: loading it needs ``safe_mode=False``)."""
    if getattr(fn, "__module__", "").startswith("minikeras.activations"):
        return activations.serialize(fn)
    name = getattr(fn, "__name__", None)
    if name == "<lambda>" or name is None:
        warnings.warn("The object being serialized includes a `lambda`. This is unsafe. In "
                      "order to reload the object, you will have to pass `safe_mode=False` to "
                      "the loading function. Please avoid using `lambda` in the future, and "
                      "use named Python functions instead.", stacklevel=3)
        code = base64.b64encode(marshal.dumps(fn.__code__)).decode("ascii")
        closure = None if fn.__closure__ is None else [
            serialize_keras_object(cell.cell_contents) for cell in fn.__closure__]
        return {"class_name": "__lambda__",
                "config": {"code": code, "defaults": serialize_keras_object(fn.__defaults__),
                           "closure": closure}}
    if fn.__module__.startswith("minikeras.losses") and name in losses.ALL_OBJECTS_DICT:
        return name
    # as Keras writes any other function: by its registered name ("package>name") if any
    return {"module": "builtins", "class_name": "function",
            "config": objects.get_registered_name(fn), "registered_name": "function"}


def serialize_layer(layer, build_shape=None):
    """A layer as Keras writes it inside a model's config."""
    registered = objects._REGISTERED_NAMES.get(id(type(layer)))
    own = type(layer).__module__.startswith("minikeras.")
    d = {"module": "keras.layers" if own and registered is None else type(layer).__module__,
         "class_name": type(layer).__name__, "config": layer_config(layer),
         "registered_name": registered}
    if overrides(layer, "get_build_config", Layer):  # a layer that saves its own build state
        build = layer.get_build_config()
        if build is not None:
            d["build_config"] = serialize_keras_object(build)
    elif build_shape is not None:
        d["build_config"] = {"input_shape": serialize_keras_object(build_shape)}
    return d


def overrides(obj, method, base):
    """True when ``obj``'s class writes its own ``method`` instead of ``base``'s (the saving
    hooks that are called only where a class gives them)."""
    return getattr(type(obj), method, None) is not getattr(base, method, None)


def layer_config(layer):
    """``layer.get_config()`` in Keras's spelling: the dtype as a DTypePolicy, initializers,
    regularizers and constraints as class dicts, nested layers likewise."""
    config = dict(layer.get_config())
    config.pop("batch_input_shape", None)  # Keras 3 layers do not take it (InputLayer does)
    if isinstance(layer, Lambda):
        config["function"] = serialize_function(layer.function)
    return _keras_spelling(config)


def _keras_spelling(config):
    out = {}
    for key, value in config.items():
        if key == "dtype" and isinstance(value, str):
            value = dtype_policy(value)
        for suffix, (module_name, module) in _SUFFIX_MODULES.items():
            if key.endswith(suffix) and value is not None:
                if isinstance(value, str):
                    value = module.serialize(module.get(value))
                elif isinstance(value, dict) and "module" not in value:
                    value = {"module": module_name, "registered_name": None, **value}
        if isinstance(value, dict) and value.get("module") == "keras.layers":
            value = dict(value, config=_keras_spelling(value.get("config") or {}))
        out[key] = serialize_keras_object(value)
    return out


# ---------------------------------------------------------------------- reading
def _plain(value):
    """A Keras config with DTypePolicy dicts replaced by their dtype name and
    ``shared_object_id`` keys dropped (minikeras shares nothing between configs)."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        if value.get("class_name") in ("DTypePolicy", "FloatDTypePolicy") and "config" in value:
            return (value.get("config") or {}).get("name", "float32")
        return {k: _plain(v) for k, v in value.items() if k != "shared_object_id"}
    return value


def deserialize_function(config, custom_objects=None, safe_mode=True):
    """The function a serialized function dict (or name) stands for."""
    if isinstance(config, str):
        found = objects.get_registered_object(config, custom_objects)
        return found if found is not None else activations.get(config)
    if config.get("class_name") == "__lambda__":
        if safe_mode:
            raise ValueError(_LAMBDA_REFUSED)
        return _load_lambda(config.get("config") or {})
    name, registered = config.get("config"), config.get("registered_name")
    for key in (registered, name):
        found = objects.get_registered_object(key, custom_objects) if key else None
        if found is not None:
            return found
    try:
        return activations.get(name)
    except ValueError:
        pass
    if name in losses.ALL_OBJECTS_DICT:
        return losses.ALL_OBJECTS_DICT[name]
    raise ValueError(f"Could not locate function '{name}' (module {config.get('module')!r}). "
                     "Make sure it is registered with "
                     "`@keras.saving.register_keras_serializable()` or passed in "
                     "`custom_objects`.")


def _load_lambda(inner):
    """The function of a ``__lambda__`` dict: its bytecode run with the names a Keras
    lambda usually needs (``keras``, ``ops``, ``np``) as globals. Only with safe_mode off."""
    code = marshal.loads(base64.b64decode(inner["code"]))
    defaults, closure = inner.get("defaults"), inner.get("closure")
    cells = None if closure is None else tuple(types.CellType(v) for v in closure)
    namespace = {"__builtins__": __builtins__, **LAMBDA_GLOBALS}
    return types.FunctionType(code, namespace, argdefs=tuple(defaults) if defaults else None,
                              closure=cells)


def _resolve_functions(value, custom_objects, safe_mode):
    """Function dicts anywhere in a config replaced by the functions."""
    if isinstance(value, list):
        return [_resolve_functions(v, custom_objects, safe_mode) for v in value]
    if isinstance(value, dict):
        if value.get("class_name") in ("function", "__lambda__"):
            return deserialize_function(value, custom_objects, safe_mode)
        if value.get("class_name") == "__numpy__":
            inner = value["config"]
            return np.asarray(inner["value"], dtype=inner.get("dtype"))
        return {k: _resolve_functions(v, custom_objects, safe_mode) for k, v in value.items()}
    return value


def find_layer_class(d, custom_objects=None):
    """The Layer class a serialized layer names, or None."""
    for key in (d.get("registered_name"), d.get("class_name")):
        found = objects.get_registered_object(key, custom_objects) if key else None
        if found is not None:
            return found
    name = d.get("class_name")
    if name in MODEL_CLASSES:
        return model_class(name)
    cls = getattr(layers, name, None) if isinstance(name, str) else None
    return cls if isinstance(cls, type) and issubclass(cls, Layer) else None


def model_class(name):
    """``Model``, ``Functional`` or ``Sequential``. They are defined one floor up, in
    ``minikeras.models`` (which imports this floor to save itself), so they are found
    among the Layer subclasses, as nested layers are (``layers/nested.py``)."""
    cls = find_subclass(name)
    if cls is None or not cls.__module__.startswith("minikeras.models."):
        raise LookupError(f"No model class {name!r} in minikeras.models: expected one of "
                          f"{', '.join(MODEL_CLASSES)} (and minikeras.models imported).")
    return cls


def _accepted_arguments(cls):
    """The keyword arguments that some ``__init__`` of ``cls`` or of its base classes names
    (a layer may hand its arguments on in any way, so all of them count)."""
    names = {"autocast", "input_length"}
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is not None and klass is not object:
            params = inspect.signature(init).parameters
            names.update(p for p, v in params.items()
                         if v.kind not in (v.VAR_KEYWORD, v.VAR_POSITIONAL))
    return names


def _default_like(value):
    return value is None or value is False or value == {} or value == [] or value == "auto"


def _drop_unsupported(cls, config, owner):
    """``config`` without the Keras options that ``cls`` does not take, when they hold a
    default value; an option set to something else is an error naming ``owner``."""
    if not cls.__module__.startswith("minikeras."):
        return config
    accepted, config = _accepted_arguments(cls), dict(config)
    for key in [k for k in config if k not in accepted]:
        if not _default_like(config[key]):
            raise ValueError(f"{owner} ({cls.__name__}): minikeras does not support the "
                             f"option {key}={config[key]!r} of Keras.")
        del config[key]  # a Keras option at its default: nothing to honour
    return config


def _fit_nested(config, owner, custom_objects):
    """Initializer, regularizer and constraint dicts of a layer config turned into objects
    (layers keep what they are given, and a dict would not survive their get_config),
    with their Keras-only options (``input_axes: null``...) dropped."""
    out = dict(config)
    for key, value in config.items():
        for suffix, (_, module) in _SUFFIX_MODULES.items():
            if not (key.endswith(suffix) and isinstance(value, dict) and "class_name" in value):
                continue
            custom = objects.get_registered_object(
                value.get("registered_name") or value["class_name"], custom_objects)
            if custom is not None:
                out[key] = custom.from_config(value.get("config") or {})
                continue
            cls = type(module.get(value["class_name"]))
            out[key] = cls.from_config(_drop_unsupported(cls, value.get("config") or {},
                                                         f"{owner}, {key}"))
    return out


def layer_from_dict(d, custom_objects=None, safe_mode=True):
    """A layer (or model) from its Keras dict."""
    cls = find_layer_class(d, custom_objects)
    name = (d.get("config") or {}).get("name")
    if cls is None:
        raise ValueError(f"Unknown layer class '{d.get('class_name')}' (layer '{name}'): "
                         "minikeras has no such layer. If it is your own class, register it "
                         "with @keras.saving.register_keras_serializable() or pass it in "
                         "custom_objects.")
    config = _resolve_functions(_plain(d.get("config") or {}), custom_objects, safe_mode)
    layer = cls.from_config(_fit_layer_config(cls, config, f"Layer '{name}'", custom_objects))
    if d.get("build_config") and overrides(layer, "build_from_config", Layer):
        layer.build_from_config(_plain(d["build_config"]))
    return layer


def _fit_layer_config(cls, config, owner, custom_objects):
    """A layer config made ready for ``cls.from_config``: Keras-only options at their
    defaults dropped, initializers (and the like) made objects, and the same done inside
    nested layer dicts (a wrapper's ``layer``, an RNN's ``cell``, the ``cells`` of
    StackedRNNCells)."""
    config = _fit_nested(_drop_unsupported(cls, config, owner), owner, custom_objects)

    def fit(value, where):
        if isinstance(value, list):
            return [fit(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, dict) and value.get("module") == "keras.layers":
            inner = find_layer_class(value, custom_objects)
            if inner is None:
                raise ValueError(f"Unknown layer class '{value.get('class_name')}' in "
                                 f"{where}: minikeras has no such layer.")
            return dict(value, config=_fit_layer_config(inner, value.get("config") or {},
                                                        where, custom_objects))
        return value

    return {key: fit(value, f"{owner}, {key}") for key, value in config.items()}


def deserialize_keras_object(config, custom_objects=None, safe_mode=True):
    """The object a Keras dict describes (a layer, model, optimizer, loss, metric,
    initializer, regularizer, constraint, schedule, function, array), or plain values."""
    if isinstance(config, list):
        return [deserialize_keras_object(c, custom_objects, safe_mode) for c in config]
    if not isinstance(config, dict):
        return config
    if "class_name" not in config:
        return {k: deserialize_keras_object(v, custom_objects, safe_mode)
                for k, v in config.items()}
    class_name, module = config["class_name"], config.get("module") or ""
    if class_name in ("function", "__lambda__"):
        return deserialize_function(config, custom_objects, safe_mode)
    if class_name in ("__numpy__", "__tensor__"):
        inner = config["config"]
        return np.asarray(inner["value"], dtype=inner.get("dtype"))
    if class_name == "__bytes__":
        return config["config"]["value"].encode("utf-8")
    if class_name in ("DTypePolicy", "FloatDTypePolicy"):
        return _plain(config)
    custom = None
    for key in (config.get("registered_name"), class_name):
        custom = objects.get_registered_object(key, custom_objects) if key else None
        if custom is not None:
            break
    if isinstance(custom, type) and not issubclass(custom, Layer):
        return custom.from_config(deserialize_keras_object(config.get("config"),
                                                           custom_objects, safe_mode))
    inner = _plain(config)
    if module.startswith(("keras.optimizers.schedules", "keras.src.optimizers.schedules")):
        return schedules.deserialize(inner, custom_objects=custom_objects)
    if module.startswith(("keras.optimizers", "keras.src.optimizers")) or (
            module.startswith("keras.src.backend.") and ".optimizers" in module):
        # Keras on torch (or TensorFlow) names its optimizers' backend modules, e.g.
        # keras.src.backend.torch.optimizers.torch_adam: still the optimizer of that name
        return optim.deserialize(dict(inner, module="keras.optimizers"),
                                 custom_objects=custom_objects)
    if module.startswith("keras.losses"):
        return losses.deserialize(inner)
    if module.startswith("keras.metrics"):
        return metrics.get(inner)
    for suffix, (module_name, mod) in _SUFFIX_MODULES.items():
        if module.startswith(module_name):
            return mod.deserialize(inner, custom_objects=custom_objects)
    return layer_from_dict(config, custom_objects, safe_mode)


__all__ = ["serialize_keras_object", "deserialize_keras_object"]
