"""Preprocessing layers: Normalization.

``Normalization`` learns a mean and a variance from data once, before training
(``layer.adapt(x_train)``), and then standardizes every input with them::

    y = (x - mean) / max(sqrt(variance), ε)          ε = keras.config.epsilon() = 1e-7
    y = mean + x · max(sqrt(variance), ε)            with invert=True (undoes the above)

That is Keras's formula (ε bounds the standard deviation, not the variance). The statistics
are non-trainable weights ("mean", "variance", "count"), so they are saved with the model
and ``fit`` leaves them alone.
"""
import numpy as np

from .. import backend, ops
from ..tensor import Tensor
from .layer import Layer
from .symbolic import KerasTensor


class Normalization(Layer):
    """Standardizes inputs with a per-feature mean and variance.

    ``axis``: the axis (or axes) that keep a separate mean and variance per index; the
    statistics are computed over all the other axes. The default -1 means one mean per
    feature of the last axis; ``axis=None`` means one mean and variance for everything.
    ``mean`` and ``variance``: give both to skip ``adapt``. ``invert=True`` maps
    standardized values back to the original scale.
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, (int, np.integer)):
            axis = (int(axis),)
        else:
            axis = tuple(int(a) for a in axis)
        self.axis = axis
        self.input_mean, self.input_variance = mean, variance
        self.invert = invert
        self.mean = self.variance = None       # the statistics in broadcast shape, once built
        self._build_input_shape = None
        if (mean is not None) != (variance is not None):
            raise ValueError("When setting values directly, both `mean` and `variance` must be "
                             f"set. Received: mean={mean} and variance={variance}")
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError("When setting values directly, `mean` and `variance` must have "
                                 f"the same shape. Received: mean shape {np.shape(mean)} and "
                                 f"variance shape {np.shape(variance)}")
            if np.ndim(mean) > len(self.axis):
                raise ValueError("The rank of `mean` must be less than or equal to the number "
                                 f"of axes ({len(self.axis)}). Received: mean shape "
                                 f"{np.shape(mean)} for axis {self.axis}")

    # ------------------------------------------------------------------ build
    def __call__(self, inputs, *args, **kwargs):
        if isinstance(inputs, KerasTensor) and not self.built:
            self.build(inputs.shape)     # build on the symbolic shape: None stays unknown
        return super().__call__(inputs, *args, **kwargs)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError("All `axis` values must be in the range [-ndim, ndim). Received "
                             f"inputs with ndim={ndim}, while axis={self.axis}")
        self._build_input_shape = input_shape
        self._keep_axis = tuple(sorted(a % ndim for a in self.axis))
        for d in self._keep_axis:
            if input_shape[d] is None:
                raise ValueError("All `axis` values to be kept must have a known shape. "
                                 f"Received axis={self.axis}, inputs.shape={input_shape}, with "
                                 f"unknown axis at index {d}")
        self._reduce_axis = tuple(d for d in range(ndim) if d not in self._keep_axis)
        self._broadcast_shape = tuple(input_shape[d] if d in self._keep_axis else 1
                                      for d in range(ndim))
        self._mean_and_var_shape = tuple(input_shape[d] for d in self._keep_axis)
        self.input_spec_shape = tuple(input_shape[d] if d in self._keep_axis else None
                                      for d in range(ndim))

        if self.input_mean is None:
            self.adapt_mean = self.add_weight(self._mean_and_var_shape, "zeros", name="mean",
                                              trainable=False)
            self.adapt_variance = self.add_weight(self._mean_and_var_shape, "ones",
                                                  name="variance", trainable=False)
            self.count = self.add_weight((), "zeros", dtype="int64", name="count",
                                         trainable=False)
            self.built = True
            self.finalize_state()
        else:
            self.mean = Tensor(self._place(self.input_mean), dtype=self.dtype)
            self.variance = Tensor(self._place(self.input_variance), dtype=self.dtype)
            self.built = True

    def _place(self, value):
        """A given mean or variance as an array of the broadcast shape: a scalar fills it,
        otherwise its axes line up with the kept axes from the right."""
        value = np.asarray(value, dtype=np.float64)
        expanded = [1] * len(self._broadcast_shape)
        for i in range(1, value.ndim + 1):
            expanded[self._keep_axis[-i]] = value.shape[-i]
        try:
            value = np.broadcast_to(value.reshape(expanded), self._broadcast_shape)
        except ValueError:
            raise ValueError(f"Layer \"{self.name}\": cannot broadcast the given mean/variance "
                             f"of shape {np.shape(value)} to the kept axes "
                             f"{self._mean_and_var_shape} (axis={self.axis}) of inputs of shape "
                             f"{self._build_input_shape}.") from None
        return backend.asarray(np.ascontiguousarray(value))

    def finalize_state(self):
        """Refresh ``layer.mean`` and ``layer.variance`` (broadcast shape) from the weights."""
        if self.input_mean is not None or not self.built:
            return
        self.mean = ops.reshape(self.adapt_mean, self._broadcast_shape)
        self.variance = ops.reshape(self.adapt_variance, self._broadcast_shape)

    # ------------------------------------------------------------------ adapt
    def adapt(self, data):
        """Compute the mean and the (population) variance of ``data`` over every axis but
        ``axis`` and store them in the weights. ``data``: an array or Tensor, or an
        iterable of batches (arrays, or ``(x, y)`` tuples whose ``x`` is used)."""
        if self.input_mean is not None:
            raise ValueError(f"Layer \"{self.name}\" was given `mean` and `variance` directly; "
                             "adapt() cannot change them. Create the layer without them to "
                             "learn them from data.")
        if isinstance(data, Tensor) or hasattr(data, "__array__") or hasattr(
                data, "__cuda_array_interface__"):
            batches = [_host(data)]
        elif hasattr(data, "__iter__"):
            batches = (_host(b[0] if isinstance(b, tuple) else b) for b in data)
        else:
            raise TypeError(f"Unsupported data type: {type(data)}. `adapt` supports NumPy "
                            "arrays, Tensors and iterables of batches (e.g. a list or a "
                            "generator of arrays).")
        count, mean, m2 = 0, None, None
        for batch in batches:
            self._check_adapt_shape(batch.shape)
            n = int(np.prod([batch.shape[d] for d in self._reduce_axis]))
            b_mean = batch.mean(axis=self._reduce_axis)
            b_m2 = ((batch - batch.mean(axis=self._reduce_axis, keepdims=True)) ** 2).sum(
                axis=self._reduce_axis)
            if mean is None:
                count, mean, m2 = n, b_mean, b_m2
            else:        # merge two groups' statistics (Chan et al.'s parallel formula)
                total = count + n
                delta = b_mean - mean
                mean = mean + delta * (n / total)
                m2 = m2 + b_m2 + delta ** 2 * (count * n / total)
                count = total
        if mean is None:
            raise ValueError("adapt() received an empty iterable (no batches). Expected at "
                             "least one batch.")
        self.adapt_mean.assign(backend.asarray(mean.astype(self.adapt_mean.dtype)))
        self.adapt_variance.assign(backend.asarray((m2 / count).astype(
            self.adapt_variance.dtype)))
        self.count.assign(backend.asarray(np.asarray(count, dtype=self.count.dtype)))
        self.finalize_state()

    def _check_adapt_shape(self, shape):
        shape = tuple(shape)
        if not self.built:
            self.build(shape)
            return
        if len(shape) != len(self._build_input_shape) or any(
                shape[d] != self._build_input_shape[d] for d in self._keep_axis):
            raise ValueError(f"The layer was built with input_shape={self._build_input_shape}, "
                             "but adapt() is being called with data with an incompatible "
                             f"shape, data.shape={shape}")

    # ------------------------------------------------------------------ call
    def call(self, inputs):
        if inputs.dtype.kind != "f":
            inputs = ops.cast(inputs, self.dtype)
        if self.input_mean is None:      # read the weights, so set_weights/loading count
            self.finalize_state()
        std = ops.maximum(ops.sqrt(self.variance), backend.epsilon())
        if self.invert:
            return self.mean + inputs * std
        return (inputs - self.mean) / std

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(axis=self.axis, invert=self.invert,
                      mean=np.array(self.input_mean).tolist(),
                      variance=np.array(self.input_variance).tolist())
        return config


def _host(x):
    """``x`` as a float64 NumPy array (the statistics are computed on the host, once)."""
    if isinstance(x, Tensor):
        x = x.numpy()
    elif hasattr(x, "__cuda_array_interface__"):
        x = backend.to_numpy(x)
    return np.asarray(x, dtype=np.float64)


__all__ = ["Normalization"]
