"""The argument checks that the windowed ops (convolution, pooling) and their layers share,
with Keras's error messages: a ValueError, or, when ``where`` names the op (say
``"ops.conv"``), an OpError whose message starts with that name."""
import operator

from .. import backend
from ..autograd import OpError


def _error(where, message):
    return OpError(f"{where}: {message}") if where else ValueError(message)


def standardize_tuple(value, n, name, allow_zero=False, where=None):
    """An int, or a sequence of n ints, as a tuple of n ints, each > 0 (>= 0 with
    ``allow_zero``)."""
    message = f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value}"
    values = (value,) * n if not hasattr(value, "__len__") else value
    try:
        if isinstance(value, str) or any(isinstance(v, bool) for v in values):
            raise TypeError
        values = tuple(operator.index(v) for v in values)
    except TypeError:
        raise _error(where, message) from None
    if len(values) != n:
        raise _error(where, message)
    bad = {v for v in values if v < 0 or (v == 0 and not allow_zero)}
    if bad:
        raise _error(where, f"{message}, including values {bad} that do not satisfy "
                            f"`value {'>= 0' if allow_zero else '> 0'}`")
    return values


def standardize_data_format(data_format, where=None):
    """None -> the configured ``image_data_format()``; else "channels_last" or
    "channels_first" (any case)."""
    if data_format is None:
        return backend.image_data_format()
    value = str(data_format).lower()
    if value not in ("channels_last", "channels_first"):
        raise _error(where, "The `data_format` argument must be one of {'channels_first', "
                            f"'channels_last'}}. Received: data_format={data_format}")
    return value
