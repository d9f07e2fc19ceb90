"""Convolution layers: Conv1D, Conv2D, Conv1DTranspose, Conv2DTranspose, DepthwiseConv1D,
DepthwiseConv2D, SeparableConv1D, SeparableConv2D.

Each stores Keras's arguments, creates Keras's weights (names, shapes, order) on the first
call and computes with the ops of ``ops/convolution.py``; the bias is added inside the
convolution's matmul output. The weight layouts:

* Conv: ``kernel`` (*kernel_size, in_channels // groups, filters), ``bias`` (filters,)
* ConvTranspose: ``kernel`` (*kernel_size, filters, in_channels), ``bias`` (filters,)
* DepthwiseConv: ``kernel`` (*kernel_size, in_channels, depth_multiplier), ``bias``
  (in_channels · depth_multiplier,)
* SeparableConv: ``depthwise_kernel`` (*kernel_size, in_channels, depth_multiplier),
  ``pointwise_kernel`` (1, ..., in_channels · depth_multiplier, filters), ``bias`` (filters,)
"""
import math

import numpy as np

from .. import activations
from ..ops.arguments import standardize_data_format, standardize_tuple
from ..ops.convolution import conv_nd, conv_transpose_nd, transpose_pads
from ..ops.core import reshape
from .core import _serialize
from .layer import Layer
from .structure import format_shape as _fmt

__all__ = ["Conv1D", "Conv2D", "Conv1DTranspose", "Conv2DTranspose", "DepthwiseConv1D",
           "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D", "Convolution1D",
           "Convolution2D", "Convolution1DTranspose", "Convolution2DTranspose",
           "SeparableConvolution1D", "SeparableConvolution2D"]


def _padding(padding, allow_causal):
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    mode = padding.lower() if isinstance(padding, str) else padding
    if mode not in allowed:
        raise ValueError(f"The `padding` argument must be one of {set(allowed)}. Received: "
                         f"padding={padding}")
    return mode


