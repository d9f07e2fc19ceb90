"""Whole models in ``.keras`` files within minikeras: round trips of each kind of model,
compile arguments and optimizer state (``fit`` resumes where it stopped), Keras-written
training state (Keras on JAX, in a subprocess), unsupported layers, lambdas and
``safe_mode``, custom objects, ``to_json``/``model_from_json``, and ModelCheckpoint."""
import json
import os
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minikeras as keras
from minikeras import callbacks, layers
from minikeras.saving.serialization import layer_config

RNG = np.random.default_rng(11)


def data(n=16, features=3, classes=3):
    x = RNG.normal(size=(n, features)).astype("float32")
    y = RNG.integers(0, classes, size=(n,)).astype("int32")
    return x, y


def classifier(features=3, hidden=5, classes=3):
    return keras.Sequential([keras.Input((features,)), layers.Dense(hidden, activation="relu"),
                             layers.BatchNormalization(), layers.Dense(classes)])


def same_predictions(a, b, x):
    np.testing.assert_allclose(a.predict(x, verbose=0), b.predict(x, verbose=0), rtol=1e-6,
                               atol=1e-6)


@settings(max_examples=10)
@given(features=st.integers(1, 5), hidden=st.integers(1, 5), classes=st.integers(2, 4))
def test_sequential_round_trip(tmp_path_factory, features, hidden, classes):
    path = tmp_path_factory.mktemp("m") / "m.keras"
    model = classifier(features, hidden, classes)
    model.set_weights([RNG.uniform(0.2, 1, w.shape).astype("float32")
                       for w in model.get_weights()])
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is keras.Sequential and loaded.name == model.name
    assert [type(a) for a in loaded.layers] == [type(b) for b in model.layers]
    assert [layer_config(a) for a in loaded.layers] == [layer_config(b) for b in model.layers]
    same_predictions(loaded, model, RNG.normal(size=(4, features)).astype("float32"))


def test_functional_round_trip_with_shared_layer_and_two_outputs(tmp_path):
    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    shared = layers.Dense(4, activation="tanh", name="shared")
    h = shared(layers.Concatenate()([layers.Dense(2)(a), b]))
    out = shared(h)
    model = keras.Model([a, b], [layers.Dense(1)(out), h], name="two")
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert isinstance(loaded, keras.models.Functional) and loaded.name == "two"
    assert [t.name for t in loaded.inputs] == ["a", "b"]
    assert len(loaded.get_layer("shared")._inbound) == 2  # called twice, as in the original
    xs = [RNG.normal(size=(4, 3)).astype("float32"), RNG.normal(size=(4, 2)).astype("float32")]
    for p, q in zip(loaded.predict(xs, verbose=0), model.predict(xs, verbose=0)):
        np.testing.assert_allclose(p, q, rtol=1e-6)


def test_nested_model_round_trip(tmp_path):
    inner = keras.Sequential([keras.Input((4,)), layers.Dense(3)], name="inner")
    x = keras.Input((4,))
    model = keras.Model(x, layers.Dense(2)(inner(x)))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.get_layer("inner"), keras.Sequential)
    same_predictions(loaded, model, RNG.normal(size=(3, 4)).astype("float32"))


