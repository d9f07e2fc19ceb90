"""Keras behaviour that courses meet every week, the same code run in both libraries: the
cases of tests/conformance_cases.py give the same numbers in minikeras as in real Keras 3
(the training cases on JAX, in one subprocess; the others on Keras's NumPy backend)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import conformance_cases
import minikeras
from keras_reference import keras

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def in_keras():
    pytest.importorskip("jax")
    done = subprocess.run([sys.executable, os.path.join(HERE, "conformance_cases.py")],
                          capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, JAX_PLATFORMS="cpu"))
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def _same(ours, theirs):
    assert ours.keys() == theirs.keys()
    for key in ours:
        if any(isinstance(v, str) for v in np.ravel(np.asarray(ours[key], dtype=object))):
            assert ours[key] == theirs[key], key
        else:
            np.testing.assert_allclose(ours[key], theirs[key], rtol=2e-5, err_msg=key)


@pytest.mark.parametrize("case", conformance_cases.TRAINING_CASES, ids=lambda c: c.__name__)
def test_training_gives_the_numbers_of_keras(case, in_keras):
    _same(conformance_cases.to_plain(case(minikeras)), in_keras[case.__name__])


@pytest.mark.parametrize("case", conformance_cases.CASES, ids=lambda c: c.__name__)
def test_same_numbers_as_keras(case):
    _same(conformance_cases.to_plain(case(minikeras)), conformance_cases.to_plain(case(keras)))


def test_a_model_that_adds_its_own_loss_learns():
    assert conformance_cases.own_loss_subclassed(minikeras)["loss"][-1] < \
        conformance_cases.own_loss_subclassed(minikeras)["loss"][0]


def test_no_compiled_loss_and_no_added_loss_says_what_to_do():
    model = minikeras.Sequential([minikeras.Input((2,)), minikeras.layers.Dense(1)])
    model.compile(optimizer="sgd")
    with pytest.raises(ValueError, match=r"No loss to compute\. Provide a `loss` argument in "
                                         r"`compile\(\)`, or add .*`self\.add_loss"):
        model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0)


# ------------------------------------------------------- custom train_step, minikeras only
# (Keras's own train_step code differs per backend; these compare with minikeras's fit)

def _data_and_model(K, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((32, 4)).astype("float32")
    y = (x @ rng.standard_normal((4, 1))).astype("float32")
    inputs = K.Input((4,))
    outputs = K.layers.Dense(1)(K.layers.Dense(8, activation="tanh")(inputs))
    return x, y, inputs, outputs


class TorchStyle(minikeras.Model):
    """The Keras-on-torch guide's train_step: zero_grad, loss.backward(), v.value.grad,
    optimizer.apply, the metrics by name."""

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        trainable_weights = [v for v in self.trainable_weights]
        gradients = [v.value.grad for v in trainable_weights]
        with minikeras.no_grad():
            self.optimizer.apply(gradients, trainable_weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


class TapeStyle(minikeras.Model):
    """The same step with a GradientTape and the model's own trackers."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = minikeras.metrics.Mean(name="loss")
        self.mae_metric = minikeras.metrics.MeanAbsoluteError(name="mae")

    def train_step(self, data):
        x, y, sample_weight = minikeras.utils.unpack_x_y_sample_weight(data)
        with minikeras.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sample_weight)
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]


