"""Callbacks: code that ``fit``/``evaluate``/``predict`` call at fixed points of the loop.

The loop calls, in order: ``on_train_begin``; per epoch ``on_epoch_begin``, per batch
``on_train_batch_begin``/``on_train_batch_end``, then ``on_epoch_end`` with the epoch's logs
(validation results as ``val_<name>``); ``on_train_end``. ``evaluate`` and ``predict`` have
their own ``on_test_*`` and ``on_predict_*`` hooks. Setting ``model.stop_training = True``
ends ``fit`` after the current epoch.
"""
import math
import sys

import numpy as np

from .utils.progbar import Progbar


class Callback:
    """The base class: every hook does nothing. ``self.model`` and ``self.params`` are set by
    the loop before ``on_train_begin``."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): pass
    def on_train_batch_end(self, batch, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass


class CallbackList(Callback):
    """Calls a hook on each callback in turn."""

    def __init__(self, callbacks=None, model=None, **params):
        super().__init__()
        self.callbacks = list(callbacks or [])
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def append(self, callback):
        self.callbacks.append(callback)

    def set_model(self, model):
        self.model = model
        for c in self.callbacks:
            c.set_model(model)

    def set_params(self, params):
        self.params = params
        for c in self.callbacks:
            c.set_params(params)

    def __getattribute__(self, name):
        if name.startswith("on_"):
            def dispatch(*args, **kwargs):
                for c in object.__getattribute__(self, "callbacks"):
                    getattr(c, name)(*args, **kwargs)
            return dispatch
        return object.__getattribute__(self, name)


class History(Callback):
    """Records the logs of every epoch: ``history.history["loss"]`` is a list, one value per
    epoch. ``fit`` returns it."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)


class ProgbarLogger(Callback):
    """Draws the Keras progress bar: ``Epoch i/N`` (when N > 1), then one bar per epoch."""

    def __init__(self, stream=None):
        super().__init__()
        self.stream = stream
        self.progbar = None

    def _verbose(self):
        return self.params.get("verbose", 1)

    def on_epoch_begin(self, epoch, logs=None):
        if self._verbose() and self.params.get("epochs", 1) > 1:
            (self.stream or sys.stdout).write(f"Epoch {epoch + 1}/{self.params['epochs']}\n")
        self._new_bar(self.params.get("steps"))

    def _new_bar(self, target):
        self.progbar = Progbar(target, verbose=self._verbose(), unit_name="step",
                               stateful_metrics=set(), stream=self.stream)
        self.seen = 0

    def _update(self, current, logs, finalize):
        # The logs already hold running means (the metric objects keep them): show as-is.
        logs = logs or {}
        self.progbar.stateful_metrics.update(logs)
        self.progbar.update(current, list(logs.items()), finalize=finalize)

    def on_train_batch_end(self, batch, logs=None):
        self.seen = batch + 1
        self._update(batch + 1, logs, False)

    def on_epoch_end(self, epoch, logs=None):
        self._update(self.seen, logs, True)

    def on_test_begin(self, logs=None):
        if self.params.get("in_fit"):
            return
        self._new_bar(self.params.get("steps"))

    def on_test_batch_end(self, batch, logs=None):
        if not self.params.get("in_fit"):
            self.seen = batch + 1
            self._update(batch + 1, logs, False)

    def on_test_end(self, logs=None):
        if not self.params.get("in_fit"):
            self._update(self.seen, logs, True)

    def on_predict_begin(self, logs=None):
        self._new_bar(self.params.get("steps"))

    def on_predict_batch_end(self, batch, logs=None):
        self.seen = batch + 1
        self.progbar.update(batch + 1, finalize=False)

    def on_predict_end(self, logs=None):
        self.progbar.update(self.seen, finalize=True)


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has stopped improving for ``patience`` epochs.

    ``EarlyStopping(monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
    baseline=None, restore_best_weights=False, start_from_epoch=0)``.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self.monitor, self.patience, self.verbose = monitor, patience, verbose
        self.baseline, self.restore_best_weights = baseline, restore_best_weights
        self.start_from_epoch = start_from_epoch
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping mode {mode} is unknown, expected one of "
                             "('auto', 'min', 'max')")
        if mode == "auto":
            mode = "max" if ("acc" in monitor or monitor.endswith("auc")
                             or "precision" in monitor or "recall" in monitor) else "min"
        self.mode = mode
        self.min_delta = abs(min_delta) if mode == "max" else -abs(min_delta)

    def _better(self, value, reference):
        if self.mode == "max":
            return value - self.min_delta > reference
        return value - self.min_delta < reference

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            import warnings
            warnings.warn(f"Early stopping conditioned on metric `{self.monitor}` which is not "
                          f"available. Available metrics are: {','.join(logs or {})}",
                          stacklevel=2)
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self._better(value, self.best):
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._better(value, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class TerminateOnNaN(Callback):
    """Stop training as soon as the loss is NaN or infinite."""

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = raise_error

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            if self.raise_error:
                raise RuntimeError(f"NaN or Inf found in loss at batch {batch}: {loss}.")
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback from functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``."""

    def __init__(self, **hooks):
        super().__init__()
        for name, fn in hooks.items():
            if not name.startswith("on_") or not hasattr(Callback, name):
                raise ValueError(f"LambdaCallback: unknown hook {name!r}.")
            setattr(self, name, fn)