def test_compile_config_and_fit_resumes_with_the_same_next_loss(tmp_path):
    x, y = data()
    model = classifier()
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert loaded.compiled and isinstance(loaded.optimizer, keras.optimizers.Adam)
    assert int(loaded.optimizer.iterations.numpy()) == 8
    for p, q in zip(loaded.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    fresh = keras.saving.load_model(tmp_path / "m.keras", compile=False)
    assert not fresh.compiled
    fresh.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    # the next steps: the uninterrupted run, the resumed one, and one without the state
    expected = [model.train_on_batch(x[:4], y[:4]) for _ in range(3)]
    resumed = [loaded.train_on_batch(x[:4], y[:4])[0] for _ in range(3)]
    restarted = [fresh.train_on_batch(x[:4], y[:4]) for _ in range(3)]
    np.testing.assert_allclose(resumed, [e[0] for e in expected], rtol=1e-6)
    assert len(set(resumed)) == 3  # training moves
    assert not np.allclose(restarted[1:], [e[0] for e in expected][1:], rtol=1e-6)


def test_optimizer_state_and_config_keep_their_values(tmp_path):
    x, y = data()
    model = classifier()
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert isinstance(loaded.loss, keras.losses.SparseCategoricalCrossentropy)
    assert loaded.loss.get_config() == model.loss.get_config()
    np.testing.assert_allclose(loaded.train_on_batch(x, y), model.train_on_batch(x, y),
                               rtol=1e-6)


KERAS_TRAINS = textwrap.dedent("""
    import os, sys, json
    os.environ["KERAS_BACKEND"] = "jax"
    import numpy as np, keras
    x, y = np.load(sys.argv[1])["x"], np.load(sys.argv[1])["y"]
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(5, activation="relu"),
                              keras.layers.Dense(3)])
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  run_eagerly=True)
    model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    model.save(sys.argv[2])
    losses = [float(model.train_on_batch(x[:4], y[:4])) for _ in range(3)]
    json.dump(losses, open(sys.argv[3], "w"))
""")


def test_training_state_written_by_keras_on_jax_resumes_here(tmp_path):
    pytest.importorskip("jax")
    x, y = data()
    np.savez(tmp_path / "d.npz", x=x, y=y)
    script = tmp_path / "train.py"
    script.write_text(KERAS_TRAINS)
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    subprocess.run([sys.executable, str(script), str(tmp_path / "d.npz"),
                    str(tmp_path / "k.keras"), str(tmp_path / "l.json")], check=True, env=env,
                   timeout=300)
    keras_losses = json.loads((tmp_path / "l.json").read_text())
    model = keras.saving.load_model(tmp_path / "k.keras")
    assert int(model.optimizer.iterations.numpy()) == 8
    # our file of the same training state has Keras's layout, optimizer included
    model.save(tmp_path / "ours.keras")
    assert h5_layout(tmp_path / "ours.keras") == h5_layout(tmp_path / "k.keras")
    ours = [model.train_on_batch(x[:4], y[:4]) for _ in range(3)]
    np.testing.assert_allclose(ours, keras_losses, rtol=1e-5)


def h5_layout(keras_file):
    """{dataset path: shape} of the weights inside a .keras archive."""
    import io
    import h5py
    with zipfile.ZipFile(keras_file) as zf:
        raw = zf.read("model.weights.h5")
    shapes = {}
    with h5py.File(io.BytesIO(raw), "r") as f:
        f.visititems(lambda name, obj: shapes.__setitem__(name, getattr(obj, "shape", "group")))
    return shapes


def test_unsupported_layer_is_named(tmp_path):
    config = {"module": "keras", "class_name": "Sequential", "config": {
        "name": "s", "trainable": True, "layers": [
            {"module": "keras.layers", "class_name": "InputLayer",
             "config": {"batch_shape": [None, 4, 4, 4, 1], "dtype": "float32", "name": "in"}},
            {"module": "keras.layers", "class_name": "ConvLSTM3D",
             "config": {"name": "conv_lstm3d", "filters": 2, "kernel_size": 3}},
            {"module": "keras.layers", "class_name": "TimeDistributed",
             "config": {"name": "td", "layer": {"module": "keras.layers",
                                                "class_name": "Conv3DTranspose",
                                                "config": {"name": "up"}}}}]},
        "registered_name": None}
    with zipfile.ZipFile(tmp_path / "u.keras", "w") as zf:
        zf.writestr("metadata.json", "{}")
        zf.writestr("config.json", json.dumps(config))
    with pytest.raises(ValueError, match=r"minikeras has no layer class for ConvLSTM3D \(layer "
                       r"'conv_lstm3d'\), Conv3DTranspose \(layer 'up'\)\. If a class is your "
                       r"own, register it"):
        keras.saving.load_model(tmp_path / "u.keras")


def test_keras_option_that_minikeras_lacks_is_an_error():
    from minikeras.saving.serialization import layer_from_dict
    d = {"module": "keras.layers", "class_name": "Dense",
         "config": {"name": "d", "units": 2, "lora_rank": None, "quantization_config": None}}
    assert layer_from_dict(d).units == 2  # Keras-only options at their defaults are dropped
    d["config"]["lora_rank"] = 4
    with pytest.raises(ValueError, match=r"Layer 'd' \(Dense\): minikeras does not support the "
                       r"option lora_rank=4 of Keras"):
        layer_from_dict(d)


def double(x):
    return x * 2.0


def test_lambda_layers_and_safe_mode(tmp_path):
    named = keras.Sequential([keras.Input((2,)), layers.Lambda(double)])
    named.save(tmp_path / "named.keras")
    with pytest.raises(ValueError, match="Could not locate function 'double'"):
        keras.saving.load_model(tmp_path / "named.keras")
    loaded = keras.saving.load_model(tmp_path / "named.keras", custom_objects={"double": double})
    np.testing.assert_allclose(loaded.predict(np.ones((1, 2), "float32"), verbose=0), [[2, 2]])

    with pytest.warns(UserWarning, match="includes a `lambda`. This is unsafe"):
        keras.Sequential([keras.Input((2,)), layers.Lambda(lambda t: t + 1.0)]).save(
            tmp_path / "lambda.keras")
    with pytest.raises(ValueError, match="Requested the deserialization of a `Lambda` layer "
                       "whose `function` is a Python lambda"):
        keras.saving.load_model(tmp_path / "lambda.keras")
    unsafe = keras.saving.load_model(tmp_path / "lambda.keras", safe_mode=False)
    np.testing.assert_allclose(unsafe.predict(np.zeros((1, 2), "float32"), verbose=0), [[1, 1]])
    shift = 3.0  # a lambda with a closure and keras.ops inside
    with pytest.warns(UserWarning, match="lambda"):
        keras.Sequential([keras.Input((2,)), layers.Lambda(
            lambda t: keras.ops.abs(t) + shift)]).save(tmp_path / "closure.keras")
    closure = keras.saving.load_model(tmp_path / "closure.keras", safe_mode=False)
    np.testing.assert_allclose(closure.predict(-np.ones((1, 2), "float32"), verbose=0),
                               [[4, 4]])
    with zipfile.ZipFile(tmp_path / "lambda.keras") as zf:
        assert b"pickle" not in zf.read("config.json")


def test_registered_custom_layer_and_custom_objects(tmp_path):
    @keras.saving.register_keras_serializable(package="tests")
    class Scale(layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    assert keras.saving.get_registered_name(Scale) == "tests>Scale"
    model = keras.Sequential([keras.Input((2,)), Scale(3.0), layers.Dense(1)])
    model.save(tmp_path / "c.keras")
    with zipfile.ZipFile(tmp_path / "c.keras") as zf:
        entry = json.loads(zf.read("config.json"))["config"]["layers"][1]
    assert entry["registered_name"] == "tests>Scale" and entry["config"]["factor"] == 3.0
    loaded = keras.saving.load_model(tmp_path / "c.keras")
    assert isinstance(loaded.layers[0], Scale) and loaded.layers[0].factor == 3.0
    same_predictions(loaded, model, np.ones((2, 2), "float32"))
    del keras.saving.get_custom_objects()["tests>Scale"]
    with keras.saving.CustomObjectScope({"Scale": Scale}):
        assert isinstance(keras.saving.load_model(tmp_path / "c.keras").layers[0], Scale)


def test_to_json_and_model_from_json():
    model = classifier()
    model.compile(optimizer="sgd", loss="mse")
    text = model.to_json()
    config = json.loads(text)
    assert config["class_name"] == "Sequential" and "compile_config" in config
    rebuilt = keras.models.model_from_json(text)
    assert [type(a) for a in rebuilt.layers] == [type(b) for b in model.layers]
    assert [w.shape for w in rebuilt.weights] == [w.shape for w in model.weights]
    assert isinstance(rebuilt.optimizer, keras.optimizers.SGD)
    with pytest.raises(ValueError, match="model_from_json: the string is not valid JSON"):
        keras.models.model_from_json("{not json")
    with pytest.raises(ValueError, match="does not describe a Keras model"):
        keras.models.model_from_json("[1, 2]")


def test_save_errors(tmp_path):
    model = classifier()
    with pytest.raises(ValueError, match=r"Please add the `\.keras` extension"):
        model.save(tmp_path / "m.h5")
    with pytest.raises(ValueError, match="File format not supported"):
        keras.saving.load_model(tmp_path / "m.weights.h5")
    model.save(tmp_path / "m.keras")
    with pytest.raises(FileExistsError):
        model.save(tmp_path / "m.keras", overwrite=False)


def test_load_weights_from_a_keras_file(tmp_path):
    model = classifier()
    model.set_weights([RNG.uniform(0.2, 1, w.shape).astype("float32")
                       for w in model.get_weights()])
    model.save(tmp_path / "m.keras")
    other = classifier()
    other.load_weights(tmp_path / "m.keras")
    same_predictions(other, model, RNG.normal(size=(3, 3)).astype("float32"))


def test_model_checkpoint_writes_loadable_files(tmp_path):
    x, y = data(n=12)
    model = classifier()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    full = str(tmp_path / "ckpt" / "m.{epoch:02d}.keras")
    weights = str(tmp_path / "ckpt" / "w.{epoch:02d}.weights.h5")
    model.fit(x, y, epochs=2, batch_size=6, verbose=0,
              callbacks=[callbacks.ModelCheckpoint(full),
                         callbacks.ModelCheckpoint(weights, save_weights_only=True)])
    assert sorted(os.listdir(tmp_path / "ckpt")) == ["m.01.keras", "m.02.keras",
                                                     "w.01.weights.h5", "w.02.weights.h5"]
    last = keras.saving.load_model(full.format(epoch=2))
    same_predictions(last, model, x)
    assert int(last.optimizer.iterations.numpy()) == 4
    other = classifier()
    other.load_weights(weights.format(epoch=2))
    same_predictions(other, model, x)
    with pytest.raises(ValueError, match="filepath ending in `.keras`"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[callbacks.ModelCheckpoint(str(tmp_path / "legacy.h5"))])


def test_subclassed_model_round_trip(tmp_path):
    @keras.saving.register_keras_serializable(package="tests")
    class TwoDense(keras.Model):
        def __init__(self, units=3, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.first, self.second = layers.Dense(units, activation="relu"), layers.Dense(2)

        def call(self, x):
            return self.second(self.first(x))

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    x = RNG.normal(size=(5, 4)).astype("float32")
    model = TwoDense(units=6)
    model(x)
    model.save(tmp_path / "s.keras")
    with zipfile.ZipFile(tmp_path / "s.keras") as zf:
        config = json.loads(zf.read("config.json"))
    assert config["registered_name"] == "tests>TwoDense"
    assert config["build_config"] == {"input_shape": [None, 4]}
    loaded = keras.saving.load_model(tmp_path / "s.keras")
    assert isinstance(loaded, TwoDense) and loaded.units == 6
    same_predictions(loaded, model, x)
    del keras.saving.get_custom_objects()["tests>TwoDense"]
    with pytest.raises(ValueError, match="no layer class for TwoDense"):
        keras.saving.load_model(tmp_path / "s.keras")


def test_clone_model_has_the_architecture_and_new_weights():
    model = classifier()
    clone = keras.models.clone_model(model)
    assert clone is not model and type(clone) is keras.Sequential
    assert [type(a) for a in clone.layers] == [type(b) for b in model.layers]
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]
    assert all(a is not b for a, b in zip(clone.weights, model.weights))
    assert not np.array_equal(clone.get_weights()[0], model.get_weights()[0])
    x = keras.Input((3,))
    functional = keras.Model(x, layers.Dense(2)(layers.Dense(4)(x)))
    assert len(keras.models.clone_model(functional).weights) == 4
    with pytest.raises(ValueError, match="supports only clone_model"):
        keras.models.clone_model(model, clone_function=lambda layer: layer)
