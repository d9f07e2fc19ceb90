"""Initializers: the starting values of weights (``keras.initializers``).

An initializer is a callable object ``init(shape, dtype=None)`` that returns a new Tensor
of that shape, of dtype ``floatx()`` (float32) unless another is asked for. Layers call it
once, when they build their weights::

    Dense(64, kernel_initializer="glorot_uniform")     # the name, resolved by get()
    Dense(64, kernel_initializer=HeNormal(seed=1))      # or an instance

Most of them scale the random values by the *fans* of the weight (see :func:`compute_fans`)
so that a signal keeps about the same variance from layer to layer: that is
:class:`VarianceScaling`, and Glorot, He and LeCun are its three classic settings.

Seeds follow :mod:`minikeras.random`: ``seed=42`` gives the same values on every call (as
Keras 3 does for an initializer with a fixed seed, so two layers given the same seeded
instance start equal); ``seed=None`` draws one seed when the initializer is made (from
Python's ``random``, which ``minikeras.utils.set_random_seed`` seeds), so an unseeded instance
also repeats its values, as in Keras 3; a ``SeedGenerator`` advances on every call.
"""
import math
import random as _python_random

import numpy as np

from . import naming
from . import backend, ops
from . import random as _random
from .tensor import Tensor

__all__ = ["Initializer", "Zeros", "Ones", "Constant", "Identity", "RandomNormal",
           "RandomUniform", "TruncatedNormal", "VarianceScaling", "GlorotUniform",
           "GlorotNormal", "HeUniform", "HeNormal", "LecunUniform", "LecunNormal", "Orthogonal",
           "compute_fans", "get", "serialize", "deserialize"]

# The standard deviation of N(0, 1) cut at ±2: truncated normals are divided by it so that
# the values, once cut, have the variance asked for.
TRUNCATION_CORRECTION = 0.87962566103423978


def _dtype(dtype):
    return np.dtype(dtype or backend.floatx())


def _shape(shape):
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(n) for n in shape)


def compute_fans(shape):
    """``(fan_in, fan_out)`` of a weight of this shape, as Keras counts them.

    * scalar: (1, 1);   vector ``(n,)``: (n, n);   matrix ``(in, out)``: (in, out);
    * convolution kernel ``(*window, in, out)``: each input channel feeds a whole window,
      so with ``receptive = prod(window)``: (in · receptive, out · receptive).
    """
    shape = _shape(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


# --------------------------------------------------------------------------- base classes
class Initializer:
    """The base class: subclasses implement ``__call__(shape, dtype=None)`` and, when they
    take arguments, ``get_config()`` (the arguments as a dict, so that
    ``cls.from_config(config)`` makes an equal initializer)."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError(f"{type(self).__name__} must implement "
                                  "__call__(shape, dtype=None).")

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def clone(self):
        """A new initializer with the same configuration."""
        return self.__class__.from_config(self.get_config())

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _check_seed(seed, owner):
    if isinstance(seed, dict):   # a serialized SeedGenerator, from get_config
        return _random.SeedGenerator.from_config(seed.get("config", seed))
    if seed is None or isinstance(seed, _random.SeedGenerator):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return int(seed)
    raise ValueError(f"{owner}: seed must be an int, a minikeras.random.SeedGenerator or None, "
                     f"got {seed!r} (of type {type(seed).__name__}).")


class RandomInitializer(Initializer):
    """An initializer that draws random numbers, with a ``seed`` (see the module's docstring)."""

    def __init__(self, seed=None):
        self._init_seed = _check_seed(seed, type(self).__name__)
        # Unseeded: one seed is drawn now (from Python's random module, which
        # set_random_seed seeds), so this initializer gives the same values on every call,
        # as in Keras 3; a SeedGenerator gives new values each call.
        self.seed = self._init_seed if self._init_seed is not None else _python_random.randint(1, 10**9)

    def get_config(self):
        seed = self._init_seed
        if isinstance(seed, _random.SeedGenerator):
            seed = {"class_name": "SeedGenerator", "config": seed.get_config()}
        return {"seed": seed}


# --------------------------------------------------------------------------- constants
class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype=None):
        return ops.zeros(_shape(shape), dtype=_dtype(dtype))


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=None):
        return ops.ones(_shape(shape), dtype=_dtype(dtype))


