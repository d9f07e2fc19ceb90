"""UpSampling1D/2D, ZeroPadding1D/2D, Cropping1D/2D: forward against plain-loop references,
gradients against finite differences in float64, output shapes against
compute_output_shape, config round trips and every error message."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minikeras import layers
from minikeras.utils import check_layer_gradients

formats = st.sampled_from(["channels_last", "channels_first"])


def rand(shape, seed):
    return np.random.default_rng(seed).uniform(-1.5, 1.5, size=shape)


def to_last(x, data_format):
    return np.moveaxis(x, 1, -1) if data_format == "channels_first" else x


def from_last(y, data_format):
    return np.moveaxis(y, -1, 1) if data_format == "channels_first" else y


def image(draw_sides, data_format, seed, channels):
    h, w = draw_sides
    shape = (2, channels, h, w) if data_format == "channels_first" else (2, h, w, channels)
    return rand(shape, seed)


def check_layer(layer, x, expected):
    y = layer(x)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)
    assert layer.compute_output_shape(x.shape) == y.shape
    report = check_layer_gradients(layer, x)
    assert report.ok, str(report)
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config
    return config


# --------------------------------------------------------------------------- up-sampling
@given(sides=st.tuples(st.integers(1, 4), st.integers(1, 4)), channels=st.integers(1, 3),
       size=st.tuples(st.integers(1, 3), st.integers(1, 3)), data_format=formats,
       seed=st.integers(0, 999))
def test_upsampling2d_nearest(sides, channels, size, data_format, seed):
    x = image(sides, data_format, seed, channels)
    last = to_last(x, data_format)
    n, h, w, c = last.shape
    expected = np.zeros((n, h * size[0], w * size[1], c))
    for i in range(h * size[0]):
        for j in range(w * size[1]):
            expected[:, i, j] = last[:, i // size[0], j // size[1]]
    layer = layers.UpSampling2D(size, data_format=data_format, dtype="float64")
    config = check_layer(layer, x, from_last(expected, data_format))
    assert config["size"] == size and config["interpolation"] == "nearest"


def bilinear_reference(last, size):
    """Each output samples the input at (o + 1/2)/factor - 1/2 along each axis (half-pixel
    centres), clamped to the border cells, mixing the two neighbouring cells linearly."""
    n, h, w, c = last.shape

    def taps(o, factor, length):
        at = min(max((o + 0.5) / factor - 0.5, 0.0), length - 1)
        low = int(math.floor(at))
        high = min(low + 1, length - 1)
        return [(low, 1 - (at - low)), (high, at - low)]

    out = np.zeros((n, h * size[0], w * size[1], c))
    for i in range(h * size[0]):
        for j in range(w * size[1]):
            for a, wa in taps(i, size[0], h):
                for b, wb in taps(j, size[1], w):
                    out[:, i, j] += wa * wb * last[:, a, b]
    return out


@given(sides=st.tuples(st.integers(1, 4), st.integers(1, 4)), channels=st.integers(1, 3),
       size=st.tuples(st.integers(1, 3), st.integers(1, 3)), data_format=formats,
       seed=st.integers(0, 999))
def test_upsampling2d_bilinear(sides, channels, size, data_format, seed):
    x = image(sides, data_format, seed, channels)
    expected = bilinear_reference(to_last(x, data_format), size)
    layer = layers.UpSampling2D(size, data_format=data_format, interpolation="Bilinear",
                                dtype="float64")
    config = check_layer(layer, x, from_last(expected, data_format))
    assert config["interpolation"] == "bilinear"


def test_bilinear_matches_tensorflow_resize_on_a_ramp():
    # tf.image.resize([0, 1], [4], "bilinear") samples at -0.25, 0.25, 0.75, 1.25 (clamped)
    x = np.array([0.0, 1.0]).reshape(1, 1, 2, 1)
    y = layers.UpSampling2D((1, 2), interpolation="bilinear", dtype="float64")(x)
    np.testing.assert_allclose(y.numpy().ravel(), [0.0, 0.25, 0.75, 1.0])


@given(steps=st.integers(1, 5), features=st.integers(1, 3), size=st.integers(1, 3),
       seed=st.integers(0, 999))
def test_upsampling1d(steps, features, size, seed):
    x = rand((2, steps, features), seed)
    expected = np.stack([x[:, t // size] for t in range(steps * size)], axis=1)
    config = check_layer(layers.UpSampling1D(size, dtype="float64"), x, expected)
    assert config["size"] == size


def test_upsampling_defaults_and_errors():
    assert layers.UpSampling2D().size == (2, 2) and layers.UpSampling1D().size == 2
    assert layers.UpSampling2D().name.startswith("up_sampling2d")
    with pytest.raises(ValueError, match=r'Layer "up" \(UpSampling2D\): `interpolation` must be '
                                         r"'nearest' or 'bilinear'.*Received: interpolation=cubic"):
        layers.UpSampling2D(interpolation="cubic", name="up")
    with pytest.raises(ValueError, match=r"The `size` argument must be a tuple of 2 integers. "
                                         r"Received size=\(2, 0\), including values \{0\}"):
        layers.UpSampling2D((2, 0))
    with pytest.raises(ValueError, match=r'Input 0 of layer "up2" is incompatible with the layer: '
                                         r"expected ndim=4, found ndim=3"):
        layers.UpSampling2D(name="up2")(np.zeros((1, 2, 3)))


# --------------------------------------------------------------------------- zero padding
def padding_forms():
    """An int, a (rows, cols) pair or ((top, bottom), (left, right)), with what it means."""
    n = st.integers(0, 2)
    return st.one_of(
        n.map(lambda p: (p, ((p, p), (p, p)))),
        st.tuples(n, n).map(lambda p: (p, ((p[0], p[0]), (p[1], p[1])))),
        st.tuples(st.tuples(n, n), st.tuples(n, n)).map(lambda p: (p, p)))


@given(sides=st.tuples(st.integers(1, 4), st.integers(1, 4)), channels=st.integers(1, 3),
       padding=padding_forms(), data_format=formats, seed=st.integers(0, 999))
def test_zero_padding2d(sides, channels, padding, data_format, seed):
    given_padding, ((top, bottom), (left, right)) = padding
    x = image(sides, data_format, seed, channels)
    last = to_last(x, data_format)
    n, h, w, c = last.shape
    expected = np.zeros((n, top + h + bottom, left + w + right, c))
    for i in range(h):
        for j in range(w):
            expected[:, top + i, left + j] = last[:, i, j]
    layer = layers.ZeroPadding2D(given_padding, data_format=data_format, dtype="float64")
    config = check_layer(layer, x, from_last(expected, data_format))
    assert config["padding"] == ((top, bottom), (left, right))


@given(steps=st.integers(1, 5), features=st.integers(1, 3),
       padding=st.one_of(st.integers(0, 2), st.tuples(st.integers(0, 2), st.integers(0, 2))),
       channels_first=st.booleans(), seed=st.integers(0, 999))
def test_zero_padding1d(steps, features, padding, channels_first, seed):
    before, after = (padding, padding) if isinstance(padding, int) else padding
    x = rand((2, steps, features), seed)
    expected = np.concatenate([np.zeros((2, before, features)), x,
                               np.zeros((2, after, features))], axis=1)
    data_format = "channels_first" if channels_first else "channels_last"
    if channels_first:
        x, expected = np.swapaxes(x, 1, 2).copy(), np.swapaxes(expected, 1, 2)
    layer = layers.ZeroPadding1D(padding, data_format=data_format, dtype="float64")
    config = check_layer(layer, x, expected)
    assert config["padding"] == (before, after)


@pytest.mark.parametrize("padding,message", [
    ((1, 2, 3), r"`padding` should have two elements. Received: padding=\(1, 2, 3\)"),
    (((1, 2), (1, 2, 3)), r"The `2nd entry of padding` argument must be a tuple of 2 integers. "
                          r"Received 2nd entry of padding=\(1, 2, 3\)"),
    (((1, -1), 2), r"Received 1st entry of padding=\(1, -1\), including values \{-1\} that do "
                   r"not satisfy `value >= 0`"),
    (-1, r"`padding` cannot be negative. Received: padding=-1"),
    (1.5, r"`padding` should be either an int, a tuple of 2 ints"),
])
def test_zero_padding2d_bad_arguments(padding, message):
    with pytest.raises(ValueError, match=message):
        layers.ZeroPadding2D(padding)


def test_zero_padding_defaults_and_rank():
    assert layers.ZeroPadding2D().padding == ((1, 1), (1, 1))
    assert layers.ZeroPadding1D().padding == (1, 1)
    with pytest.raises(ValueError, match=r'Input 0 of layer "zp" is incompatible with the layer: '
                                         r"expected ndim=3, found ndim=4"):
        layers.ZeroPadding1D(name="zp")(np.zeros((1, 2, 3, 4)))


# --------------------------------------------------------------------------- cropping
@given(sides=st.tuples(st.integers(1, 5), st.integers(1, 5)), channels=st.integers(1, 3),
       padding=padding_forms(), data_format=formats, seed=st.integers(0, 999))
def test_cropping2d(sides, channels, padding, data_format, seed):
    given_cropping, ((top, bottom), (left, right)) = padding
    h, w = sides
    if top + bottom >= h or left + right >= w:
        with pytest.raises(ValueError, match=r"values in `cropping` argument should be smaller "
                                             r"than the corresponding spatial dimension"):
            layers.Cropping2D(given_cropping, data_format=data_format)(
                image(sides, data_format, seed, channels))
        return
    x = image(sides, data_format, seed, channels)
    last = to_last(x, data_format)
    expected = np.zeros((2, h - top - bottom, w - left - right, channels))
    for i in range(expected.shape[1]):
        for j in range(expected.shape[2]):
            expected[:, i, j] = last[:, top + i, left + j]
    layer = layers.Cropping2D(given_cropping, data_format=data_format, dtype="float64")
    config = check_layer(layer, x, from_last(expected, data_format))
    assert config["cropping"] == ((top, bottom), (left, right))


@given(steps=st.integers(5, 6), features=st.integers(1, 3),
       cropping=st.one_of(st.integers(0, 1), st.tuples(st.integers(0, 2), st.integers(0, 2))),
       seed=st.integers(0, 999))
def test_cropping1d(steps, features, cropping, seed):
    before, after = (cropping, cropping) if isinstance(cropping, int) else cropping
    x = rand((2, steps, features), seed)
    expected = np.stack([x[:, t] for t in range(before, steps - after)], axis=1)
    config = check_layer(layers.Cropping1D(cropping, dtype="float64"), x, expected)
    assert config["cropping"] == (before, after)


def test_crop_larger_than_the_input_names_the_layer_and_the_shapes():
    layer = layers.Cropping2D(((2, 1), (0, 0)), name="crop")
    with pytest.raises(ValueError, match=r'Layer "crop" \(Cropping2D\): values in `cropping` '
                                         r"argument should be smaller than the corresponding "
                                         r"spatial dimension of the input. Received: inputs.shape="
                                         r"\(1, 3, 4, 2\), cropping=\(\(2, 1\), \(0, 0\)\)"):
        layer(np.zeros((1, 3, 4, 2)))
    with pytest.raises(ValueError, match=r"Received: input_shape=\(None, 3, 4, 2\)"):
        layer.compute_output_shape((None, 3, 4, 2))
    assert layer.compute_output_shape((None, None, 4, 2)) == (None, None, 4, 2)
    with pytest.raises(ValueError, match=r'Layer "c1": `cropping` parameter of `Cropping1D` layer '
                                         r"must be smaller than the input length. Received: "
                                         r"inputs.shape=\(1, 4, 1\), cropping=\(2, 2\)"):
        layers.Cropping1D(2, name="c1")(np.zeros((1, 4, 1)))


@pytest.mark.parametrize("cropping,message", [
    (-1, r"`cropping` cannot be negative. Received: cropping=-1"),
    ((1, 2, 3), r"`cropping` should have two elements. Received: cropping=\(1, 2, 3\)"),
    (((1,), 2), r"The `1st entry of cropping` argument must be a tuple of 2 integers"),
])
def test_cropping2d_bad_arguments(cropping, message):
    with pytest.raises(ValueError, match=message):
        layers.Cropping2D(cropping)


def test_cropping_defaults_and_rank():
    assert layers.Cropping2D().cropping == ((0, 0), (0, 0))
    assert layers.Cropping1D().get_config()["cropping"] == (1, 1)
    with pytest.raises(ValueError, match=r'Input 0 of layer "c" is incompatible with the layer: '
                                         r"expected ndim=4, found ndim=2"):
        layers.Cropping2D(name="c")(np.zeros((1, 2)))
