"""Files both ways between minikeras and real Keras 3 (NumPy backend).

Every case is one architecture written once as ``make(K)``, where ``K`` is the library
(``minikeras`` or ``keras``), so both sides build the same model. For each case:

* the HDF5 layout we write has exactly the groups and dataset shapes Keras writes;
* weights written by one side (``save_weights``) load into the other with equal
  predictions, and so do whole models (``save("m.keras")`` / ``load_model``).
"""
import os

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_reference import keras  # real Keras 3, NumPy backend

import minikeras  # noqa: E402
from minikeras.layers.graph_order import keras_layer_order  # noqa: E402
from minikeras.saving.keras_ops import KerasOp  # noqa: E402

RNG = np.random.default_rng(5)


def floats(*shape):
    return RNG.uniform(-1, 1, size=shape).astype(np.float32)


def ids(*shape):
    x = RNG.integers(1, 9, size=shape).astype(np.int32)
    x[0, -2:] = 0  # padding, for mask_zero
    return x


def seq(K, shape, *layers, dtype=None):
    return K.Sequential([K.Input(shape, dtype=dtype)] + list(layers))


def _mha(K):
    x = K.Input((5, 4))
    y = K.layers.MultiHeadAttention(2, 3)(x, x)
    y = K.layers.LayerNormalization()(K.layers.Add()([x, y]))
    return K.Model(x, y)


def _two_inputs(K):
    L = K.layers
    a, b = K.Input((4,), name="a"), K.Input((3,), name="b")
    h = L.Concatenate()([a, L.Dense(4)(b)])
    shared = L.Dense(3, activation="tanh")
    out = L.Multiply()([shared(h), shared(L.Dense(8)(h))])
    return K.Model([a, b], [L.Dense(2)(out), L.Subtract()([L.Dense(4)(a), L.Dense(4)(b)])])


def _nested(K):
    L = K.layers
    inner = K.Sequential([K.Input((4,)), L.Dense(3, activation="relu"), L.Dense(3)])
    x = K.Input((4,))
    return K.Model(x, L.Dense(2)(inner(x)))


def _attention(K):
    L = K.layers
    q, v = K.Input((3, 4)), K.Input((5, 4))
    return K.Model([q, v], L.Concatenate()([L.Attention(use_scale=True)([q, v]),
                                            L.AdditiveAttention()([q, v])]))


