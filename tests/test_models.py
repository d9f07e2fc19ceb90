"""Sequential, functional and subclassed models: building, layers, summary, training loop."""
import io
import re

import numpy as np
import pytest

import minikeras as keras
from minikeras import layers

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def blobs(n=120, features=4, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, size=(classes, features))
    y = rng.integers(0, classes, size=n)
    x = centers[y] + rng.normal(0, 0.5, size=(n, features))
    return x.astype("float32"), y.astype("int32")


# ------------------------------------------------------------------ building
def test_sequential_built_from_input_and_layers_list():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(8, activation="relu"),
                              layers.Dense(3)])
    assert model.built and len(model.layers) == 2
    assert model.input_shape == (None, 4)
    assert model.output.shape == (None, 3)
    assert model.count_params() == 4 * 8 + 8 + 8 * 3 + 3


def test_sequential_add_pop_and_build_on_first_data():
    model = keras.Sequential()
    model.add(layers.Dense(5))
    model.add(layers.Dense(2))
    assert not model.built
    out = model(np.zeros((3, 7), "float32"))
    assert out.shape == (3, 2) and model.built
    assert model.layers[0].kernel.shape == (7, 5)
    popped = model.pop()
    assert isinstance(popped, layers.Dense) and len(model.layers) == 1
    with pytest.raises(ValueError, match="Only instances of `keras.Layer` can be added"):
        model.add("dense")


def test_sequential_unbuilt_input_error():
    model = keras.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="has never been called and thus has no defined input"):
        model.inputs


def test_functional_multi_input_output_and_shared_layer():
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    shared = layers.Dense(4, activation="tanh", name="shared")
    ha, hb = shared(a), shared(b)
    out1 = layers.Dense(1, name="out1")(ha)
    out2 = layers.Dense(2, name="out2")(hb)
    model = keras.Model([a, b], [out1, out2])
    xa, xb = np.ones((5, 3), "float32"), np.zeros((5, 3), "float32")
    y1, y2 = model([xa, xb])
    assert y1.shape == (5, 1) and y2.shape == (5, 2)
    assert model.get_layer("shared") is shared
    names = [layer.name for layer in model.layers]
    assert names[:2] == ["a", "b"] and "shared" in names
    # shared weights counted once
    assert model.count_params() == (3 * 4 + 4) + (4 + 1) + (4 * 2 + 2)


def test_functional_feature_extraction_from_intermediate_layer():
    x = keras.Input((6,))
    h = layers.Dense(4, name="hidden")(x)
    y = layers.Dense(2)(h)
    model = keras.Model(x, y)
    extractor = keras.Model(model.inputs, model.get_layer("hidden")._inbound[-1].outputs)
    data = np.random.rand(3, 6).astype("float32")
    expected = data @ model.get_layer("hidden").kernel.numpy()
    np.testing.assert_allclose(extractor(data).numpy(), expected, rtol=1e-5)


def test_functional_wrong_input_shape():
    x = keras.Input((6,))
    model = keras.Model(x, layers.Dense(2)(x))
    with pytest.raises(ValueError, match=r"expected shape \(None, 6\), but received input with "
                                         r"shape \(2, 5\)"):
        model(np.zeros((2, 5), "float32"))


def test_graph_disconnected():
    a, b = keras.Input((2,)), keras.Input((2,))
    out = layers.Dense(1)(b)
    with pytest.raises(ValueError, match="Graph disconnected"):
        keras.Model(a, out)


def test_subclassed_model():
    class MLP(keras.Model):
        def __init__(self):
            super().__init__(name="mlp")
            self.hidden = layers.Dense(8, activation="relu")
            self.out = layers.Dense(3)

        def call(self, x, training=False):
            return self.out(self.hidden(x))

    model = MLP()
    y = model(np.ones((2, 4), "float32"))
    assert y.shape == (2, 3)
    assert len(model.trainable_weights) == 4 and model.layers == [model.hidden, model.out]


def test_get_layer_errors():
    model = keras.Sequential([keras.Input((2,)), layers.Dense(1, name="d")])
    assert model.get_layer(index=0).name == "d"
    with pytest.raises(ValueError, match="No such layer: e. Existing layers are: \\['d'\\]"):
        model.get_layer("e")
    with pytest.raises(ValueError, match="index 3 but model only has 1 layers"):
        model.get_layer(index=3)


