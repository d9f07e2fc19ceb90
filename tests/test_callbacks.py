"""Callbacks: the package layout, LearningRateScheduler, ReduceLROnPlateau, CSVLogger,
ModelCheckpoint, and the monitor logic they share with EarlyStopping."""
import csv
import os
import types
import warnings
from pathlib import Path

import numpy as np
import pytest

import minikeras as keras
from minikeras import callbacks, layers


def blobs(n=60, features=4, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, size=(classes, features))
    y = rng.integers(0, classes, size=n)
    x = centers[y] + rng.normal(0, 0.5, size=(n, features))
    return x.astype("float32"), y.astype("int32")


def classifier(lr=0.1, model_class=None):
    model = (model_class or keras.Sequential)([keras.Input((4,)), layers.Dense(3)])
    model.compile(keras.optimizers.SGD(lr),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def fake_model(lr=0.1):
    """Just what the monitor callbacks touch: an optimizer and (no) compiled metrics."""
    return types.SimpleNamespace(optimizer=keras.optimizers.SGD(lr), _metrics=[],
                                 stop_training=False)


def f32(value):
    return float(np.float32(value))


# ------------------------------------------------------------------ the package
def test_every_callback_is_importable_from_the_package_and_the_module_attribute():
    from minikeras.callbacks import (  # noqa: F401
        Callback,
        CallbackList,
        CSVLogger,
        EarlyStopping,
        History,
        LambdaCallback,
        LearningRateScheduler,
        ModelCheckpoint,
        ProgbarLogger,
        ReduceLROnPlateau,
        TerminateOnNaN,
    )
    for name in callbacks.__all__:
        assert getattr(keras.callbacks, name) is getattr(callbacks, name)
        assert issubclass(getattr(callbacks, name), callbacks.Callback)


# ------------------------------------------------------------------ LearningRateScheduler
def test_learning_rate_scheduler_sets_the_rate_each_epoch_and_logs_it():
    x, y = blobs()
    model = classifier(lr=0.1)
    seen = []
    schedule = callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch else lr)
    spy = callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: seen.append(float(model.optimizer.learning_rate)))
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[schedule, spy])
    assert seen == [f32(0.1), f32(f32(0.1) * 0.5), f32(f32(f32(0.1) * 0.5) * 0.5)]
    assert history.history["learning_rate"] == seen  # the rate each epoch trained with
    assert isinstance(history.history["learning_rate"][0], float)


def test_learning_rate_scheduler_accepts_a_function_of_the_epoch_alone():
    x, y = blobs(n=20)
    model = classifier()
    model.fit(x, y, epochs=2, verbose=0,
              callbacks=[callbacks.LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))])
    assert float(model.optimizer.learning_rate) == f32(0.02)


def test_learning_rate_scheduler_verbose_message(capsys):
    sched = callbacks.LearningRateScheduler(lambda epoch, lr: 0.25, verbose=1)
    sched.set_model(fake_model())
    sched.on_epoch_begin(2)
    assert capsys.readouterr().out == ("\nEpoch 3: LearningRateScheduler setting learning "
                                       "rate to 0.25.\n")


def test_learning_rate_scheduler_rejects_a_non_float_and_a_schedule_optimizer():
    sched = callbacks.LearningRateScheduler(lambda epoch, lr: 1)
    sched.set_model(fake_model())
    with pytest.raises(ValueError, match="should be a float. Got: 1"):
        sched.on_epoch_begin(0)
    decay = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    model = types.SimpleNamespace(optimizer=keras.optimizers.SGD(decay))
    sched = callbacks.LearningRateScheduler(lambda epoch, lr: 0.5)
    sched.set_model(model)
    with pytest.raises(TypeError, match="not settable"):
        sched.on_epoch_begin(0)
    sched.set_model(types.SimpleNamespace(optimizer=None))
    with pytest.raises(ValueError, match='must have a "learning_rate" attribute'):
        sched.on_epoch_begin(0)


