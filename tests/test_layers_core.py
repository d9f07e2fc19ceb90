"""Core layers: forward against NumPy, gradients (inputs and weights) against finite
differences in float64 on hypothesis-drawn shapes, building, weights, config, errors."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minikeras as keras
from minikeras import layers
from minikeras.utils import check_layer_gradients


def batch_shapes(min_dims=2, max_dims=4):
    return st.lists(st.integers(1, 4), min_size=min_dims, max_size=max_dims).map(tuple)


def rand(shape, seed=0):
    return np.random.default_rng(seed).uniform(-1.5, 1.5, size=shape)


@given(shape=batch_shapes(), units=st.integers(1, 4), use_bias=st.booleans(),
       activation=st.sampled_from([None, "tanh", "sigmoid", "softplus"]), seed=st.integers(0, 99))
def test_dense_forward_and_gradients(shape, units, use_bias, activation, seed):
    layer = layers.Dense(units, activation=activation, use_bias=use_bias, dtype="float64")
    x = rand(shape, seed)
    y = layer(x).numpy()
    ref = x @ layer.kernel.numpy() + (layer.bias.numpy() if use_bias else 0)
    ref = {None: lambda v: v, "tanh": np.tanh, "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
           "softplus": lambda v: np.log1p(np.exp(v))}[activation](ref)
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-12)
    assert layer.kernel.shape == (shape[-1], units)
    assert [w.path for w in layer.weights] == [f"{layer.name}/kernel"] + (
        [f"{layer.name}/bias"] if use_bias else [])
    report = check_layer_gradients(layer, x)
    assert report.ok, str(report)


@given(shape=batch_shapes(), seed=st.integers(0, 99))
def test_activation_layer(shape, seed):
    x = rand(shape, seed)
    layer = layers.Activation("tanh", dtype="float64")
    np.testing.assert_allclose(layer(x).numpy(), np.tanh(x))
    assert check_layer_gradients(layer, x).ok


@given(shape=batch_shapes(), seed=st.integers(0, 99))
def test_flatten_reshape_identity_rescaling(shape, seed):
    x = rand(shape, seed)
    flat = layers.Flatten(dtype="float64")
    np.testing.assert_array_equal(flat(x).numpy(), x.reshape(shape[0], -1))
    assert check_layer_gradients(flat, x).ok
    target = (int(np.prod(shape[1:])),)
    reshape = layers.Reshape(target + (1,), dtype="float64")
    np.testing.assert_array_equal(reshape(x).numpy(), x.reshape((shape[0],) + target + (1,)))
    assert check_layer_gradients(reshape, x).ok
    np.testing.assert_array_equal(layers.Identity(dtype="float64")(x).numpy(), x)
    resc = layers.Rescaling(0.5, offset=2.0, dtype="float64")
    np.testing.assert_allclose(resc(x).numpy(), x * 0.5 + 2.0)
    assert check_layer_gradients(resc, x).ok


def test_lambda_layer():
    lam = layers.Lambda(lambda t: t * t, dtype="float64")
    x = rand((3, 2))
    np.testing.assert_allclose(lam(x).numpy(), x * x)
    assert check_layer_gradients(lam, x).ok


def test_dropout_training_and_inference():
    layer = layers.Dropout(0.5, seed=1)
    x = np.ones((200, 50), "float32")
    np.testing.assert_array_equal(layer(x).numpy(), x)  # inference: identity
    y = layer(x, training=True).numpy()
    kept = y != 0
    assert 0.4 < kept.mean() < 0.6
    np.testing.assert_allclose(y[kept], 2.0)  # kept values scaled by 1/(1-rate)
    assert not np.array_equal(y, layer(x, training=True).numpy())  # a new mask each call
    with pytest.raises(ValueError, match="between 0 and 1. Received: rate=1.5"):
        layers.Dropout(1.5)


def test_inputs_are_cast_to_the_layer_dtype():
    layer = layers.Dense(2)
    assert layer(np.ones((1, 3))).dtype == np.float32
    assert layer.kernel.dtype == np.float32


def test_automatic_unique_names():
    a, b = layers.Dense(1), layers.Dense(1)
    assert a.name != b.name and a.name.startswith("dense") and b.name.startswith("dense_")
    assert layers.Dense(1, name="mine").name == "mine"


def test_wrong_input_shape_names_the_layer_and_both_shapes():
    layer = layers.Dense(3, name="hidden")
    layer(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r'Input 0 of layer "hidden" is incompatible with the '
                                         r"layer: expected axis -1 of input shape to have value "
                                         r"4, but received input with shape \(2, 5\)"):
        layer(np.zeros((2, 5)))


def test_dense_invalid_units():
    with pytest.raises(ValueError, match="expected a positive integer. Received: units=0"):
        layers.Dense(0)


def test_reshape_bad_target():
    with pytest.raises(ValueError, match=r"cannot reshape samples of shape \(6,\).*\(4,\)"):
        layers.Reshape((4,))(np.zeros((2, 6)))


def test_weights_get_set_count_and_freezing():
    layer = layers.Dense(3)
    with pytest.raises(ValueError, match="isn't built"):
        layer.count_params()
    layer(np.zeros((1, 2)))
    assert layer.count_params() == 9
    w = [np.full((2, 3), 0.5, "float32"), np.arange(3, dtype="float32")]
    layer.set_weights(w)
    np.testing.assert_array_equal(layer.get_weights()[1], [0, 1, 2])
    with pytest.raises(ValueError, match=r"weight shape \(2, 3\) is not compatible with provided "
                                         r"weight shape \(3, 3\)"):
        layer.set_weights([np.zeros((3, 3)), np.zeros(3)])
    with pytest.raises(ValueError, match="expects 2 weights, but the given list has 1"):
        layer.set_weights([np.zeros((2, 3))])
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2


def test_regularizer_losses_and_add_loss():
    layer = layers.Dense(2, kernel_regularizer=keras.regularizers.L2(0.1), dtype="float64")
    layer(np.ones((1, 3)))
    (loss,) = layer.losses
    np.testing.assert_allclose(loss.numpy(), 0.1 * np.sum(layer.kernel.numpy() ** 2))


def test_get_config_round_trip():
    layer = layers.Dense(5, activation="relu", use_bias=False, name="d")
    config = layer.get_config()
    assert config["units"] == 5 and config["activation"] == "relu" and config["name"] == "d"
    clone = layers.Dense.from_config(config)
    assert clone.units == 5 and not clone.use_bias and clone.name == "d"


def test_custom_layer_with_build_and_call():
    class Scale(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight((input_shape[-1],), initializer="ones", name="w")

        def call(self, x):
            return x * self.w

    s = Scale(dtype="float64")
    x = rand((2, 3))
    np.testing.assert_allclose(s(x).numpy(), x)
    assert [w.name for w in s.weights] == ["w"]
    assert check_layer_gradients(s, x).ok


def test_weights_are_listed_layer_by_layer_and_freezing_keeps_the_order():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.BatchNormalization(),
                              layers.Dense(2)])
    names = [w.path.split("/", 1)[1] for w in model.weights]
    assert names == ["kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance",
                     "kernel", "bias"]                                  # Keras's order
    before = [w.copy() for w in model.get_weights()]
    order = [id(w) for w in model.weights]
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    y0 = model(x).numpy()
    model.layers[0].trainable = False
    assert [id(w) for w in model.weights] == order
    assert len(model.trainable_weights) == 4 and len(model.non_trainable_weights) == 4
    model.set_weights(before)                                          # same order as before
    np.testing.assert_array_equal(model(x).numpy(), y0)


def test_get_weights_returns_copies():
    layer = layers.Dense(2)
    layer(np.ones((1, 3), "float32"))
    w = layer.get_weights()
    w[0][:] = 0
    assert np.any(layer.kernel.numpy() != 0)
    assert not np.shares_memory(layer.get_weights()[0], layer.kernel.numpy())


def test_the_input_can_be_given_by_name():
    x = np.ones((2, 4, 3), "float32")
    assert layers.LSTM(3)(sequences=x).shape == (2, 3)
    assert layers.Dense(2)(inputs=x).shape == (2, 4, 2)
    with pytest.raises(TypeError, match='Layer "dense(_[0-9]+)?" was called without its input: '
                                        'pass it first or as inputs=...'):
        layers.Dense(2)()


def test_losses_hold_the_last_call_only():
    """An outermost call starts with no activity losses: losses do not pile up across calls
    (nor from the shape inference of the functional API), as in Keras."""
    x = keras.Input((4,))
    model = keras.Model(x, layers.Dense(3, activity_regularizer="l2", bias_initializer="ones")(x))
    assert len(model.losses) == 0
    for _ in range(3):
        model(np.ones((2, 4), "float32"))
    assert len(model.losses) == 1
    seq = keras.Sequential([keras.Input((4,)), layers.Dense(2, activity_regularizer="l1",
                                                            kernel_regularizer="l2")])
    seq(np.ones((2, 4), "float32"))
    seq(np.ones((2, 4), "float32"))
    assert len(seq.losses) == 2          # this call's activity loss + the kernel's L2


def test_a_layer_unfrozen_inside_a_frozen_model_trains_again_as_in_keras():
    inner = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.BatchNormalization()])
    x = keras.Input((4,))
    model = keras.Model(x, layers.Dense(2)(inner(x)))
    inner.trainable = False                      # freezes Dense and BatchNormalization
    assert [w.path.split("/")[-1] for w in model.trainable_weights] == ["kernel", "bias"]
    inner.layers[1].trainable = True             # the BatchNormalization trains again
    assert [w.path.split("/")[-1] for w in model.trainable_weights] == [
        "gamma", "beta", "kernel", "bias"]
    model.trainable = False
    assert model.trainable_weights == [] and len(model.non_trainable_weights) == 8


def test_fit_records_the_nodes_a_users_tape_records():
    """One tape: train_on_batch, a user's GradientTape and the model's own train_step record
    the same ops for the same model, with their source lines."""
    model = keras.Sequential([keras.Input((3,)), layers.Dense(4, activation="relu"),
                              layers.Dense(2)])
    model.compile("sgd", "mse")
    x, y = np.ones((2, 3), np.float32), np.zeros((2, 2), np.float32)
    recorded = []
    original = keras.GradientTape.gradient

    def spy(tape, target, sources, **kwargs):
        recorded.append([(n.name, n.where is not None) for n in tape.nodes])
        return original(tape, target, sources, **kwargs)
    keras.GradientTape.gradient = spy
    try:
        model.train_on_batch(x, y)
    finally:
        keras.GradientTape.gradient = original
    with keras.GradientTape() as tape:
        loss = model.compute_loss(x, y, model(x, training=True))
    mine = [(n.name, n.where is not None) for n in tape.nodes]
    assert recorded == [mine]
    assert [name for name, _ in mine[:5]] == ["MatMul", "Add", "Relu", "MatMul", "Add"]
    assert all(has_line for _, has_line in mine)
    assert loss.shape == ()
