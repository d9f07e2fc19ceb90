"""Small helpers on the nested inputs of layers and models.

A layer may take one tensor, a list of tensors, or a dict of them; these helpers walk such a
structure. ``layer.py``, the functional graph, the training loop and saving share them.
"""
import inspect

import numpy as np


def shape_of(x):
    """The shape of a tensor, an array or a nested list of numbers."""
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def map_structure(fn, structure):
    """``fn`` applied to every leaf, keeping the lists, tuples and dicts around them."""
    if isinstance(structure, (list, tuple)):
        return type(structure)(map_structure(fn, s) for s in structure)
    if isinstance(structure, dict):
        return {k: map_structure(fn, v) for k, v in structure.items()}
    return fn(structure)


def flatten(structure):
    """The leaves of a nested structure as one flat list, in order."""
    if isinstance(structure, (list, tuple)):
        return [x for s in structure for x in flatten(s)]
    if isinstance(structure, dict):
        return [x for v in structure.values() for x in flatten(v)]
    return [structure]


_accepts_cache = {}


def accepts(fn, arg):
    """True when ``fn`` takes an argument called ``arg`` (or any ``**kwargs``)."""
    key = (getattr(fn, "__func__", fn), arg)
    if key not in _accepts_cache:
        try:
            params = inspect.signature(fn).parameters
            _accepts_cache[key] = arg in params or any(
                p.kind == p.VAR_KEYWORD for p in params.values())
        except (TypeError, ValueError):
            _accepts_cache[key] = False
    return _accepts_cache[key]


def format_shape(shape):
    """A shape as Keras prints it: ``(None, 3)``, ``(5,)``."""
    inner = ", ".join("None" if s is None else str(s) for s in shape)
    return "(" + inner + ("," if len(shape) == 1 else "") + ")"
