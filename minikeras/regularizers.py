"""Regularizers: penalties on weights that are added to the loss (``keras.regularizers``).

A regularizer is a callable ``reg(w)`` that returns a scalar Tensor. A layer given
``kernel_regularizer=L2(0.01)`` adds ``reg(kernel)`` to ``layer.losses`` on every call, and
``fit`` adds those to the loss it minimizes (and shows). The penalty is computed with ops,
so the tape differentiates it like the rest of the loss:

* ``L1(l1)``:  l1 · Σ|w|     gradient l1 · sign(w): pushes weights to exactly 0;
* ``L2(l2)``:  l2 · Σw²      gradient 2 · l2 · w: shrinks weights ("weight decay");
* ``L1L2(l1, l2)``: the sum of both.

Note that Keras's L2 has no ½: ``L2(0.01)`` adds 0.01·Σw².
"""
import math

from . import naming
from . import ops

__all__ = ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer", "l1", "l2", "l1_l2",
           "orthogonal_regularizer", "get", "serialize", "deserialize"]


def _factor(value, name, owner):
    """A non-negative, finite float, or a ValueError naming the argument."""
    number = isinstance(value, (int, float)) or hasattr(value, "__float__")
    if isinstance(value, bool) or isinstance(value, str) or not number:
        raise ValueError(f"{owner}: {name} must be a non-negative number, got {name}={value!r}.")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{owner}: {name} must be a non-negative, finite number, got "
                         f"{name}={value!r}.")
    return value


class Regularizer:
    """The base class: ``__call__(x)`` returns the penalty (a scalar Tensor);
    ``get_config()`` the arguments, so that ``cls.from_config(config)`` makes an equal one."""

    def __call__(self, x):
        return ops.zeros((), dtype=ops.convert_to_tensor(x).dtype)

    def get_config(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement get_config().")

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


class L1(Regularizer):
    """l1 · Σ|x|."""

    def __init__(self, l1=0.01):
        self.l1 = _factor(0.01 if l1 is None else l1, "l1", "L1")

    def __call__(self, x):
        return self.l1 * ops.sum(ops.abs(ops.convert_to_tensor(x)))

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """l2 · Σx² (no ½)."""

    def __init__(self, l2=0.01):
        self.l2 = _factor(0.01 if l2 is None else l2, "l2", "L2")

    def __call__(self, x):
        return self.l2 * ops.sum(ops.square(ops.convert_to_tensor(x)))

    def get_config(self):
        return {"l2": self.l2}


class L1L2(Regularizer):
    """l1 · Σ|x| + l2 · Σx² (a zero factor leaves its term out)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _factor(0.0 if l1 is None else l1, "l1", "L1L2")
        self.l2 = _factor(0.0 if l2 is None else l2, "l2", "L1L2")

    def __call__(self, x):
        x = ops.convert_to_tensor(x)
        penalty = ops.zeros((), dtype=x.dtype)
        if self.l1:
            penalty = penalty + self.l1 * ops.sum(ops.abs(x))
        if self.l2:
            penalty = penalty + self.l2 * ops.sum(ops.square(x))
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (``mode="rows"``) or columns (``mode="columns"``) of a 2-D weight to
    be orthogonal to each other: with the rows scaled to unit length, the penalty is

        factor · mean over pairs i < j of |⟨row_i, row_j⟩|

    i.e. ``factor · ½ Σ_{i≠j} |G_ij| / (n(n-1)/2)`` for the Gram matrix G of the n rows.
    """

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _factor(factor, "factor", "OrthogonalRegularizer")
        if mode not in ("rows", "columns"):
            raise ValueError(f"OrthogonalRegularizer: mode must be 'rows' or 'columns', got "
                             f"mode={mode!r}.")
        self.mode = mode

    def __call__(self, x):
        x = ops.convert_to_tensor(x)
        if x.ndim != 2:
            raise ValueError(f"OrthogonalRegularizer needs a 2-D weight, got one of shape "
                             f"{x.shape}.")
        if self.mode == "columns":
            x = ops.transpose(x)
        n = x.shape[0]
        if n < 2:
            return ops.zeros((), dtype=x.dtype)
        squared = ops.sum(ops.square(x), axis=1, keepdims=True)
        unit = x / ops.sqrt(ops.maximum(squared, 1e-12))
        gram = ops.matmul(unit, ops.transpose(unit))
        off_diagonal = gram * (1.0 - ops.eye(n, dtype=x.dtype))
        pairs = n * (n - 1) / 2.0
        return self.factor * 0.5 * ops.sum(ops.abs(off_diagonal)) / pairs

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


# snake_case aliases, as keras.regularizers has them
l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer

# --------------------------------------------------------------------------- names
_CLASSES = [Regularizer, L1, L2, L1L2, OrthogonalRegularizer]
_BY_NAME = naming.name_table(_CLASSES)


def serialize(regularizer):
    """The regularizer as a JSON-ready dict, in the form of Keras's saved files."""
    return naming.serialize("regularizer", "keras.regularizers", regularizer)


def deserialize(config, custom_objects=None):
    """A regularizer from a name (with its default factor) or a config dict."""
    return naming.deserialize("regularizer", config, _BY_NAME, custom_objects)


def get(identifier):
    """A regularizer from a layer argument: None, a name (``"l2"`` is ``L2(0.01)``), a config
    dict, a Regularizer class or instance, or any callable ``f(w)`` returning a scalar."""
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Regularizer):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret regularizer identifier: {identifier!r} (of type "
                     f"{type(identifier).__name__}). Give a name such as 'l2', a config dict, "
                     "a Regularizer or a callable.")
