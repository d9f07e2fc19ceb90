"""Permute, RepeatVector and Normalization: forward against NumPy, gradients against finite
differences in float64 on hypothesis-drawn shapes, Normalization's adapt against NumPy's
mean and variance, config round trips, and Keras's error messages."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minikeras as keras
from minikeras import layers
from minikeras.utils import check_layer_gradients


def rand(shape, seed=0):
    return np.random.default_rng(seed).uniform(-1.5, 1.5, size=shape)


# --------------------------------------------------------------------------- Permute
@given(shape=st.lists(st.integers(1, 4), min_size=2, max_size=5).map(tuple),
       seed=st.integers(0, 99), data=st.data())
def test_permute_forward_and_gradients(shape, seed, data):
    dims = tuple(data.draw(st.permutations(range(1, len(shape)))))
    layer = layers.Permute(dims, dtype="float64")
    x = rand(shape, seed)
    y = layer(x).numpy()
    np.testing.assert_array_equal(y, np.transpose(x, (0,) + dims))
    assert layer.compute_output_shape((None,) + shape[1:]) == (None,) + y.shape[1:]
    assert check_layer_gradients(layer, x).ok


def test_permute_errors_and_config():
    with pytest.raises(ValueError, match=r"Invalid permutation argument `dims` for Permute "
                                         r"Layer. The set of indices in `dims` must be "
                                         r"consecutive and start from 1. Received dims=\(0, 1\)"):
        layers.Permute((0, 1))
    with pytest.raises(ValueError, match=r'Input 0 of layer "perm" is incompatible with the '
                                         r"layer: expected ndim=3, found ndim=2"):
        layers.Permute((2, 1), name="perm")(np.zeros((2, 3)))
    config = layers.Permute((2, 1)).get_config()
    assert config["dims"] == (2, 1)
    assert layers.Permute.from_config(config).dims == (2, 1)
    x = keras.Input(shape=(3, 5))
    assert layers.Permute((2, 1))(x).shape == (None, 5, 3)


# --------------------------------------------------------------------------- RepeatVector
@given(batch=st.integers(1, 4), features=st.integers(1, 5), n=st.integers(1, 4),
       seed=st.integers(0, 99))
def test_repeat_vector_forward_and_gradients(batch, features, n, seed):
    layer = layers.RepeatVector(n, dtype="float64")
    x = rand((batch, features), seed)
    y = layer(x).numpy()
    np.testing.assert_array_equal(y, np.broadcast_to(x[:, None, :], (batch, n, features)))
    assert layer.compute_output_shape((None, features)) == (None, n, features)
    assert check_layer_gradients(layer, x).ok


def test_repeat_vector_errors_and_config():
    with pytest.raises(TypeError, match="Expected an integer value for `n`"):
        layers.RepeatVector(2.5)
    with pytest.raises(ValueError, match="expected ndim=2, found ndim=3"):
        layers.RepeatVector(2)(np.zeros((2, 3, 4)))
    layer = layers.RepeatVector(3, name="rep")
    assert layers.RepeatVector.from_config(layer.get_config()).n == 3
    assert layers.RepeatVector(4)(keras.Input(shape=(6,))).shape == (None, 4, 6)


# --------------------------------------------------------------------------- Normalization
def _axis_strategy(ndim):
    return st.one_of(st.none(), st.integers(-ndim, ndim - 1),
                     st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))


def _numpy_stats(data, axis):
    keep = () if axis is None else tuple(
        sorted(a % data.ndim for a in ((axis,) if isinstance(axis, int) else axis)))
    reduce = tuple(d for d in range(data.ndim) if d not in keep)
    return data.mean(axis=reduce, keepdims=True), data.var(axis=reduce, keepdims=True), keep


@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple),
       seed=st.integers(0, 99), data=st.data())
def test_normalization_adapt_forward_and_gradients(shape, seed, data):
    axis = data.draw(_axis_strategy(len(shape)))
    train = rand((5,) + shape[1:], seed) * 3 + 2
    layer = layers.Normalization(axis=axis, dtype="float64")
    layer.adapt(train)
    mean, var, keep = _numpy_stats(train, axis)
    kept_shape = tuple(train.shape[d] for d in keep)
    assert [w.name for w in layer.weights] == ["mean", "variance", "count"]
    assert layer.trainable_weights == []
    np.testing.assert_allclose(layer.adapt_mean.numpy(), mean.reshape(kept_shape), rtol=1e-12)
    np.testing.assert_allclose(layer.adapt_variance.numpy(), var.reshape(kept_shape),
                               rtol=1e-10, atol=1e-14)
    x = rand((2,) + shape[1:], seed + 1) if 0 not in keep else rand((5,) + shape[1:], seed + 1)
    ref = (x - mean) / np.maximum(np.sqrt(var), 1e-7)
    np.testing.assert_allclose(layer(x).numpy(), ref, rtol=1e-10, atol=1e-12)
    assert check_layer_gradients(layer, x).ok

    inverse = layers.Normalization(axis=axis, invert=True, dtype="float64")
    inverse.adapt(train)
    np.testing.assert_allclose(inverse(layer(x)).numpy(), x, rtol=1e-9, atol=1e-9)


def test_normalization_keras_examples():
    layer = layers.Normalization(axis=None)
    layer.adapt(np.array([1.0, 2.0, 3.0, 4.0, 5.0], "float32"))
    np.testing.assert_allclose(layer(np.array([1.0, 2.0, 3.0])).numpy(),
                               [-1.4142135, -0.70710677, 0.0], rtol=1e-6)
    adapt_data = np.array([[0.0, 7.0, 4.0], [2.0, 9.0, 6.0], [0.0, 7.0, 4.0], [2.0, 9.0, 6.0]])
    layer = layers.Normalization(axis=-1)
    layer.adapt(adapt_data)
    np.testing.assert_allclose(layer(np.array([[0.0, 7.0, 4.0]])).numpy(), [[-1.0, -1.0, -1.0]])
    assert int(layer.count.numpy()) == 4 and layer.count.dtype == np.int64
    given_stats = layers.Normalization(mean=3.0, variance=2.0)
    np.testing.assert_allclose(given_stats(np.array([[1.0], [2.0], [3.0]])).numpy(),
                               [[-1.4142135], [-0.70710677], [0.0]], rtol=1e-6)
    assert given_stats.weights == []
    invert = layers.Normalization(axis=-1, invert=True)
    invert.adapt(adapt_data)
    np.testing.assert_allclose(invert(np.array([[1.0, 2.0, 3.0]])).numpy(), [[2.0, 10.0, 8.0]])


def test_normalization_epsilon_on_the_standard_deviation():
    # A constant feature has variance 0: Keras divides by max(sqrt(0), 1e-7), not sqrt(1e-7).
    layer = layers.Normalization(dtype="float64")
    layer.adapt(np.array([[1.0, 5.0], [3.0, 5.0]]))
    y = layer(np.array([[2.0, 5.0 + 1e-9]])).numpy()
    np.testing.assert_allclose(y, [[0.0, 1e-9 / 1e-7]], rtol=1e-6)


def test_normalization_given_mean_and_variance_broadcast_to_the_kept_axes():
    layer = layers.Normalization(axis=(1, 2), mean=[1.0, 2.0], variance=[4.0, 9.0],
                                 dtype="float64")
    x = rand((2, 3, 2))
    np.testing.assert_allclose(layer(x).numpy(), (x - [1.0, 2.0]) / [2.0, 3.0])


def test_normalization_adapt_batches_and_tensors():
    data = rand((10, 3), 4) * 5 + 1
    whole = layers.Normalization(dtype="float64")
    whole.adapt(data)
    batched = layers.Normalization(dtype="float64")
    batched.adapt([data[:3], data[3:4], data[4:]])               # a list of batches
    np.testing.assert_allclose(batched.adapt_mean.numpy(), whole.adapt_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(batched.adapt_variance.numpy(), whole.adapt_variance.numpy(),
                               rtol=1e-12)
    assert int(batched.count.numpy()) == 10
    from_generator = layers.Normalization(dtype="float64")
    from_generator.adapt((data[i:i + 4], None) for i in range(0, 10, 4))  # (x, y) batches
    np.testing.assert_allclose(from_generator.adapt_mean.numpy(), whole.adapt_mean.numpy())
    from_tensor = layers.Normalization()
    from_tensor.adapt(keras.ops.convert_to_tensor(data.astype("float32")))
    np.testing.assert_allclose(from_tensor.adapt_mean.numpy(), whole.adapt_mean.numpy(),
                               rtol=1e-5)


def test_normalization_in_a_model_and_set_weights():
    norm = layers.Normalization()
    data = rand((20, 4)) * 10 + 3
    norm.adapt(data)
    inputs = keras.Input(shape=(4,))
    model = keras.Model(inputs, layers.Dense(1)(norm(inputs)))
    model.compile(optimizer="sgd", loss="mse")
    model.fit(data.astype("float32"), np.zeros((20, 1), "float32"), epochs=1, verbose=0)
    np.testing.assert_allclose(norm.adapt_mean.numpy(), data.mean(0), rtol=1e-5)  # untouched
    norm.set_weights([np.zeros(4), np.full(4, 4.0), np.array(0)])
    np.testing.assert_allclose(norm(np.full((1, 4), 2.0)).numpy(), [[1.0] * 4])
    # before adapt, like Keras, the layer uses mean 0 and variance 1 (the identity)
    fresh = layers.Normalization()
    np.testing.assert_allclose(fresh(np.array([[1.5, -2.0]])).numpy(), [[1.5, -2.0]])


def test_normalization_integer_inputs_become_floats():
    y = layers.Normalization(mean=1.0, variance=4.0)(np.array([[3, 5]], dtype="int32"))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), [[1.0, 2.0]])


def test_normalization_config_round_trip():
    layer = layers.Normalization(axis=(1, 2), mean=[1.0, 2.0], variance=[4.0, 9.0], invert=True)
    config = layer.get_config()
    assert config["axis"] == (1, 2) and config["mean"] == [1.0, 2.0] and config["invert"]
    assert layers.Normalization.from_config(config).get_config() == config
    config = layers.Normalization(axis=None).get_config()
    assert config["axis"] == () and config["mean"] is None and config["variance"] is None


def test_normalization_errors():
    with pytest.raises(ValueError, match="When setting values directly, both `mean` and "
                                         "`variance` must be set. Received: mean=1.0 and "
                                         "variance=None"):
        layers.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="must have the same shape"):
        layers.Normalization(mean=[1.0, 2.0], variance=1.0)
    with pytest.raises(ValueError, match=r"All `axis` values must be in the range \[-ndim, "
                                         r"ndim\). Received inputs with ndim=2, while "
                                         r"axis=\(2,\)"):
        layers.Normalization(axis=2).adapt(np.zeros((4, 3)))
    layer = layers.Normalization()
    layer.adapt(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"The layer was built with input_shape=\(4, 3\), but "
                                         r"adapt\(\) is being called with data with an "
                                         r"incompatible shape, data.shape=\(4, 5\)"):
        layer.adapt(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
        layer(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="All `axis` values to be kept must have a known shape"):
        layers.Normalization(axis=0)(keras.Input(shape=(3,)))
    with pytest.raises(ValueError, match="adapt\\(\\) cannot change them"):
        layers.Normalization(mean=0.0, variance=1.0).adapt(np.zeros((2, 1)))
    with pytest.raises(ValueError, match="empty iterable"):
        layers.Normalization().adapt([])