class Constant(Initializer):
    """Every value equal to ``value`` (a number, or an array that broadcasts to the shape)."""

    def __init__(self, value=0.0):
        if isinstance(value, Tensor):
            value = value.numpy()
        if isinstance(value, (list, tuple, np.ndarray)):
            value = np.asarray(value)
        self.value = value

    def __call__(self, shape, dtype=None):
        shape, dtype = _shape(shape), _dtype(dtype)
        value = np.asarray(self.value)
        try:
            full = np.broadcast_to(value, shape)
        except ValueError:
            raise ValueError(f"Constant: the value of shape {value.shape} does not broadcast to "
                             f"the requested shape {shape}.") from None
        return Tensor(np.array(full, dtype=dtype))

    def get_config(self):
        value = self.value
        if isinstance(value, np.ndarray):
            value = value.tolist()
        elif isinstance(value, np.generic):
            value = value.item()
        return {"value": value}


class Identity(Initializer):
    """``gain`` times the identity matrix (for 2-D weights only; a non-square shape gets ones
    on its main diagonal)."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError(f"Identity initializer can only be used for 2-D weights. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        dtype = _dtype(dtype)
        return ops.cast(ops.eye(shape[0], shape[1], dtype=dtype) * self.gain, dtype)

    def get_config(self):
        return {"gain": self.gain}


# --------------------------------------------------------------------------- plain random
class RandomNormal(RandomInitializer):
    """Samples of the normal distribution N(mean, stddev²)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        return _random.normal(_shape(shape), mean=self.mean, stddev=self.stddev,
                              dtype=_dtype(dtype), seed=self.seed)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class RandomUniform(RandomInitializer):
    """Samples of the uniform distribution on [minval, maxval)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval = minval, maxval
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        return _random.uniform(_shape(shape), minval=self.minval, maxval=self.maxval,
                               dtype=_dtype(dtype), seed=self.seed)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


class TruncatedNormal(RandomInitializer):
    """Samples of N(mean, stddev²) kept within two standard deviations of the mean (values
    farther out are drawn again). ``stddev`` is the scale before the cut: the values'
    actual standard deviation is about 0.88·stddev."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        return _random.truncated_normal(_shape(shape), mean=self.mean, stddev=self.stddev,
                                        dtype=_dtype(dtype), seed=self.seed)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


# --------------------------------------------------------------------------- variance scaling
_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