# ------------------------------------------------------------------ ReduceLROnPlateau
def run_plateau(callback, values, model=None, monitor="val_loss"):
    """Feed one monitored value per epoch; return the learning rate after each epoch."""
    model = model or fake_model()
    callback.set_model(model)
    callback.on_train_begin()
    rates = []
    for epoch, value in enumerate(values):
        logs = {monitor: value}
        callback.on_epoch_end(epoch, logs)
        assert logs["learning_rate"] == rates[-1] if rates else f32(0.1)
        rates.append(float(model.optimizer.learning_rate))
    return rates


def test_reduce_lr_on_plateau_reduces_after_patience_bad_epochs():
    rates = run_plateau(callbacks.ReduceLROnPlateau(factor=0.5, patience=2),
                        [1.0, 0.9, 0.95, 0.95, 0.8, 0.9, 0.9])
    a, b = f32(0.1), f32(f32(0.1) * 0.5)
    # epochs 2 and 3 do not improve on 0.9: reduce at epoch 3; 4 improves; 5, 6 bad: reduce
    assert rates == [a, a, a, b, b, b, f32(b * 0.5)]


def test_reduce_lr_on_plateau_min_delta_cooldown_and_min_lr():
    # improvements smaller than min_delta do not count
    rates = run_plateau(callbacks.ReduceLROnPlateau(factor=0.5, patience=1, min_delta=0.1),
                        [1.0, 0.95, 0.85])
    assert rates == [f32(0.1), f32(0.05), f32(0.05)]
    # cooldown=2 (Keras's counting): the counter drops at the start of each epoch, so the
    # epoch after a reduction is skipped and the next one counts again
    rates = run_plateau(callbacks.ReduceLROnPlateau(factor=0.5, patience=1, cooldown=2),
                        [1.0] * 6)
    lr = [f32(0.1)]
    for _ in range(3):
        lr.append(f32(lr[-1] * 0.5))
    assert rates == [lr[0], lr[1], lr[1], lr[2], lr[2], lr[3]]
    # min_lr bounds the rate, and no further reduction happens once it is reached
    rates = run_plateau(callbacks.ReduceLROnPlateau(factor=0.1, patience=1, min_lr=0.05),
                        [1.0] * 4)
    assert rates == [f32(0.1), f32(0.05), f32(0.05), f32(0.05)]


def test_reduce_lr_on_plateau_max_mode_and_auto_from_compiled_accuracy():
    rates = run_plateau(callbacks.ReduceLROnPlateau(monitor="acc", mode="max", factor=0.5,
                                                    patience=1), [0.5, 0.6, 0.55],
                        monitor="acc")
    assert rates == [f32(0.1), f32(0.1), f32(0.05)]
    x, y = blobs()
    model = classifier(lr=0.5)
    plateau = callbacks.ReduceLROnPlateau(monitor="val_accuracy", patience=100)
    model.fit(x, y, epochs=1, verbose=0, validation_split=0.25, callbacks=[plateau])
    assert plateau.monitor_op is np.greater  # accuracy improves upwards


def test_reduce_lr_on_plateau_verbose_message(capsys):
    run_plateau(callbacks.ReduceLROnPlateau(factor=0.5, patience=1, verbose=1), [1.0, 1.0])
    assert capsys.readouterr().out == ("\nEpoch 2: ReduceLROnPlateau reducing learning rate "
                                       f"to {f32(0.1) * 0.5}.\n")


