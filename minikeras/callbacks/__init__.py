"""Callbacks: code that ``fit``/``evaluate``/``predict`` call at fixed points of the loop.

The loop calls, in order: ``on_train_begin``; per epoch ``on_epoch_begin``, per batch
``on_train_batch_begin``/``on_train_batch_end``, then ``on_epoch_end`` with the epoch's logs
(validation results as ``val_<name>``); ``on_train_end``. ``evaluate`` and ``predict`` have
their own ``on_test_*`` and ``on_predict_*`` hooks. Setting ``model.stop_training = True``
ends ``fit`` after the current epoch. A callback may add entries to the epoch logs (the
learning-rate callbacks add ``"learning_rate"``); the callbacks after it in the list see them.

* ``base.py``: ``Callback``, ``CallbackList``, ``History``, ``LambdaCallback``;
* ``progress.py``: ``ProgbarLogger``;
* ``monitor.py``: how a watched value "improves" (``mode``, ``min_delta``, ``best``);
* ``training.py``: ``EarlyStopping``, ``TerminateOnNaN``, ``LearningRateScheduler``,
  ``ReduceLROnPlateau``;
* ``files.py``: ``CSVLogger``, ``ModelCheckpoint``;
* ``tensorboard.py``: ``TensorBoard``, the scalars as TensorBoard event files (written by
  the tensorboardX package);
* ``backup.py``: ``BackupAndRestore``.
"""
from .backup import BackupAndRestore
from .base import Callback, CallbackList, History, LambdaCallback
from .files import CSVLogger, ModelCheckpoint
from .progress import ProgbarLogger
from .tensorboard import TensorBoard
from .training import EarlyStopping, LearningRateScheduler, ReduceLROnPlateau, TerminateOnNaN

__all__ = ["Callback", "CallbackList", "History", "LambdaCallback", "ProgbarLogger",
           "EarlyStopping", "TerminateOnNaN", "LearningRateScheduler", "ReduceLROnPlateau",
           "CSVLogger", "ModelCheckpoint", "BackupAndRestore", "TensorBoard"]
