"""SpatialDropout1D/2D, GaussianNoise and GaussianDropout: identity at inference; in training
the statistics of the output over a large sample, whole channels dropped together, new noise
on every call and reproducible from a seed; gradients against finite differences (with the
noise held fixed); masks handed on; config round trips; errors."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minikeras import GradientTape, layers, ops
from minikeras.layers.layer import get_mask
from minikeras.tensor import Tensor
from minikeras.utils import check_gradients


def rand(shape, seed=0):
    return np.random.default_rng(seed).uniform(-2.0, 2.0, size=shape)


def with_fixed_noise(layer):
    """The layer in training mode as a function whose noise is the same on every call (the
    seed generator rewound), so finite differences see one function."""
    start = layer.seed_generator.counter

    def fn(x):
        layer.seed_generator.counter = start
        return layer(x, training=True)
    return fn


# ----------------------------------------------------------------------- spatial dropout
def test_spatial_dropout_1d_drops_whole_channels():
    layer = layers.SpatialDropout1D(0.3, seed=1)
    x = np.ones((400, 5, 50), "float32")
    np.testing.assert_array_equal(layer(x).numpy(), x)  # inference: the identity
    y = layer(x, training=True).numpy()
    # one decision per (sample, channel), shared by all 5 steps
    assert np.all(y == y[:, :1, :])
    kept = y[:, 0, :] != 0
    np.testing.assert_allclose(y[:, 0, :][kept], 1 / 0.7, rtol=1e-6)
    assert abs(kept.mean() - 0.7) < 0.01  # 20000 decisions: sd of the mean ≈ 0.003
    assert not np.array_equal(y, layer(x, training=True).numpy())  # new masks every call


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_spatial_dropout_2d_drops_whole_feature_maps(data_format):
    layer = layers.SpatialDropout2D(0.5, data_format=data_format, seed=2)
    shape = (300, 3, 4, 40) if data_format == "channels_last" else (300, 40, 3, 4)
    x = np.full(shape, 3.0, "float32")
    y = layer(x, training=True).numpy()
    maps = np.moveaxis(y, -1, 1) if data_format == "channels_last" else y  # (N, C, H, W)
    assert np.all(maps == maps[:, :, :1, :1])  # each feature map all kept or all dropped
    kept = maps[:, :, 0, 0] != 0
    np.testing.assert_allclose(maps[:, :, 0, 0][kept], 6.0)
    assert abs(kept.mean() - 0.5) < 0.015  # 12000 decisions: sd ≈ 0.0046
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)


@given(steps=st.integers(1, 4), channels=st.integers(1, 3), seed=st.integers(0, 99))
@settings(max_examples=10)
def test_spatial_dropout_gradients(steps, channels, seed):
    for layer, shape in ((layers.SpatialDropout1D(0.5, seed=seed, dtype="float64"),
                          (2, steps, channels)),
                         (layers.SpatialDropout2D(0.5, seed=seed, dtype="float64"),
                          (2, steps, 2, channels))):
        fn = with_fixed_noise(layer)
        x = rand(shape, seed)
        y = fn(x).numpy()
        # the same mask on every call; y is x masked and scaled
        assert np.all((y == 0) | np.isclose(y, 2 * x))
        report = check_gradients(fn, x)
        assert report.ok, str(report)


def test_spatial_dropout_is_reproducible_from_its_seed():
    x = np.ones((20, 3, 8), "float32")
    a = layers.SpatialDropout1D(0.5, seed=7)
    b = layers.SpatialDropout1D(0.5, seed=7)
    np.testing.assert_array_equal(a(x, training=True).numpy(), b(x, training=True).numpy())


def test_spatial_dropout_errors():
    with pytest.raises(ValueError, match=r"Invalid value received for argument `rate`. Expected "
                                         r"a float value between 0 and 1. Received: rate=1.5"):
        layers.SpatialDropout1D(1.5)
    with pytest.raises(ValueError, match=r"between 0 and 1. Received: rate=-0.1"):
        layers.SpatialDropout2D(-0.1)
    with pytest.raises(ValueError, match=r'"sd1" is incompatible with the layer: expected '
                                         r'ndim=3, found ndim=2. Full shape received: \(2, 3\)'):
        layers.SpatialDropout1D(0.5, name="sd1")(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r'"sd2" is incompatible.*expected ndim=4, found '
                                         r'ndim=3'):
        layers.SpatialDropout2D(0.5, name="sd2")(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=r"The `data_format` argument must be one of "
                                         r"\{'channels_first', 'channels_last'\}. Received: "
                                         r"data_format=nhwc"):
        layers.SpatialDropout2D(0.5, data_format="nhwc")


def test_rate_one_drops_everything():
    y = layers.SpatialDropout1D(1.0)(np.ones((2, 3, 4)), training=True).numpy()
    np.testing.assert_array_equal(y, 0.0)


# ----------------------------------------------------------------------- Gaussian noise
def test_gaussian_noise_statistics():
    layer = layers.GaussianNoise(0.3, seed=3)
    x = np.tile(np.linspace(-2, 2, 50, dtype="float32"), (4000, 1))
    np.testing.assert_array_equal(layer(x).numpy(), x)  # inference: the identity
    y = layer(x, training=True).numpy()
    assert y.dtype == np.float32
    noise = (y - x).ravel()  # 200000 draws of N(0, 0.09)
    assert abs(noise.mean()) < 0.005  # sd of the mean ≈ 0.0007
    assert abs(noise.var() - 0.09) < 0.003  # sd of the variance ≈ 0.0003
    column_means = (y - x).mean(axis=0)  # additive: the same law whatever x is
    assert np.all(np.abs(column_means) < 0.03)
    assert not np.array_equal(y, layer(x, training=True).numpy())


def test_gaussian_noise_gradient_is_the_identity():
    layer = layers.GaussianNoise(0.5, seed=0, dtype="float64")
    x = rand((3, 4), 1)
    report = check_gradients(with_fixed_noise(layer), x)
    assert report.ok, str(report)


# ----------------------------------------------------------------------- Gaussian dropout
def test_gaussian_dropout_statistics():
    rate = 0.2
    layer = layers.GaussianDropout(rate, seed=4)
    x = np.full((4000, 50), 2.0, "float32")
    np.testing.assert_array_equal(layer(x).numpy(), x)
    factor = (layer(x, training=True).numpy() / 2.0).ravel()  # 200000 draws of N(1, 0.25)
    assert abs(factor.mean() - 1.0) < 0.005  # sd of the mean ≈ 0.0011
    assert abs(factor.var() - rate / (1 - rate)) < 0.005  # sd ≈ 0.0008
    # multiplicative: zero stays zero
    np.testing.assert_array_equal(layer(np.zeros((3, 3)), training=True).numpy(), 0.0)


@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
       seed=st.integers(0, 99))
@settings(max_examples=10)
def test_gaussian_dropout_gradient_is_the_noise(shape, seed):
    layer = layers.GaussianDropout(0.4, seed=seed, dtype="float64")
    fn = with_fixed_noise(layer)
    x = rand(shape, seed) + 3.0  # away from 0, so y / x recovers the noise
    noise = fn(x).numpy() / x
    report = check_gradients(fn, x)
    assert report.ok, str(report)
    with_tape = Tensor(x, requires_grad=True)
    with GradientTape() as tape:
        tape.watch(with_tape)
        total = ops.sum(fn(with_tape))
    np.testing.assert_allclose(tape.gradient(total, with_tape).numpy(), noise, rtol=1e-12)


def test_noise_layer_errors():
    with pytest.raises(ValueError, match=r"argument `stddev`. Expected a float value between 0 "
                                         r"and 1. Received: stddev=1.5"):
        layers.GaussianNoise(1.5)
    with pytest.raises(ValueError, match=r"Received: stddev=-0.5"):
        layers.GaussianNoise(-0.5)
    with pytest.raises(ValueError, match=r"argument `rate`. Expected a float value between 0 and "
                                         r"1 \(1 excluded.*Received: rate=1.0"):
        layers.GaussianDropout(1.0)
    with pytest.raises(ValueError, match=r"Received: rate=-0.2"):
        layers.GaussianDropout(-0.2)


def test_zero_noise_is_the_identity_even_in_training():
    x = rand((3, 4), 2).astype("float32")
    for layer in (layers.GaussianNoise(0.0), layers.GaussianDropout(0.0),
                  layers.SpatialDropout1D(0.0)):
        np.testing.assert_array_equal(layer(x[None], training=True).numpy(), x[None])


# ----------------------------------------------------------------------- all four
def test_masks_are_handed_on_and_shapes_kept():
    mask = np.array([[True, True, False], [True, False, False]])
    for layer in (layers.SpatialDropout1D(0.5), layers.GaussianNoise(0.1),
                  layers.GaussianDropout(0.1)):
        x = Tensor(rand((2, 3, 4), 0).astype("float32"))
        x._keras_mask = Tensor(mask)
        for training in (False, True):
            np.testing.assert_array_equal(get_mask(layer(x, training=training)).numpy(), mask)
        assert layer.compute_output_shape((None, 3, 4)) == (None, 3, 4)


@pytest.mark.parametrize("make, keys", [
    (lambda: layers.SpatialDropout1D(0.25, seed=3, name="sd1_cfg"),
     {"rate", "seed", "name", "dtype"}),
    (lambda: layers.SpatialDropout2D(0.25, data_format="channels_first", name="sd2_cfg"),
     {"rate", "seed", "name", "dtype", "data_format"}),
    (lambda: layers.GaussianNoise(0.2, seed=5, name="gn_cfg"),
     {"stddev", "seed", "name", "trainable", "dtype"}),
    (lambda: layers.GaussianDropout(0.3, name="gd_cfg"),
     {"rate", "seed", "name", "trainable", "dtype"}),
])
def test_config_round_trip(make, keys):
    layer = make()
    config = layer.get_config()
    assert set(config) == keys
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
