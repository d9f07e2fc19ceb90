"""``BackupAndRestore``: resume an interrupted ``fit`` where it stopped.

At the end of every epoch (or every N batches) the callback writes the model's weights and
its optimizer's state (``model.save_weights``: Keras's ``.weights.h5``) and a small
``training_metadata.json`` (the epoch reached) into ``backup_dir``, each atomically. When
``fit`` starts and a backup is there, it loads the weights and optimizer state back and
``fit`` starts at the saved epoch instead of its ``initial_epoch``: a run killed at epoch 7
of 10 and started again with the same call trains epochs 8 to 10. A ``fit`` that ends
normally deletes the backup (``delete_checkpoint=True``).
"""
import json
import os
import shutil

from ..saving.files import atomic_write_bytes
from .base import Callback


class BackupAndRestore(Callback):
    """``BackupAndRestore(backup_dir, save_freq="epoch", delete_checkpoint=True)``.

    * ``backup_dir``: a folder for this training run only (it is deleted at the end);
    * ``save_freq``: ``"epoch"``, or an integer N to back up every N batches as well;
    * ``delete_checkpoint``: delete the folder when ``fit`` finishes.
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and not (isinstance(save_freq, int) and save_freq > 0):
            raise ValueError("Invalid value for argument `save_freq`. Received: "
                             f"save_freq={save_freq}. Expected either 'epoch' or an integer "
                             "value.")
        if double_checkpoint:
            raise NotImplementedError("BackupAndRestore(double_checkpoint=True) is not "
                                      "available in minikeras; the backup is written "
                                      "atomically, so the previous one survives a crash "
                                      "during a save.")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = delete_checkpoint
        self._weights_path = os.path.join(self.backup_dir, "latest.weights.h5")
        self._metadata_path = os.path.join(self.backup_dir, "training_metadata.json")
        self._epoch = 0
        self._batches_seen = 0

    def on_train_begin(self, logs=None):
        if not self.model.built:
            raise ValueError("To use the BackupAndRestore callback, your model must be built "
                             "before you call `fit()`. Build it by calling it on data or by "
                             "giving it an Input, e.g. keras.Input(shape=...).")
        if os.path.exists(self._weights_path):
            self.model.load_weights(self._weights_path)
        if os.path.exists(self._metadata_path):
            with open(self._metadata_path, encoding="utf-8") as f:
                metadata = json.load(f)
            self._epoch = int(metadata["epoch"])
            self.model._initial_epoch = self._epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq != "epoch":
            self._batches_seen += 1
            if self._batches_seen % self.save_freq == 0:
                self._backup(batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        self._epoch = epoch + 1
        self._backup(0)

    def _backup(self, batch):
        os.makedirs(self.backup_dir, exist_ok=True)
        self.model.save_weights(self._weights_path, overwrite=True)
        metadata = json.dumps({"epoch": self._epoch, "batch": batch})
        atomic_write_bytes(self._metadata_path, metadata.encode("utf-8"))

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.isdir(self.backup_dir):
            shutil.rmtree(self.backup_dir)