class VarianceScaling(RandomInitializer):
    """Random values whose variance is ``scale / n``, with n the fan picked by ``mode``:
    fan_in, fan_out, or their mean (``"fan_avg"``); each fan counts as at least 1.

    ``distribution``:

    * ``"truncated_normal"`` (also spelled ``"normal"``): a normal cut at ±2σ, with
      σ = sqrt(scale/n) / 0.8796..., so that the values, once cut, have variance scale/n;
    * ``"untruncated_normal"``: N(0, scale/n);
    * ``"uniform"``: uniform on [-limit, limit) with limit = sqrt(3·scale/n) (a uniform of
      that width has variance limit²/3 = scale/n).
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        name = type(self).__name__
        number = isinstance(scale, (int, float, np.number)) and not isinstance(scale, bool)
        if not number or not scale > 0:
            raise ValueError(f"{name}: scale must be a positive number, got scale={scale!r}.")
        if mode not in _MODES:
            raise ValueError(f"{name}: mode must be one of {', '.join(_MODES)}; got mode={mode!r}.")
        distribution = str(distribution).lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in _DISTRIBUTIONS:
            raise ValueError(f"{name}: distribution must be one of {', '.join(_DISTRIBUTIONS)} "
                             f"(or 'normal', meaning truncated_normal); got {distribution!r}.")
        self.scale, self.mode, self.distribution = float(scale), mode, distribution
        super().__init__(seed)

    def variance(self, shape):
        """The variance ``scale / n`` that values of this shape get."""
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        return self.scale / max(1.0, n)

    def __call__(self, shape, dtype=None):
        shape, dtype = _shape(shape), _dtype(dtype)
        variance = self.variance(shape)
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(variance) / TRUNCATION_CORRECTION
            return _random.truncated_normal(shape, 0.0, stddev, dtype=dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return _random.normal(shape, 0.0, math.sqrt(variance), dtype=dtype, seed=self.seed)
        limit = math.sqrt(3.0 * variance)
        return _random.uniform(shape, -limit, limit, dtype=dtype, seed=self.seed)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                **super().get_config()}


class _Preset(VarianceScaling):
    """A VarianceScaling with fixed settings; only the seed is configurable."""
    preset = None   # (scale, mode, distribution)

    def __init__(self, seed=None):
        super().__init__(*self.preset, seed=seed)

    def get_config(self):
        return RandomInitializer.get_config(self)


class GlorotUniform(_Preset):
    """Glorot (Xavier) uniform: uniform on [-limit, limit), limit = sqrt(6 / (fan_in + fan_out)).
    The default kernel initializer of Dense and Conv layers."""
    preset = (1.0, "fan_avg", "uniform")


class GlorotNormal(_Preset):
    """Glorot (Xavier) normal: truncated normal with variance 2 / (fan_in + fan_out)."""
    preset = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_Preset):
    """He uniform: uniform on [-limit, limit), limit = sqrt(6 / fan_in) (for ReLU networks)."""
    preset = (2.0, "fan_in", "uniform")


class HeNormal(_Preset):
    """He normal: truncated normal with variance 2 / fan_in (for ReLU networks)."""
    preset = (2.0, "fan_in", "truncated_normal")


class LecunUniform(_Preset):
    """LeCun uniform: uniform on [-limit, limit), limit = sqrt(3 / fan_in)."""
    preset = (1.0, "fan_in", "uniform")


class LecunNormal(_Preset):
    """LeCun normal: truncated normal with variance 1 / fan_in (for SELU networks)."""
    preset = (1.0, "fan_in", "truncated_normal")


# --------------------------------------------------------------------------- orthogonal
class Orthogonal(RandomInitializer):
    """``gain`` times a random orthogonal matrix (the default for recurrent kernels).

    The weight is seen as a matrix of ``prod(shape[:-1])`` rows and ``shape[-1]`` columns.
    A normal random matrix of the taller of the two orientations is factored as Q·R (QR
    decomposition); Q has orthonormal columns, and multiplying each column by the sign of
    R's diagonal makes the result uniformly distributed over orthogonal matrices. A wide
    weight takes Qᵀ, whose rows are orthonormal instead.
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        shape, dtype = _shape(shape), _dtype(dtype)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal initializer needs a weight of rank 2 or more. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        work = np.float64 if dtype == np.float64 else np.float32   # QR has no float16
        a = _random.normal((max(rows, cols), min(rows, cols)), dtype=work, seed=self.seed).data
        q, r = backend.xp.linalg.qr(a)
        q = q * backend.xp.where(backend.xp.diagonal(r) < 0, -1.0, 1.0).astype(work)
        if rows < cols:
            q = q.T
        return Tensor._wrap((self.gain * q).reshape(shape).astype(dtype, copy=False))

    def get_config(self):
        return {"gain": self.gain, **super().get_config()}


OrthogonalInitializer = Orthogonal   # the name of the class in Keras 3 itself

# --------------------------------------------------------------------------- names
_CLASSES = [Zeros, Ones, Constant, Identity, RandomNormal, RandomUniform, TruncatedNormal,
            VarianceScaling, GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform,
            LecunNormal, Orthogonal]


_BY_NAME = naming.name_table(_CLASSES, {
    "uniform": RandomUniform, "normal": RandomNormal, "zero": Zeros, "one": Ones,
    "OrthogonalInitializer": Orthogonal, "IdentityInitializer": Identity})

# snake_case aliases as module attributes, as keras.initializers has them
zeros, ones, constant, identity = Zeros, Ones, Constant, Identity
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, orthogonal = VarianceScaling, Orthogonal
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
he_uniform, he_normal, lecun_uniform, lecun_normal = HeUniform, HeNormal, LecunUniform, LecunNormal


def serialize(initializer):
    """The initializer as a JSON-ready dict, in the form of Keras's saved files."""
    return naming.serialize("initializer", "keras.initializers", initializer)


def deserialize(config, custom_objects=None):
    """An initializer from a name or a ``{"class_name": ..., "config": {...}}`` dict."""
    return naming.deserialize("initializer", config, _BY_NAME, custom_objects)


def get(identifier):
    """An initializer from what a layer argument may hold: None (gives None), a name such as
    ``"glorot_uniform"``, a config dict, an Initializer class or instance, or any callable
    ``f(shape, dtype=None)`` (returned as it is)."""
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r} (of type "
                     f"{type(identifier).__name__}). Give a name such as 'glorot_uniform', a "
                     "config dict, an Initializer or a callable f(shape, dtype=None).")
