"""``save_weights`` / ``load_weights`` in Keras's HDF5 layout, within minikeras: round
trips on hypothesis-drawn models, the layout itself (read back with h5py, independently of
the reader), ``skip_mismatch``, errors that name the layer and both shapes, all or
nothing, and atomic writes."""
import os

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minikeras as keras
from minikeras import layers
from minikeras.saving import files as saving_files


def mlp(inputs, hidden, outputs=2, batch_norm=False):
    stack = [keras.Input((inputs,)), layers.Dense(hidden, activation="tanh")]
    if batch_norm:
        stack.append(layers.BatchNormalization())
    return keras.Sequential(stack + [layers.Dense(outputs)])


def randomize(model, seed=0):
    rng = np.random.default_rng(seed)
    model.set_weights([rng.uniform(0.2, 1.0, size=w.shape).astype(w.dtype)
                       for w in model.get_weights()])


def weights_of(model):
    return [w.copy() for w in model.get_weights()]


def assert_weights_equal(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


@settings(max_examples=10)
@given(inputs=st.integers(1, 5), hidden=st.integers(1, 5), batch_norm=st.booleans(),
       seed=st.integers(0, 99))
def test_round_trip_restores_every_weight(tmp_path_factory, inputs, hidden, batch_norm, seed):
    path = tmp_path_factory.mktemp("w") / "m.weights.h5"
    source, target = mlp(inputs, hidden, batch_norm=batch_norm), mlp(inputs, hidden,
                                                                     batch_norm=batch_norm)
    randomize(source, seed)
    source.save_weights(path)
    target.load_weights(path)
    assert_weights_equal(target.get_weights(), source.get_weights())
    x = np.random.default_rng(seed).normal(size=(3, inputs)).astype("float32")
    np.testing.assert_array_equal(target.predict(x, verbose=0), source.predict(x, verbose=0))


def test_layout_read_with_h5py(tmp_path):
    model = mlp(3, 4, batch_norm=True)
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((4, 3), "float32"), np.zeros((4, 2), "float32"), epochs=1, verbose=0)
    model.save_weights(tmp_path / "m.weights.h5")
    dense, bn, dense_1 = model.layers
    with h5py.File(tmp_path / "m.weights.h5", "r") as f:
        assert dict(f.attrs) == {}
        assert f["vars"].attrs["name"] == model.name and len(f["vars"]) == 0
        assert sorted(f["layers"]) == ["batch_normalization", "dense", "dense_1"]
        np.testing.assert_array_equal(f["layers/dense/vars/0"][()], dense.kernel.numpy())
        np.testing.assert_array_equal(f["layers/dense/vars/1"][()], dense.bias.numpy())
        bn_vars = f["layers/batch_normalization/vars"]
        assert bn_vars.attrs["name"] == bn.name
        for i, w in enumerate([bn.gamma, bn.beta, bn.moving_mean, bn.moving_variance]):
            np.testing.assert_array_equal(bn_vars[str(i)][()], w.numpy())
        assert f["layers/dense_1/vars/0"].shape == (4, 2)
        opt = f["optimizer/vars"]
        assert opt.attrs["name"] == "adam"
        assert int(opt["0"][()]) == 1  # iterations after one step
        np.testing.assert_allclose(opt["1"][()], 0.001)
        # Adam's slots interleaved per weight: m, v of dense/kernel, then of dense/bias...
        shapes = [opt[str(i)].shape for i in range(2, len(opt))]
        assert shapes == [(3, 4), (3, 4), (4,), (4,), (4,), (4,), (4,), (4,), (4, 2), (4, 2),
                          (2,), (2,)]


def test_shared_layer_is_written_once(tmp_path):
    x = keras.Input((3,))
    shared = layers.Dense(3)
    model = keras.Model(x, shared(shared(x)))
    model.save_weights(tmp_path / "m.weights.h5")
    with h5py.File(tmp_path / "m.weights.h5", "r") as f:
        assert sorted(f["layers"]) == ["dense", "input_layer"]
    other_x = keras.Input((3,))
    other_shared = layers.Dense(3)
    other = keras.Model(other_x, other_shared(other_shared(other_x)))
    other.load_weights(tmp_path / "m.weights.h5")
    assert_weights_equal(other.get_weights(), model.get_weights())


def test_wrong_shapes_name_the_layer_and_both_shapes_and_change_nothing(tmp_path):
    saved = mlp(3, 5)
    saved.save_weights(tmp_path / "m.weights.h5")
    model = mlp(3, 4)
    randomize(model, 1)
    before = weights_of(model)
    with pytest.raises(ValueError, match=r"Layer 'dense\w*': weight 'dense\w*/kernel' has shape "
                       r"\(3, 4\), but the file has shape \(3, 5\)"):
        model.load_weights(tmp_path / "m.weights.h5")
    # nothing was assigned, not even the biases that fit
    assert_weights_equal(model.get_weights(), before)
    # every misfit is reported at once: the second layer's kernel (5, 2) too
    with pytest.raises(ValueError, match=r"nothing was loaded[\s\S]*\(4, 2\), but the file has "
                       r"shape \(5, 2\)"):
        model.load_weights(tmp_path / "m.weights.h5")