CASES = {
    "dense": (lambda K: seq(K, (4,), K.layers.Dense(3, activation="relu"),
                            K.layers.Dense(2, use_bias=False)), lambda: floats(3, 4)),
    "conv2d": (lambda K: seq(K, (6, 6, 2), K.layers.Conv2D(3, 3, padding="same"),
                             K.layers.BatchNormalization(), K.layers.MaxPooling2D(),
                             K.layers.Conv2DTranspose(2, 2, strides=2),
                             K.layers.DepthwiseConv2D(3),
                             K.layers.SeparableConv2D(2, 3, padding="same"),
                             K.layers.Flatten(), K.layers.Dense(2)),
               lambda: floats(2, 6, 6, 2)),
    "conv1d": (lambda K: seq(K, (7, 3), K.layers.Conv1D(2, 3), K.layers.AveragePooling1D(2),
                             K.layers.GlobalMaxPooling1D(), K.layers.Dense(2)),
               lambda: floats(2, 7, 3)),
    "recurrent": (lambda K: seq(K, (5, 3), K.layers.LSTM(4, return_sequences=True),
                                K.layers.GRU(3, return_sequences=True),
                                K.layers.GRU(2, reset_after=False)),
                  lambda: floats(2, 5, 3)),
    "bidirectional": (lambda K: seq(K, (5, 3), K.layers.Bidirectional(
        K.layers.SimpleRNN(2, return_sequences=True)), K.layers.TimeDistributed(
        K.layers.Dense(2)), K.layers.LayerNormalization(),
        K.layers.GlobalAveragePooling1D()), lambda: floats(2, 5, 3)),
    "embedding": (lambda K: seq(K, (6,), K.layers.Embedding(10, 4, mask_zero=True),
                                K.layers.LSTM(3), dtype="int32"), lambda: ids(3, 6)),
    "activations": (lambda K: seq(K, (4,), K.layers.Dense(4), K.layers.PReLU(),
                                  K.layers.LeakyReLU(), K.layers.ELU(), K.layers.ReLU(),
                                  K.layers.Dropout(0.3), K.layers.Rescaling(0.5),
                                  K.layers.Reshape((2, 2)), K.layers.Permute((2, 1)),
                                  K.layers.Flatten(), K.layers.RepeatVector(2),
                                  K.layers.Flatten(), K.layers.GaussianNoise(0.1),
                                  K.layers.Activation("tanh"), K.layers.Softmax()),
                    lambda: floats(3, 4)),
    "images": (lambda K: seq(K, (4, 4, 2), K.layers.ZeroPadding2D(1), K.layers.Cropping2D(1),
                             K.layers.UpSampling2D(2), K.layers.SpatialDropout2D(0.2),
                             K.layers.GroupNormalization(groups=2), K.layers.Conv2D(2, 1),
                             K.layers.GlobalAveragePooling2D()), lambda: floats(2, 4, 4, 2)),
    "einsum": (lambda K: seq(K, (3, 4), K.layers.EinsumDense("abc,cd->abd", (3, 2),
                                                             bias_axes="d")),
               lambda: floats(2, 3, 4)),
    "mha": (_mha, lambda: floats(2, 5, 4)),
    "two_inputs_shared": (_two_inputs, lambda: [floats(3, 4), floats(3, 3)]),
    "nested": (_nested, lambda: floats(3, 4)),
    "attention": (_attention, lambda: [floats(2, 3, 4), floats(2, 5, 4)]),
    "conv1d_family": (lambda K: seq(K, (8, 2), K.layers.ZeroPadding1D(1),
                                    K.layers.Conv1DTranspose(3, 3, strides=2),
                                    K.layers.DepthwiseConv1D(3, depth_multiplier=2),
                                    K.layers.SeparableConv1D(2, 3, dilation_rate=2),
                                    K.layers.MaxPooling1D(2), K.layers.UpSampling1D(2),
                                    K.layers.Cropping1D(1), K.layers.SpatialDropout1D(0.1),
                                    K.layers.GaussianDropout(0.2),
                                    K.layers.GlobalAveragePooling1D()),
                      lambda: floats(2, 8, 2)),
    "pool2d": (lambda K: seq(K, (6, 6, 1), K.layers.AveragePooling2D(2, strides=1,
                                                                     padding="same"),
                             K.layers.Conv2D(2, 2, strides=2, use_bias=False, groups=1),
                             K.layers.GlobalMaxPooling2D(), K.layers.Identity()),
               lambda: floats(2, 6, 6, 1)),
    "configured_dense": (lambda K: seq(
        K, (4,), K.layers.Dense(3, activation="gelu", kernel_initializer=K.initializers.HeNormal(
            seed=1), bias_initializer=K.initializers.Constant(0.5),
            kernel_regularizer=K.regularizers.L2(0.01), bias_regularizer=K.regularizers.L1(0.1),
            kernel_constraint=K.constraints.MaxNorm(2.0), activity_regularizer="l2"),
        K.layers.Dense(2, activation="softmax", kernel_constraint=K.constraints.NonNeg())),
        lambda: floats(3, 4)),
    "rnn_options": (lambda K: seq(K, (5, 3), K.layers.Masking(0.0), K.layers.LSTM(
        3, return_sequences=True, go_backwards=True, unit_forget_bias=False,
        recurrent_activation="hard_sigmoid"), K.layers.SimpleRNN(2, activation="relu"),
        K.layers.Dense(2)), lambda: floats(2, 5, 3)),
    "rnn_cells": (lambda K: seq(K, (5, 3), K.layers.RNN(K.layers.StackedRNNCells(
        [K.layers.LSTMCell(3), K.layers.GRUCell(2), K.layers.SimpleRNNCell(2)]),
        return_sequences=True),
        K.layers.Bidirectional(K.layers.GRU(2), merge_mode="sum")), lambda: floats(2, 5, 3)),
    "merges": (lambda K: _merges(K), lambda: [floats(3, 4), floats(3, 4)]),
    "masked_functional": (lambda K: _masked(K), lambda: ids(3, 6)),
    "frozen_float64": (lambda K: seq(K, (4,), K.layers.Dense(3, trainable=False, dtype="float64"),
                                     K.layers.BatchNormalization(trainable=False),
                                     K.layers.Dense(2)), lambda: floats(3, 4)),
    "normalizations": (lambda K: seq(K, (4, 4), K.layers.Normalization(),
                                     K.layers.BatchNormalization(center=False),
                                     K.layers.LayerNormalization(scale=False),
                                     K.layers.Conv1D(4, 1, groups=2),
                                     K.layers.GroupNormalization(groups=2, center=False)),
                       lambda: floats(2, 4, 4)),
    "mha_options": (lambda K: _mha_options(K), lambda: [floats(2, 3, 4), floats(2, 5, 6)]),
}


