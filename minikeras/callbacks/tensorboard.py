"""``keras.callbacks.TensorBoard``: the training curves written as TensorBoard event files.

``tensorboard --logdir LOG_DIR`` (``pip install tensorboard``) then draws them. As Keras does,
the callback writes two runs, ``LOG_DIR/train`` and ``LOG_DIR/validation``: per epoch the
scalars ``epoch_<metric>`` (the logs of ``fit``, ``val_`` taken off for the validation run)
at step = the epoch, and ``epoch_learning_rate``; with ``update_freq="batch"`` or a number N,
``batch_<metric>`` every N batches at step = the batch count; after an ``evaluate`` inside
``fit``, ``evaluation_<metric>_vs_iterations`` at step = the optimizer's iterations.

An event file is a sequence of records, each a serialized ``Event`` protocol-buffer message
framed as

    length (8 bytes, little-endian) | masked CRC-32C of the length (4 bytes)
    data (length bytes)             | masked CRC-32C of the data (4 bytes)

The first event holds ``file_version = "brain.Event:2"``; each later one holds its
``wall_time``, ``step`` and a ``Summary`` with one ``Value`` (``tag``, ``simple_value``).
The few protocol-buffer fields needed are written by hand below (field number and wire type
in one "key" varint, then the value), and so is CRC-32C. Only scalars are written: weight
histograms, images, graphs, embeddings and the profiler are not (a warning says so when they
are asked for). A record is flushed when it is written, so a run killed mid-way keeps the
curves it has.
"""
import os
import socket
import struct
import time
import warnings

from .base import Callback

# ----------------------------------------------------------------------------- CRC-32C
_CRC32C_POLY = 0x82F63B78          # the Castagnoli polynomial, bit-reflected


def _crc_table():
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _CRC32C_POLY if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc_table()


def crc32c(data):
    """CRC-32C of ``data`` (bytes), one table lookup per byte."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data):
    """The CRC that TFRecord framing stores: rotated right by 15 bits plus a constant."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


# ----------------------------------------------------------------------------- protobuf
def _varint(n):
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _key(field, wire_type):
    return _varint(field << 3 | wire_type)


def _bytes_field(field, payload):                # wire type 2: length-delimited
    return _key(field, 2) + _varint(len(payload)) + payload


def event(wall_time, step=None, file_version=None, tag=None, value=None):
    """An ``Event`` message: wall_time (field 1, double), step (2, int64), file_version (3,
    string), summary (5: a Summary whose value (1) has tag (1) and simple_value (2, float))."""
    out = _key(1, 1) + struct.pack("<d", wall_time)
    if step is not None:
        out += _key(2, 0) + _varint(int(step) & 0xFFFFFFFFFFFFFFFF)
    if file_version is not None:
        out += _bytes_field(3, file_version.encode())
    if tag is not None:
        summary_value = _bytes_field(1, tag.encode()) + _key(2, 5) + struct.pack("<f", value)
        out += _bytes_field(5, _bytes_field(1, summary_value))
    return out


def record(data):
    """One framed record of ``data``."""
    length = struct.pack("<Q", len(data))
    return (length + struct.pack("<I", masked_crc32c(length)) + data
            + struct.pack("<I", masked_crc32c(data)))


class EventFileWriter:
    """Scalars into a new event file in ``folder`` (created when missing)."""

    _count = 0

    def __init__(self, folder):
        os.makedirs(folder, exist_ok=True)
        EventFileWriter._count += 1
        name = (f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
                f"{os.getpid()}.{EventFileWriter._count}.v2")
        self.path = os.path.join(folder, name)
        self._file = open(self.path, "wb")
        self._write(event(time.time(), file_version="brain.Event:2"))

    def _write(self, data):
        self._file.write(record(data))
        self._file.flush()

    def scalar(self, tag, value, step):
        self._write(event(time.time(), step=step, tag=tag, value=float(value)))

    def close(self):
        if not self._file.closed:
            self._file.close()


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
            self._writers[run] = EventFileWriter(os.path.join(self.log_dir, run))
        return self._writers[run]

    def _write_logs(self, run, prefix, logs, step, suffix=""):
        for name, value in (logs or {}).items():
            try:
                value = float(value)
            except (TypeError, ValueError):
                continue
            self._writer(run).scalar(f"{prefix}{name}{suffix}", value, step)

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

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        step = int(getattr(optimizer, "iterations", 0) or 0) if optimizer is not None else 0
        self._write_logs("validation", "evaluation_", logs, step, suffix="_vs_iterations")

    def on_train_end(self, logs=None):
        self.close()

    def close(self):
        """Close the event files (``fit`` does it at its end)."""
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