def test_missing_layer_and_count_mismatch(tmp_path):
    small = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    small.save_weights(tmp_path / "small.weights.h5")
    model = mlp(3, 2)
    before = weights_of(model)
    with pytest.raises(ValueError, match=r"Layer 'dense\w*' expected 2 variables, but received "
                       r"0 variables during loading\. Expected: \['kernel', 'bias'\]"):
        model.load_weights(tmp_path / "small.weights.h5")
    assert_weights_equal(model.get_weights(), before)
    no_bias = keras.Sequential([keras.Input((3,)), layers.Dense(2, use_bias=False)])
    with pytest.raises(ValueError, match=r"expected 1 variables, but received 2 variables"):
        no_bias.load_weights(tmp_path / "small.weights.h5")


def test_skip_mismatch_loads_the_layers_that_fit(tmp_path):
    source = mlp(3, 4, outputs=5)
    randomize(source, 2)
    source.save_weights(tmp_path / "m.weights.h5")
    target = mlp(3, 4, outputs=2)
    last_before = weights_of(target)[2:]
    with pytest.warns(UserWarning, match=r"Skipping loading weights for layer 'dense\w*'.*"
                      r"\(4, 2\), but the file has shape \(4, 5\)"):
        target.load_weights(tmp_path / "m.weights.h5", skip_mismatch=True)
    assert_weights_equal(target.get_weights()[:2], source.get_weights()[:2])
    assert_weights_equal(target.get_weights()[2:], last_before)


def test_dtype_mismatch_is_refused(tmp_path):
    path = tmp_path / "m.weights.h5"
    model = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    model.save_weights(path)
    with h5py.File(path, "r+") as f:
        del f["layers/dense/vars/0"]
        f["layers/dense/vars/0"] = np.array([["a"], ["b"]], dtype="S1")
    with pytest.raises(ValueError, match=r"is float32, but the file holds \|S1"):
        model.load_weights(path)


def test_filename_and_build_errors(tmp_path):
    model = mlp(2, 2)
    with pytest.raises(ValueError, match=r"The filename must end in `\.weights\.h5`\. Received: "
                       r"filepath=.*w\.h5"):
        model.save_weights(tmp_path / "w.h5")
    with pytest.raises(ValueError, match="File format not supported: filepath=.*w.npz"):
        model.load_weights(tmp_path / "w.npz")
    with pytest.raises(FileNotFoundError, match="No such file"):
        model.load_weights(tmp_path / "absent.weights.h5")
    with pytest.raises(ValueError, match="Invalid keyword arguments"):
        model.load_weights(tmp_path / "absent.weights.h5", by_name=True)
    unbuilt = keras.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match=r"`save_weights` on model 'sequential\w*', which has "
                       r"not been built"):
        unbuilt.save_weights(tmp_path / "u.weights.h5")
    model.save_weights(tmp_path / "m.weights.h5")
    with pytest.raises(ValueError, match=r"Layer 'dense\w*' was never built"):
        unbuilt.load_weights(tmp_path / "m.weights.h5")
    with pytest.raises(FileExistsError, match="already exists"):
        model.save_weights(tmp_path / "m.weights.h5", overwrite=False)


def test_not_an_hdf5_file(tmp_path):
    path = tmp_path / "junk.weights.h5"
    path.write_bytes(b"this is not HDF5" * 10)
    model = mlp(2, 2)
    before = weights_of(model)
    with pytest.raises(ValueError, match="not a readable HDF5 file"):
        model.load_weights(path)
    assert_weights_equal(model.get_weights(), before)


def test_interrupted_save_leaves_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "m.weights.h5"
    first = mlp(3, 4)
    randomize(first, 3)
    first.save_weights(path)
    original = path.read_bytes()

    def crash(model, target):  # dies after writing part of the new file
        with open(target, "wb") as f:
            f.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr("minikeras.saving.weights_h5.write_weights", crash)
    with pytest.raises(KeyboardInterrupt):
        mlp(3, 4).save_weights(path)
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == ["m.weights.h5"]  # the temporary file is gone too


def test_atomic_path_renames_only_on_success(tmp_path):
    target = tmp_path / "f.bin"
    saving_files.atomic_write_bytes(target, b"one")
    with pytest.raises(RuntimeError):
        with saving_files.atomic_path(target) as tmp:
            with open(tmp, "wb") as f:
                f.write(b"two")
            raise RuntimeError("disk full")
    assert target.read_bytes() == b"one"
    saving_files.atomic_write_bytes(target, b"three")
    assert target.read_bytes() == b"three" and os.listdir(tmp_path) == ["f.bin"]
    umask = os.umask(0o022)
    try:
        saving_files.atomic_write_bytes(tmp_path / "new.bin", b"x")
        assert (tmp_path / "new.bin").stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600
        os.chmod(target, 0o640)
        saving_files.atomic_write_bytes(target, b"four")
        assert target.stat().st_mode & 0o777 == 0o640  # a replaced file keeps its mode
    finally:
        os.umask(umask)
    (tmp_path / "d").mkdir()
    with pytest.raises(IsADirectoryError, match="existing directory"):
        saving_files.atomic_write_bytes(tmp_path / "d", b"x")
