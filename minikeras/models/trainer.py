"""``compile``, ``fit``, ``evaluate``, ``predict``: the training loop.

One training step (:meth:`Trainer.train_step`) is the custom training loop of every Keras
tutorial, written once::

    with GradientTape() as tape:
        y_pred = model(x, training=True)
        loss = compute_loss(y, y_pred) + sum(model.losses)
    grads = tape.gradient(loss, model.trainable_weights)
    optimizer.apply_gradients(zip(grads, model.trainable_weights))

``fit`` cuts the data into batches, calls ``train_step`` for each, keeps the running means
that the progress bar shows, runs validation at the end of each epoch and calls the
callbacks at each point.
"""

import warnings

import numpy as np

from .. import backend, losses, optim
from .. import metrics as metrics_module
from ..autograd import GradientTape, no_grad
from ..callbacks import CallbackList, History, ProgbarLogger
from ..layers.structure import flatten as _flatten, map_structure as _map
from ..tensor import Tensor
from . import data as data_utils


class _RunningMean:
    """The mean of the values seen since the last reset, weighted (the loss in the logs)."""

    def __init__(self, name):
        self.name, self.total, self.count = name, 0.0, 0.0

    def update_state(self, values, sample_weight=1.0):
        value = values.item() if isinstance(values, Tensor) else float(values)
        self.total += value * sample_weight
        self.count += sample_weight

    def result(self):
        return self.total / self.count if self.count else 0.0

    def reset_state(self):
        self.total = self.count = 0.0


class CompileMetrics:
    """The metrics given to ``compile``, seen as one metric named ``compile_metrics`` (as in
    Keras): ``update_state(y, y_pred, sample_weight)`` updates each with its output (built
    from the shapes of the first batch), ``result()`` is ``{name: value}``."""

    name = "compile_metrics"

    def __init__(self, model):
        self.model = model

    def update_state(self, y_true, y_pred, sample_weight=None):
        model = self.model
        if model._metrics is None:
            model._build_metrics(y_true, y_pred)
        ys, ps = _flatten(y_true), _flatten(y_pred)
        with no_grad():
            for i, metric, weighted in model._metrics:
                metric.update_state(ys[i], ps[i], sample_weight=sample_weight if weighted else None)

    def result(self):
        return {metric.name: metric.result() for _, metric, _ in self.model._metrics or []}

    def reset_state(self):
        for _, metric, _ in self.model._metrics or []:
            metric.reset_state()


def _batch_size(x):
    return len(_flatten(x)[0])


def _python_logs(logs):
    """The logs as plain floats, nested dicts flattened (what callbacks and History get),
    in sorted order."""
    flat = {}
    for key, value in logs.items():
        if isinstance(value, dict):
            flat.update(_python_logs(value))
        else:
            flat[key] = float(value.numpy() if isinstance(value, Tensor) else value)
    return dict(sorted(flat.items()))


def _to_tensors(structure):
    return _map(lambda a: None if a is None else (a if isinstance(a, Tensor) else Tensor(a)),
                structure)


def _as_data(x, y, sample_weight):
    """One batch as the data tuple ``train_step``/``test_step``/``predict_step`` get."""
    return data_utils.pack_x_y_sample_weight(_to_tensors(x), _to_tensors(y),
                                             _to_tensors(sample_weight))


