"""The Optimizer base class: the order of one update (``apply``: clip, decay, update),
slots, the learning rate, state and config (see ``minikeras/optim/__init__.py``).

The moving average of the weights, gradient accumulation and loss scaling live in their
own modules, mixed in here: ``moving_average.py``, ``accumulation.py``, ``loss_scaling.py``."""
import numbers
import re
import warnings

import numpy as np

from .. import backend, initializers, schedules
from ..autograd import no_grad
from ..schedules import LearningRateSchedule
from ..tensor import Tensor, Variable
from .accumulation import GradientAccumulation
from .loss_scaling import LossScaling
from .moving_average import MovingAverage

_name_counts = {}


def _auto_name(class_name):
    """``adagrad``, ``adagrad_1``...: snake_case of the class plus a counter, as Keras names
    an optimizer created without ``name``."""
    base = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    base = re.sub(r"([a-z])([A-Z])", r"\1_\2", base).lower()
    n = _name_counts.get(base, 0)
    _name_counts[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def _is_number(x):
    return isinstance(x, (numbers.Real, np.integer, np.floating)) and not isinstance(x, bool)


class Optimizer(MovingAverage, GradientAccumulation, LossScaling):
    """The base class: bookkeeping, clipping, weight decay and the step counter.

    ``Optimizer(learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
    global_clipnorm=None, use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
    loss_scale_factor=None, gradient_accumulation_steps=None, name=None)``

    * ``weight_decay``: decoupled decay, ``w -= w * weight_decay * lr`` before each update
      (see :meth:`exclude_from_weight_decay`).
    * ``clipnorm``: each gradient is rescaled so that its L2 norm is at most this;
      ``global_clipnorm``: all gradients together; ``clipvalue``: elementwise to
      ``[-clipvalue, clipvalue]``. At most one of the three.
    * ``use_ema``: keep an exponential moving average of the weights
      (``average = m * average + (1 - m) * w``, ``m = ema_momentum``, 0 at the first step),
      copied into the weights every ``ema_overwrite_frequency`` steps or by
      :meth:`finalize_variable_values`.
    * ``loss_scale_factor``: :meth:`scale_loss` multiplies the loss by it and the gradients
      are divided by it before use.
    * ``gradient_accumulation_steps``: sum the gradients of that many calls and update once
      with their mean; ``iterations`` then counts updates.
    """

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.")
        if kwargs:
            hint = " Keras 3 spells it `learning_rate`." if "lr" in kwargs else ""
            raise ValueError(f"Argument(s) not recognized: {kwargs}.{hint}")
        clips = sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm))
        if clips > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                f"global_clipnorm={global_clipnorm}")
        if gradient_accumulation_steps and not gradient_accumulation_steps >= 2:
            raise ValueError("`gradient_accumulation_steps` must be an integer >= 2. Received: "
                             f"gradient_accumulation_steps={gradient_accumulation_steps}")
        if use_ema:
            self._check_ema_arguments(ema_momentum, ema_overwrite_frequency)
        self.name = name if name is not None else _auto_name(type(self).__name__)
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.built = False
        self._variables = []            # iterations, learning rate, then the slots
        self._trainable_variables = []  # the model weights this optimizer was built for
        self._index = {}                # id(weight) -> its position in that list
        self._exclude_ids, self._exclude_pattern, self._decay_cache = set(), None, {}
        self._step = 0                  # `iterations` as a Python int, during an update
        self._iterations = self._track(Variable(0, dtype="int64", trainable=False,
                                                name="iteration"))
        self._learning_rate = None
        self._set_learning_rate(learning_rate)

    # ------------------------------------------------------------------ variables
    def _track(self, variable):
        variable.path = f"{self.name}/{variable.name}"
        self._variables.append(variable)
        return variable

    @property
    def variables(self):
        """All the optimizer's state, in Keras's (and the saved file's) order: ``iterations``,
        the learning rate (when it is a float), then the slots."""
        return list(self._variables)

    def build(self, var_list):
        """Create the slot variables for ``var_list`` (called by the first ``apply``).

        Subclasses call ``super().build(var_list)`` first, then add their own slots.
        """
        var_list = list(var_list)
        self._index = {id(v): i for i, v in enumerate(var_list)}
        if self.use_ema:
            self._averages = self.add_optimizer_variables(var_list, "average")
        if self.gradient_accumulation_steps:
            self._accumulators_of_grads = self.add_optimizer_variables(
                var_list, "gradient_accumulator")
        self._trainable_variables = var_list
        self.built = True

    def _get_variable_index(self, variable):
        return self._index[id(variable)]

    def add_variable(self, shape, initializer="zeros", dtype=None, aggregation="none",
                     name=None):
        """A new non-trainable Variable owned (and saved) by this optimizer. ``initializer``:
        ``"zeros"``, ``"ones"``, a number, an initializer name or a callable
        ``f(shape, dtype)``; ``aggregation`` is accepted for Keras compatibility (no effect)."""
        shape = tuple(shape)
        dtype = dtype or backend.floatx()
        xp = backend.xp
        if isinstance(initializer, str) and initializer in ("zeros", "ones"):
            value = (xp.zeros if initializer == "zeros" else xp.ones)(shape, dtype=dtype)
        elif _is_number(initializer):
            value = xp.full(shape, initializer, dtype=dtype)
        else:
            if isinstance(initializer, str):
                initializer = initializers.get(initializer)
            value = initializer(shape, dtype)
        return self._track(Variable(value, dtype=dtype, trainable=False,
                                    name=name or "variable"))

    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros"):
        """A slot shaped like ``reference_variable``, named ``<its path>_<name>``
        (e.g. ``dense_kernel_momentum``)."""
        ref = getattr(reference_variable, "path", None) or reference_variable.name or "var"
        return self.add_variable(reference_variable.shape, initializer=initializer,
                                 dtype=reference_variable.dtype,
                                 name=f"{ref.replace('/', '_')}_{name or 'var'}")

    def add_optimizer_variables(self, trainable_variables, name, initializer="zeros"):
        """One slot per weight for each name in ``name`` (a string or a list), interleaved
        weight by weight as Keras creates them (m0, v0, m1, v1...). Returns a list per name
        (a single list when ``name`` is a string)."""
        names = [name] if isinstance(name, str) else list(name)
        inits = (list(initializer) if isinstance(initializer, (list, tuple))
                 else [initializer] * len(names))
        slots = tuple([] for _ in names)
        for variable in trainable_variables:
            for i, (slot_name, init) in enumerate(zip(names, inits)):
                slots[i].append(self.add_variable_from_reference(variable, slot_name, init))
        return slots[0] if isinstance(name, str) else slots

    # ------------------------------------------------------------------ learning rate
    def _set_learning_rate(self, value):
        if callable(value):  # a LearningRateSchedule, or a function of no arguments
            if isinstance(self._learning_rate, Variable):
                self._variables.remove(self._learning_rate)  # no longer part of the state
            self._learning_rate = value
            return
        if isinstance(value, Tensor) and value.size == 1:
            value = value.item()
        if not _is_number(value):
            raise ValueError(
                "Argument `learning_rate` should be float, or an instance of "
                "LearningRateSchedule, or a callable (that takes in the current iteration "
                "value and returns the corresponding learning rate value). "
                f"Received instead: learning_rate={value!r}")
        if isinstance(self._learning_rate, LearningRateSchedule):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its "
                "`learning_rate` constructor argument, hence its learning rate is not "
                "settable. If you need the learning rate to be settable, you should "
                "instantiate the optimizer with a float `learning_rate` argument.")
        if isinstance(self._learning_rate, Variable):
            self._learning_rate.assign(float(value))
            return
        lr = Variable(float(value), dtype=backend.floatx(), trainable=False, name="learning_rate")
        self._track(lr)
        self._variables.insert(1, self._variables.pop())  # right after iterations
        self._learning_rate = lr

    @property
    def learning_rate(self):
        """The learning rate of the next update: the float32 Variable (``float(...)`` gives
        the number; assigning ``opt.learning_rate = 0.01`` changes it), or the value of the
        schedule at the current ``iterations``."""
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            return lr(self._iterations)
        if isinstance(lr, Variable):
            return lr
        return lr()

    @learning_rate.setter
    def learning_rate(self, value):
        self._set_learning_rate(value)

    def _learning_rate_value(self):
        lr = self._learning_rate
        if isinstance(lr, Variable):
            return float(lr.data)
        return float(lr(self._iterations) if isinstance(lr, LearningRateSchedule) else lr())

    # ------------------------------------------------------------------ applying gradients
    def apply_gradients(self, grads_and_vars):
        """``apply`` for a list of ``(gradient, variable)`` pairs; returns ``iterations``."""
        pairs = list(grads_and_vars)
        for pair in pairs:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ValueError("apply_gradients() takes (gradient, variable) pairs, e.g. "
                                 f"zip(grads, model.trainable_weights); got an item {pair!r}.")
        grads, variables = ([p[0] for p in pairs], [p[1] for p in pairs])
        self.apply(grads, variables)
        return self._iterations

    def apply(self, grads, trainable_variables=None):
        """Update ``trainable_variables`` in place with ``grads`` (one per variable, in the
        same order; None skips a variable). The first call builds the slots; afterwards the
        variables may be left out to mean "the variables the optimizer was built with"."""
        grads = list(grads)
        if len(grads) == 0:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be "
                    "built on a list of variables. Call `optimizer.build(trainable_variables)` "
                    "first.")
            if len(grads) != len(self._trainable_variables):
                raise ValueError(
                    f"Received a list of {len(grads)} gradients, but the optimizer is tracking "
                    f"{len(self._trainable_variables)} trainable variables: pass one gradient "
                    "per variable, in the order of `optimizer.build(...)`.")
            variables = self._trainable_variables
        else:
            variables = list(trainable_variables)
            if len(grads) != len(variables):
                raise ValueError(f"Optimizer '{self.name}' received {len(grads)} gradients for "
                                 f"{len(variables)} variables; they must match one to one.")
            for v in variables:
                if not isinstance(v, Tensor):
                    raise TypeError(f"Optimizer '{self.name}' can only update minikeras "
                                    f"Variables (or Tensors), got {type(v).__name__}.")
            if not self.built:
                self.build(variables)
                self.built = True
            for v in variables:
                if id(v) not in self._index:
                    raise ValueError(
                        f"Unknown variable: {v}. This optimizer can only be called for the "
                        "variables it was originally built with. When working with a new set "
                        "of variables, you should recreate a new optimizer instance.")
        with no_grad():
            grads, variables = self._filter_empty_gradients(grads, variables)
            arrays = [self._gradient_array(g, v) for g, v in zip(grads, variables)]
            arrays = self._unscale_gradients(arrays)
            self._step = self._iteration_count()
            lr = self._learning_rate_value()
            if self.gradient_accumulation_steps:
                arrays = self._accumulate_gradients(arrays, variables)  # None between updates
            if arrays is not None:
                arrays = self._clip_gradients(arrays)
                self._apply_weight_decay(variables, lr)
                self._backend_update_step(arrays, variables, lr)
            if self.use_ema:
                self._update_moving_averages()
            for v in variables:
                constraint = getattr(v, "constraint", None)
                if constraint is not None:
                    v.assign(constraint(v))
        self._iterations.assign_add(1)

    def _filter_empty_gradients(self, grads, variables):
        kept = [(g, v) for g, v in zip(grads, variables) if g is not None]
        if not kept:
            raise ValueError("No gradients provided for any variable.")
        if len(kept) < len(grads):
            missing = [getattr(v, "path", v.name) for g, v in zip(grads, variables) if g is None]
            warnings.warn(f"Gradients do not exist for variables {missing} when minimizing the "
                          "loss. If using `model.compile()`, did you forget to provide a `loss` "
                          "argument?", stacklevel=3)
        return [g for g, _ in kept], [v for _, v in kept]

    def _gradient_array(self, grad, variable):
        """The gradient as an array of the variable's dtype and shape (Keras casts too)."""
        data = grad.data if isinstance(grad, Tensor) else grad
        if not backend.is_device_array(data):
            if backend.is_foreign_array(data):
                raise backend.device_mismatch(data, f"Optimizer '{self.name}'")
            data = backend.asarray(data, dtype=variable.dtype)
        if data.shape != variable.shape:
            raise ValueError(f"Optimizer '{self.name}': the gradient for variable "
                             f"'{getattr(variable, 'path', variable.name)}' has shape "
                             f"{tuple(data.shape)}, expected {variable.shape} (the variable's).")
        return data if data.dtype == variable.dtype else data.astype(variable.dtype)

    def _backend_update_step(self, grads, variables, lr):
        """The rule's update for each weight: ``update_step``, the formula, unless the rule
        has a compiled version of it that fits these arrays (``fused_update_step``)."""
        for g, v in zip(grads, variables):
            gradient = Tensor._wrap(g)
            if not self.fused_update_step(gradient, v, lr):
                self.update_step(gradient, v, lr)

    def update_step(self, gradient, variable, learning_rate):
        """Update one ``variable`` (a Variable) with its ``gradient`` (a Tensor of the same
        shape and dtype, already clipped) and the ``learning_rate`` (a float)."""
        raise NotImplementedError(f"{type(self).__name__} must define update_step().")

    def fused_update_step(self, gradient, variable, learning_rate):
        """The same update as ``update_step`` in one compiled loop, where a rule has one and
        it is faster (measured in ``benchmarks/bench_optimizer_update.py``). Returns True
        when it did the update, False to leave it to ``update_step`` (the default)."""
        return False

    def assign(self, variable, value):
        variable.assign(value)

    def assign_add(self, variable, value):
        variable.assign_add(value)

    def assign_sub(self, variable, value):
        variable.assign_sub(value)

    # ------------------------------------------------------------------ clipping, decay
    def _clip_gradients(self, grads):
        xp = backend.xp
        if self.clipnorm and self.clipnorm > 0:
            c = self.clipnorm
            # g * c / max(||g||, c): unchanged when the norm is at most c
            return [g * c / xp.maximum(xp.sqrt(xp.sum(xp.square(g))), c) for g in grads]
        if self.global_clipnorm and self.global_clipnorm > 0:
            c = self.global_clipnorm
            norm = xp.sqrt(sum(xp.sum(xp.square(g)) for g in grads))
            with np.errstate(divide="ignore", invalid="ignore"):
                # c * min(1/norm, 1/c); (norm - norm) turns an inf or NaN norm into NaN
                scale = c * xp.minimum(1.0 / norm, 1.0 / c) + (norm - norm)
            return [g * xp.asarray(scale, dtype=g.dtype) for g in grads]
        if self.clipvalue and self.clipvalue > 0:
            return [xp.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Exempt variables from weight decay: those in ``var_list``, and those whose name
        contains one of the strings of ``var_names`` (e.g. ``["bias"]``). Call it before the
        first update."""
        if self.built:
            raise ValueError("`exclude_from_weight_decay()` can only be configured before the "
                             "optimizer is built.")
        self._exclude_ids = {id(v) for v in (var_list or ())}
        self._exclude_pattern = re.compile("|".join(set(var_names))) if var_names else None
        self._decay_cache = {}

    def _use_weight_decay(self, variable):
        key = id(variable)
        if key not in self._decay_cache:
            excluded = key in self._exclude_ids or (
                self._exclude_pattern is not None
                and self._exclude_pattern.search(variable.name or "") is not None)
            self._decay_cache[key] = not excluded
        return self._decay_cache[key]

    def _apply_weight_decay(self, variables, lr):
        """``w -= w * weight_decay * lr``, before the update (decoupled weight decay)."""
        if self.weight_decay is None:
            return
        for v in variables:
            if self._use_weight_decay(v):
                w = v.data
                f = w.dtype.type
                w -= w * f(self.weight_decay) * f(lr)

    # ------------------------------------------------------------------ state and config
    def set_weights(self, weights):
        """Overwrite ``variables`` with a list of arrays of the same shapes."""
        if not self.built:
            raise ValueError("You are calling `set_weights()` on an optimizer that has not yet "
                             "been built. Please call `optimizer.build(trainable_variables)` to "
                             "create the optimizer weights before calling `set_weights()`.")
        for v, w in zip(self._variables, weights):
            if tuple(np.shape(w)) != v.shape:
                raise ValueError(f"Optimizer variable {v.path} has shape {v.shape} not "
                                 f"compatible with provided weight shape {tuple(np.shape(w))}.")
            v.assign(backend.asarray(np.asarray(w), dtype=v.dtype))

    def save_own_variables(self, store):
        """Write ``variables`` into ``store["0"]``, ``store["1"]``... (the saving format)."""
        for i, v in enumerate(self._variables):
            store[str(i)] = v.numpy()

    def load_own_variables(self, store):
        """Read ``variables`` back; a different count only warns, as in Keras."""
        if len(store.keys()) != len(self._variables):
            msg = (f"Skipping variable loading for optimizer '{self.name}', because it has "
                   f"{len(self._variables)} variables whereas the saved optimizer has "
                   f"{len(store.keys())} variables. ")
            if len(self._variables) == 0 or not self.built:
                msg += "This is likely because the optimizer has not been called/built yet."
            warnings.warn(msg, stacklevel=2)
            return
        for i, v in enumerate(self._variables):
            v.assign(backend.asarray(np.asarray(store[str(i)]), dtype=v.dtype))

    def get_config(self):
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            lr = schedules.serialize(lr)
        elif isinstance(lr, Variable):
            lr = float(lr.data)  # the float32 value, e.g. 0.0010000000474974513
        return {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
                "clipvalue": self.clipvalue, "use_ema": self.use_ema,
                "ema_momentum": self.ema_momentum,
                "ema_overwrite_frequency": self.ema_overwrite_frequency,
                "loss_scale_factor": self.loss_scale_factor,
                "gradient_accumulation_steps": self.gradient_accumulation_steps}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"],
                                                            custom_objects=custom_objects)
        return cls(**config)

    def __repr__(self):
        lr = self._learning_rate
        lr = lr.data.item() if isinstance(lr, Variable) else lr  # 0.001, not 0.0010000000474...
        lr = str(np.float32(lr)) if isinstance(lr, float) else repr(lr)
        return (f"<{type(self).__name__} name={self.name!r}, learning_rate={lr}, "
                f"iterations={self._iteration_count()}>")