def test_reduce_lr_on_plateau_errors_and_warnings():
    with pytest.raises(ValueError, match="does not support a factor >= 1.0. Received factor=1"):
        callbacks.ReduceLROnPlateau(factor=1.0)
    with pytest.warns(UserWarning, match="mode 'up' is unknown, fallback to auto mode"):
        plateau = callbacks.ReduceLROnPlateau(mode="up")
    assert plateau.mode == "auto"
    plateau = callbacks.ReduceLROnPlateau(monitor="val_kappa")
    plateau.set_model(fake_model())
    with pytest.raises(ValueError, match="monitor=val_kappa.*mode='max'"):
        plateau.on_epoch_end(0, {"val_kappa": 0.3})
    plateau = callbacks.ReduceLROnPlateau()
    plateau.set_model(fake_model())
    logs = {"loss": 1.0}
    with pytest.warns(UserWarning, match="`val_loss` which is not available. Available "
                                         "metrics are: loss,learning_rate."):
        plateau.on_epoch_end(0, logs)
    assert logs["learning_rate"] == f32(0.1)


def test_reduce_lr_on_plateau_in_fit():
    x, y = blobs()
    model = classifier(lr=0.1)
    # min_delta so large that nothing counts as an improvement after the first epoch
    plateau = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=100)
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[plateau])
    lr = history.history["learning_rate"]
    assert lr == [f32(0.1), f32(0.1), f32(0.05)]  # logged before the reduction of the epoch
    assert float(model.optimizer.learning_rate) == f32(0.025)


# ------------------------------------------------------------------ CSVLogger
def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_csv_logger_writes_epoch_then_sorted_keys(tmp_path):
    x, y = blobs()
    path = tmp_path / "log.csv"
    model = classifier()
    history = model.fit(x, y, epochs=3, verbose=0, validation_split=0.25,
                        callbacks=[callbacks.CSVLogger(path)])
    raw = path.read_bytes()
    assert raw.startswith(b"epoch,accuracy,loss,val_accuracy,val_loss\r\n")
    rows = read_rows(path)
    assert len(rows) == 4
    for epoch, row in enumerate(rows[1:]):
        assert row[0] == str(epoch)
        assert [float(v) for v in row[1:]] == [history.history[k][epoch] for k in rows[0][1:]]


def test_csv_logger_without_validation_adds_val_columns_with_na(tmp_path):
    x, y = blobs(n=20)
    path = tmp_path / "log.csv"
    classifier().fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.CSVLogger(str(path))])
    header, row = read_rows(path)
    assert header == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert row[3:] == ["NA", "NA"]


def test_csv_logger_separator_append_and_flush_per_row(tmp_path):
    x, y = blobs(n=20)
    path = tmp_path / "log.csv"
    model = classifier()
    seen = []
    logger = callbacks.CSVLogger(path, separator=";", append=True)
    spy = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(path.read_text().count("\n")))
    model.fit(x, y, epochs=2, verbose=0, callbacks=[logger, spy])
    assert seen == [2, 3]  # each row is on disk before the next callback runs
    model.fit(x, y, epochs=1, verbose=0, callbacks=[logger])
    rows = path.read_text().splitlines()
    assert len(rows) == 4 and rows[0].startswith("epoch;accuracy;loss")
    assert [r.split(";")[0] for r in rows[1:]] == ["0", "1", "0"]  # no second header
    assert logger.csv_file.closed
    callbacks.CSVLogger(path).on_train_begin()  # append=False starts the file again
    assert path.read_text() == ""


def test_csv_logger_sees_learning_rate_from_callbacks_before_it_and_formats_lists(tmp_path):
    path = tmp_path / "log.csv"
    model = fake_model()
    sched = callbacks.LearningRateScheduler(lambda epoch, lr: 0.5)
    logger = callbacks.CSVLogger(path)
    cbs = callbacks.CallbackList([sched, logger], model=model)
    cbs.on_train_begin()
    cbs.on_epoch_begin(0)
    cbs.on_epoch_end(0, {"loss": 1.5, "val_loss": 2.0, "per_class": [1, 2]})
    cbs.on_train_end()
    assert read_rows(path) == [["epoch", "learning_rate", "loss", "per_class", "val_loss"],
                               ["0", "0.5", "1.5", '"[1, 2]"', "2.0"]]


