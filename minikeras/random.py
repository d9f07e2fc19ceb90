"""Random numbers, the Keras way (``keras.random``): ``normal``, ``uniform``,
``truncated_normal``, ``randint``, ``dropout``, ``shuffle``, ``SeedGenerator`` and
``set_random_seed``.

Every function takes ``seed=``, with the meanings Keras gives it:

* an **int**: the result is reproducible, the same numbers on every call with that seed;
* a :class:`SeedGenerator`: the generator advances, so each call gives new numbers, and the
  whole sequence is reproducible from the generator's initial seed (what layers such as
  Dropout keep as an attribute);
* **None**: the next seed of a global SeedGenerator, which :func:`set_random_seed` resets.

A seed is a pair (seed, counter). It is mixed by NumPy's ``SeedSequence`` into one 64-bit
number that starts a fresh Generator of the backend (``backend.default_rng``), so the numbers
are drawn on the device: on the GPU backend they never visit the host. Dropout masks come
instead from a counter-based generator (``backend.kernels.dropout_mask``, kernels/cpu/dropout.py):
each element's keep bit is a hash of (seed, counter, its index), so the same seed and counter
give the same mask on the CPU and on the GPU.
"""
import random as _python_random

import numpy as np

from . import backend
from .autograd import Function, OpError
from .ops.core import cast, constant, convert_to_tensor
from .tensor import Tensor

__all__ = ["normal", "uniform", "truncated_normal", "randint", "dropout", "shuffle",
           "SeedGenerator", "set_random_seed"]


# --------------------------------------------------------------------------- seeds
class SeedGenerator:
    """A stream of seeds: ``next()`` returns ``(seed, counter)`` and advances the counter.

    ``SeedGenerator(42)`` gives the same stream on every run; ``SeedGenerator()`` (seed None)
    starts from a seed drawn from Python's ``random`` module (itself seeded by
    :func:`set_random_seed`). Pass it as ``seed=`` to any function of this module::

        gen = minikeras.random.SeedGenerator(42)
        a = minikeras.random.normal((2, 3), seed=gen)
        b = minikeras.random.normal((2, 3), seed=gen)   # different from a
    """

    def __init__(self, seed=None, name=None):
        self._initial_seed = seed
        if seed is None:
            seed = _python_random.randint(1, 10**9)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ValueError(f"SeedGenerator: seed must be an int or None, got {seed!r} "
                             f"(of type {type(seed).__name__}).")
        self.seed = int(seed)
        self.counter = 0
        self.name = name or "seed_generator"

    @property
    def state(self):
        """The seed the next call to ``next()`` returns."""
        return (self.seed, self.counter)

    def next(self):
        """The current ``(seed, counter)`` pair; the counter moves on by one."""
        value = (self.seed, self.counter)
        self.counter += 1
        return value

    def get_config(self):
        return {"seed": self._initial_seed}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<SeedGenerator seed={self.seed} counter={self.counter}>"


_global = {"generator": None}


def global_seed_generator():
    """The SeedGenerator used when ``seed=None`` (made on first use)."""
    if _global["generator"] is None:
        _global["generator"] = SeedGenerator()
    return _global["generator"]


def set_random_seed(seed):
    """Make every random draw reproducible (``keras.utils.set_random_seed``): seeds Python's
    ``random``, NumPy's global generator (and CuPy's on the GPU backend) and restarts the
    global SeedGenerator that ``seed=None`` uses."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"set_random_seed: seed must be an int, got {seed!r} "
                         f"(of type {type(seed).__name__}).")
    seed = int(seed)
    _python_random.seed(seed)
    np.random.seed(seed)
    if backend.xp is not np:
        backend.xp.random.seed(seed)
    _global["generator"] = SeedGenerator(seed)


def draw_seed(seed):
    """The ``(seed, counter)`` pair for a ``seed=`` argument: an int gives ``(seed, 0)`` (the
    same numbers each time), a SeedGenerator its next pair, None the global generator's."""
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if seed is None:
        return global_seed_generator().next()
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return (int(seed), 0)
    raise ValueError(f"seed must be an int, a minikeras.random.SeedGenerator or None, got "
                     f"{seed!r} (of type {type(seed).__name__}).")


def _rng(seed):
    """A fresh Generator of the backend, started from ``seed`` (see :func:`draw_seed`)."""
    pair = draw_seed(seed)
    entropy = [v % 2**64 for v in pair]  # SeedSequence takes non-negative integers
    mixed = int(np.random.SeedSequence(entropy).generate_state(1, np.uint64)[0])
    return backend.default_rng(mixed)


# --------------------------------------------------------------------------- distributions
def _shape(shape, opname):
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        return tuple(int(n) for n in shape)
    except (TypeError, ValueError):
        raise ValueError(f"random.{opname}: shape must be an int or a tuple of ints, got "
                         f"{shape!r}.") from None


def _float_dtype(dtype, opname):
    dtype = np.dtype(dtype or backend.floatx())
    if dtype.kind != "f":
        raise ValueError(f"random.{opname}: dtype must be a float type, got {dtype}"
                         + (" (use random.randint for integers)." if dtype.kind in "iu" else "."))
    return dtype


