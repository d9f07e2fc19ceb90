"""``ProgbarLogger``: the Keras progress bar during ``fit``, ``evaluate`` and ``predict``
(the bar itself is :class:`minikeras.utils.Progbar`)."""
import sys

from .progbar import Progbar
from .base import Callback


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
