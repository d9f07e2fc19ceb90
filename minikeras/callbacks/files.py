"""Callbacks that write files: ``CSVLogger`` (one row of logs per epoch) and
``ModelCheckpoint`` (the model or its weights, every epoch or every N batches)."""
import collections.abc
import csv
import os
import warnings

import numpy as np

from .base import Callback
from .monitor import MonitorCallback


class CSVLogger(Callback):
    """Write the logs of each epoch as one row of a CSV file.

    ``CSVLogger(filename, separator=",", append=False)``. The columns are ``epoch`` (counted
    from 0) then the log names in sorted order, fixed at the first epoch; when that epoch has
    no ``val_`` entry, a ``val_<name>`` column is added for each name (Keras does this so
    that ``validation_freq > 1`` still has room for them), filled with ``NA`` while absent.
    Lines end with ``\\r\\n`` (the csv module's ``excel`` dialect). Each row is flushed to
    disk as soon as it is written; ``append=True`` continues an existing file (without a
    second header).
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None):
        if self.append and os.path.exists(self.filename):
            with open(self.filename, newline="") as f:
                self.append_header = not f.readline()
        self._close()
        self.csv_file = open(self.filename, "a" if self.append else "w", newline="")
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys += ["val_" + k for k in self.keys]
        if self.writer is None:
            dialect = type("CSVLoggerDialect", (csv.excel,), {"delimiter": self.sep})
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys,
                                         dialect=dialect)
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((k, _csv_value(logs.get(k, "NA"))) for k in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        self._close()
        self.writer = None

    def _close(self):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()


def _csv_value(value):
    """A log value as a cell: numbers as they are, a list or array as ``"[a, b]"``."""
    if isinstance(value, str):
        return value
    if isinstance(value, collections.abc.Iterable) and np.ndim(value) > 0:
        return f'"[{", ".join(map(str, value))}]"'
    return value


class ModelCheckpoint(MonitorCallback):
    """Save the model (``model.save``) or its weights (``model.save_weights``) during training.

    ``ModelCheckpoint(filepath, monitor="val_loss", verbose=0, save_best_only=False,
    save_weights_only=False, mode="auto", save_freq="epoch", initial_value_threshold=None)``

    * ``filepath`` is formatted with ``epoch`` (from 1), ``batch`` (from 1, when saving every
      N batches) and the logs: ``"weights.{epoch:02d}-{val_loss:.2f}.weights.h5"``. It must
      end in ``.weights.h5`` with ``save_weights_only=True``, else in ``.keras`` (or the
      legacy ``.h5``). Missing folders are created.
    * ``save_best_only=True`` saves only when ``monitor`` improves on the best value so far
      (``mode`` and the comparison: see :mod:`.monitor`); ``initial_value_threshold`` is the
      value to beat at first.
    * ``save_freq="epoch"`` saves at each epoch end; an integer N saves every N batches.

    The files themselves are written by the model's ``save``/``save_weights``
    (:mod:`minikeras.saving`: Keras 3's formats, written beside the target and renamed over
    it, so an interrupted save leaves the previous checkpoint whole). A model without them
    makes ``fit`` fail at its start with a ``NotImplementedError``, and so does the legacy
    ``.h5`` model format, which minikeras does not write (a ValueError).
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__(monitor, mode, baseline=initial_value_threshold)
        self.verbose = verbose
        self.filepath = os.fspath(filepath)
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError(f"Unrecognized save_freq: {save_freq}. Expected save_freq are "
                             "'epoch' or integer values")
        if save_weights_only:
            if not self.filepath.endswith(".weights.h5"):
                raise ValueError("When using `save_weights_only=True` in `ModelCheckpoint`, "
                                 "the filepath provided must end in `.weights.h5` (Keras "
                                 f"weights format). Received: filepath={self.filepath}")
        elif not self.filepath.endswith((".keras", ".h5")):
            raise ValueError("The filepath provided must end in `.keras` (Keras model "
                             f"format). Received: filepath={self.filepath}")

    # ------------------------------------------------------------------ hooks
    def on_train_begin(self, logs=None):
        self._saver()  # fail now, not after the first epoch of training
        if (not self.save_weights_only and self.filepath.endswith(".h5")
                and _saves_with_model_save(self.model)):
            raise ValueError("minikeras saves whole models in the Keras 3 format only: give "
                             "ModelCheckpoint a filepath ending in `.keras` (Received: "
                             f"filepath={self.filepath}), or use save_weights_only=True with "
                             "`.weights.h5`.")

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    # ------------------------------------------------------------------ when and where
    def _should_save_on_batch(self, batch):
        if self.save_freq == "epoch":
            return False
        if batch <= self._last_batch_seen:  # batch numbers restarted: a new epoch
            self._batches_seen_since_last_saving += batch + 1
        else:
            self._batches_seen_since_last_saving += batch - self._last_batch_seen
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _get_file_path(self, epoch, batch, logs):
        logs = logs or {}
        fields = {"epoch": epoch + 1}
        if batch is not None and "batch" not in logs:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields, **logs)
        except KeyError as e:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". '
                           f"Reason: {e}") from None

    def _should_save_model(self, epoch, logs, filepath):
        """Whether to save now, printing Keras's messages when ``verbose``."""
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        if self.monitor_op is None:
            self._set_monitor_op()
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.",
                          stacklevel=3)
            return True
        if np.ndim(current) > 0:
            warnings.warn("Can save best model only when `monitor` is a scalar value. "
                          f"Received: {current}. Falling back to `save_best_only=False`.",
                          stacklevel=3)
            return True
        best = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to "
                      f"{current:.5f}, saving model to {filepath}")
            self.best = current
            return True
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
        return False

    # ------------------------------------------------------------------ saving
    def _saver(self):
        """``model.save_weights`` or ``model.save``, or a NotImplementedError naming it."""
        name = "save_weights" if self.save_weights_only else "save"
        method = getattr(self.model, name, None)
        if not callable(method):
            what = ("weights (`.weights.h5`)" if self.save_weights_only
                    else "whole models (`.keras`)")
            option = "save_weights_only=True" if self.save_weights_only else "the default"
            raise NotImplementedError(
                f"ModelCheckpoint ({option}) saves through `model.{name}(filepath)`, but "
                f"{type(self.model).__name__} has no `{name}` method, so it cannot write "
                f"{what} files.")
        return method

    def _save_model(self, epoch, batch, logs):
        save = self._saver()
        filepath = self._get_file_path(epoch, batch, logs)
        if not self._should_save_model(epoch, logs, filepath):
            return
        if os.path.isdir(filepath):
            raise IsADirectoryError("Please specify a non-directory filepath for "
                                    "ModelCheckpoint. Filepath used is an existing "
                                    f"directory: {filepath}")
        folder = os.path.dirname(filepath)
        if folder:
            os.makedirs(folder, exist_ok=True)
        save(filepath, overwrite=True)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")


def _saves_with_model_save(model):
    """Whether ``model`` keeps minikeras's own ``Model.save`` (which writes `.keras` only)
    rather than a save method of its own."""
    save = getattr(type(model), "save", None)
    return (getattr(save, "__qualname__", None) == "Model.save"
            and save.__module__ == "minikeras.models.model")

