"""``keras.callbacks.TensorBoard``: the training curves written as TensorBoard event files.

``tensorboard --logdir LOG_DIR`` (``pip install tensorboard``) then draws them. As Keras does,
the callback writes two runs, ``LOG_DIR/train`` and ``LOG_DIR/validation``: per epoch the
scalars ``epoch_<metric>`` (the logs of ``fit``, ``val_`` taken off for the validation run)
at step = the epoch, and ``epoch_learning_rate``; with ``update_freq="batch"`` or a number N,
``batch_<metric>`` every N batches at step = the batch count; after an ``evaluate`` inside
``fit``, ``evaluation_<metric>_vs_iterations`` at step = the optimizer's iterations.

An event file is a sequence of records (each a length, the serialized ``Event`` protocol
buffer holding ``wall_time``, ``step`` and a ``Summary`` of tagged values, and CRC-32C
checksums). The files are written by ``tensorboardX`` (``pip install tensorboardX``, a
small, well-kept writer of that format); the callback only decides what to write, and when.
Only scalars are written: weight histograms, images, graphs, embeddings and the profiler are
not (a warning says so when they are asked for). The files are flushed at the end of every
epoch, so a run killed mid-way keeps the curves it has.
"""
import os
import time
import warnings

from .base import Callback


def _summary_writer_class():
    """tensorboardX's SummaryWriter; a clear error when it is not installed."""
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError("keras.callbacks.TensorBoard needs the tensorboardX package to "
                          "write TensorBoard's event files: pip install tensorboardX (and "
                          "pip install tensorboard to view them). Without it, "
                          "keras.callbacks.CSVLogger keeps the curves and "
                          "keras.utils.plot_history draws them.") from None
    return SummaryWriter


# ----------------------------------------------------------------------------- the callback
class TensorBoard(Callback):
    """Write the training curves for TensorBoard (see the module docstring).

    ``log_dir``: the folder of the runs. ``update_freq``: ``"epoch"`` (the default), or
    ``"batch"`` or an int N to also write the batch logs every N batches.
    ``write_steps_per_second``: also write ``epoch_steps_per_second``. The other arguments
    of Keras's TensorBoard are accepted; those that ask for more than scalars warn.
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        self._summary_writer = _summary_writer_class()    # fails now, not after an epoch
        self.log_dir = os.fspath(log_dir)
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and not (isinstance(update_freq, int) and update_freq > 0):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or a positive "
                             f"int (write every N batches); got {update_freq!r}.")
        self.update_freq = update_freq
        self.write_steps_per_second = bool(write_steps_per_second)
        self.histogram_freq, self.write_graph = histogram_freq, write_graph
        self.write_images, self.embeddings_freq = write_images, embeddings_freq
        self.profile_batch, self.embeddings_metadata = profile_batch, embeddings_metadata
        unwritten = [name for name, asked in (
            ("histogram_freq", histogram_freq), ("write_images", write_images),
            ("embeddings_freq", embeddings_freq), ("profile_batch", profile_batch)) if asked]
        if unwritten:
            warnings.warn(f"TensorBoard: minikeras writes the scalars only (losses, metrics, "
                          f"learning rate); {', '.join(unwritten)} write nothing here.",
                          stacklevel=2)
        self._writers = {}
        self._train_batches = 0

    def _writer(self, run):
        if run not in self._writers:
            self._writers[run] = self._summary_writer(logdir=os.path.join(self.log_dir, run))
        return self._writers[run]

    def _write_logs(self, run, prefix, logs, step, suffix=""):
        for name, value in (logs or {}).items():
            try:
                value = float(value)
            except (TypeError, ValueError):
                continue
            self._writer(run).add_scalar(f"{prefix}{name}{suffix}", value, step)

    def on_train_begin(self, logs=None):
        self._train_batches = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start, self._epoch_batches = time.perf_counter(), 0

    def on_train_batch_end(self, batch, logs=None):
        self._train_batches += 1
        self._epoch_batches = getattr(self, "_epoch_batches", 0) + 1
        if self.update_freq != "epoch" and self._train_batches % self.update_freq == 0:
            self._write_logs("train", "batch_", logs, self._train_batches)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        validation = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        if "learning_rate" not in train and optimizer is not None:
            try:
                train["learning_rate"] = float(optimizer.learning_rate)
            except (TypeError, ValueError):
                pass
        if self.write_steps_per_second and getattr(self, "_epoch_start", None):
            seconds = time.perf_counter() - self._epoch_start
            if seconds > 0:
                train["steps_per_second"] = self._epoch_batches / seconds
        self._write_logs("train", "epoch_", train, epoch)
        if validation:
            self._write_logs("validation", "epoch_", validation, epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        step = int(getattr(optimizer, "iterations", 0) or 0) if optimizer is not None else 0
        self._write_logs("validation", "evaluation_", logs, step, suffix="_vs_iterations")
        if "validation" in self._writers:
            self._writers["validation"].flush()

    def on_train_end(self, logs=None):
        self.close()

    def close(self):
        """Close the event files (``fit`` does it at its end)."""
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
