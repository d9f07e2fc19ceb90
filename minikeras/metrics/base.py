"""The base class :class:`Metric` (state Variables, ``update_state``/``result`` run under
``no_grad``), the reductions every other metric builds on (:class:`Sum`, :class:`Mean`,
:class:`MeanMetricWrapper`, the running mean of a function), and the small array helpers
the metrics share."""
import numpy as np

from .. import backend, ops
from ..autograd import no_grad
from ..losses import auto_name, squeeze_or_expand_to_same_rank
from ..losses.classes import keras_mask_of
from ..losses.reduction import apply_mask
from ..tensor import Tensor, Variable


def _wrap(array):
    return Tensor._wrap(array)


def _array(x, dtype=None):
    """The backend array of x (a Tensor, an array, a list), cast to ``dtype``."""
    a = ops.convert_to_tensor(x).data
    return a if dtype is None else a.astype(dtype, copy=False)


def _divide_no_nan(a, b):
    """a / b on arrays, with 0 where b is 0."""
    xp = backend.xp
    zero = b == 0
    out = a / xp.where(zero, 1, b)
    return xp.where(zero, xp.zeros_like(out), out)


def _scalar(value, dtype):
    """A 0-d backend array of ``dtype``."""
    return backend.xp.asarray(value, dtype=dtype)


#: The functions a MeanMetricWrapper config may name, by name: the accuracy functions and
#: the loss functions. metrics/__init__.py fills it (those modules import this one).
WRAPPED_FUNCTIONS = {}


# =============================================================================== base class

class Metric:
    """The base class of metrics (``keras.metrics.Metric``).

    ``Metric(dtype=None, name=None)``. A subclass creates its state in ``__init__`` with
    ``self.add_variable(shape, initializer="zeros", name=...)``, adds to it in
    ``update_state(...)`` (``var.assign_add(...)``) and computes the value from it in
    ``result()``. ``metric(y_true, y_pred)`` updates and returns the result.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for method in ("update_state", "result"):
            if method in cls.__dict__:
                setattr(cls, method, no_grad()(cls.__dict__[method]))

    def __init__(self, dtype=None, name=None):
        self.name = name or auto_name(type(self).__name__)
        self._dtype = np.dtype(dtype or backend.floatx()).name
        self._variables = []
        self._metrics = []

    def __setattr__(self, key, value):
        # Metrics held as attributes contribute their variables (as Keras tracks them).
        if isinstance(value, Metric) and "_metrics" in self.__dict__:
            if not any(m is value for m in self._metrics):
                self._metrics.append(value)
        super().__setattr__(key, value)

    @property
    def dtype(self):
        return self._dtype

    def add_variable(self, shape, initializer="zeros", dtype=None, aggregation="sum", name=None):
        """A new non-trainable state Variable of ``shape``, tracked in ``self.variables``.
        ``initializer``: "zeros", "ones", a number, or a callable ``(shape, dtype)``."""
        if "_variables" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() in __init__ "
                               "before add_variable().")
        dtype = np.dtype(dtype or self.dtype).name
        shape = tuple(shape)
        if callable(initializer):
            value = initializer(shape, dtype)
        else:
            fill = {"zeros": 0.0, "ones": 1.0}.get(initializer, initializer)
            value = np.full(shape, fill, dtype=dtype)
        variable = Variable(value, dtype=dtype, trainable=False, name=name)
        variable.path = f"{self.name}/{name}"
        self._variables.append(variable)
        return variable

    add_weight = add_variable

    @property
    def variables(self):
        """The state Variables of this metric and of the metrics it holds."""
        out = list(self._variables)
        for m in self._metrics:
            out.extend(m.variables)
        return out

    def reset_state(self):
        """Set every state variable back to zero (called at the start of each epoch)."""
        for v in self.variables:
            v.assign(backend.xp.zeros(v.shape, dtype=v.dtype))

    def update_state(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__}.update_state is not implemented.")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__}.result is not implemented.")

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


# =============================================================================== reductions
def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype):
    """One value per sample (the first axis), weighted, as Keras's ``Mean`` sees them.

    The weights' ranks are aligned with the values'; axes of the values beyond the
    weights' are reduced with ``reduce_fn`` first, then the values are multiplied by the
    weights (broadcast), and finally everything past the first axis is reduced. Returns the
    values and the per-sample weights (None without weights).
    """
    values = ops.cast(ops.convert_to_tensor(values), dtype)
    if sample_weight is not None:
        sample_weight = ops.cast(ops.convert_to_tensor(sample_weight), dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        if values.ndim > sample_weight.ndim:
            values = reduce_fn(values, axis=tuple(range(sample_weight.ndim, values.ndim)))
        try:
            sample_weight = ops.broadcast_to(sample_weight, values.shape)
        except ValueError:
            raise ValueError(f"sample_weight of shape {tuple(sample_weight.shape)} does not "
                             f"match values of shape {tuple(values.shape)}.") from None
        values = values * sample_weight
        if sample_weight.ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=tuple(range(1, sample_weight.ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


class Sum(Metric):
    """The (weighted) sum of all values seen."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), name="total")

    def update_state(self, values, sample_weight=None):
        values, _ = reduce_to_samplewise_values(values, sample_weight, ops.sum, self.dtype)
        self.total.assign_add(ops.sum(values))

    def result(self):
        return _wrap(self.total.data.copy())


class Mean(Metric):
    """The (weighted) mean of all values seen: ``total / count`` with total = Σ w·v and
    count = Σ w (the number of samples without weights)."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), name="total")
        self.count = self.add_variable((), name="count")

    def update_state(self, values, sample_weight=None):
        values, sample_weight = reduce_to_samplewise_values(values, sample_weight, ops.mean,
                                                            self.dtype)
        self.total.assign_add(ops.sum(values))
        if sample_weight is not None:
            n = float(ops.sum(sample_weight))
        else:
            n = values.shape[0] if values.ndim >= 1 else 1
        self.count.assign_add(n)

    def result(self):
        return _wrap(_divide_no_nan(self.total.data, self.count.data))


class MeanMetricWrapper(Mean):
    """The running mean of ``fn(y_true, y_pred, **kwargs)`` (a loss function, an accuracy
    function, ...), one value per sample, weighted by ``sample_weight``."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        mask = keras_mask_of(y_pred)  # padded steps of a masked output do not count (Keras)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        if mask is not None:
            sample_weight = apply_mask(sample_weight, mask, self.dtype, "sum")
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype}
        if type(self) is MeanMetricWrapper:
            config["fn"] = getattr(self._fn, "__name__", self._fn)
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if cls is MeanMetricWrapper and isinstance(config.get("fn"), str):
            fn = WRAPPED_FUNCTIONS.get(config["fn"])
            if fn is None:
                raise ValueError(f"MeanMetricWrapper: unknown function {config['fn']!r}; "
                                 f"expected one of {sorted(WRAPPED_FUNCTIONS)}.")
            config["fn"] = fn
        return cls(**config)