class _BaseConv(Layer):
    """What every convolution layer shares: the geometry arguments, their checks, the input
    checks at build, the output shape and the config. Subclasses set ``rank`` and
    ``_transposed`` and write ``_make_weights``/``call``."""

    rank = 2
    _transposed = False

    def _geometry_init(self, kernel_size, strides, padding, data_format, dilation_rate,
                       activation, use_bias, activity_regularizer, kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        rank = self.rank
        self.kernel_size = standardize_tuple(kernel_size, rank, "kernel_size")
        self.strides = standardize_tuple(strides, rank, "strides")
        self.dilation_rate = standardize_tuple(dilation_rate, rank, "dilation_rate")
        self.padding = _padding(padding, allow_causal=rank == 1 and not self._transposed)
        self.data_format = standardize_data_format(data_format)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError("`strides > 1` not supported in conjunction with `dilation_rate > "
                             f"1`. Received: strides={self.strides} and "
                             f"dilation_rate={self.dilation_rate}")

    @staticmethod
    def _check_filters(filters):
        if not isinstance(filters, (int, np.integer)) or filters <= 0:
            raise ValueError("Invalid value for argument `filters`. Expected a strictly positive "
                             f"value. Received filters={filters}.")
        return int(filters)

    # ------------------------------------------------------------------ shapes
    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def _spatial(self, shape):
        return tuple(shape[1:-1]) if self.data_format == "channels_last" else tuple(shape[2:])

    def _check_rank(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"Input 0 of layer \"{self.name}\" is incompatible with the layer: "
                             f"expected ndim={self.rank + 2}, found ndim={len(input_shape)}. "
                             f"Full shape received: {_fmt(tuple(input_shape))}")
        channels = input_shape[self._channel_axis()]
        if channels is None:
            raise ValueError(f"Layer \"{self.name}\": the channel axis of the input must be known "
                             f"to build the layer; got input shape {_fmt(tuple(input_shape))}.")
        return int(channels)

    def _fix_channels(self, channels):
        """After build the channel count is part of the layer: check it on every call."""
        spec = [None] * (self.rank + 2)
        spec[self._channel_axis()] = channels
        self.input_spec_shape = tuple(spec)

    def _output_spatial(self, input_shape):
        out = []
        for a, n in enumerate(self._spatial(input_shape)):
            if n is None:
                out.append(None)
                continue
            k, s, d = self.kernel_size[a], self.strides[a], self.dilation_rate[a]
            if self._transposed:
                op = None if self.output_padding is None else self.output_padding[a]
                out.append(transpose_pads(n, k, s, d, self.padding, op)[0])
            elif self.padding == "valid":
                out.append((n - (k - 1) * d - 1) // s + 1)
            else:  # same and causal: ceil(n / s) windows
                out.append(math.ceil(n / s))
        return tuple(out)

    def _check_output(self, input_shape, kernel_shape):
        """A kernel larger than the (padded) input leaves no output: say so at build."""
        out = self._output_spatial(input_shape)
        if any(o is not None and o < 1 for o in out):
            raise ValueError(f"Layer \"{self.name}\": Computed output size would be negative "
                             f"(output size {out}): the kernel is larger than the padded input. "
                             f"Received `inputs shape={_fmt(tuple(input_shape))}`, `kernel "
                             f"shape={kernel_shape}` (kernel_size={self.kernel_size}), "
                             f"`dilation_rate={list(self.dilation_rate)}`, "
                             f"padding={self.padding!r}.")

    def _out_channels(self, in_channels):
        return self.filters

    def compute_output_shape(self, input_shape):
        channels = input_shape[self._channel_axis()]
        filters = self._out_channels(channels)
        spatial = self._output_spatial(input_shape)
        if self.data_format == "channels_last":
            return (input_shape[0],) + spatial + (filters,)
        return (input_shape[0], filters) + spatial

    def _where(self):
        return f"Layer \"{self.name}\": "

    def _finish(self, y):
        return self.activation(y) if self.activation is not None else y

    def _weight_config(self, *weights):
        """The initializer, regularizer and constraint of each weight, in Keras's order:
        every ``<weight>_initializer``, then every regularizer, then every constraint."""
        return {f"{w}_{kind}": _serialize(getattr(self, f"{w}_{kind}"))
                for kind in ("initializer", "regularizer", "constraint") for w in weights}

    def get_config(self):
        config = super().get_config()
        config.update(kernel_size=self.kernel_size, strides=self.strides, padding=self.padding,
                      data_format=self.data_format, dilation_rate=self.dilation_rate,
                      activation=activations.serialize(self.activation), use_bias=self.use_bias,
                      activity_regularizer=_serialize(self.activity_regularizer))
        return config


# --------------------------------------------------------------------------- Conv
class _Conv(_BaseConv):
    """``y = activation(conv(x, kernel) + bias)``."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        self._geometry_init(kernel_size, strides, padding, data_format, dilation_rate,
                            activation, use_bias, activity_regularizer, kwargs)
        self.filters = self._check_filters(filters)
        if not isinstance(groups, (int, np.integer)) or groups <= 0:
            raise ValueError("The number of groups must be a positive integer. "
                             f"Received: groups={groups}.")
        self.groups = int(groups)
        if self.filters % self.groups:
            raise ValueError("The number of filters must be evenly divisible by the number of "
                             f"groups. Received: groups={self.groups}, filters={self.filters}.")
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.kernel_constraint, self.bias_constraint = kernel_constraint, bias_constraint

    def build(self, input_shape):
        channels = self._check_rank(input_shape)
        if channels % self.groups:
            raise ValueError(f"{self._where()}The number of input channels must be evenly "
                             f"divisible by the number of groups. Received groups={self.groups}, "
                             f"but the input has {channels} channels (full input shape is "
                             f"{_fmt(tuple(input_shape))}).")
        shape = self.kernel_size + (channels // self.groups, self.filters)
        self._check_output(input_shape, shape)
        self.kernel = self.add_weight(shape, self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = (self.add_weight((self.filters,), self.bias_initializer, name="bias",
                                     regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint)
                     if self.use_bias else None)
        self._fix_channels(channels)
        self.built = True

    def call(self, inputs):
        fuse = self.activation is activations.relu  # relu taken inside the convolution op
        y = conv_nd(inputs, self.kernel, self.bias, self.strides, self.padding, self.data_format,
                    self.dilation_rate, where=self._where(), relu=fuse)
        return y if fuse else self._finish(y)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, groups=self.groups,
                      **self._weight_config("kernel", "bias"))
        return config


class Conv1D(_Conv):
    """1-D convolution over (batch, steps, channels); ``padding="causal"`` pads
    (kernel_size - 1)·dilation_rate zeros on the left only, so output t sees inputs <= t."""
    rank = 1


class Conv2D(_Conv):
    """2-D convolution over (batch, height, width, channels) images."""
    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, **kwargs)


# --------------------------------------------------------------------------- ConvTranspose
class _ConvTranspose(_BaseConv):
    """``y = activation(conv_transpose(x, kernel) + bias)``: the input gradient of a
    convolution, used to upsample."""

    _transposed = True

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        self._geometry_init(kernel_size, strides, padding, data_format, dilation_rate,
                            activation, use_bias, activity_regularizer, kwargs)
        self.filters = self._check_filters(filters)
        self.output_padding = (None if output_padding is None else
                               standardize_tuple(output_padding, self.rank, "output_padding", True))
        if self.output_padding is not None and any(
                p >= s for p, s in zip(self.output_padding, self.strides)):
            raise ValueError(f"`output_padding` must be < `strides`. output_padding="
                             f"{self.output_padding}, strides={self.strides}")
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.kernel_constraint, self.bias_constraint = kernel_constraint, bias_constraint

    def build(self, input_shape):
        channels = self._check_rank(input_shape)
        shape = self.kernel_size + (self.filters, channels)
        self._check_output(input_shape, shape)
        self.kernel = self.add_weight(shape, self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = (self.add_weight((self.filters,), self.bias_initializer, name="bias",
                                     regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint)
                     if self.use_bias else None)
        self._fix_channels(channels)
        self.built = True

    def call(self, inputs):
        return self._finish(conv_transpose_nd(
            inputs, self.kernel, self.bias, self.strides, self.padding, self.output_padding,
            self.data_format, self.dilation_rate, where=self._where()))

    def get_config(self):
        config = super().get_config()
        # Keras leaves output_padding out of its config; it is kept here so that
        # from_config(get_config()) rebuilds the same layer.
        config.update(filters=self.filters, output_padding=self.output_padding,
                      **self._weight_config("kernel", "bias"))
        return config


class Conv1DTranspose(_ConvTranspose):
    """1-D transposed convolution over (batch, steps, channels)."""
    rank = 1


class Conv2DTranspose(_ConvTranspose):
    """2-D transposed convolution over (batch, height, width, channels)."""
    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 output_padding=None, data_format=None, dilation_rate=(1, 1), activation=None,
                 use_bias=True, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, **kwargs)


# --------------------------------------------------------------------------- Depthwise
class _DepthwiseConv(_BaseConv):
    """Each input channel convolved with its own ``depth_multiplier`` filters; output
    channel c·depth_multiplier + j comes from input channel c."""

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        self._geometry_init(kernel_size, strides, padding, data_format, dilation_rate,
                            activation, use_bias, activity_regularizer, kwargs)
        if not isinstance(depth_multiplier, (int, np.integer)) or depth_multiplier <= 0:
            raise ValueError("Invalid value for argument `depth_multiplier`. Expected a strictly "
                             f"positive value. Received depth_multiplier={depth_multiplier}.")
        self.depth_multiplier = int(depth_multiplier)
        self.depthwise_initializer, self.bias_initializer = depthwise_initializer, bias_initializer
        self.depthwise_regularizer, self.bias_regularizer = depthwise_regularizer, bias_regularizer
        self.depthwise_constraint, self.bias_constraint = depthwise_constraint, bias_constraint

    def _out_channels(self, in_channels):
        return None if in_channels is None else in_channels * self.depth_multiplier

    def build(self, input_shape):
        channels = self._check_rank(input_shape)
        shape = self.kernel_size + (channels, self.depth_multiplier)
        self._check_output(input_shape, shape)
        self.kernel = self.add_weight(shape, self.depthwise_initializer, name="kernel",
                                      regularizer=self.depthwise_regularizer,
                                      constraint=self.depthwise_constraint)
        self.bias = (self.add_weight((channels * self.depth_multiplier,), self.bias_initializer,
                                     name="bias", regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint)
                     if self.use_bias else None)
        self._fix_channels(channels)
        self.built = True

    def call(self, inputs):
        k = self.kernel
        flat = reshape(k, k.shape[:-2] + (1, k.shape[-2] * k.shape[-1]))  # one group per channel
        return self._finish(conv_nd(inputs, flat, self.bias, self.strides, self.padding,
                                             self.data_format, self.dilation_rate,
                                             where=self._where()))

    def get_config(self):
        config = super().get_config()
        config.update(depth_multiplier=self.depth_multiplier,
                      **self._weight_config("depthwise", "bias"))
        return config


class DepthwiseConv1D(_DepthwiseConv):
    """1-D depthwise convolution."""
    rank = 1


class DepthwiseConv2D(_DepthwiseConv):
    """2-D depthwise convolution."""
    rank = 2

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format,
                         dilation_rate, activation, use_bias, **kwargs)


# --------------------------------------------------------------------------- Separable
class _SeparableConv(_BaseConv):
    """A depthwise convolution followed by a 1x1 convolution that mixes the channels into
    ``filters`` outputs: far fewer weights than a full convolution."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        self._geometry_init(kernel_size, strides, padding, data_format, dilation_rate,
                            activation, use_bias, activity_regularizer, kwargs)
        self.filters = self._check_filters(filters)
        if not isinstance(depth_multiplier, (int, np.integer)) or depth_multiplier <= 0:
            raise ValueError("Invalid value for argument `depth_multiplier`. Expected a strictly "
                             f"positive value. Received depth_multiplier={depth_multiplier}.")
        self.depth_multiplier = int(depth_multiplier)
        self.depthwise_initializer = depthwise_initializer
        self.pointwise_initializer = pointwise_initializer
        self.bias_initializer = bias_initializer
        self.depthwise_regularizer = depthwise_regularizer
        self.pointwise_regularizer = pointwise_regularizer
        self.bias_regularizer = bias_regularizer
        self.depthwise_constraint = depthwise_constraint
        self.pointwise_constraint = pointwise_constraint
        self.bias_constraint = bias_constraint

    def build(self, input_shape):
        channels = self._check_rank(input_shape)
        shape = self.kernel_size + (channels, self.depth_multiplier)
        self._check_output(input_shape, shape)
        self.depthwise_kernel = self.add_weight(shape, self.depthwise_initializer,
                                                name="depthwise_kernel",
                                                regularizer=self.depthwise_regularizer,
                                                constraint=self.depthwise_constraint)
        self.pointwise_kernel = self.add_weight(
            (1,) * self.rank + (channels * self.depth_multiplier, self.filters),
            self.pointwise_initializer, name="pointwise_kernel",
            regularizer=self.pointwise_regularizer, constraint=self.pointwise_constraint)
        self.bias = (self.add_weight((self.filters,), self.bias_initializer, name="bias",
                                     regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint)
                     if self.use_bias else None)
        self._fix_channels(channels)
        self.built = True

    def call(self, inputs):
        k = self.depthwise_kernel
        flat = reshape(k, k.shape[:-2] + (1, k.shape[-2] * k.shape[-1]))
        y = conv_nd(inputs, flat, None, self.strides, self.padding, self.data_format,
                             self.dilation_rate, where=self._where())
        y = conv_nd(y, self.pointwise_kernel, self.bias, 1, "valid", self.data_format,
                             1, where=self._where())
        return self._finish(y)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, depth_multiplier=self.depth_multiplier,
                      **self._weight_config("depthwise", "pointwise", "bias"))
        return config


class SeparableConv1D(_SeparableConv):
    """1-D separable convolution."""
    rank = 1


class SeparableConv2D(_SeparableConv):
    """2-D separable convolution."""
    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         depth_multiplier, activation, use_bias, **kwargs)


# Keras's aliases
Convolution1D, Convolution2D = Conv1D, Conv2D
Convolution1DTranspose, Convolution2DTranspose = Conv1DTranspose, Conv2DTranspose
SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D