def _masked(K):
    L = K.layers
    x = K.Input((6,), dtype="int32")
    e = L.Embedding(9, 4, mask_zero=True)(x)
    h = L.GRU(3, return_sequences=True)(e)
    return K.Model(x, L.GlobalAveragePooling1D()(L.Add()([h, L.Dense(3)(e)])))


def _merges(K):
    L = K.layers
    a, b = K.Input((4,)), K.Input((4,))
    parts = [L.Average()([a, b]), L.Maximum()([a, b]), L.Minimum()([a, b]),
             L.Dot(axes=1, normalize=True)([a, b]), L.Add()([a, b, a]),
             L.Multiply()([a, b]), L.Subtract()([a, b])]
    return K.Model([a, b], L.Concatenate(axis=-1)(parts))


def _mha_options(K):
    q, v = K.Input((3, 4)), K.Input((5, 6))
    out = K.layers.MultiHeadAttention(2, 3, value_dim=2, output_shape=(5,), use_bias=False)(
        q, v, v)
    return K.Model([q, v], out)


def randomize(model):
    """Weights away from their initial values (zero biases hide a swapped dataset)."""
    model.set_weights([RNG.uniform(0.2, 1.0, size=w.shape).astype(w.dtype)
                       for w in model.get_weights()])
    for layer in model.layers:
        # Keras's Normalization computes with copies of its variables, refreshed by
        # finalize_state() (which load_weights calls and set_weights does not)
        if hasattr(layer, "finalize_state") and type(layer).__name__ == "Normalization":
            layer.finalize_state()


def predict(model, x):
    out = model.predict(x, verbose=0)
    return [np.asarray(o) for o in out] if isinstance(out, (list, tuple)) else [np.asarray(out)]


def assert_same(a, b):
    assert len(a) == len(b)
    for p, q in zip(a, b):
        assert np.all(np.isfinite(p)) and np.all(np.isfinite(q))  # NaN == NaN proves nothing
        np.testing.assert_allclose(p, q, rtol=2e-5, atol=2e-5)


def layout(path):
    """{dataset path: shape} and the set of groups of a weights file."""
    datasets, groups = {}, set()

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            datasets[name] = obj.shape
        else:
            groups.add(name)
            if name.endswith("vars"):
                assert isinstance(obj.attrs["name"], str)
    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return datasets, groups


@pytest.mark.parametrize("case", sorted(CASES))
def test_weights_layout_is_keras_layout(case, tmp_path):
    make, _ = CASES[case]
    ours, theirs = make(minikeras), make(keras)
    ours.save_weights(tmp_path / "ours.weights.h5")
    theirs.save_weights(tmp_path / "theirs.weights.h5")
    assert layout(tmp_path / "ours.weights.h5") == layout(tmp_path / "theirs.weights.h5")


