"""Keras operations inside a functional config, as layers.

A functional model built in Keras records not only layer calls but also the operations
applied to symbolic tensors: ``x + 1``, ``keras.ops.mean(x)``, and the masks that Keras
computes explicitly (an Embedding with ``mask_zero=True`` adds ``NotEqual(x, 0)``; a merge
of masked tensors ``LogicalOr``). They appear among the layers, with a module such as
``keras.src.ops.numpy``. :class:`KerasOp` replays such an operation with the minikeras op
of the same name in snake case (``NotEqual`` -> ``ops.not_equal``), passing the op's own
config (``axis``, ``keepdims``...) as keyword arguments. It has no weights and is not
among the layers of the weights file (Keras does not save operations there).
"""
from .. import ops
from ..layers.layer import Layer
from ..layers.names import snake_case


def is_keras_op(d):
    """Whether a serialized entry of a functional config is a Keras operation."""
    module = d.get("module")
    return isinstance(module, str) and module.startswith(("keras.src.ops", "keras.ops"))


class KerasOp(Layer):
    """A Keras operation (``NotEqual``, ``Add``, ``Mean``...) as a weightless layer."""

    def __init__(self, keras_module, keras_class, op_config, name=None):
        super().__init__(name=name)
        function_name = snake_case(str(keras_class))
        # only the public ops: a name from a file must not reach anything else
        self.function = getattr(ops, function_name) if function_name in ops.__all__ else None
        if not callable(self.function):
            raise ValueError(f"The functional config uses the Keras operation {keras_class} "
                             f"(layer '{name}'), which minikeras.ops does not have "
                             f"(ops.{function_name}).")
        self.keras_module, self.keras_class = keras_module, keras_class
        self.op_config = {k: v for k, v in (op_config or {}).items() if k != "name"}

    def call(self, inputs, *args, training=None, mask=None, **kwargs):
        # `training` and `mask` are what Layer.__call__ hands every layer: not op arguments
        return self.function(inputs, *args, **self.op_config, **kwargs)

    def get_config(self):
        return {"name": self.name, **self.op_config}

    def serialize(self):
        """The entry Keras wrote for this operation."""
        return {"module": self.keras_module, "class_name": self.keras_class,
                "config": self.get_config(), "registered_name": None}


def op_from_dict(d):
    config = d.get("config") if isinstance(d.get("config"), dict) else {}
    return KerasOp(d["module"], d["class_name"], config, name=config.get("name"))
