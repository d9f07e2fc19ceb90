"""BackupAndRestore: an interrupted fit, started again, resumes at the epoch it reached with
the weights and optimizer state it had, and ends where an uninterrupted run ends."""
import json
import os

import numpy as np
import pytest

import minikeras as keras
from minikeras import layers


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 4)).astype("float32")
    y = (x[:, 0] - x[:, 1] > 0).astype("int32")
    return x, y


def _model():
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((4,)), layers.Dense(6, activation="tanh"),
                              layers.Dense(2)])
    model.compile(keras.optimizers.Adam(0.05),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


class _Crash(keras.callbacks.Callback):
    """Stands for a killed process: raises at the end of the given epoch."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def test_an_interrupted_fit_resumes_where_it_stopped(tmp_path):
    x, y = _data()
    backup = str(tmp_path / "backup")
    reference = _model().fit(x, y, batch_size=16, epochs=6, shuffle=False, verbose=0)

    model = _model()
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=16, epochs=6, shuffle=False, verbose=0,
                  callbacks=[keras.callbacks.BackupAndRestore(backup), _Crash(2)])
    with open(os.path.join(backup, "training_metadata.json")) as f:
        assert json.load(f)["epoch"] == 3                    # epochs 0, 1, 2 were done

    again = _model()                                          # a fresh process, same code
    history = again.fit(x, y, batch_size=16, epochs=6, shuffle=False, verbose=0,
                        callbacks=[keras.callbacks.BackupAndRestore(backup)])
    assert len(history.history["loss"]) == 3                  # epochs 3, 4, 5 only
    np.testing.assert_allclose(history.history["loss"], reference.history["loss"][3:],
                               rtol=1e-5)
    assert not os.path.exists(backup)                         # deleted after a normal end


@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")  # fresh model
def test_backup_every_n_batches_and_kept_checkpoint(tmp_path):
    x, y = _data()
    backup = str(tmp_path / "b")
    model = _model()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0,
              callbacks=[keras.callbacks.BackupAndRestore(backup, save_freq=2,
                                                          delete_checkpoint=False)])
    assert os.path.exists(os.path.join(backup, "latest.weights.h5"))
    other = _model()
    other.load_weights(os.path.join(backup, "latest.weights.h5"))
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_backup_and_restore_arguments():
    with pytest.raises(ValueError, match="Empty `backup_dir`"):
        keras.callbacks.BackupAndRestore("")
    with pytest.raises(ValueError, match="Invalid value for argument `save_freq`"):
        keras.callbacks.BackupAndRestore("b", save_freq="batch")
