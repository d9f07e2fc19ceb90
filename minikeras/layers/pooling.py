"""Pooling layers: MaxPooling1D/2D, AveragePooling1D/2D, GlobalAveragePooling1D/2D,
GlobalMaxPooling1D/2D (and Keras's short aliases MaxPool2D, AvgPool2D, GlobalAvgPool2D, ...).

None of them has weights. The windowed poolings call ``ops.max_pool`` / ``ops.average_pool``;
the global ones reduce the spatial axes with ``ops.max`` / ``ops.mean``.
"""
from .. import ops
from ..ops.arguments import standardize_data_format, standardize_tuple
from .layer import Layer

__all__ = ["MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
           "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D",
           "GlobalMaxPooling2D", "MaxPool1D", "MaxPool2D", "AvgPool1D", "AvgPool2D",
           "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D"]


def _spatial_axes(rank, data_format):
    return tuple(range(2, 2 + rank)) if data_format == "channels_first" else tuple(
        range(1, 1 + rank))


def _fmt(shape):
    return "(" + ", ".join("None" if s is None else str(s) for s in shape) + (
        ",)" if len(shape) == 1 else ")")


# --------------------------------------------------------------------------- windowed pooling
class _Pooling(Layer):
    """The shared part of MaxPooling1D/2D and AveragePooling1D/2D."""

    rank = 2
    mode = "max"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = standardize_tuple(pool_size, self.rank, "pool_size")
        self.strides = standardize_tuple(self.pool_size if strides is None else strides,
                                         self.rank, "strides")
        mode = padding.lower() if isinstance(padding, str) else padding
        if mode not in ("valid", "same"):
            raise ValueError("The `padding` argument must be one of {'valid', 'same'}. "
                             f"Received: padding={padding}")
        self.padding = mode
        self.data_format = standardize_data_format(data_format)
        self.input_spec_shape = (None,) * (self.rank + 2)       # checks the rank only

    def _check_fits(self, shape):
        """With "valid" padding every window must lie inside the input."""
        spatial = [shape[a] for a in _spatial_axes(self.rank, self.data_format)]
        if self.padding == "valid" and any(s is not None and s < k
                                           for s, k in zip(spatial, self.pool_size)):
            raise ValueError(
                f"Layer \"{self.name}\" ({type(self).__name__}): computed output size would be "
                f"negative. Received: inputs.shape={_fmt(shape)} and pool_size="
                f"{self.pool_size} with padding=\"valid\" (data_format=\"{self.data_format}\"):"
                f" each spatial size must be at least the pool size, or use padding=\"same\".")

    def call(self, inputs):
        self._check_fits(inputs.shape)
        op = ops.max_pool if self.mode == "max" else ops.average_pool
        return op(inputs, pool_size=self.pool_size, strides=self.strides,
                  padding=self.padding, data_format=self.data_format)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"Input 0 of layer \"{self.name}\" is incompatible with the layer: "
                             f"expected ndim={self.rank + 2}, found ndim={len(input_shape)}. "
                             f"Full shape received: {_fmt(input_shape)}")
        self._check_fits(input_shape)
        out = list(input_shape)
        for axis, k, s in zip(_spatial_axes(self.rank, self.data_format), self.pool_size,
                              self.strides):
            size = input_shape[axis]
            if size is not None:
                out[axis] = -(-size // s) if self.padding == "same" else (size - k) // s + 1
        return tuple(out)

    def get_config(self):
        config = super().get_config()
        config.update(pool_size=self.pool_size, padding=self.padding, strides=self.strides,
                      data_format=self.data_format)
        return config


class MaxPooling1D(_Pooling):
    """The maximum over windows of ``pool_size`` steps, moved by ``strides`` (default:
    ``pool_size``): (batch, steps, features) -> (batch, pooled_steps, features)."""

    rank, mode = 1, "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling2D(_Pooling):
    """The maximum over windows of ``pool_size`` (rows, cols), moved by ``strides``
    (default: ``pool_size``): (batch, h, w, c) -> (batch, pooled_h, pooled_w, c).
    With "valid" padding a last row or column that does not fill a window is dropped."""

    rank, mode = 2, "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling1D(_Pooling):
    """The mean over windows of ``pool_size`` steps (``pool_size`` has no default in Keras
    3). With "same" padding a border window averages its real steps only."""

    rank, mode = 1, "average"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling2D(_Pooling):
    """The mean over windows of ``pool_size`` (rows, cols) (no default in Keras 3). With
    "same" padding a border window averages its real cells only, as TensorFlow does."""

    rank, mode = 2, "average"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


# --------------------------------------------------------------------------- global pooling
class _GlobalPooling(Layer):
    """The shared part of the global poolings: one value per channel over all spatial axes."""

    rank = 2

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.keepdims = bool(keepdims)
        self.input_spec_shape = (None,) * (self.rank + 2)

    def _axes(self):
        return _spatial_axes(self.rank, self.data_format)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        channels_axis = 1 if self.data_format == "channels_first" else len(input_shape) - 1
        if self.keepdims:
            return tuple(1 if a in self._axes() else s for a, s in enumerate(input_shape))
        return (input_shape[0], input_shape[channels_axis])

    def get_config(self):
        config = super().get_config()
        config.update(data_format=self.data_format, keepdims=self.keepdims)
        return config


class GlobalAveragePooling1D(_GlobalPooling):
    """The mean over the steps: (batch, steps, features) -> (batch, features).

    With a mask (batch, steps) (from an Embedding with ``mask_zero=True``, a Masking layer)
    the mean is over the unmasked steps only, and the output carries no mask. A sample whose
    steps are all masked gets 0/0 = NaN, as in Keras."""

    rank = 1

    def call(self, inputs, mask=None):
        axis = self._axes()[0]
        if mask is None:
            return ops.mean(inputs, axis=axis, keepdims=self.keepdims)
        feature_axis = 1 if self.data_format == "channels_first" else 2
        steps = inputs.shape[2 if feature_axis == 1 else 1]
        if tuple(mask.shape) != (inputs.shape[0], steps):
            raise ValueError(f"Layer \"{self.name}\" got a mask of shape {tuple(mask.shape)} for "
                             f"inputs of shape {tuple(inputs.shape)}: the mask must be "
                             f"(batch, steps) = {(inputs.shape[0], steps)}.")
        keep = ops.expand_dims(ops.cast(mask, "bool"), feature_axis)
        total = ops.sum(ops.where(keep, inputs, 0.0), axis=axis, keepdims=self.keepdims)
        count = ops.sum(ops.cast(keep, inputs.dtype), axis=axis, keepdims=self.keepdims)
        return total / count

    def compute_mask(self, inputs, previous_mask):
        return None


class GlobalAveragePooling2D(_GlobalPooling):
    """The mean over height and width: (batch, h, w, c) -> (batch, c)."""

    rank = 2

    def call(self, inputs):
        return ops.mean(inputs, axis=self._axes(), keepdims=self.keepdims)


class GlobalMaxPooling1D(_GlobalPooling):
    """The maximum over the steps: (batch, steps, features) -> (batch, features)."""

    rank = 1

    def call(self, inputs):
        return ops.max(inputs, axis=self._axes(), keepdims=self.keepdims)


class GlobalMaxPooling2D(_GlobalPooling):
    """The maximum over height and width: (batch, h, w, c) -> (batch, c)."""

    rank = 2

    def call(self, inputs):
        return ops.max(inputs, axis=self._axes(), keepdims=self.keepdims)


# Keras's short names for the same classes.
MaxPool1D, MaxPool2D = MaxPooling1D, MaxPooling2D
AvgPool1D, AvgPool2D = AveragePooling1D, AveragePooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
