"""Optimizers: ``keras.optimizers`` (exported as ``minikeras.optimizers``).

An optimizer turns gradients into weight updates. ``model.fit`` ends every step with::

    optimizer.apply_gradients(zip(grads, model.trainable_weights))

and :meth:`Optimizer.apply` does, in Keras's order:

1. drop the variables whose gradient is None (with a warning; all None is an error);
2. on the first call, :meth:`~Optimizer.build`: create the *slot variables* (Adam's
   momentum and velocity...), zeros shaped like each weight, per weight in turn;
3. clip the gradients (``clipnorm``, ``clipvalue`` or ``global_clipnorm``);
4. decoupled weight decay: ``w -= w * weight_decay * lr``;
5. :meth:`~Optimizer.update_step` for each weight: the formula of the optimizer, in
   ``rules.py`` (SGD runs the same formula as one compiled loop, ``fused_update_step``);
6. ``iterations += 1``.

The learning rate is read once per step: a float (kept in a float32 Variable, as Keras
does, so callbacks can change it), a schedule from :mod:`minikeras.schedules` called with
``iterations``, or a function of no arguments.

Every update is written as the plain array formula and runs **in place** on the arrays of
the weights and slots (``m *= mu``, ``w -= lr * g``). Scalars (learning rate, betas...) are
cast to the weight's dtype first, as Keras does, so float32 weights are updated in float32
and float64 weights in float64.

Around the core (``base.py``): the moving average of the weights (``moving_average.py``),
gradient accumulation (``accumulation.py``) and loss scaling (``loss_scaling.py``).

Writing your own: subclass :class:`Optimizer`, create slots in ``build`` with
``self.add_variable_from_reference`` (after ``super().build(var_list)``), and write
``update_step(gradient, variable, learning_rate)`` with ops and ``self.assign_sub(...)``.
"""
from .. import schedules  # noqa: F401  (keras.optimizers.schedules)
from .base import Optimizer
from .rules import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, Lion, Nadam, RMSprop

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax",
           "Nadam", "Lion", "get", "serialize", "deserialize", "schedules"]


# ---------------------------------------------------------------------- lookup by name
_BY_NAME = {cls.__name__.lower(): cls
            for cls in (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam, Lion)}


def serialize(optimizer):
    """The optimizer as the dict Keras writes into ``compile_config``."""
    return {"module": "keras.optimizers", "class_name": type(optimizer).__name__,
            "config": optimizer.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """An optimizer from ``serialize``'s dict (class names are matched case-insensitively)."""
    name = config.get("class_name", "")
    cls = (custom_objects or {}).get(name) or _BY_NAME.get(name.lower())
    if cls is None:
        raise ValueError(f"Unknown optimizer: {name!r}. Valid names: "
                         f"{', '.join(sorted(_BY_NAME))} (or an Optimizer instance).")
    return cls.from_config(dict(config.get("config", {})), custom_objects=custom_objects)


def get(identifier):
    """An optimizer from a name (``"adam"``, ``"sgd"``, ``"rmsprop"``..., with Keras's
    defaults), a config dict, or an Optimizer (returned as it is)."""
    if identifier is None:
        return None
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower())
        if cls is None:
            raise ValueError(f"Unknown optimizer: {identifier!r}. Valid names: "
                             f"{', '.join(sorted(_BY_NAME))}.")
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")