# ------------------------------------------------------------------ ModelCheckpoint
class SavingModel(keras.Sequential):
    """A model with stand-in ``save``/``save_weights``: each writes a small file, atomically
    (beside the target, then ``os.replace``), and records the call."""

    def _write(self, filepath, kind):
        self.saved = getattr(self, "saved", []) + [(kind, filepath)]
        tmp = f"{filepath}.tmp"
        with open(tmp, "w") as f:
            f.write(f"{kind}:{self.get_weights()[0].sum():.6f}")
        os.replace(tmp, filepath)

    def save(self, filepath, overwrite=True):
        self._write(filepath, "model")

    def save_weights(self, filepath, overwrite=True):
        self._write(filepath, "weights")


class NoSaveModel(keras.Sequential):
    save = None
    save_weights = None


def checkpoint_run(callback, values, monitor="val_loss", tmp_path=None):
    """Feed one value per epoch to a checkpoint on a SavingModel; return the saved paths."""
    model = classifier(model_class=SavingModel)
    callback.set_model(model)
    callback.on_train_begin()
    for epoch, value in enumerate(values):
        callback.on_epoch_begin(epoch)
        callback.on_epoch_end(epoch, {monitor: value, "loss": 1.0})
    return [path for _, path in getattr(model, "saved", [])]


def test_model_checkpoint_filepath_suffix_errors():
    with pytest.raises(ValueError, match=r"When using `save_weights_only=True` in "
                       r"`ModelCheckpoint`, the filepath provided must end in `\.weights\.h5` "
                       r"\(Keras weights format\)\. Received: filepath=w\.h5"):
        callbacks.ModelCheckpoint("w.h5", save_weights_only=True)
    with pytest.raises(ValueError, match=r"The filepath provided must end in `\.keras` \(Keras "
                       r"model format\)\. Received: filepath=model\.hdf5"):
        callbacks.ModelCheckpoint("model.hdf5")
    with pytest.raises(ValueError, match="Unrecognized save_freq: batch. Expected save_freq "
                       "are 'epoch' or integer values"):
        callbacks.ModelCheckpoint("m.keras", save_freq="batch")
    callbacks.ModelCheckpoint("m.keras")
    callbacks.ModelCheckpoint("legacy.h5")  # Keras accepts the legacy suffix for models
    callbacks.ModelCheckpoint("m.weights.h5", save_weights_only=True)


def test_model_checkpoint_saves_each_epoch_with_a_formatted_name(tmp_path):
    x, y = blobs()
    model = classifier(model_class=SavingModel)
    pattern = str(tmp_path / "ckpt" / "weights.{epoch:02d}-{val_loss:.2f}.weights.h5")
    history = model.fit(x, y, epochs=2, verbose=0, validation_split=0.25,
                        callbacks=[callbacks.ModelCheckpoint(pattern, save_weights_only=True)])
    expected = [str(tmp_path / "ckpt" / f"weights.{e + 1:02d}-{v:.2f}.weights.h5")
                for e, v in enumerate(history.history["val_loss"])]
    assert [p for _, p in model.saved] == expected
    assert [k for k, _ in model.saved] == ["weights", "weights"]
    assert all(Path(p).read_text().startswith("weights:") for p in expected)
    assert sorted(os.listdir(tmp_path / "ckpt")) == sorted(os.path.basename(p) for p in expected)


def test_model_checkpoint_full_model_uses_save(tmp_path):
    x, y = blobs(n=20)
    model = classifier(model_class=SavingModel)
    path = str(tmp_path / "model.keras")
    model.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.ModelCheckpoint(path)])
    assert model.saved == [("model", path), ("model", path)]
    assert Path(path).read_text().startswith("model:")