@pytest.mark.parametrize("case", sorted(CASES))
def test_weights_files_both_ways(case, tmp_path):
    make, data = CASES[case]
    x = data()
    ours, theirs = make(minikeras), make(keras)
    randomize(ours)
    ours.save_weights(tmp_path / "ours.weights.h5")
    theirs.load_weights(tmp_path / "ours.weights.h5")
    assert_same(predict(theirs, x), predict(ours, x))

    theirs_b, ours_b = make(keras), make(minikeras)
    randomize(theirs_b)
    theirs_b.save_weights(tmp_path / "theirs.weights.h5")
    ours_b.load_weights(tmp_path / "theirs.weights.h5")
    assert_same(predict(ours_b, x), predict(theirs_b, x))


# the masked case: the graph is rebuilt by running layers on zeros, which an all-padding
# mask turns into 0/0 in a masked mean (the real predictions are checked finite)
@pytest.mark.filterwarnings("ignore:invalid value encountered in divide")
@pytest.mark.parametrize("case", sorted(CASES))
def test_keras_files_both_ways(case, tmp_path):
    make, data = CASES[case]
    x = data()
    ours = make(minikeras)
    randomize(ours)
    ours.save(tmp_path / "ours.keras")
    theirs = keras.saving.load_model(tmp_path / "ours.keras")
    assert_same(predict(theirs, x), predict(ours, x))

    theirs_b = make(keras)
    randomize(theirs_b)
    theirs_b.save(tmp_path / "theirs.keras")
    ours_b = minikeras.saving.load_model(tmp_path / "theirs.keras")
    assert type(ours_b).__name__ == type(theirs_b).__name__
    ordered = (ours_b.layers if isinstance(ours_b, minikeras.Sequential)
               else [layer for layer in keras_layer_order(ours_b)
                     if not isinstance(layer, KerasOp)])  # Keras's ops are not layers
    assert [type(layer).__name__ for layer in ordered] == [
        type(layer).__name__ for layer in theirs_b.layers]
    assert_same(predict(ours_b, x), predict(theirs_b, x))


# Keras builds the optimizer of a compiled model it loads, and warns that the saved one
# (never run: iterations and learning rate only) has fewer variables; it does the same
# for its own files
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
def test_our_config_has_keras_structure(tmp_path):
    import json
    import zipfile
    model = CASES["dense"][0](minikeras)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == ["metadata.json", "config.json",
                                               "model.weights.h5"]
        assert all(i.compress_type == zipfile.ZIP_STORED for i in infos)
        meta = json.loads(zf.read("metadata.json"))
        config = json.loads(zf.read("config.json"))
    assert set(meta) == {"keras_version", "date_saved"}
    assert set(config) == {"module", "class_name", "config", "registered_name",
                           "build_config", "compile_config"}
    assert (config["module"], config["class_name"]) == ("keras", "Sequential")
    assert config["build_config"] == {"input_shape": [None, 4]}
    dense = config["config"]["layers"][1]
    assert dense["module"] == "keras.layers" and dense["registered_name"] is None
    assert dense["config"]["dtype"]["class_name"] == "DTypePolicy"
    assert dense["config"]["kernel_initializer"]["module"] == "keras.initializers"
    assert dense["build_config"] == {"input_shape": [None, 4]}
    compiled = config["compile_config"]
    assert compiled["optimizer"]["class_name"] == "Adam"
    assert compiled["loss"] == "sparse_categorical_crossentropy"
    assert compiled["metrics"] == ["accuracy"]
    # Keras compiles the model it loads from our file with the same arguments
    theirs = keras.saving.load_model(tmp_path / "m.keras")
    assert theirs.optimizer.__class__.__name__ == "Adam"
    assert theirs.get_compile_config()["loss"] == "sparse_categorical_crossentropy"


