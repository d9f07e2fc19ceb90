"""Constraints: projections applied to a weight after each optimizer step
(``keras.constraints``).

A constraint is a callable ``c(w)`` that returns the projected weight; the optimizer assigns
it back (``w.assign(c(w))``) after updating ``w``. Norm constraints measure the L2 norm of
slices of the weight along ``axis`` (for a Dense kernel of shape (in, out), ``axis=0`` gives
one norm per output unit: the norm of its incoming weights; for a Conv2D kernel
(h, w, in, out) use ``axis=[0, 1, 2]``) and rescale each slice:

    w ← w · desired / (ε + norm)         ε = minikeras.config.epsilon() (1e-7)

where ``desired`` is the norm the slice should have. The ε keeps an all-zero slice at zero
instead of dividing by zero; it also shrinks every slice very slightly, as in Keras.
"""

from . import naming
from . import backend, ops

__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "max_norm",
           "min_max_norm", "non_neg", "unit_norm", "get", "serialize", "deserialize"]


def _axis(axis):
    """An axis for ops: an int, or a tuple for a list of axes (a list comes from JSON)."""
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


def _norms(w, axis):
    """The L2 norm of each slice of w along ``axis``, kept as size-1 axes so it broadcasts."""
    return ops.sqrt(ops.sum(ops.square(w), axis=_axis(axis), keepdims=True))


class Constraint:
    """The base class: ``__call__(w)`` returns the projected weight (here, w unchanged);
    ``get_config()`` the arguments, so that ``cls.from_config(config)`` makes an equal one."""

    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MaxNorm(Constraint):
    """Scales down each slice whose L2 norm (along ``axis``) is above ``max_value``; slices
    within the limit stay (up to the ε factor)."""

    def __init__(self, max_value=2, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        w = ops.convert_to_tensor(w)
        norms = _norms(w, self.axis)
        desired = ops.clip(norms, 0.0, float(self.max_value))
        return w * (desired / (backend.epsilon() + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves each slice's L2 norm (along ``axis``) into [min_value, max_value]: the desired
    norm is ``rate · clip(norm, min_value, max_value) + (1 - rate) · norm``, so ``rate=1``
    projects at once and a smaller rate moves part of the way at each step."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        w = ops.convert_to_tensor(w)
        norms = _norms(w, self.axis)
        clipped = ops.clip(norms, float(self.min_value), float(self.max_value))
        desired = self.rate * clipped + (1.0 - self.rate) * norms
        return w * (desired / (backend.epsilon() + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


class NonNeg(Constraint):
    """Sets the negative values to zero."""

    def __call__(self, w):
        w = ops.convert_to_tensor(w)
        return w * ops.cast(ops.greater_equal(w, 0.0), w.dtype)


class UnitNorm(Constraint):
    """Scales each slice to L2 norm 1 along ``axis`` (to 1/(1 + ε) exactly, as in Keras)."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = ops.convert_to_tensor(w)
        return w / (backend.epsilon() + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


# snake_case aliases, as keras.constraints has them
max_norm, min_max_norm, non_neg, unit_norm = MaxNorm, MinMaxNorm, NonNeg, UnitNorm

# --------------------------------------------------------------------------- names
_CLASSES = [Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm]
_BY_NAME = naming.name_table(_CLASSES)


def serialize(constraint):
    """The constraint as a JSON-ready dict, in the form of Keras's saved files."""
    return naming.serialize("constraint", "keras.constraints", constraint)


def deserialize(config, custom_objects=None):
    """A constraint from a name (with its defaults) or a config dict."""
    return naming.deserialize("constraint", config, _BY_NAME, custom_objects)


def get(identifier):
    """A constraint from a layer argument: None, a name (``"non_neg"``, ``"max_norm"``), a
    config dict, a Constraint class or instance, or any callable ``f(w)``."""
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Constraint):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret constraint identifier: {identifier!r} (of type "
                     f"{type(identifier).__name__}). Give a name such as 'non_neg', a config "
                     "dict, a Constraint or a callable.")