def test_model_checkpoint_save_best_only_min_and_messages(tmp_path, capsys):
    path = str(tmp_path / "best.{epoch}.keras")
    cp = callbacks.ModelCheckpoint(path, save_best_only=True, verbose=1)
    saved = checkpoint_run(cp, [1.0, 0.5, 0.7, 0.4])
    assert saved == [str(tmp_path / f"best.{e}.keras") for e in (1, 2, 4)]
    out = capsys.readouterr().out
    p = str(tmp_path / "best.{}.keras")
    assert out == (f"\nEpoch 1: val_loss improved from None to 1.00000, saving model to "
                   f"{p.format(1)}\n"
                   f"\nEpoch 1: finished saving model to {p.format(1)}\n"
                   f"\nEpoch 2: val_loss improved from 1.00000 to 0.50000, saving model to "
                   f"{p.format(2)}\n"
                   f"\nEpoch 2: finished saving model to {p.format(2)}\n"
                   f"\nEpoch 3: val_loss did not improve from 0.50000\n"
                   f"\nEpoch 4: val_loss improved from 0.50000 to 0.40000, saving model to "
                   f"{p.format(4)}\n"
                   f"\nEpoch 4: finished saving model to {p.format(4)}\n")


def test_model_checkpoint_mode_max_auto_and_initial_value_threshold(tmp_path):
    path = str(tmp_path / "m{epoch}.keras")
    saved = checkpoint_run(callbacks.ModelCheckpoint(path, monitor="score", mode="max",
                                                     save_best_only=True),
                           [0.2, 0.1, 0.3], monitor="score")
    assert [os.path.basename(p) for p in saved] == ["m1.keras", "m3.keras"]
    saved = checkpoint_run(callbacks.ModelCheckpoint(path, save_best_only=True,
                                                     initial_value_threshold=0.5),
                           [0.9, 0.6, 0.4, 0.45])
    assert [os.path.basename(p) for p in saved] == ["m3.keras"]
    # auto mode finds the direction of a compiled metric: accuracy is maximized
    x, y = blobs()
    model = classifier(model_class=SavingModel)
    cp = callbacks.ModelCheckpoint(path, monitor="val_accuracy", save_best_only=True)
    model.fit(x, y, epochs=1, verbose=0, validation_split=0.25, callbacks=[cp])
    assert cp.monitor_op is np.greater
    cp = callbacks.ModelCheckpoint(path, monitor="val_kappa", save_best_only=True)
    with pytest.raises(ValueError, match="ModelCheckpoint callback received monitor=val_kappa"):
        checkpoint_run(cp, [0.1, 0.2], monitor="val_kappa")


def test_model_checkpoint_missing_monitor_warns_and_saves(tmp_path):
    cp = callbacks.ModelCheckpoint(str(tmp_path / "m.keras"), monitor="val_auc",
                                   save_best_only=True, mode="max")
    with pytest.warns(UserWarning, match="Can save best model only with val_auc available."):
        saved = checkpoint_run(cp, [0.1], monitor="val_loss")
    assert len(saved) == 1


def test_model_checkpoint_every_n_batches(tmp_path):
    x, y = blobs(n=40)  # 5 batches of 8 per epoch
    model = classifier(model_class=SavingModel)
    path = str(tmp_path / "e{epoch}-b{batch}.weights.h5")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0,
              callbacks=[callbacks.ModelCheckpoint(path, save_weights_only=True, save_freq=2)])
    names = [os.path.basename(p) for _, p in model.saved]
    # batches counted across the epoch boundary: 2, 4, (5 + 1), (1 + 2)...
    assert names == ["e1-b2.weights.h5", "e1-b4.weights.h5", "e2-b1.weights.h5",
                     "e2-b3.weights.h5", "e2-b5.weights.h5"]


def test_model_checkpoint_without_save_methods_fails_before_training(tmp_path):
    x, y = blobs(n=20)
    for kwargs, name in (({}, "save"), ({"save_weights_only": True}, "save_weights")):
        model = classifier(model_class=NoSaveModel)
        before = [w.copy() for w in model.get_weights()]
        suffix = ".weights.h5" if kwargs else ".keras"
        cp = callbacks.ModelCheckpoint(str(tmp_path / f"m{suffix}"), **kwargs)
        with pytest.raises(NotImplementedError, match=rf"`model\.{name}\(filepath\)`.*"
                           rf"NoSaveModel has no `{name}` method"):
            model.fit(x, y, epochs=1, verbose=0, callbacks=[cp])
        assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert os.listdir(tmp_path) == []