def _draw_dtype(dtype):
    """Generators draw float32 or float64; float16 is drawn in float32 and cast."""
    return np.float64 if dtype == np.float64 else np.float32


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of the normal distribution N(mean, stddev²) (``keras.random.normal``)."""
    dtype = _float_dtype(dtype, "normal")
    z = _rng(seed).standard_normal(size=_shape(shape, "normal"), dtype=_draw_dtype(dtype))
    return Tensor._wrap((z * float(stddev) + float(mean)).astype(dtype, copy=False))


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples of the uniform distribution on [minval, maxval) (``keras.random.uniform``)."""
    dtype = _float_dtype(dtype, "uniform")
    u = _rng(seed).random(size=_shape(shape, "uniform"), dtype=_draw_dtype(dtype))
    lo, hi = float(minval), float(maxval)
    return Tensor._wrap((u * (hi - lo) + lo).astype(dtype, copy=False))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of N(mean, stddev²) restricted to [mean - 2·stddev, mean + 2·stddev]
    (``keras.random.truncated_normal``): values farther out are drawn again."""
    dtype = _float_dtype(dtype, "truncated_normal")
    rng = _rng(seed)
    draw = _draw_dtype(dtype)
    z = rng.standard_normal(size=_shape(shape, "truncated_normal"), dtype=draw)
    outside = backend.xp.abs(z) > 2
    while outside.any():  # about 4.6% of the values each round
        z[outside] = rng.standard_normal(size=int(outside.sum()), dtype=draw)
        outside = backend.xp.abs(z) > 2
    return Tensor._wrap((z * float(stddev) + float(mean)).astype(dtype, copy=False))


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers drawn uniformly from [minval, maxval) (``keras.random.randint``)."""
    dtype = np.dtype(dtype)
    if dtype.kind not in "iu":
        raise ValueError(f"random.randint: dtype must be an integer type, got {dtype} "
                         "(use random.uniform for floats).")
    if not minval < maxval:
        raise ValueError(f"random.randint: needs minval < maxval, got minval={minval}, "
                         f"maxval={maxval}.")
    out = _rng(seed).integers(int(minval), int(maxval), size=_shape(shape, "randint"),
                              dtype=dtype)
    return Tensor._wrap(out)


def shuffle(x, axis=0, seed=None):
    """``x`` with its slices along ``axis`` in a random order (``keras.random.shuffle``):
    one permutation of the indices of that axis, applied to whole slices, so rows of a
    data matrix stay intact. The result is a new tensor (not differentiable)."""
    x = convert_to_tensor(x)
    if x.ndim == 0:
        raise ValueError("random.shuffle: cannot shuffle a scalar (a tensor of rank 0).")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"random.shuffle: axis {axis} is out of bounds for a tensor of rank "
                         f"{x.ndim}.")
    n = x.shape[axis]
    order = backend.xp.argsort(_rng(seed).random(size=n))  # a uniformly random permutation
    return Tensor._wrap(backend.xp.take(x.data, order, axis=axis))


# --------------------------------------------------------------------------- dropout
class Dropout(Function):
    """Inverted dropout with a fixed mask m (1 = kept, with probability keep = 1 - rate):
    y = x · m / keep.   dy/dx = m / keep: the gradient goes through the same mask, scaled the
    same way (dropped units get no gradient).

    Rule: dL/dx = g · m / keep
    """

    def __init__(self, kept, keep_prob):
        self.kept, self.keep_prob = kept, keep_prob

    def forward(self, x):
        factor = 1.0 / self.keep_prob if self.keep_prob > 0 else 0.0
        self.scale = (self.kept * factor).astype(x.dtype)
        return x * self.scale

    def backward(self, g):
        return g * constant(self.scale)


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Set each value of ``inputs`` to 0 with probability ``rate`` and scale the others by
    1 / (1 - rate), so that the expected value is unchanged (``keras.random.dropout``).

    ``noise_shape`` (broadcastable to the input's shape; ``None`` entries take the input's
    size) shares one mask value along the axes where it is 1, e.g. ``(batch, 1, channels)``
    drops whole channels. ``rate=0`` returns the input, ``rate=1`` zeros. Differentiable:
    the gradient is masked and scaled the same way. The mask is
    ``backend.kernels.dropout_mask(noise_shape, 1 - rate, seed, counter)``, with the pair
    that ``seed`` gives (see :func:`draw_seed`): the same bits on every device.
    """
    x = convert_to_tensor(inputs)
    if x.dtype.kind not in "f":
        x = cast(x, backend.floatx())
    rate = float(rate)
    if not 0.0 <= rate <= 1.0:
        raise OpError(f"random.dropout: rate must be in [0, 1], got {rate}.")
    if rate == 0.0:
        return x
    if noise_shape is None:
        noise_shape = x.shape
    else:
        noise_shape = tuple(x.shape[i] if n is None and i < x.ndim else n
                            for i, n in enumerate(noise_shape))
        try:
            if np.broadcast_shapes(noise_shape, x.shape) != x.shape:
                raise ValueError
        except (ValueError, TypeError):
            raise OpError(f"random.dropout: noise_shape {noise_shape} does not broadcast to "
                          f"the input's shape {x.shape}.") from None
    keep_prob = 1.0 - rate
    if rate == 1.0:
        kept = backend.xp.zeros(noise_shape, dtype=bool)
    else:
        seed_value, step = draw_seed(seed)
        kept = backend.kernels.dropout_mask(tuple(int(n) for n in noise_shape), keep_prob,
                                            seed_value, step)
    return Dropout(kept, keep_prob)(x)
