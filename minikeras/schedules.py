"""Learning-rate schedules: ``keras.optimizers.schedules``.

A schedule is a function of the optimizer's step counter: the optimizer calls
``schedule(optimizer.iterations)`` at every update (the counter is 0 during the first
update) and uses the value as its learning rate::

    lr = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=1000, decay_rate=0.5)
    opt = keras.optimizers.SGD(learning_rate=lr)   # 0.1, then 0.1 * 0.5 ** (step / 1000)

The arithmetic follows Keras exactly, in the dtype Keras uses: that of the initial learning
rate (float32 for a Python float). The step is converted to that dtype too, so beyond
2**24 steps a float32 schedule sees rounded steps, as in Keras. A call returns a 0-d
float Tensor; ``float(schedule(step))`` gives the number.

Write your own by subclassing :class:`LearningRateSchedule` and defining ``__call__(step)``
and ``get_config()``.
"""
import math

import numpy as np

from .backend import settings
from .tensor import Tensor

__all__ = ["LearningRateSchedule", "ExponentialDecay", "PiecewiseConstantDecay",
           "PolynomialDecay", "InverseTimeDecay", "CosineDecay", "CosineDecayRestarts",
           "serialize", "deserialize"]


def _float_dtype(value):
    """The dtype a schedule computes in: a NumPy float keeps its own, anything else
    (a Python number) is ``floatx()``."""
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind == "f":
        return value.dtype.type
    return np.dtype(settings.floatx()).type


def _number(step):
    """The step as a Python number: accepts ints, floats, NumPy scalars and 0-d Tensors
    (``optimizer.iterations`` is an int64 Variable)."""
    if isinstance(step, Tensor):
        return step.item()
    if isinstance(step, (np.ndarray, np.generic)):
        return step.item()
    return step


def _result(value, dtype):
    return Tensor(np.asarray(value, dtype=dtype))


def _check_positive(name, value):
    if value <= 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value}")