class Trainer:
    """The training methods of ``Model``."""

    def __init__(self):
        self.compiled = False
        self.optimizer = None
        self.stop_training = False
        self.history = None

    # ------------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True):
        """Choose the optimizer, the loss(es) and the metrics (names or objects)."""
        for argument, value in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
            if value is not None and not isinstance(value, (list, tuple, dict)):
                # refused by Keras 3 too: compile(metrics=["accuracy"]) works in both
                raise ValueError(f"Expected `{argument}` argument to be a list, tuple, or dict. "
                                 f"Received instead: {argument}={value} of type "
                                 f"{type(value)}. Write {argument}=[{value!r}].")
        self.optimizer = optim.get(optimizer)
        self.loss = loss
        self.loss_weights = loss_weights
        self._metric_specs = metrics or []
        self._weighted_metric_specs = weighted_metrics or []
        self._metrics = None  # resolved from the shapes of the first batch
        self._compiled_losses = None
        _check_names(loss, metrics, weighted_metrics)  # a typo fails here, not in fit
        self._loss_tracker = _RunningMean("loss")
        self._output_loss_trackers = []  # <output>_loss of each output, when there are several
        self._compile_metrics = CompileMetrics(self)
        self.compiled = True
        self.stop_training = False

    def _require_compiled(self, what):
        if not self.compiled:
            raise ValueError(f"You must call `compile()` before using the model "
                             f"(`{what}()` needs an optimizer, a loss and metrics).")

    def _output_names(self, n):
        if n == 1:
            return [None]
        outputs = getattr(self, "outputs", None) or []
        names = [t.node.layer.name for t in outputs if getattr(t, "node", None)]
        return names if len(names) == n else [f"output_{i}" for i in range(n)]

    def _losses_for(self, n_outputs):
        names = self._output_names(n_outputs)
        spec = self.loss
        if spec is None:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        if isinstance(spec, dict):
            missing = [k for k in names if k not in spec]
            if missing:
                raise ValueError(f"compile(loss=...): no loss given for output(s) {missing}; "
                                 f"the model's outputs are {names}.")
            spec = [spec[k] for k in names]
        elif not isinstance(spec, (list, tuple)):
            spec = [spec] * n_outputs
        if len(spec) != n_outputs:
            raise ValueError(f"compile(loss=...) got {len(spec)} losses for a model with "
                             f"{n_outputs} outputs.")
        weights = self.loss_weights
        if weights is None:
            weights = [1.0] * n_outputs
        elif isinstance(weights, dict):
            weights = [weights.get(k, 1.0) for k in names]
        return [losses.get_loss(s) for s in spec], list(weights)

    def _build_metrics(self, y_true, y_pred):
        ys, ps = _flatten(y_true), _flatten(y_pred)
        names = self._output_names(len(ps))
        built = []
        for specs, weighted in ((self._metric_specs, False), (self._weighted_metric_specs, True)):
            if isinstance(specs, dict):
                specs = [specs.get(n, []) for n in names]
            elif len(ps) > 1 and specs and isinstance(specs[0], (list, tuple)):
                pass
            else:
                specs = [specs] * len(ps) if len(ps) > 1 else [specs]
            for i, (out_specs, t, p) in enumerate(zip(specs, ys, ps)):
                for spec in (out_specs if isinstance(out_specs, (list, tuple)) else [out_specs]):
                    metric = metrics_module.get_metric(spec, tuple(t.shape), tuple(p.shape))
                    if names[i] is not None:
                        metric.name = f"{names[i]}_{metric.name}"
                    if weighted:
                        metric.name = f"weighted_{metric.name}"
                    built.append((i, metric, weighted))
        self._metrics = built

    @property
    def metrics_names(self):
        names = ["loss"] + [t.name for t in self._output_loss_trackers]
        if self._metrics:
            names += [m.name for _, m, _ in self._metrics]
        return names

    # ------------------------------------------------------------------ one step
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The total loss of a batch: the compiled loss(es), weighted, plus ``model.losses``
        (weight regularization and ``add_loss``)."""
        n = len(_flatten(y_pred))
        if self.loss is None:  # a model that carries its own loss (add_loss), as in Keras
            fns, weights = [], []
        else:
            if self._compiled_losses is None or len(self._compiled_losses[0]) != n:
                self._compiled_losses = self._losses_for(n)
            fns, weights = self._compiled_losses
        total = None
        per_output = self._per_output_trackers(len(fns))
        for i, (fn, w, t, p) in enumerate(zip(fns, weights, _flatten(y), _flatten(y_pred))):
            if fn is None:
                continue
            term = fn(t, p, sample_weight=sample_weight)
            if per_output:  # each output's own loss, unweighted, as Keras logs it
                per_output[i].update_state(term, sample_weight=_batch_size(p))
            term = term * w if w != 1.0 else term
            total = term if total is None else total + term
        for extra in self.losses:
            total = extra if total is None else total + extra
        if total is None:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`, "
                             "or add the model's losses in `call` with `self.add_loss(...)`.")
        return total

    def _per_output_trackers(self, n):
        """The ``<output>_loss`` running means of a model with several outputs ([] for one)."""
        if n > 1 and len(self._output_loss_trackers) != n:
            self._output_loss_trackers = [_RunningMean(f"{name}_loss")
                                          for name in self._output_names(n)]
        return self._output_loss_trackers if n > 1 else []

    def train_step(self, data):
        """One update on one batch; returns the logs. ``data`` is ``(x,)``, ``(x, y)`` or
        ``(x, y, sample_weight)``, as in Keras: override this method to change what ``fit``
        does with a batch."""
        x, y, sample_weight = data_utils.unpack_x_y_sample_weight(data)
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sample_weight)
        self._loss_tracker.update_state(loss, sample_weight=_batch_size(x))
        weights = self.trainable_weights
        grads = tape.gradient(loss, weights)
        self.optimizer.apply_gradients(zip(grads, weights))  # also applies weight constraints
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data):
        """The loss and metrics of one batch, without an update; returns the logs."""
        x, y, sample_weight = data_utils.unpack_x_y_sample_weight(data)
        with no_grad():
            y_pred = self(x, training=False)
            loss = self.compute_loss(x, y, y_pred, sample_weight, training=False)
        self._loss_tracker.update_state(loss, sample_weight=_batch_size(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        """The model's outputs for one batch."""
        x, _, _ = data_utils.unpack_x_y_sample_weight(data)
        with no_grad():
            return self(x, training=False)

    def zero_grad(self):
        """Forget the gradients that ``loss.backward()`` left on the weights (``.grad``), as
        a ``train_step`` written in the Keras-on-torch style does first."""
        for v in self.trainable_weights:
            v.grad = None

    def parameters(self, *args, **kwargs):
        """PyTorch's ``nn.Module.parameters()``, which a Keras model has only on Keras's torch
        backend (there it is a torch module): minikeras's weights are not torch tensors, so
        ``torch.optim`` cannot update them. Says what to write instead."""
        raise AttributeError(
            f"{type(self).__name__}.parameters() is PyTorch's nn.Module method: with Keras on "
            "the torch backend a model is a torch module, but minikeras runs on its own tape, "
            "and torch.optim and torch losses cannot work on its weights. Write the loop with "
            "Keras's pieces instead: a keras.optimizers optimizer and keras.losses loss, "
            "`with keras.GradientTape() as tape:` (or `self.zero_grad()` and "
            "`loss.backward()`), then `optimizer.apply(grads, model.trainable_weights)`.")

    # ------------------------------------------------------------------ metrics
    @property
    def metrics(self):
        """What ``fit`` resets each epoch and reports, as in Keras: the loss tracker (a mean
        named ``loss``), the compiled metrics as one metric named ``compile_metrics``, and any
        metric the model holds as an attribute. A model may override this property."""
        found = []
        if self.compiled:
            found.append(self._loss_tracker)
            found += self._output_loss_trackers
            if self._metric_specs or self._weighted_metric_specs:
                found.append(self._compile_metrics)
        found += [v for v in vars(self).values() if isinstance(v, metrics_module.Metric)]
        return found

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Update the compiled metrics with one batch; returns the logs of all metrics."""
        if self.compiled:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self):
        """{name: value} of every metric in ``self.metrics`` (the compiled ones by name)."""
        logs = {}
        for metric in self.metrics:
            value = metric.result()
            if isinstance(value, dict):
                logs.update(value)
            else:
                logs[metric.name] = value
        return logs

    def reset_metrics(self):
        """Reset every metric in ``self.metrics`` (``fit`` does it at each epoch's start)."""
        for metric in self.metrics:
            metric.reset_state()

    # ------------------------------------------------------------------ fit
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Train for ``epochs`` epochs; returns the :class:`~minikeras.callbacks.History`."""
        self._require_compiled("fit")
        verbose = 1 if verbose == "auto" else verbose
        batch_size = batch_size or 32
        if data_utils.is_generator_like(x):
            if validation_split:
                raise ValueError("`validation_split` is only supported for NumPy arrays; use "
                                 "`validation_data` with a generator.")
            batches = data_utils.GeneratorBatches(x, steps_per_epoch)
        else:
            x, y = data_utils.as_arrays(x), data_utils.as_arrays(y, "y")
            sample_weight = None if sample_weight is None else np.asarray(sample_weight, "float32")
            if class_weight is not None:
                if y is None:
                    raise ValueError("`class_weight` needs `y`.")
                cw = data_utils.class_weights_to_sample_weights(_flatten(y)[0], class_weight)
                sample_weight = cw if sample_weight is None else sample_weight * cw
            data_utils.check_arrays(x, y, sample_weight)
            if validation_split and validation_data is None:
                (x, y, sample_weight), validation_data = data_utils.split_validation(
                    x, y, sample_weight, validation_split)
            batches = data_utils.ArrayBatches(x, y, sample_weight, batch_size, shuffle)
        steps = steps_per_epoch or batches.steps
        history = History()
        cbs = CallbackList(list(callbacks or []) + [history], model=self)
        if verbose:
            cbs.append(ProgbarLogger())
        cbs.set_model(self)
        cbs.set_params({"verbose": verbose, "epochs": epochs, "steps": steps})
        self.stop_training = False
        self._initial_epoch = None
        if self.built and not self.optimizer.built:
            # As Keras does before on_train_begin: the optimizer's slots exist, so a callback
            # can restore them (BackupAndRestore).
            self.optimizer.build(self.trainable_weights)
        cbs.on_train_begin()
        if self._initial_epoch is not None:  # BackupAndRestore found a backup: resume there
            initial_epoch, self._initial_epoch = self._initial_epoch, None
        logs = {}
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            cbs.on_epoch_begin(epoch)
            step = -1
            for step, (xb, yb, wb) in enumerate(batches.epoch()):
                if steps_per_epoch is not None and step >= steps_per_epoch:
                    break
                cbs.on_train_batch_begin(step)
                logs = _python_logs(self.train_step(_as_data(xb, yb, wb)))
                cbs.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            if isinstance(batches, data_utils.ArrayBatches) and steps_per_epoch and \
                    step + 1 < steps_per_epoch and not self.stop_training:
                # Keras warns, and goes on with the batches there are
                warnings.warn(data_utils.RAN_OUT, UserWarning, stacklevel=2)
            if step < 0:
                if getattr(batches, "exhausted", False) and epoch > initial_epoch:
                    break  # a generator ran out (warned): training ends here, as in Keras
                raise ValueError("The data given to fit() produced no batch.")
            epoch_logs = dict(logs)
            if validation_data is not None and (epoch + 1) % validation_freq == 0:
                vx, vy, vw = _validation_tuple(validation_data)
                val = self.evaluate(vx, vy, sample_weight=vw, batch_size=validation_batch_size or batch_size,
                                    steps=validation_steps, verbose=0, return_dict=True,
                                    _in_fit=True)
                epoch_logs.update({f"val_{k}": v for k, v in val.items()})
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training or getattr(batches, "exhausted", False):
                break
        cbs.on_train_end(logs)
        self.history = history
        return history

    # ------------------------------------------------------------------ evaluate / predict
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False, _in_fit=False):
        """The loss and metrics on the data; ``[loss, *metrics]``, a scalar, or a dict."""
        self._require_compiled("evaluate")
        verbose = 1 if verbose == "auto" else verbose
        if data_utils.is_generator_like(x):
            batches = data_utils.GeneratorBatches(x, steps)
        else:
            x, y = data_utils.as_arrays(x), data_utils.as_arrays(y, "y")
            batches = data_utils.ArrayBatches(x, y, sample_weight, batch_size or 32)
        n_steps = steps or batches.steps
        cbs = CallbackList(list(callbacks or []), model=self)
        if verbose and not _in_fit:
            cbs.append(ProgbarLogger())
        cbs.set_model(self)
        cbs.set_params({"verbose": verbose, "steps": n_steps, "in_fit": _in_fit})
        self.reset_metrics()  # fit has already read the epoch's training logs
        cbs.on_test_begin()
        logs = {}
        for step, (xb, yb, wb) in enumerate(batches.epoch()):
            if steps is not None and step >= steps:
                break
            cbs.on_test_batch_begin(step)
            logs = _python_logs(self.test_step(_as_data(xb, yb, wb)))
            cbs.on_test_batch_end(step, logs)
        cbs.on_test_end(logs)
        return self._format(logs, return_dict)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for ``x``, batch by batch, as NumPy array(s)."""
        verbose = 1 if verbose == "auto" else verbose
        if data_utils.is_generator_like(x):
            batches = data_utils.GeneratorBatches(x, steps)
        else:
            batches = data_utils.ArrayBatches(data_utils.as_arrays(x), None, None, batch_size or 32)
        cbs = CallbackList(list(callbacks or []), model=self)
        if verbose:
            cbs.append(ProgbarLogger())
        cbs.set_model(self)
        cbs.set_params({"verbose": verbose, "steps": steps or batches.steps})
        cbs.on_predict_begin()
        outputs = []
        for step, (xb, _, _) in enumerate(batches.epoch()):
            if steps is not None and step >= steps:
                break
            cbs.on_predict_batch_begin(step)
            outputs.append(self._predict_batch(xb))
            cbs.on_predict_batch_end(step)
        cbs.on_predict_end()
        if isinstance(outputs[0], list):
            return [np.concatenate([o[i] for o in outputs]) for i in range(len(outputs[0]))]
        return np.concatenate(outputs)

    # ------------------------------------------------------------------ single batches
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One training step on one batch; returns the loss (and metrics) of that batch."""
        self._require_compiled("train_on_batch")
        x, y = data_utils.as_arrays(x), data_utils.as_arrays(y, "y")
        if class_weight is not None:
            sample_weight = data_utils.class_weights_to_sample_weights(_flatten(y)[0], class_weight)
        data_utils.check_arrays(x, y, sample_weight)
        self.reset_metrics()
        logs = _python_logs(self.train_step(_as_data(x, y, sample_weight)))
        return self._format(logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._require_compiled("test_on_batch")
        x, y = data_utils.as_arrays(x), data_utils.as_arrays(y, "y")
        self.reset_metrics()
        logs = _python_logs(self.test_step(_as_data(x, y, sample_weight)))
        return self._format(logs, return_dict)

    def predict_on_batch(self, x):
        return self._predict_batch(data_utils.as_arrays(x))

    def _predict_batch(self, x):
        out = self.predict_step(_as_data(x, None, None))
        return _map(lambda t: backend.to_numpy(t.data) if isinstance(t, Tensor) else np.asarray(t),
                    out)

    def _format(self, logs, return_dict):
        """``evaluate``'s and ``train_on_batch``'s return: the logs, or their values with the
        loss first, then the compiled metrics, then anything else a custom step returned."""
        if return_dict:
            return logs
        order = [k for k in self.metrics_names if k in logs]
        values = [logs[k] for k in order] + [v for k, v in logs.items() if k not in order]
        return values[0] if len(values) == 1 else values


def _check_names(loss, metrics, weighted_metrics):
    """Resolve the loss and metric strings once, so that an unknown name is reported by
    ``compile`` with the list of valid names."""
    for spec in _flatten(loss if isinstance(loss, (list, tuple, dict)) else [loss]):
        if isinstance(spec, str) and spec.lower() not in ("crossentropy", "ce"):
            losses.get(spec)
    for group in (metrics, weighted_metrics):
        for spec in _flatten(group if isinstance(group, (list, tuple, dict)) else [group]):
            if isinstance(spec, str) and spec.lower() not in ("accuracy", "acc"):
                metrics_module.get(spec)


def _validation_tuple(validation_data):
    if isinstance(validation_data, (tuple, list)):
        if len(validation_data) == 2:
            return validation_data[0], validation_data[1], None
        if len(validation_data) == 3:
            return tuple(validation_data)
        raise ValueError("`validation_data` must be a tuple (x_val, y_val) or "
                         f"(x_val, y_val, val_sample_weight); got {len(validation_data)} items.")
    return validation_data, None, None