def test_model_checkpoint_bad_format_key_and_directory_path(tmp_path):
    cp = callbacks.ModelCheckpoint(str(tmp_path / "{val_acc:.2f}.keras"))
    with pytest.raises(KeyError) as error:
        checkpoint_run(cp, [1.0])
    assert error.value.args[0] == (f'Failed to format this callback filepath: "{cp.filepath}". '
                                   "Reason: 'val_acc'")
    (tmp_path / "taken.keras").mkdir()
    cp = callbacks.ModelCheckpoint(str(tmp_path / "taken.keras"))
    with pytest.raises(IsADirectoryError, match="Please specify a non-directory filepath"):
        checkpoint_run(cp, [1.0])


# ------------------------------------------------------------------ EarlyStopping (shared monitor)
def test_early_stopping_unknown_mode_warns_and_unknown_direction_raises():
    with pytest.warns(UserWarning, match="EarlyStopping mode 'bigger' is unknown"):
        stop = callbacks.EarlyStopping(mode="bigger")
    assert stop.mode == "auto"
    stop = callbacks.EarlyStopping(monitor="kappa")
    stop.set_model(fake_model())
    stop.on_train_begin()
    with pytest.raises(ValueError, match="EarlyStopping callback received monitor=kappa"):
        stop.on_epoch_end(0, {"kappa": 1.0})


def test_early_stopping_baseline_and_min_delta():
    stop = callbacks.EarlyStopping(monitor="loss", patience=2, baseline=0.5)
    model = fake_model()
    stop.set_model(model)
    stop.on_train_begin()
    # epochs 0 and 1 improve but do not beat the baseline: `wait` is not reset, so the first
    # epoch without improvement (2) already exceeds the patience
    for epoch, value in enumerate([0.9, 0.8, 0.85]):
        stop.on_epoch_end(epoch, {"loss": value})
        assert model.stop_training == (epoch == 2)
    assert stop.stopped_epoch == 2 and stop.wait == 3
    stop = callbacks.EarlyStopping(monitor="loss", patience=1, min_delta=0.5)
    model = fake_model()
    stop.set_model(model)
    stop.on_train_begin()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stop.on_epoch_end(0, {"loss": 1.0})
        stop.on_epoch_end(1, {"loss": 0.9})  # better by less than min_delta: not counted
    assert model.stop_training and stop.best == 1.0


# ------------------------------------------------------------------ CallbackList
def test_callback_list_passes_logs_to_every_hook():
    x, y = blobs(n=16)
    calls = []
    spy = callbacks.LambdaCallback(
        on_train_begin=lambda logs: calls.append(("train_begin", logs)),
        on_epoch_begin=lambda epoch, logs: calls.append(("epoch_begin", logs)),
        on_train_batch_begin=lambda batch, logs: calls.append(("batch_begin", logs)),
        on_predict_begin=lambda logs: calls.append(("predict_begin", logs)),
        on_predict_batch_end=lambda batch, logs: calls.append(("predict_batch_end", logs)))
    model = classifier()
    model.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[spy])
    model.predict(x, verbose=0, callbacks=[spy])
    assert [name for name, _ in calls] == ["train_begin", "epoch_begin", "batch_begin",
                                           "predict_begin", "predict_batch_end"]
    assert all(logs == {} for _, logs in calls)


def test_learning_rate_appears_on_the_progress_bar(capsys):
    x, y = blobs(n=16)
    classifier(lr=0.1).fit(x, y, epochs=1, verbose=1, callbacks=[
        callbacks.LearningRateScheduler(lambda epoch, lr: lr)])
    assert " - learning_rate: 0.1000" in capsys.readouterr().out