class LearningRateSchedule:
    """The base class of learning-rate schedules: ``schedule(step)`` -> learning rate."""

    def __call__(self, step):
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' "
                                  "must override `__call__(self, step)`.")

    def get_config(self):
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' "
                                  "must override `get_config()` in order to be serializable.")

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``.

    ``staircase=True`` floors the exponent, so the rate drops in steps every
    ``decay_steps`` updates.
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        f = _float_dtype(self.initial_learning_rate)
        p = f(_number(step)) / f(self.decay_steps)
        if self.staircase:
            p = np.floor(p)
        return _result(f(self.initial_learning_rate) * np.power(f(self.decay_rate), p), f)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, and ``values[-1]`` after the last boundary.
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and "
                f"values={values} of length {len(values)}.")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        step = _number(step)
        index = len(self.boundaries)  # past the last boundary
        for i, boundary in enumerate(self.boundaries):
            if step <= boundary:
                index = i
                break
        f = _float_dtype(self.values[0])
        return _result(self.values[index], f)

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """From ``initial_learning_rate`` down to ``end_learning_rate`` in ``decay_steps``::

        step = min(step, decay_steps)
        (initial - end) * (1 - step / decay_steps) ** power + end

    With ``cycle=True`` the decay restarts: ``decay_steps`` is multiplied by
    ``ceil(step / decay_steps)`` (1 at step 0) instead of clamping the step.
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001,
                 power=1.0, cycle=False, name="PolynomialDecay"):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step):
        f = _float_dtype(self.initial_learning_rate)
        step = f(_number(step))
        decay_steps = f(self.decay_steps)
        if self.cycle:
            multiplier = f(1.0) if step == 0 else np.ceil(step / decay_steps)
            decay_steps = decay_steps * multiplier
        else:
            step = min(step, decay_steps)
        p = step / decay_steps
        initial, end = f(self.initial_learning_rate), f(self.end_learning_rate)
        return _result((initial - end) * np.power(f(1) - p, f(self.power)) + end, f)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``
    (the quotient floored when ``staircase=True``)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        f = _float_dtype(self.initial_learning_rate)
        p = f(_number(step)) / f(self.decay_steps)
        if self.staircase:
            p = np.floor(p)
        return _result(f(self.initial_learning_rate) / (f(1) + f(self.decay_rate) * p), f)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


def _cosine(fraction, f):
    """0.5 * (1 + cos(pi * fraction)) in dtype f: 1 at fraction 0, 0 at fraction 1."""
    return f(0.5) * (f(1) + np.cos(f(math.pi) * fraction))


class CosineDecay(LearningRateSchedule):
    """Cosine decay (SGDR without restarts), with an optional linear warmup.

    Without warmup (``warmup_target=None``)::

        step = min(step, decay_steps)
        decayed = (1 - alpha) * 0.5 * (1 + cos(pi * step / decay_steps)) + alpha
        lr = initial_learning_rate * decayed

    With ``warmup_target``: for ``step < warmup_steps`` the rate goes linearly from
    ``initial_learning_rate`` to ``warmup_target``; after that it decays from
    ``warmup_target`` as above, over ``decay_steps`` steps counted from the end of warmup.
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_steps = warmup_steps
        self.warmup_target = warmup_target

    def _decay(self, step, decay_steps, decay_from, f):
        decayed = (f(1) - f(self.alpha)) * _cosine(step / decay_steps, f) + f(self.alpha)
        return decay_from * decayed

    def __call__(self, step):
        f = _float_dtype(self.initial_learning_rate)
        initial = f(self.initial_learning_rate)
        decay_steps = f(self.decay_steps)
        step = f(_number(step))
        if self.warmup_target is None:
            return _result(self._decay(min(step, decay_steps), decay_steps, initial, f), f)
        target, warmup_steps = f(self.warmup_target), f(self.warmup_steps)
        step = min(step, decay_steps + warmup_steps)
        if step < warmup_steps:
            value = (target - initial) * (step / warmup_steps) + initial
        else:
            value = self._decay(step - warmup_steps, decay_steps, target, f)
        return _result(value, f)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR, Loshchilov & Hutter 2016).

    The first period lasts ``first_decay_steps`` steps; each following period is ``t_mul``
    times longer and starts from a rate ``m_mul`` times smaller. Inside a period the rate
    follows ``initial * m_mul**i * ((1 - alpha) * 0.5 * (1 + cos(pi * fraction)) + alpha)``
    where ``i`` is the number of restarts so far and ``fraction`` the part of the period done.
    """

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0,
                 alpha=0.0, name="SGDRDecay"):
        _check_positive("first_decay_steps", first_decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step):
        f = _float_dtype(self.initial_learning_rate)
        t_mul, m_mul, alpha = f(self._t_mul), f(self._m_mul), f(self.alpha)
        fraction = f(_number(step)) / f(self.first_decay_steps)
        if t_mul == 1:
            restarts = np.floor(fraction)
            fraction = fraction - restarts
        else:
            # Periods 1, t, t^2, ...: restart i begins at (1 - t^i) / (1 - t) periods.
            restarts = np.floor(np.log(f(1) - fraction * (f(1) - t_mul)) / np.log(t_mul))
            done = (f(1) - np.power(t_mul, restarts)) / (f(1) - t_mul)
            fraction = (fraction - done) / np.power(t_mul, restarts)
        cosine = f(0.5) * np.power(m_mul, restarts) * (f(1) + np.cos(f(math.pi) * fraction))
        decayed = (f(1) - alpha) * cosine + alpha
        return _result(f(self.initial_learning_rate) * decayed, f)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self._t_mul,
                "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}


_SCHEDULES = {cls.__name__: cls for cls in (ExponentialDecay, PiecewiseConstantDecay,
                                            PolynomialDecay, InverseTimeDecay, CosineDecay,
                                            CosineDecayRestarts)}


def serialize(schedule):
    """The schedule as the dict Keras writes into a saved optimizer config."""
    return {"module": "keras.optimizers.schedules", "class_name": type(schedule).__name__,
            "config": schedule.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """The schedule described by ``serialize``'s dict (``custom_objects`` maps class names
    to your own LearningRateSchedule subclasses)."""
    known = dict(_SCHEDULES)
    known.update(custom_objects or {})
    name = config.get("class_name")
    cls = known.get(name)
    if cls is None:
        raise ValueError(f"Unknown learning rate schedule {name!r}. Known: "
                         f"{', '.join(sorted(known))}; pass your own class in custom_objects.")
    return cls.from_config(dict(config.get("config", {})))
