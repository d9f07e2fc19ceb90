"""Image reshaping layers: UpSampling1D/2D, ZeroPadding1D/2D, Cropping1D/2D.

None of them has weights; each is a few existing ops (``ops.repeat``, ``ops.pad``, slicing,
``ops.einsum``), whose backward passes route every output gradient back to the input value
it came from.
"""
import numpy as np

from .. import backend, ops
from ..ops.arguments import standardize_data_format, standardize_tuple
from .layer import Layer
from .pooling import _fmt

__all__ = ["UpSampling1D", "UpSampling2D", "ZeroPadding1D", "ZeroPadding2D", "Cropping1D",
           "Cropping2D"]


def _spatial(data_format, rank):
    """The spatial axes of a (batch, *spatial, channels) or (batch, channels, *spatial) input."""
    return tuple(range(2, 2 + rank)) if data_format == "channels_first" else tuple(
        range(1, 1 + rank))


def _pairs(value, name):
    """Keras's 2-D padding/cropping argument: an int, (symmetric_h, symmetric_w) or
    ((top, bottom), (left, right)), as ((top, bottom), (left, right))."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"`{name}` cannot be negative. Received: {name}={value}.")
        return ((value, value), (value, value))
    if not hasattr(value, "__len__"):
        raise ValueError(f"`{name}` should be either an int, a tuple of 2 ints (symmetric_height_"
                         f"{name}, symmetric_width_{name}), or a tuple of 2 tuples of 2 ints "
                         f"((top, bottom), (left, right)). Received: {name}={value}.")
    if len(value) != 2:
        raise ValueError(f"`{name}` should have two elements. Received: {name}={value}.")
    return (standardize_tuple(value[0], 2, f"1st entry of {name}", allow_zero=True),
            standardize_tuple(value[1], 2, f"2nd entry of {name}", allow_zero=True))


# --------------------------------------------------------------------------- up-sampling
def _linear_weights(size, factor):
    """The (size·factor, size) matrix of linear interpolation with half-pixel centres (as
    TensorFlow's and JAX's image resize): output o samples input position
    (o + 1/2) / factor - 1/2, clamped to the edge cells."""
    source = np.clip((np.arange(size * factor) + 0.5) / factor - 0.5, 0, size - 1)
    low = np.floor(source).astype(np.int64)
    high = np.minimum(low + 1, size - 1)
    frac = source - low
    w = np.zeros((size * factor, size))
    rows = np.arange(size * factor)
    w[rows, low] += 1 - frac
    w[rows, high] += frac
    return w


class UpSampling1D(Layer):
    """Repeats each step ``size`` times: (batch, steps, features) -> (batch, steps·size,
    features)."""

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        (self.size,) = standardize_tuple(size, 1, "size")
        self.input_spec_shape = (None, None, None)

    def call(self, inputs):
        return ops.repeat(inputs, self.size, axis=1)

    def compute_output_shape(self, input_shape):
        steps = input_shape[1]
        return (input_shape[0], None if steps is None else steps * self.size, input_shape[2])

    def get_config(self):
        config = super().get_config()
        config["size"] = self.size
        return config


class UpSampling2D(Layer):
    """Scales images up by ``size`` = (rows, cols) factors: "nearest" repeats every row and
    column, "bilinear" interpolates linearly between neighbours (half-pixel centres, edge
    cells clamped, as TensorFlow's ``resize``)."""

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.size = standardize_tuple(size, 2, "size")
        self.data_format = standardize_data_format(data_format)
        method = str(interpolation).lower()
        if method not in ("nearest", "bilinear"):
            raise ValueError(f"Layer \"{self.name}\" (UpSampling2D): `interpolation` must be "
                             f"'nearest' or 'bilinear' (the methods minikeras implements). "
                             f"Received: interpolation={interpolation}")
        self.interpolation = method
        self.input_spec_shape = (None,) * 4

    def call(self, inputs):
        rows, cols = _spatial(self.data_format, 2)
        if self.interpolation == "nearest":
            return ops.repeat(ops.repeat(inputs, self.size[0], axis=rows), self.size[1],
                              axis=cols)
        wh = backend.asarray(_linear_weights(inputs.shape[rows], self.size[0]),
                             dtype=inputs.dtype)
        ww = backend.asarray(_linear_weights(inputs.shape[cols], self.size[1]),
                             dtype=inputs.dtype)
        if self.data_format == "channels_first":
            return ops.einsum("pw,ncow->ncop", ww, ops.einsum("oh,nchw->ncow", wh, inputs))
        return ops.einsum("pw,nowc->nopc", ww, ops.einsum("oh,nhwc->nowc", wh, inputs))

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for axis, factor in zip(_spatial(self.data_format, 2), self.size):
            out[axis] = None if out[axis] is None else out[axis] * factor
        return tuple(out)

    def get_config(self):
        config = super().get_config()
        config.update(size=self.size, data_format=self.data_format,
                      interpolation=self.interpolation)
        return config


# --------------------------------------------------------------------------- zero padding
class ZeroPadding1D(Layer):
    """Adds ``padding`` = n or (before, after) zero steps: (batch, steps, features) ->
    (batch, before + steps + after, features)."""

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = standardize_tuple(padding, 2, "padding", allow_zero=True)
        self.data_format = standardize_data_format(data_format)
        self.input_spec_shape = (None, None, None)

    def call(self, inputs):
        pads = [(0, 0)] * 3
        pads[_spatial(self.data_format, 1)[0]] = self.padding
        return ops.pad(inputs, pads)

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        axis = _spatial(self.data_format, 1)[0]
        out[axis] = None if out[axis] is None else out[axis] + sum(self.padding)
        return tuple(out)

    def get_config(self):
        config = super().get_config()
        config.update(padding=self.padding, data_format=self.data_format)
        return config


class ZeroPadding2D(Layer):
    """Adds rows and columns of zeros around images: ``padding`` = n, (rows, cols) or
    ((top, bottom), (left, right))."""

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _pairs(padding, "padding")
        self.data_format = standardize_data_format(data_format)
        self.input_spec_shape = (None,) * 4

    def call(self, inputs):
        pads = [(0, 0)] * 4
        for axis, pair in zip(_spatial(self.data_format, 2), self.padding):
            pads[axis] = pair
        return ops.pad(inputs, pads)

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for axis, pair in zip(_spatial(self.data_format, 2), self.padding):
            out[axis] = None if out[axis] is None else out[axis] + sum(pair)
        return tuple(out)

    def get_config(self):
        config = super().get_config()
        config.update(padding=self.padding, data_format=self.data_format)
        return config


# --------------------------------------------------------------------------- cropping
class _Cropping(Layer):
    """The shared part of Cropping1D/2D: ``self.cropping`` holds one (before, after) pair
    per spatial axis."""

    rank = 2
    data_format = "channels_last"

    def _check(self, shape, what):
        for axis, (before, after) in zip(_spatial(self.data_format, self.rank), self.cropping):
            if shape[axis] is not None and before + after >= shape[axis]:
                if self.rank == 1:
                    raise ValueError(
                        f"Layer \"{self.name}\": `cropping` parameter of `Cropping1D` layer must "
                        f"be smaller than the input length. Received: {what}={_fmt(shape)}, "
                        f"cropping={(before, after)}")
                raise ValueError(
                    f"Layer \"{self.name}\" ({type(self).__name__}): values in `cropping` "
                    f"argument should be smaller than the corresponding spatial dimension of "
                    f"the input. Received: {what}={_fmt(shape)}, cropping={self.cropping} "
                    f"(cropping {before + after} of the {shape[axis]} cells of axis {axis} "
                    "would leave none).")

    def call(self, inputs):
        self._check(inputs.shape, "inputs.shape")
        key = [slice(None)] * inputs.ndim
        for axis, (before, after) in zip(_spatial(self.data_format, self.rank), self.cropping):
            key[axis] = slice(before, inputs.shape[axis] - after)
        return inputs[tuple(key)]

    def compute_output_shape(self, input_shape):
        self._check(input_shape, "input_shape")
        out = list(input_shape)
        for axis, pair in zip(_spatial(self.data_format, self.rank), self.cropping):
            out[axis] = None if out[axis] is None else out[axis] - sum(pair)
        return tuple(out)


class Cropping1D(_Cropping):
    """Removes ``cropping`` = n or (before, after) steps: (batch, steps, features) ->
    (batch, steps - before - after, features)."""

    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = (standardize_tuple(cropping, 2, "cropping", allow_zero=True),)
        self.input_spec_shape = (None, None, None)

    def get_config(self):
        config = super().get_config()
        config["cropping"] = self.cropping[0]
        return config


class Cropping2D(_Cropping):
    """Removes rows and columns at the borders of images: ``cropping`` = n, (rows, cols)
    or ((top, bottom), (left, right))."""

    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = _pairs(cropping, "cropping")
        self.data_format = standardize_data_format(data_format)
        self.input_spec_shape = (None,) * 4

    def get_config(self):
        config = super().get_config()
        config.update(cropping=self.cropping, data_format=self.data_format)
        return config