# ------------------------------------------------------------------ summary
def test_summary_matches_keras_layout(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # a wide terminal: Keras's full 88 columns
    model = keras.Sequential([keras.Input((64,)), layers.Dense(32, name="dense"),
                              layers.Dense(10, name="dense_out")], name="seq")
    lines = []
    model.summary(print_fn=lines.append)
    text = lines[0].splitlines()
    assert text[0] == 'Model: "seq"'
    assert text[1] == "┏" + "━" * 38 + "┳" + "━" * 29 + "┳" + "━" * 17 + "┓"
    assert text[2] == "┃ Layer (type)" + " " * 25 + "┃ Output Shape" + " " * 16 + "┃" + " " * 9 + "Param # ┃"
    assert text[4] == "│ dense (Dense)" + " " * 24 + "│ (None, 32)" + " " * 18 + "│" + " " * 11 + "2,080 │"
    assert text[-3] == " Total params: 2,410 (9.41 KB)"
    assert text[-2] == " Trainable params: 2,410 (9.41 KB)"
    assert text[-1] == " Non-trainable params: 0 (0.00 B)"
    monkeypatch.setenv("COLUMNS", "60")   # a narrow one: 56 columns, the columns shrink
    lines = []
    model.summary(print_fn=lines.append)
    assert all(len(line) == 56 for line in lines[0].splitlines()[1:-3])


def test_summary_of_unbuilt_layers():
    model = keras.Sequential([layers.Dense(2, name="d")])
    lines = []
    model.summary(print_fn=lines.append)
    assert "│ d (Dense)" in lines[0] and "0 (unbuilt)" in lines[0] and "?" in lines[0]


# ------------------------------------------------------------------ training
def test_fit_before_compile():
    model = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    with pytest.raises(ValueError, match="You must call `compile\\(\\)` before using the model"):
        model.fit(np.zeros((4, 2)), np.zeros((4, 1)), verbose=0)


def test_fit_learns_and_history_and_evaluate_predict():
    x, y = blobs()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), layers.Dense(16, activation="relu"),
                              layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0, validation_split=0.25)
    assert set(history.history) == {"accuracy", "loss", "val_accuracy", "val_loss"}
    assert len(history.history["loss"]) == 15 and history.epoch == list(range(15))
    assert history.history["loss"][-1] < history.history["loss"][0]
    loss, acc = model.evaluate(x, y, verbose=0)
    assert acc > 0.9
    assert model.evaluate(x, y, verbose=0, return_dict=True)["accuracy"] == pytest.approx(acc)
    probs = model.predict(x, verbose=0)
    assert probs.shape == (120, 3) and isinstance(probs, np.ndarray)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert np.mean(probs.argmax(1) == y) == pytest.approx(acc)


def test_fit_progress_bar_output(capsys):
    x, y = blobs(n=40)
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=16, validation_data=(x, y))
    out = ANSI.sub("", capsys.readouterr().out)
    assert "Epoch 1/2\n" in out and "Epoch 2/2\n" in out
    final = [line for line in out.replace("\r", "\n").splitlines() if line.startswith("3/3 ")]
    assert final, out
    assert re.match(r"^3/3 \u2501{20} \d+s \d+(us|ms|s)/step - accuracy: \d\.\d{4} - loss: "
                    r"\d\.\d{4} - val_accuracy: \d\.\d{4} - val_loss: \d\.\d{4}", final[-1]), final


def test_fit_verbose_2_one_line_per_epoch(capsys):
    x, y = blobs(n=40)
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=2, batch_size=20, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and re.match(r"^2/2 - \d+s - .*/step - loss: \d", lines[1])
    assert len(lines) == 4


def test_x_and_y_of_different_lengths():
    model = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="(?s)Data cardinality is ambiguous.*'x' sizes: 10\n'y' sizes: 8"):
        model.fit(np.zeros((10, 2)), np.zeros((8, 1)), verbose=0)
    with pytest.raises(ValueError, match="Expected input data to be non-empty"):
        model.fit(np.zeros((0, 2)), np.zeros((0, 1)), verbose=0)


def test_train_on_batch_and_custom_loop_agree():
    x, y = blobs(n=32)
    keras.utils.set_random_seed(3)
    a = keras.Sequential([keras.Input((4,)), layers.Dense(3)])
    b = keras.Sequential([keras.Input((4,)), layers.Dense(3)])
    b.set_weights(a.get_weights())
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    a.compile(keras.optimizers.SGD(0.1), loss_fn)
    loss_a = a.train_on_batch(x, y)
    opt = keras.optimizers.SGD(0.1)
    with keras.GradientTape() as tape:
        loss_b = loss_fn(y, b(x, training=True))
    grads = tape.gradient(loss_b, b.trainable_weights)
    opt.apply_gradients(zip(grads, b.trainable_weights))
    assert loss_a == pytest.approx(loss_b.item(), rel=1e-6)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-6)


