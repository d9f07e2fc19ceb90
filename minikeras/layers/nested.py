"""A layer inside a layer (an RNN's cell, the cells of StackedRNNCells, a wrapper's layer):
its config as Keras writes it, the layer made again from that config, and its weight paths.

The classes are found by name among the Layer subclasses defined so far: minikeras's own
first, then any other (a user's own cell, say). Python keeps that registry for us
(``type.__subclasses__``), so nothing has to import the whole ``layers`` package here.
"""
from .layer import Layer


def serialize_layer(layer):
    """``{"module", "class_name", "config", "registered_name"}``, as Keras nests a layer."""
    return {"module": "keras.layers", "class_name": type(layer).__name__,
            "config": layer.get_config(), "registered_name": None}


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def find_layer_class(name):
    """The Layer subclass called ``name`` (minikeras's own before any other), or None."""
    found = [cls for cls in _subclasses(Layer) if cls.__name__ == name]
    own = [cls for cls in found if cls.__module__.startswith("minikeras.")]
    return (own or found or [None])[0]


def layer_from_config(config):
    """A layer from ``{"class_name": ..., "config": ...}``."""
    name = config["class_name"]
    cls = find_layer_class(name)
    if cls is None:
        raise ValueError(f"Unknown layer class {name!r} in a layer config: it is neither in "
                         "keras.layers nor a Layer subclass defined so far.")
    return cls.from_config(dict(config["config"]))


def prefix_weight_paths(layer, prefix):
    """Put ``prefix/`` in front of the paths of ``layer``'s weights (a sub-layer built by its
    parent: ``lstm_cell/kernel`` becomes ``lstm/lstm_cell/kernel``, as in Keras)."""
    for w in layer.weights:
        w.path = f"{prefix}/{w.path}"