@pytest.mark.parametrize("style", [TorchStyle, TapeStyle], ids=lambda c: c.__name__)
def test_a_custom_train_step_trains_as_fit_does(style):
    x, y, inputs, outputs = _data_and_model(minikeras)
    reference = minikeras.Model(inputs, outputs)
    start = reference.get_weights()
    reference.compile(optimizer=minikeras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    expected = reference.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    end = reference.get_weights()

    model = style(inputs, outputs)
    model.set_weights(start)
    model.compile(optimizer=minikeras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    history = model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    for got, want in zip(model.get_weights(), end):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    # each epoch's logs are that epoch's means: the trackers were reset at each epoch
    np.testing.assert_allclose(history.history["loss"], expected.history["loss"], rtol=1e-5)
    np.testing.assert_allclose(history.history["mae"], expected.history["mae"], rtol=1e-5)


def test_a_subclass_built_from_inputs_and_outputs_is_functional_and_keeps_its_methods():
    x, y, inputs, outputs = _data_and_model(minikeras)
    model = TapeStyle(inputs, outputs)
    assert isinstance(model, TapeStyle) and isinstance(model, minikeras.models.model.Functional)
    assert type(model) is type(TapeStyle(inputs, outputs))
    plain = minikeras.Model(inputs, outputs)
    assert [layer.name for layer in model.layers] == [layer.name for layer in plain.layers]
    assert model.train_step.__func__ is TapeStyle.train_step


def test_unpack_x_y_sample_weight_names_what_it_got():
    with pytest.raises(ValueError, match=r"`\(x, y, sample_weight\)`, found a tuple of 4"):
        minikeras.utils.unpack_x_y_sample_weight((1, 2, 3, 4))


@pytest.mark.parametrize("source, target", [(minikeras, keras), (keras, minikeras)],
                         ids=["minikeras config into keras", "keras config into minikeras"])
def test_a_model_config_moves_between_the_libraries(source, target):
    import copy
    inputs = source.Input((4,), name="x")
    hidden = source.layers.Dense(5, activation="tanh", name="h")(inputs)
    both = source.layers.Concatenate(name="cat")([hidden, source.layers.Dense(2, name="b")(inputs)])
    model = source.Model(inputs, source.layers.Dense(1, name="out")(both))
    rebuilt = target.Model.from_config(copy.deepcopy(model.get_config()))
    rebuilt.set_weights(model.get_weights())
    x = np.random.default_rng(0).standard_normal((3, 4)).astype("float32")
    np.testing.assert_allclose(np.asarray(rebuilt.predict(x, verbose=0)),
                               np.asarray(model.predict(x, verbose=0)), rtol=1e-5)
    sequential = source.Sequential([source.Input((4,)), source.layers.Dense(3), source.layers.Dense(1)])
    again = target.Sequential.from_config(copy.deepcopy(sequential.get_config()))
    again.set_weights(sequential.get_weights())
    np.testing.assert_allclose(np.asarray(again.predict(x, verbose=0)),
                               np.asarray(sequential.predict(x, verbose=0)), rtol=1e-5)


def _register_shared(L):
    @L.saving.register_keras_serializable(package="SharedAcross")
    def doubled_tanh(x):
        return 2.0 * L.ops.tanh(x)

    @L.saving.register_keras_serializable(package="SharedAcross")
    class Scale(L.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return self.factor * x

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    return doubled_tanh, Scale


@pytest.mark.parametrize("source, target", [(minikeras, keras), (keras, minikeras)],
                         ids=["saved here, loaded by keras", "saved by keras, loaded here"])
def test_registered_objects_load_without_custom_objects_in_either_library(source, target,
                                                                          tmp_path):
    activation, Scale = _register_shared(source)
    _register_shared(target)
    model = source.Sequential([source.Input((3,)), source.layers.Dense(2, activation=activation),
                               Scale(3.0)])
    path = str(tmp_path / "registered.keras")
    model.save(path)
    loaded = target.saving.load_model(path)  # no custom_objects
    x = np.random.default_rng(0).standard_normal((4, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)),
                               np.asarray(model.predict(x, verbose=0)), rtol=1e-5)
    assert type(loaded.layers[-1]).__name__ == "Scale" and loaded.layers[-1].factor == 3.0


BACKEND_FILES = os.path.join(HERE, "data", "keras_backends")


@pytest.mark.parametrize("name", ["torch_adam", "torch_sgd", "jax_adam", "jax_sgd"])
def test_a_keras_file_from_any_backend_loads_with_its_optimizer_state(name):
    """Files saved by Keras 3 on torch and on JAX (tests/data/keras_backends/make_files.py):
    the model, its optimizer (whatever module Keras recorded for it) and its state load, so
    evaluating and one more training step give Keras's own numbers."""
    expected = json.load(open(os.path.join(BACKEND_FILES, "expected.json")))[name]
    data = np.load(os.path.join(BACKEND_FILES, "data.npz"))
    model = minikeras.saving.load_model(os.path.join(BACKEND_FILES, f"{name}.keras"))
    assert type(model.optimizer).__name__.lower() == name.split("_")[1]
    np.testing.assert_allclose(model.evaluate(data["x"], data["y"], verbose=0),
                               expected["evaluate"], rtol=1e-5)
    loss = model.train_on_batch(data["x"][:8], data["y"][:8])
    np.testing.assert_allclose(loss[0] if isinstance(loss, list) else loss,
                               expected["next_loss"], rtol=1e-5)


# ------------------------------------------------ the saving hooks, across the libraries
def _hooked_classes(L):
    """The classes of Keras's guide "customizing saving", written once for both libraries
    (registered under one package, so that each library finds its own)."""
    @L.saving.register_keras_serializable(package="HookCases")
    class Lookup(L.layers.Layer):
        """State that is not a weight: a vocabulary kept as an asset file, and an array
        kept in the layer's own group of the weights file."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.vocabulary = []
            self.table = np.zeros(0, "float32")

        def call(self, x):
            return x * float(len(self.vocabulary))

        def save_assets(self, dir_path):
            with open(os.path.join(dir_path, "vocabulary.txt"), "w") as f:
                f.write("\n".join(self.vocabulary))

        def load_assets(self, dir_path):
            with open(os.path.join(dir_path, "vocabulary.txt")) as f:
                self.vocabulary = f.read().split("\n")

        def save_own_variables(self, store):
            store["table"] = self.table

        def load_own_variables(self, store):
            self.table = np.array(store["table"])

    @L.saving.register_keras_serializable(package="HookCases")
    class CustomBuild(L.layers.Layer):
        """``build`` takes an extra argument that only the build config carries."""

        def __init__(self, units=3, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape, layer_init="ones"):
            self.layer_init = layer_init
            self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                     initializer=layer_init, name="w")
            self.built = True

        def call(self, x):
            return L.ops.matmul(x, self.w)

        def get_config(self):
            return {**super().get_config(), "units": self.units}

        def get_build_config(self):
            return {"layer_init": self.layer_init, "input_shape": [None, 4]}

        def build_from_config(self, config):
            self.build(config["input_shape"], config["layer_init"])

    @L.saving.register_keras_serializable(package="HookCases")
    class CustomCompile(L.Sequential):
        """``compile`` with arguments of its own, saved by ``get_compile_config``."""

        def compile(self, optimizer, loss_fn):
            super().compile(optimizer=optimizer)
            self.model_optimizer, self.loss_fn = optimizer, loss_fn

        def get_compile_config(self):
            return {"model_optimizer": self.model_optimizer, "loss_fn": self.loss_fn}

        def compile_from_config(self, config):
            self.compile(optimizer=L.utils.deserialize_keras_object(config["model_optimizer"]),
                         loss_fn=L.utils.deserialize_keras_object(config["loss_fn"]))

    return Lookup, CustomBuild, CustomCompile


@pytest.mark.parametrize("source, target", [(minikeras, keras), (keras, minikeras)],
                         ids=["saved here, loaded by keras", "saved by keras, loaded here"])
def test_the_saving_hooks_carry_state_across_the_libraries(source, target, tmp_path):
    import zipfile
    Lookup, CustomBuild, CustomCompile = _hooked_classes(source)
    _hooked_classes(target)
    lookup = Lookup(name="lookup")
    lookup.vocabulary = ["a", "b", "c"]
    lookup.table = np.arange(4, dtype="float32")
    build = CustomBuild(name="custom_build")
    build.build((None, 4), layer_init="zeros")
    build.w.assign(np.full((4, 3), 0.5, "float32"))
    model = CustomCompile([source.Input((4,)), build, lookup], name="hooked")
    model.compile(optimizer=source.optimizers.SGD(0.25), loss_fn=source.losses.MeanSquaredError())
    path = str(tmp_path / "hooked.keras")
    model.save(path)
    members = sorted(zipfile.ZipFile(path).namelist())
    assert "assets/layers/lookup/vocabulary.txt" in members, members

    loaded = target.saving.load_model(path)
    new_lookup = loaded.get_layer("lookup")
    assert new_lookup.vocabulary == ["a", "b", "c"]
    np.testing.assert_array_equal(new_lookup.table, np.arange(4, dtype="float32"))
    assert loaded.get_layer("custom_build").layer_init == "zeros"
    np.testing.assert_array_equal(np.asarray(loaded.get_layer("custom_build").w), 0.5)
    assert type(loaded.model_optimizer).__name__ == "SGD"
    assert float(np.asarray(loaded.model_optimizer.learning_rate)) == 0.25
    assert type(loaded.loss_fn).__name__ == "MeanSquaredError"
    x = np.ones((2, 4), "float32")
    np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)),
                               np.asarray(model.predict(x, verbose=0)))


def test_the_default_hooks_are_the_plain_saving():
    layer = minikeras.layers.Dense(2)
    layer(np.ones((3, 4), "float32"))
    assert layer.get_build_config() == {"input_shape": (3, 4)}
    store = {}
    layer.save_own_variables(store)
    assert sorted(store) == ["0", "1"] and store["0"].shape == (4, 2)
    other = minikeras.layers.Dense(2)
    other.build_from_config(layer.get_build_config())
    other.load_own_variables(store)
    np.testing.assert_array_equal(other.kernel.numpy(), layer.kernel.numpy())
    with pytest.raises(ValueError, match=r"Layer 'dense_\d+' expected 2 variables, but received "
                                         r"1 variables during loading"):
        other.load_own_variables({"0": store["0"]})


# --------------------------- what Keras refuses or warns about, refused or warned here too
BOTH = pytest.mark.parametrize("L", [keras, minikeras], ids=["keras", "minikeras"])


@BOTH
def test_an_int_shape_for_input_is_refused(L):
    with pytest.raises(ValueError, match="Cannot convert '4' to a shape"):
        L.Input(shape=4)


@BOTH
def test_a_keras2_add_weight_gets_the_keras_message(L):
    with pytest.raises(ValueError, match=r"`name` must be passed as a keyword argument\. "
                                         r"Received: add_weight\('w', \.\.\.\)\. Use: "
                                         r"add_weight\(shape=\.\.\., name='w'\)"):
        L.layers.Layer().add_weight("w", shape=(2,))
    assert tuple(L.layers.Layer().add_weight((2, 3), "ones").shape) == (2, 3)


@BOTH
def test_a_bare_string_for_metrics_is_refused(L):
    model = L.Sequential([L.Input((3,)), L.layers.Dense(1)])
    with pytest.raises(ValueError, match=r"Expected `metrics` argument to be a list, tuple, or "
                                         r"dict\. Received instead: metrics=accuracy"):
        model.compile(loss="mse", metrics="accuracy")


@BOTH
def test_input_shape_given_to_a_layer_warns(L):
    with pytest.warns(UserWarning, match=r"Do not pass an `input_shape`/`input_dim` argument "
                                         r"to a layer"):
        L.layers.Dense(2, input_shape=(3,))


@BOTH
def test_one_sample_without_its_batch_axis_is_refused(L):
    model = L.Sequential([L.Input((3,)), L.layers.Dense(2)])
    with pytest.raises(ValueError, match=r"Expected shape \(None, 3\), but input has "
                                         r"incompatible shape \(3,\)"):
        model.predict(np.ones(3, "float32"), verbose=0)


@BOTH
def test_a_size_one_last_axis_is_added_or_removed_as_in_keras(L):
    inputs = L.Input((4, 1))
    model = L.Model(inputs, L.layers.Flatten()(inputs))
    assert model.predict(np.ones((2, 4), "float32"), verbose=0).shape == (2, 4)
    inputs = L.Input((4,))
    model = L.Model(inputs, L.layers.Dense(1)(inputs))
    assert model.predict(np.ones((2, 4, 1), "float32"), verbose=0).shape == (2, 1)


@BOTH
@pytest.mark.parametrize("bad", [np.array([["a", "b", "c"]]),
                                 np.array([[1, "b", None]], dtype=object)], ids=["str", "object"])
def test_strings_and_objects_are_refused_at_the_data_boundary(L, bad):
    model = L.Sequential([L.Input((3,)), L.layers.Dense(2)])
    with pytest.raises(ValueError, match="Invalid dtype"):
        model.predict(bad, verbose=0)


def test_the_dtype_error_names_the_input_and_what_to_do():
    model = minikeras.Sequential([minikeras.Input((3,)), minikeras.layers.Dense(2)])
    model.compile(loss="mse")
    with pytest.raises(ValueError, match=r"Invalid dtype: y holds strings \(dtype <U1\), but a "
                                         r"model takes numbers\. Convert it first"):
        model.fit(np.ones((2, 3)), np.array([["1", "2"], ["3", "4"]]), verbose=0)


# ------------------------------------------------------------- data as Keras takes it
def _small_model():
    model = minikeras.Sequential([minikeras.Input((3,)), minikeras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_a_generator_that_runs_out_ends_training_with_keras_warning():
    def batches():
        for _ in range(3):
            yield np.ones((4, 3), "float32"), np.ones((4, 1), "float32")
    with pytest.warns(UserWarning, match=r"Your input ran out of data; interrupting training"):
        history = _small_model().fit(batches(), epochs=3, steps_per_epoch=2, verbose=0)
    assert len(history.history["loss"]) == 2  # epoch 2 got one batch of its two, then it ended


def test_a_re_iterable_is_read_anew_each_epoch_with_lists_as_batches():
    class Loader:  # what a torch DataLoader looks like: __iter__ and __len__, lists [x, y]
        def __init__(self):
            self.passes = 0

        def __iter__(self):
            self.passes += 1
            for _ in range(2):
                yield [np.ones((4, 3), "float32"), np.ones((4, 1), "float32")]

        def __len__(self):
            return 2

    loader = Loader()
    history = _small_model().fit(loader, epochs=3, verbose=0)
    assert loader.passes == 3 and len(history.history["loss"]) == 3


@BOTH
def test_saving_an_unbuilt_model_warns(L, tmp_path):
    with pytest.warns(UserWarning, match="You are saving a model that has not yet been built"):
        L.Sequential([L.layers.Dense(2)]).save(str(tmp_path / "unbuilt.keras"))


def test_saving_into_a_missing_folder_names_the_users_path(tmp_path):
    model = minikeras.Sequential([minikeras.Input((3,)), minikeras.layers.Dense(2)])
    target = tmp_path / "no_such_folder" / "m.keras"
    with pytest.raises(FileNotFoundError, match=r"No such file or directory: '.*no_such_folder"
                                                r"/m\.keras': the folder .* does not exist"):
        model.save(str(target))


def test_float_labels_are_cast_by_one_hot_and_the_losses_as_in_keras():
    labels = np.array([1.0, 0.0, 2.0])
    np.testing.assert_array_equal(minikeras.ops.one_hot(labels, 3).numpy(),
                                  np.eye(3, dtype="float32")[[1, 0, 2]])
    probs = np.array([[0.2, 0.7, 0.1], [0.5, 0.3, 0.2], [0.1, 0.1, 0.8]], "float32")
    ours = minikeras.losses.SparseCategoricalCrossentropy()(labels, probs)
    theirs = keras.losses.SparseCategoricalCrossentropy()(labels, probs)
    np.testing.assert_allclose(float(ours), float(theirs), rtol=1e-6)


def test_steps_per_epoch_past_the_data_warns_each_epoch_and_goes_on_as_keras():
    model = _small_model()
    with pytest.warns(UserWarning, match="Your input ran out of data") as caught:
        history = model.fit(np.ones((8, 3)), np.ones((8, 1)), batch_size=4, epochs=3,
                            steps_per_epoch=5, verbose=0)
    assert len(history.history["loss"]) == 3
    assert sum("ran out of data" in str(w.message) for w in caught) == 3


def test_python_lists_to_fit_warn_that_keras_refuses_them():
    with pytest.warns(UserWarning, match=r"x is a Python list of numbers.*Keras 3 refuses it"):
        _small_model().fit([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], np.ones((2, 1)), verbose=0)


@BOTH
def test_masks_travel_while_a_functional_graph_is_built(L):
    """The masking guide: a symbolic tensor from Embedding(mask_zero=True) carries
    ``_keras_mask``, and a layer's ``call(mask=...)`` receives one while the graph is built."""
    seen = []

    class Probe(L.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, x, mask=None):
            seen.append(None if mask is None else len(mask.shape))
            return x

    inputs = L.Input((None,), dtype="int32")
    embedded = L.layers.Embedding(10, 4, mask_zero=True)(inputs)
    assert embedded._keras_mask is not None and len(embedded._keras_mask.shape) == 2
    assert str(embedded._keras_mask.dtype) == "bool"
    probed = Probe()(embedded)
    assert seen and all(rank == 2 for rank in seen)
    assert probed._keras_mask is not None  # a layer that supports masking hands it on
    summary = L.layers.LSTM(3)(probed)
    assert getattr(summary, "_keras_mask", None) is None  # the last step only: no time axis


def test_errors_while_building_show_none_for_the_batch_never_a_probe_size():
    class Mismatch(minikeras.layers.Layer):
        def call(self, x):
            return minikeras.ops.matmul(x, minikeras.ops.ones((7, 2)))

    with pytest.raises(ValueError, match=r"Full shape received: \(None, 4\)$"):
        minikeras.layers.Conv2D(2, 3)(minikeras.Input((4,)))
    with pytest.raises(ValueError, match=r"cannot multiply shapes \(None, None, 4\) and \(7, 2\)"):
        Mismatch()(minikeras.Input((None, 4)))


def test_a_cell_state_of_several_axes_per_sample_is_refused_by_name():
    """The RNN guide's NestedCell has a state of shape (unit_2, unit_3) per sample (given as
    tf.TensorShape); minikeras carries (batch, units) states and says so."""
    class Shape:                       # what a tf.TensorShape looks like to the layer
        def __init__(self, dims):
            self.dims = dims

        def __iter__(self):
            return iter(self.dims)

        def __repr__(self):
            return f"TensorShape({self.dims})"

    class NestedCell(minikeras.layers.Layer):
        def __init__(self, shapes):
            super().__init__()
            self.state_size, self.output_size = shapes, 4

    assert minikeras.layers.RNN(NestedCell([Shape([4]), 3]))._flat_sizes == [4, 3]
    with pytest.raises(ValueError, match=r"the cell NestedCell has a state of shape "
                                         r"TensorShape\(\[3, 2\]\) per sample; .* each entry "
                                         r"of state_size must be an int"):
        minikeras.layers.RNN(NestedCell([Shape([4]), Shape([3, 2])]))


def test_model_parameters_the_torch_method_says_what_to_write_instead():
    model = minikeras.Sequential([minikeras.Input((3,)), minikeras.layers.Dense(2)])
    with pytest.raises(AttributeError, match=r"Sequential.parameters\(\) is PyTorch's "
                                             r"nn.Module method: .* torch.optim and torch "
                                             r"losses cannot work on its weights.*"
                                             r"optimizer.apply\(grads, model.trainable_weights\)"):
        model.parameters()
