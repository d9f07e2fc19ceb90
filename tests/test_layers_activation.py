"""Activation layers: forward against NumPy, gradients (inputs, and PReLU's alpha) against
finite differences in float64 on hypothesis-drawn shapes with values kept away from the
kinks, masks, config round trips, and Keras's error messages."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minikeras as keras
from minikeras import layers
from minikeras.utils import check_layer_gradients


def batch_shapes(min_dims=2, max_dims=4):
    return st.lists(st.integers(1, 4), min_size=min_dims, max_size=max_dims).map(tuple)


def rand(shape, seed=0, kinks=(0.0,), gap=0.05):
    """Uniform values in [-2, 8), none within ``gap`` of a kink (finite differences there
    would straddle it). The kinks must be more than 2·gap apart."""
    x = np.random.default_rng(seed).uniform(-2, 8, size=shape)
    for k in kinks:
        near = np.abs(x - k) < gap
        x[near] = k + 2 * gap
    return x


@given(shape=batch_shapes(), seed=st.integers(0, 99),
       max_value=st.sampled_from([None, 1.0, 6.0]),
       negative_slope=st.sampled_from([0.0, 0.1, 0.3]), threshold=st.sampled_from([0.0, 0.5]))
def test_relu_forward_and_gradients(shape, seed, max_value, negative_slope, threshold):
    layer = layers.ReLU(max_value=max_value, negative_slope=negative_slope, threshold=threshold,
                        dtype="float64")
    x = rand(shape, seed, kinks=(0.0, threshold) + (() if max_value is None else (max_value,)))
    top = np.inf if max_value is None else max_value
    ref = np.where(x >= top, top, np.where(x > threshold, x, negative_slope * (x - threshold)))
    np.testing.assert_allclose(layer(x).numpy(), ref, rtol=1e-12)
    assert check_layer_gradients(layer, x).ok


@given(shape=batch_shapes(), seed=st.integers(0, 99),
       negative_slope=st.sampled_from([None, 0.0, 0.01, 1.5]))
def test_leaky_relu_forward_and_gradients(shape, seed, negative_slope):
    layer = (layers.LeakyReLU(dtype="float64") if negative_slope is None
             else layers.LeakyReLU(negative_slope, dtype="float64"))
    slope = 0.3 if negative_slope is None else negative_slope   # the layer's default is 0.3
    x = rand(shape, seed)
    np.testing.assert_allclose(layer(x).numpy(), np.where(x > 0, x, slope * x), rtol=1e-12)
    assert check_layer_gradients(layer, x).ok


@given(shape=batch_shapes(), seed=st.integers(0, 99), alpha=st.sampled_from([1.0, 0.5, 2.0]))
def test_elu_forward_and_gradients(shape, seed, alpha):
    layer = layers.ELU(alpha=alpha, dtype="float64")
    x = rand(shape, seed) - 3.0                    # mostly the exponential part
    x[np.abs(x) < 0.05] = 0.1
    np.testing.assert_allclose(layer(x).numpy(), np.where(x > 0, x, alpha * np.expm1(x)),
                               rtol=1e-12)
    assert check_layer_gradients(layer, x).ok


@given(shape=batch_shapes(), seed=st.integers(0, 99), data=st.data())
def test_prelu_forward_and_gradients_with_alpha(shape, seed, data):
    shared = data.draw(st.lists(st.integers(1, len(shape) - 1), unique=True, max_size=2))
    layer = layers.PReLU(shared_axes=shared or None, dtype="float64")
    x = rand(shape, seed) - 3.0
    x[np.abs(x) < 0.05] = 0.1
    layer(x)                                               # build
    expected = tuple(1 if i in shared else n for i, n in enumerate(shape) if i > 0)
    assert layer.alpha.shape == expected
    assert [w.path for w in layer.weights] == [f"{layer.name}/alpha"]
    np.testing.assert_array_equal(layer.alpha.numpy(), 0.0)       # starts as a ReLU
    alpha = np.random.default_rng(seed + 1).uniform(0.1, 0.9, size=expected)
    layer.set_weights([alpha])
    np.testing.assert_allclose(layer(x).numpy(), np.where(x > 0, x, alpha * x), rtol=1e-12)
    report = check_layer_gradients(layer, x)        # rows: the input, then alpha
    assert report.ok, str(report)


def test_prelu_options_regularizer_and_input_check():
    layer = layers.PReLU(alpha_initializer=keras.initializers.Constant(0.25),
                         alpha_regularizer=keras.regularizers.L2(0.1), shared_axes=[1, 2],
                         dtype="float64")
    x = rand((2, 3, 4, 5)) - 3.0
    y = layer(x).numpy()
    assert layer.alpha.shape == (1, 1, 5)
    np.testing.assert_allclose(y, np.where(x > 0, x, 0.25 * x))
    (loss,) = layer.losses
    np.testing.assert_allclose(loss.numpy(), 0.1 * 5 * 0.25 ** 2)
    layer(np.zeros((1, 7, 2, 5)))                  # shared axes may change size
    with pytest.raises(ValueError, match=r"expected axis -1 of input shape to have value 5"):
        layer(np.zeros((1, 3, 4, 6)))
    with pytest.raises(ValueError, match="shared_axes must be axes of the input"):
        layers.PReLU(shared_axes=3)(np.zeros((2, 3)))


@given(shape=batch_shapes(), seed=st.integers(0, 99), data=st.data())
def test_softmax_forward_and_gradients(shape, seed, data):
    ndim = len(shape)
    axis = data.draw(st.one_of(st.integers(-ndim, ndim - 1),
                               st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim,
                                        unique=True)))
    layer = layers.Softmax(axis=axis, dtype="float64")
    x = rand(shape, seed)
    ax = tuple(axis) if isinstance(axis, list) else axis
    e = np.exp(x - x.max(axis=ax, keepdims=True))
    np.testing.assert_allclose(layer(x).numpy(), e / e.sum(axis=ax, keepdims=True), rtol=1e-10)
    assert check_layer_gradients(layer, x).ok


def test_softmax_mask():
    x = np.array([[1.0, 2.0, 3.0, 4.0], [0.5, 0.5, 0.5, 0.5]])
    mask = np.array([[True, True, False, True], [True, False, False, False]])
    y = layers.Softmax()(x, mask=mask).numpy()
    e = np.where(mask, np.exp(x), 0.0)
    np.testing.assert_allclose(y, e / e.sum(-1, keepdims=True), atol=1e-7)
    layer = layers.Softmax(dtype="float64")
    from minikeras.utils import check_gradients
    assert check_gradients(lambda t: layer(t, mask=mask), x).ok


def test_layers_in_a_model():
    inputs = keras.Input(shape=(4,))
    h = layers.PReLU()(layers.Dense(3)(inputs))
    h = layers.LeakyReLU()(layers.ELU()(layers.ReLU(max_value=6.0)(h)))
    model = keras.Model(inputs, layers.Softmax()(h))
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x = rand((6, 4)).astype("float32")
    y = np.eye(3, dtype="float32")[[0, 1, 2, 0, 1, 2]]
    model.fit(x, y, epochs=1, verbose=0)
    out = model.predict(x, verbose=0)
    np.testing.assert_allclose(out.sum(-1), 1.0, rtol=1e-5)
    assert [w.name for w in model.layers[2].weights] == ["alpha"]


def test_config_round_trip():
    for layer in [layers.ReLU(max_value=6.0, negative_slope=0.1, threshold=0.5),
                  layers.LeakyReLU(negative_slope=0.2), layers.ELU(alpha=0.5),
                  layers.Softmax(axis=[1, 2]),
                  layers.PReLU(alpha_regularizer="l2", alpha_constraint="non_neg",
                               shared_axes=[1])]:
        config = layer.get_config()
        clone = type(layer).from_config(config)
        assert clone.get_config() == config
    config = layers.PReLU(shared_axes=2).get_config()
    assert config["shared_axes"] == [2] and config["alpha_initializer"]["class_name"] == "Zeros"
    assert config["alpha_regularizer"] is None
    assert layers.LeakyReLU().get_config()["negative_slope"] == 0.3
    assert layers.ReLU().get_config()["max_value"] is None


def test_leaky_relu_alpha_is_deprecated():
    with pytest.warns(UserWarning, match="`alpha` is deprecated"):
        layer = layers.LeakyReLU(alpha=0.1)
    assert layer.negative_slope == 0.1


def test_errors():
    with pytest.raises(ValueError, match="max_value of a ReLU layer cannot be a negative value. "
                                         "Received: max_value=-1"):
        layers.ReLU(max_value=-1)
    with pytest.raises(ValueError, match="negative_slope of a ReLU layer cannot be a negative "
                                         "value. Received: negative_slope=None"):
        layers.ReLU(negative_slope=None)
    with pytest.raises(ValueError, match="threshold of a ReLU layer cannot be a negative value"):
        layers.ReLU(threshold=-0.5)
    with pytest.raises(ValueError, match="The negative_slope value of a Leaky ReLU layer cannot "
                                         "be None or negative value"):
        layers.LeakyReLU(negative_slope=-0.1)
