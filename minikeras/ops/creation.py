"""Tensors made from a shape and a few numbers: ``zeros``, ``ones``, ``full``, ``eye``,
``arange``, ``linspace`` and the ``*_like`` forms.

They are constants, not computations on other tensors, so there is nothing to
differentiate: each function makes one array with ``backend.xp`` (on the backend's device)
and returns it as a leaf Tensor. Float results default to ``floatx()`` (float32), as in Keras.
"""
import numpy as np

from .. import backend
from ..autograd import OpError
from ..tensor import Tensor
from .core import convert_to_tensor

__all__ = ["zeros", "ones", "full", "zeros_like", "ones_like", "full_like", "arange", "eye",
           "linspace"]


def _shape(shape, opname):
    """``shape`` (an int, a tuple/list of ints, or a 1-D integer tensor) as a tuple of ints."""
    if isinstance(shape, Tensor):
        shape = shape.numpy().tolist()
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        shape = tuple(int(n) for n in shape)
    except (TypeError, ValueError):
        raise OpError(f"ops.{opname}: shape must be an int or a tuple of ints, got "
                      f"{shape!r}.") from None
    if any(n < 0 for n in shape):
        raise OpError(f"ops.{opname}: negative dimension in shape {shape}.")
    return shape


def _dtype(dtype):
    return np.dtype(dtype or backend.floatx())


def _value(v):
    """A fill value or an endpoint: a Tensor's array, anything else as it is."""
    return v.data if isinstance(v, Tensor) else v


def zeros(shape, dtype=None):
    """A tensor of zeros (``keras.ops.zeros``); dtype ``floatx()`` unless given."""
    return Tensor._wrap(backend.xp.zeros(_shape(shape, "zeros"), dtype=_dtype(dtype)))


def ones(shape, dtype=None):
    """A tensor of ones (``keras.ops.ones``); dtype ``floatx()`` unless given."""
    return Tensor._wrap(backend.xp.ones(_shape(shape, "ones"), dtype=_dtype(dtype)))


def full(shape, fill_value, dtype=None):
    """A tensor of ``shape`` filled with ``fill_value`` (``keras.ops.full``); dtype
    ``floatx()`` unless given, as in Keras."""
    return Tensor._wrap(backend.xp.full(_shape(shape, "full"), _value(fill_value),
                                        dtype=_dtype(dtype)))


def zeros_like(x, dtype=None):
    """Zeros with the shape of ``x`` and its dtype unless ``dtype`` is given."""
    x = convert_to_tensor(x)
    return Tensor._wrap(backend.xp.zeros_like(x.data, dtype=dtype))


def ones_like(x, dtype=None):
    """Ones with the shape of ``x`` and its dtype unless ``dtype`` is given."""
    x = convert_to_tensor(x)
    return Tensor._wrap(backend.xp.ones_like(x.data, dtype=dtype))


def full_like(x, fill_value, dtype=None):
    """``fill_value`` with the shape of ``x`` and its dtype unless ``dtype`` is given."""
    x = convert_to_tensor(x)
    return Tensor._wrap(backend.xp.full_like(x.data, _value(fill_value), dtype=dtype))


def _number(v, what):
    if isinstance(v, Tensor):
        if v.size != 1:
            raise OpError(f"ops.arange: {what} must be a number, got a tensor of shape {v.shape}.")
        return v.item()
    return v


def arange(start, stop=None, step=1, dtype=None):
    """Evenly spaced values in [start, stop) (``keras.ops.arange``); ``arange(n)`` counts
    from 0. Without ``dtype``: int32 when every argument is an integer, ``floatx()`` when
    any is a float (``arange(3)`` is int32, ``arange(3.0)`` float32), as in Keras."""
    start, stop, step = (_number(start, "start"), _number(stop, "stop"), _number(step, "step"))
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise OpError("ops.arange: step must not be zero.")
    if dtype is None:
        numbers = (start, stop, step)
        is_float = any(isinstance(v, (float, np.floating)) for v in numbers)
        dtype = backend.floatx() if is_float else "int32"
    return Tensor._wrap(backend.xp.arange(start, stop, step, dtype=np.dtype(dtype)))


def eye(N, M=None, k=0, dtype=None):
    """An N×M matrix (M defaults to N) with ones on diagonal ``k`` (``keras.ops.eye``)."""
    return Tensor._wrap(backend.xp.eye(int(N), None if M is None else int(M), int(k),
                                       dtype=_dtype(dtype)))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``num`` evenly spaced values from ``start`` to ``stop`` (included when ``endpoint``)
    (``keras.ops.linspace``). ``start`` and ``stop`` may be tensors, giving one sequence per
    element along ``axis``. The dtype is ``floatx()`` unless given (or unless the endpoints
    are float tensors of a wider type). With ``retstep=True`` returns ``(values, step)``."""
    if num < 0:
        raise OpError(f"ops.linspace: num must be non-negative, got {num}.")
    start, stop = _value(start), _value(stop)
    if dtype is None:
        floats = [a.dtype for a in (start, stop) if hasattr(a, "dtype") and a.dtype.kind == "f"]
        dtype = np.result_type(backend.floatx(), *floats)
    out = backend.xp.linspace(start, stop, num=int(num), endpoint=endpoint, retstep=retstep,
                              dtype=np.dtype(dtype), axis=axis)
    if not retstep:
        return Tensor._wrap(out)
    values, step = out
    if backend.is_device_array(step) and step.ndim > 0:
        return Tensor._wrap(values), Tensor._wrap(step)
    return Tensor._wrap(values), float(step)