def test_trained_optimizer_state_loads_into_keras(tmp_path):
    import warnings
    model = CASES["dense"][0](minikeras)
    model.compile(optimizer=minikeras.optimizers.Adam(0.01), loss="mse")
    model.fit(floats(8, 4), floats(8, 2), epochs=3, batch_size=4, verbose=0)
    model.save(tmp_path / "m.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no "Skipping variable loading"
        theirs = keras.saving.load_model(tmp_path / "m.keras")
    assert int(np.asarray(theirs.optimizer.iterations)) == 6
    assert len(theirs.optimizer.variables) == len(model.optimizer.variables)
    for a, b in zip(theirs.optimizer.variables, model.optimizer.variables):
        np.testing.assert_allclose(np.asarray(a), b.numpy(), rtol=1e-7)


def test_keras_file_with_layers_we_lack_names_each_of_them(tmp_path):
    L = keras.layers
    theirs = keras.Sequential([keras.Input((4,)), L.Dense(3), L.UnitNormalization(),
                               L.AlphaDropout(0.1), L.Dense(2)])
    theirs.save(tmp_path / "t.keras")
    with pytest.raises(ValueError, match=r"no layer class for UnitNormalization \(layer "
                       r"'unit_normalization\w*'\), AlphaDropout \(layer 'alpha_dropout\w*'\)"):
        minikeras.saving.load_model(tmp_path / "t.keras")


# ---------------------------------------------------------------------- training state
# (use_ema is left out: Keras 3.15.1 on JAX cannot fit with it, "Attempt to donate the same
# buffer twice")
OPTIMIZERS = {
    "adam": "K.optimizers.Adam(0.01)",
    "adam_amsgrad": "K.optimizers.Adam(0.01, amsgrad=True)",
    "adamw": "K.optimizers.AdamW(0.01, weight_decay=0.1)",
    "sgd_nesterov": "K.optimizers.SGD(0.05, momentum=0.9, nesterov=True)",
    "rmsprop_centered": "K.optimizers.RMSprop(0.01, momentum=0.5, centered=True)",
    "adagrad": "K.optimizers.Adagrad(0.05)",
    "adadelta": "K.optimizers.Adadelta(1.0)",
    "adamax": "K.optimizers.Adamax(0.01)",
    "nadam": "K.optimizers.Nadam(0.01)",
    "lion": "K.optimizers.Lion(0.001)",
    "adam_schedule": "K.optimizers.Adam(K.optimizers.schedules.ExponentialDecay(0.01, 3, 0.5))",
    "sgd_accumulation": "K.optimizers.SGD(0.05, momentum=0.5, gradient_accumulation_steps=3)",
    "rmsprop_clipped": "K.optimizers.RMSprop(0.01, clipnorm=0.1, weight_decay=0.05)",
}

TRAIN_SCRIPT = '''
import json, os, sys
os.environ["KERAS_BACKEND"] = "jax"
import numpy as np, keras as K
folder = sys.argv[1]
data = np.load(os.path.join(folder, "data.npz"))
x, y = data["x"], data["y"]
specs = json.load(open(os.path.join(folder, "specs.json")))
out = {}
for name, expr in specs.items():
    model = K.Sequential([K.Input((3,)), K.layers.Dense(5, activation="tanh"),
                          K.layers.BatchNormalization(), K.layers.Dense(3)])
    model.compile(optimizer=eval(expr), loss=K.losses.SparseCategoricalCrossentropy(
        from_logits=True), run_eagerly=True)  # tiny steps: compiling would cost more
    model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    model.save(os.path.join(folder, f"keras_{name}.keras"))
    theirs = [float(model.train_on_batch(x[:4], y[:4])) for _ in range(3)]
    ours = K.saving.load_model(os.path.join(folder, f"ours_{name}.keras"))
    ours.compile(optimizer=ours.optimizer, loss=ours.loss, run_eagerly=True)  # same state
    out[name] = {"theirs": theirs,
                 "ours_in_keras": [float(ours.train_on_batch(x[:4], y[:4])) for _ in range(3)]}
json.dump(out, open(os.path.join(folder, "losses.json"), "w"))
'''


def test_training_resumes_across_libraries_for_each_optimizer(tmp_path):
    """Each side trains, saves, and the other side continues: the next losses are the ones
    the saving side gets when it continues itself (weights, slots, iterations and learning
    rate all carried over)."""
    import json
    import subprocess
    import sys
    pytest.importorskip("jax")
    x = RNG.normal(size=(16, 3)).astype("float32")
    y = RNG.integers(0, 3, size=(16,)).astype("int32")
    np.savez(tmp_path / "data.npz", x=x, y=y)
    (tmp_path / "specs.json").write_text(json.dumps(OPTIMIZERS))
    ours_continue = {}
    for name, expr in OPTIMIZERS.items():
        K = minikeras
        model = K.Sequential([K.Input((3,)), K.layers.Dense(5, activation="tanh"),
                              K.layers.BatchNormalization(), K.layers.Dense(3)])
        model.compile(optimizer=eval(expr), loss=K.losses.SparseCategoricalCrossentropy(
            from_logits=True))
        model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
        model.save(tmp_path / f"ours_{name}.keras")
        ours_continue[name] = [model.train_on_batch(x[:4], y[:4]) for _ in range(3)]
    (tmp_path / "train.py").write_text(TRAIN_SCRIPT)
    subprocess.run([sys.executable, str(tmp_path / "train.py"), str(tmp_path)], check=True,
                   timeout=600, env=dict(os.environ, JAX_PLATFORMS="cpu"))
    losses = json.loads((tmp_path / "losses.json").read_text())
    for name in OPTIMIZERS:
        loaded = minikeras.saving.load_model(tmp_path / f"keras_{name}.keras")
        assert type(loaded.optimizer).__name__.lower() == name.split("_")[0], name
        here = [loaded.train_on_batch(x[:4], y[:4]) for _ in range(3)]
        np.testing.assert_allclose(here, losses[name]["theirs"], rtol=2e-5, err_msg=name)
        np.testing.assert_allclose(losses[name]["ours_in_keras"], ours_continue[name],
                                   rtol=2e-5, err_msg=name)


def _compiled(K):
    model = CASES["dense"][0](K)
    model.compile(optimizer=K.optimizers.RMSprop(0.01, rho=0.8),
                  loss=K.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[K.metrics.SparseCategoricalAccuracy(name="acc"), "mae"],
                  loss_weights=[0.5])
    return model


@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
def test_compile_arguments_both_ways(tmp_path):
    theirs = _compiled(keras)
    theirs.save(tmp_path / "theirs.keras")
    ours = minikeras.saving.load_model(tmp_path / "theirs.keras")
    assert ours.compiled and isinstance(ours.optimizer, minikeras.optimizers.RMSprop)
    assert ours.optimizer.rho == pytest.approx(0.8)
    assert float(ours.optimizer.learning_rate) == pytest.approx(0.01)
    assert isinstance(ours.loss, minikeras.losses.SparseCategoricalCrossentropy)
    assert ours.loss.get_config()["from_logits"] is True
    assert isinstance(ours._metric_specs[0], minikeras.metrics.SparseCategoricalAccuracy)
    assert ours._metric_specs[0].name == "acc" and ours._metric_specs[1] == "mae"
    assert ours.loss_weights == [0.5]

    _compiled(minikeras).save(tmp_path / "ours.keras")
    back = keras.saving.load_model(tmp_path / "ours.keras")
    config = back.get_compile_config()
    assert config["optimizer"]["class_name"] == "RMSprop"
    assert config["optimizer"]["config"]["rho"] == pytest.approx(0.8)
    assert config["loss"]["class_name"] == "SparseCategoricalCrossentropy"
    assert config["loss"]["config"]["from_logits"] is True
    assert config["metrics"][0]["class_name"] == "SparseCategoricalAccuracy"
    assert config["metrics"][1] == "mae" and config["loss_weights"] == [0.5]


# Cases whose files hold Python code (a Lambda's function): loading them needs safe_mode=False.
SAFE_MODE_OFF = {
    "lambda": (lambda K: seq(K, (3,), K.layers.Lambda(lambda t: t * 2.0 + 1.0),
                             K.layers.Dense(2)), lambda: floats(2, 3)),
}


@pytest.mark.filterwarnings("ignore:The object being serialized includes a `lambda`")
@pytest.mark.filterwarnings("ignore:overflow encountered")  # Keras runs the lambda on np.empty
@pytest.mark.parametrize("case", sorted(SAFE_MODE_OFF))
def test_lambda_layers_both_ways_only_with_safe_mode_off(case, tmp_path):
    make, data = SAFE_MODE_OFF[case]
    x = data()
    for K, other, name in ((minikeras, keras, "ours"), (keras, minikeras, "theirs")):
        model = make(K)
        model.save(tmp_path / f"{name}.keras")
        with pytest.raises(ValueError, match="Requested the deserialization of a `Lambda`"):
            other.saving.load_model(tmp_path / f"{name}.keras")
        loaded = other.saving.load_model(tmp_path / f"{name}.keras", safe_mode=False)
        assert_same(predict(loaded, x), predict(model, x))


def test_keras_operations_in_a_functional_config(tmp_path):
    """Keras records `x * 2.0`, `keras.ops.mean(...)`... as operations among the layers;
    they are replayed with minikeras's ops and written back as Keras wrote them."""
    ops = keras.ops
    x = keras.Input((4,))
    a = keras.layers.Dense(4)(x)
    y = ops.mean(a * 2.0 + 1.0, axis=-1, keepdims=True)
    z = ops.concatenate([ops.relu(a), y, ops.square(x)], axis=-1)
    out = ops.sum(ops.transpose(ops.reshape(z, (-1, 3, 3)), (0, 2, 1)), axis=1)
    theirs = keras.Model(x, out)
    randomize(theirs)
    theirs.save(tmp_path / "ops.keras")
    ours = minikeras.saving.load_model(tmp_path / "ops.keras")
    data = floats(3, 4)
    assert_same(predict(ours, data), predict(theirs, data))
    ours.save(tmp_path / "back.keras")
    again = keras.saving.load_model(tmp_path / "back.keras")
    assert_same(predict(again, data), predict(theirs, data))
    assert layout_of_archive(tmp_path / "back.keras") == layout_of_archive(tmp_path / "ops.keras")


def test_keras_operation_that_minikeras_lacks_is_named(tmp_path):
    import json
    import zipfile
    x = keras.Input((4,))
    keras.Model(x, keras.ops.square(x)).save(tmp_path / "op.keras")
    with zipfile.ZipFile(tmp_path / "op.keras") as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    config = json.loads(members["config.json"])
    op = next(d for d in config["config"]["layers"] if d["class_name"] == "Square")
    op["class_name"] = "SquareOfTheFuture"  # an operation of a later Keras
    members["config.json"] = json.dumps(config)
    with zipfile.ZipFile(tmp_path / "op.keras", "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with pytest.raises(ValueError, match=r"uses the Keras operation SquareOfTheFuture \(layer "
                       r"'square\w*'\), which minikeras\.ops does not have"):
        minikeras.saving.load_model(tmp_path / "op.keras")


def layout_of_archive(path):
    import io
    import zipfile
    with zipfile.ZipFile(path) as zf:
        raw = zf.read("model.weights.h5")
    shapes = {}
    with h5py.File(io.BytesIO(raw), "r") as f:
        f.visititems(lambda name, obj: shapes.__setitem__(name, getattr(obj, "shape", None)))
    return shapes


@settings(max_examples=10)
@given(features=st.integers(1, 5), units=st.lists(st.integers(1, 5), min_size=1, max_size=3),
       activation=st.sampled_from([None, "relu", "tanh", "sigmoid", "softmax", "gelu"]),
       use_bias=st.booleans(), seed=st.integers(0, 99))
def test_drawn_dense_stacks_built_by_a_first_call_load_in_keras(tmp_path_factory, features,
                                                                units, activation, use_bias,
                                                                seed):
    path = tmp_path_factory.mktemp("d") / "m.keras"
    x = np.random.default_rng(seed).normal(size=(3, features)).astype("float32")
    ours = minikeras.Sequential([minikeras.layers.Dense(u, activation=activation,
                                                        use_bias=use_bias) for u in units])
    ours(x)  # built by its first call, without keras.Input
    ours.save(path)
    theirs = keras.saving.load_model(path)
    assert_same(predict(theirs, x), predict(ours, x))