def test_tape_holds_no_nodes_after_each_step():
    from minikeras.autograd import state
    x, y = blobs(n=32)
    model = keras.Sequential([keras.Input((4,)), layers.Dense(8, activation="relu"), layers.Dense(3)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.train_on_batch(x, y)
    assert state.tapes == []
    import gc
    import weakref
    gc.collect()
    with keras.GradientTape() as probe:
        pass
    assert probe.nodes == []
    # no node created during the step survives it (all freed by reference counting)
    from minikeras.autograd import Function
    before = sum(isinstance(o, Function) and o.seq >= 0 for o in gc.get_objects())
    gc.disable()
    try:
        for _ in range(3):
            model.train_on_batch(x, y)
        after = sum(isinstance(o, Function) and o.seq >= 0 for o in gc.get_objects())
    finally:
        gc.enable()
    assert after <= before


def test_class_weight_and_sample_weight():
    x, y = blobs(n=30)
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, class_weight={0: 1.0, 1: 2.0, 2: 0.5}, verbose=0, epochs=1)
    model.fit(x, y, sample_weight=np.ones(30), verbose=0, epochs=1)
    # a class left out weighs 1, as in Keras 3
    from minikeras.models.data import class_weights_to_sample_weights
    np.testing.assert_array_equal(class_weights_to_sample_weights(y, {0: 3.0}),
                                  np.where(y == 0, 3.0, 1.0))


def test_fit_on_a_generator_and_steps_per_epoch():
    x, y = blobs(n=64)

    def gen():
        while True:
            for i in range(0, 64, 16):
                yield x[i:i + 16], y[i:i + 16]

    model = keras.Sequential([keras.Input((4,)), layers.Dense(3)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(gen(), steps_per_epoch=4, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_early_stopping_restores_best_weights():
    x, y = blobs(n=40)
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3)])
    model.compile(keras.optimizers.SGD(0.0), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=1, restore_best_weights=True)
    history = model.fit(x, y, epochs=10, verbose=0, callbacks=[stop], shuffle=False)
    assert len(history.history["loss"]) == 2  # no improvement with lr 0: stop after patience


def test_nan_loss_continues_without_terminate_on_nan_and_stops_with_it():
    x = np.ones((8, 2), "float32")
    y = np.full((8, 1), np.nan, "float32")
    model = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit(x, y, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isnan(history.history["loss"][-1])
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[keras.callbacks.TerminateOnNaN()])
    assert len(history.history["loss"]) == 1


def test_weight_constraint_applied_after_each_update():
    x, y = blobs(n=16)
    model = keras.Sequential([keras.Input((4,)),
                              layers.Dense(3, kernel_constraint="non_neg")])
    model.compile(keras.optimizers.SGD(0.5), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=2, verbose=0)
    assert model.layers[0].kernel.numpy().min() >= 0.0


def test_metric_strings_keep_their_names_in_the_logs():
    x = np.random.default_rng(0).normal(size=(20, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    model.compile("sgd", "mse", metrics=["mae", "mse"])
    logs = model.train_on_batch(x, y, return_dict=True)
    assert list(logs) == ["loss", "mae", "mse"]
    assert logs["mse"] == pytest.approx(logs["loss"], rel=1e-5)


def test_layer_output_for_feature_extraction_the_keras_way():
    x = keras.Input((6,))
    h = layers.Dense(4, name="hidden")(x)
    model = keras.Model(x, layers.Dense(2)(h))
    extractor = keras.Model(model.input, model.get_layer("hidden").output)
    data = np.random.rand(3, 6).astype("float32")
    np.testing.assert_allclose(extractor(data).numpy(), data @ model.get_layer("hidden").kernel.numpy(),
                               rtol=1e-5)
    with pytest.raises(AttributeError, match="has never been called and thus has no defined output"):
        layers.Dense(2).output


def test_model_used_as_a_layer_and_dict_inputs_in_fit():
    inner = keras.Sequential([keras.Input((6,)), layers.Dense(4), layers.Dense(2)])
    inp = keras.Input((6,))
    outer = keras.Model(inp, layers.Dense(1)(inner(inp)))
    assert outer(np.ones((2, 6), "float32")).shape == (2, 1)
    assert len(outer.trainable_weights) == 6  # the inner model's weights are trained too
    a, b = keras.Input((2,), name="a"), keras.Input((3,), name="b")
    model = keras.Model({"a": a, "b": b}, layers.Dense(1)(layers.Concatenate()([a, b])))
    model.compile("sgd", "mse")
    history = model.fit({"a": np.ones((8, 2)), "b": np.ones((8, 3))}, np.ones((8, 1)), epochs=2,
                        verbose=0)
    assert len(history.history["loss"]) == 2


def test_two_outputs_with_a_loss_each_and_loss_weights():
    x = keras.Input((3,))
    h = layers.Dense(4, activation="relu")(x)
    reg = layers.Dense(1, name="reg")(h)
    cls = layers.Dense(2, name="cls")(h)
    model = keras.Model(x, [reg, cls])
    model.compile("adam", loss=["mse", keras.losses.SparseCategoricalCrossentropy(from_logits=True)],
                  loss_weights=[1.0, 0.5], metrics=[[], ["accuracy"]])
    data = np.random.rand(16, 3).astype("float32")
    logs = model.train_on_batch(data, [np.zeros((16, 1)), np.zeros(16, "int32")], return_dict=True)
    assert set(logs) == {"loss", "reg_loss", "cls_loss", "cls_accuracy"}  # as in Keras 3


def test_unknown_names_fail_at_compile_listing_the_valid_ones():
    model = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    with pytest.raises(ValueError, match="Unknown optimizer: 'adamx'. Valid names: .*adam"):
        model.compile("adamx", "mse")
    with pytest.raises(ValueError, match="msex.*mean_squared_error"):
        model.compile("adam", "msex")
    with pytest.raises(ValueError, match="acuracy"):
        model.compile("adam", "mse", metrics=["acuracy"])


def test_model_input_and_output_shapes():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    assert model.input_shape == (None, 3) and model.output_shape == (None, 2)
    a, b = keras.Input((4,)), keras.Input((5,))
    two = keras.Model([a, b], [layers.Dense(1)(a), layers.Dense(6)(b)])
    assert two.input_shape == [(None, 4), (None, 5)]
    assert two.output_shape == [(None, 1), (None, 6)]


def test_fit_is_reproducible_after_set_random_seed():
    x = np.random.default_rng(0).normal(size=(40, 3)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("int32")

    def run():
        keras.utils.set_random_seed(7)
        model = keras.Sequential([keras.Input((3,)), layers.Dense(4, activation="relu"),
                                  layers.Dense(2)])
        model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        return model.fit(x, y, batch_size=8, epochs=3, verbose=0).history["loss"]

    assert run() == run()


def test_functional_shapes_with_unknown_time_and_image_sizes():
    """Unknown sizes beyond the batch stay unknown through convolutions, pooling, cropping
    and recurrent layers (Keras's text-classification convnet has Input((None,)))."""
    conv = keras.Sequential([keras.Input((None, None, 1)), layers.Conv2D(4, 3),
                             layers.MaxPooling2D(2), layers.Cropping2D(1)])
    assert conv.output_shape == (None, None, None, 4)
    text = keras.Sequential([keras.Input((None,), dtype="int64"), layers.Embedding(100, 8),
                             layers.Conv1D(16, 7, strides=3, activation="relu"),
                             layers.GlobalMaxPooling1D(), layers.Dense(1)])
    assert text.output_shape == (None, 1)
    assert text(np.ones((2, 50), "int64")).shape == (2, 1)
    assert layers.Conv1D(2, 1, strides=3)(keras.Input((None, 4))).shape == (None, None, 2)
    assert layers.Conv2D(2, 3, strides=2, padding="same")(
        keras.Input((None, 8, 3))).shape == (None, None, 4, 2)


def test_shapes_when_no_probe_size_fits_and_shapes_too_large_to_probe():
    assert layers.Reshape((-1, 4))(keras.Input((None, 6))).shape == (None, None, 4)
    assert layers.Conv1D(2, 100)(keras.Input((None, 4))).shape == (None, None, 2)
    assert layers.MaxPooling1D(120)(keras.Input((None, 4))).shape == (None, None, 4)
    model = keras.Sequential([keras.Input((None, 6)), layers.Reshape((-1, 4))])
    assert model(np.ones((2, 10, 6), "float32")).shape == (2, 15, 4)
    with pytest.raises(ValueError, match=r"The symbolic shape \(None, 40000, 40000\) is too "
                                         r"large for minikeras to infer"):
        layers.Dense(2)(keras.Input((40000, 40000)))


def test_summary_options_not_available_say_so():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    with pytest.raises(NotImplementedError, match=r"summary\(expand_nested=..., layer_range=...\) "
                                                  r"is not available in minikeras yet"):
        model.summary(expand_nested=True)
