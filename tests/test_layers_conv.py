"""Convolution layers: forward against plain-loop references, gradients (inputs and weights)
against finite differences in float64, output shapes against compute_output_shape and the
size formulas, weights (names, shapes, order), config round trips, errors."""
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minikeras as keras
from minikeras import layers
from minikeras.utils import check_layer_gradients

from cases.conv_cases import conv_ref, conv_transpose_ref, depthwise_ref


def rand(shape, seed=0):
    return np.random.default_rng(seed).uniform(-1.5, 1.5, size=shape)


def _act(name):
    return {None: lambda v: v, "tanh": np.tanh, "relu": lambda v: np.maximum(v, 0)}[name]


@st.composite
def geometries(draw, rank, paddings=("valid", "same")):
    """kernel_size, strides, dilation (never both above 1, as Keras requires), padding and
    spatial sizes that leave at least one output."""
    ksize = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    if draw(st.booleans()):
        strides, dilation = tuple(draw(st.integers(1, 2)) for _ in range(rank)), (1,) * rank
    else:
        strides, dilation = (1,) * rank, tuple(draw(st.integers(1, 2)) for _ in range(rank))
    padding = draw(st.sampled_from(paddings))
    sizes = tuple(draw(st.integers((k - 1) * d + 1 if padding == "valid" else 1,
                                   max(5, (k - 1) * d + 1)))
                  for k, d in zip(ksize, dilation))
    return ksize, strides, dilation, padding, sizes


def _channels_first(x):
    return np.moveaxis(x, -1, 1)


def _from_first(y):
    return np.moveaxis(y, 1, -1)


# ----------------------------------------------------------------------------- Conv1D/2D
@settings(max_examples=15)
@given(rank=st.integers(1, 2), data=st.data(), groups=st.integers(1, 2), cg=st.integers(1, 2),
       per_group=st.integers(1, 2), use_bias=st.booleans(),
       activation=st.sampled_from([None, "tanh", "relu"]), first=st.booleans(),
       seed=st.integers(0, 99))
def test_conv_forward_and_gradients(rank, data, groups, cg, per_group, use_bias, activation,
                                    first, seed):
    paddings = ("valid", "same", "causal") if rank == 1 else ("valid", "same")
    ksize, strides, dilation, padding, sizes = data.draw(geometries(rank, paddings))
    cls = layers.Conv1D if rank == 1 else layers.Conv2D
    fmt = "channels_first" if first else "channels_last"
    layer = cls(groups * per_group, ksize, strides=strides, padding=padding, data_format=fmt,
                dilation_rate=dilation, groups=groups, activation=activation,
                use_bias=use_bias, bias_initializer="random_normal", dtype="float64")
    x = rand((2,) + sizes + (groups * cg,), seed)
    y = layer(_channels_first(x) if first else x).numpy()
    if padding == "causal":  # zeros on the left only, then a valid convolution
        x_ref = np.pad(x, ((0, 0), ((ksize[0] - 1) * dilation[0], 0), (0, 0)))
        ref = conv_ref(x_ref, layer.kernel.numpy(), strides, "valid", dilation)
    else:
        ref = conv_ref(x, layer.kernel.numpy(), strides, padding, dilation)
    ref = _act(activation)(ref + (layer.bias.numpy() if use_bias else 0))
    np.testing.assert_allclose(_from_first(y) if first else y, ref, rtol=1e-10, atol=1e-12)
    assert layer.kernel.shape == ksize + (cg, groups * per_group)
    assert [w.path for w in layer.weights] == [f"{layer.name}/kernel"] + (
        [f"{layer.name}/bias"] if use_bias else [])
    report = check_layer_gradients(layer, _channels_first(x) if first else x)
    assert report.ok, str(report)


# ----------------------------------------------------------------------------- transposed
@settings(max_examples=15)
@given(rank=st.integers(1, 2), data=st.data(), cin=st.integers(1, 2), filters=st.integers(1, 3),
       with_op=st.booleans(), use_bias=st.booleans(), seed=st.integers(0, 99))
def test_conv_transpose_forward_and_gradients(rank, data, cin, filters, with_op, use_bias, seed):
    ksize, strides, dilation, padding, _ = data.draw(geometries(rank))
    sizes = tuple(data.draw(st.integers(2, 4)) for _ in range(rank))
    op = tuple(data.draw(st.integers(0, s - 1)) for s in strides) if with_op else None
    cls = layers.Conv1DTranspose if rank == 1 else layers.Conv2DTranspose
    layer = cls(filters, ksize, strides=strides, padding=padding, output_padding=op,
                dilation_rate=dilation, use_bias=use_bias, bias_initializer="random_normal",
                dtype="float64")
    x = rand((2,) + sizes + (cin,), seed)
    y = layer(x).numpy()
    ref = conv_transpose_ref(x, layer.kernel.numpy(), strides, padding, dilation, op)
    if use_bias:
        ref = ref + layer.bias.numpy()
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-12)
    assert layer.kernel.shape == ksize + (filters, cin)  # Keras: (*kernel_size, out, in)
    assert y.shape == layer.compute_output_shape(x.shape)
    report = check_layer_gradients(layer, x)
    assert report.ok, str(report)


# ----------------------------------------------------------------------------- depthwise
@settings(max_examples=15)
@given(rank=st.integers(1, 2), data=st.data(), c=st.integers(1, 3), m=st.integers(1, 2),
       first=st.booleans(), seed=st.integers(0, 99))
def test_depthwise_forward_and_gradients(rank, data, c, m, first, seed):
    ksize, strides, dilation, padding, sizes = data.draw(geometries(rank))
    cls = layers.DepthwiseConv1D if rank == 1 else layers.DepthwiseConv2D
    layer = cls(ksize, strides=strides, padding=padding, depth_multiplier=m,
                data_format="channels_first" if first else "channels_last",
                dilation_rate=dilation, bias_initializer="random_normal", dtype="float64")
    x = rand((2,) + sizes + (c,), seed)
    y = layer(_channels_first(x) if first else x).numpy()
    ref = depthwise_ref(x, layer.kernel.numpy(), strides, padding, dilation) + layer.bias.numpy()
    np.testing.assert_allclose(_from_first(y) if first else y, ref, rtol=1e-10, atol=1e-12)
    assert layer.kernel.shape == ksize + (c, m) and layer.bias.shape == (c * m,)
    report = check_layer_gradients(layer, _channels_first(x) if first else x)
    assert report.ok, str(report)


@settings(max_examples=15)
@given(rank=st.integers(1, 2), data=st.data(), c=st.integers(1, 3), m=st.integers(1, 2),
       filters=st.integers(1, 3), seed=st.integers(0, 99))
def test_separable_forward_and_gradients(rank, data, c, m, filters, seed):
    ksize, strides, dilation, padding, sizes = data.draw(geometries(rank))
    cls = layers.SeparableConv1D if rank == 1 else layers.SeparableConv2D
    layer = cls(filters, ksize, strides=strides, padding=padding, dilation_rate=dilation,
                depth_multiplier=m, bias_initializer="random_normal", dtype="float64")
    x = rand((2,) + sizes + (c,), seed)
    y = layer(x).numpy()
    mid = depthwise_ref(x, layer.depthwise_kernel.numpy(), strides, padding, dilation)
    ref = mid @ layer.pointwise_kernel.numpy().reshape(c * m, filters) + layer.bias.numpy()
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-12)
    assert [w.name for w in layer.weights] == ["depthwise_kernel", "pointwise_kernel", "bias"]
    assert layer.depthwise_kernel.shape == ksize + (c, m)
    assert layer.pointwise_kernel.shape == (1,) * rank + (c * m, filters)
    report = check_layer_gradients(layer, x)
    assert report.ok, str(report)


# ----------------------------------------------------------------------------- shapes
def _size(n, k, s, d, padding):
    """Keras's output length: valid floor((n - k_eff)/s) + 1, same and causal ceil(n/s)."""
    keff = (k - 1) * d + 1
    return (n - keff) // s + 1 if padding == "valid" else math.ceil(n / s)


def _transpose_size(n, k, s, d, padding, op):
    keff = (k - 1) * d + 1
    if padding == "valid":
        return (n - 1) * s + keff + (max(keff, s) - keff if op is None else op)
    return n * s if op is None else (n - 1) * s + keff % 2 + op


@given(rank=st.integers(1, 2), data=st.data(), kind=st.sampled_from(["conv", "transpose",
                                                                       "depthwise", "separable"]),
       first=st.booleans())
def test_output_shapes(rank, data, kind, first):
    paddings = ("valid", "same", "causal") if rank == 1 and kind == "conv" else ("valid", "same")
    ksize, strides, dilation, padding, sizes = data.draw(geometries(rank, paddings))
    fmt = "channels_first" if first else "channels_last"
    common = dict(strides=strides, padding=padding, data_format=fmt, dilation_rate=dilation)
    axes = list(zip(sizes, ksize, strides, dilation))
    sp = [_size(n, k, s, d, padding) for n, k, s, d in axes]
    ch = 3
    if kind == "conv":
        layer = (layers.Conv1D if rank == 1 else layers.Conv2D)(3, ksize, **common)
    elif kind == "transpose":
        op = (tuple(data.draw(st.integers(0, s - 1)) for s in strides)
              if data.draw(st.booleans()) else None)
        layer = (layers.Conv1DTranspose if rank == 1 else layers.Conv2DTranspose)(
            3, ksize, output_padding=op, **common)
        sp = [_transpose_size(n, k, s, d, padding, None if op is None else op[a])
              for a, (n, k, s, d) in enumerate(axes)]
        assume(min(sp) >= 1)
    elif kind == "depthwise":
        layer = (layers.DepthwiseConv1D if rank == 1 else layers.DepthwiseConv2D)(
            ksize, depth_multiplier=2, **common)
        ch = 4  # 2 channels times depth_multiplier 2
    else:
        layer = (layers.SeparableConv1D if rank == 1 else layers.SeparableConv2D)(
            3, ksize, **common)
    shape = (2,) + sizes + (2,) if not first else (2, 2) + sizes
    expected = (2,) + tuple(sp) + (ch,) if not first else (2, ch) + tuple(sp)
    assert layer.compute_output_shape(shape) == expected
    assert layer(np.zeros(shape, "float32")).shape == expected
    none_batch = (None,) + shape[1:]
    assert layer.compute_output_shape(none_batch) == (None,) + expected[1:]


def test_functional_model_with_convolutions():
    inputs = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    x = layers.Conv2DTranspose(2, 2, strides=2)(x)
    x = layers.SeparableConv2D(3, 3)(x)
    model = keras.Model(inputs, x)
    assert model(np.zeros((2, 8, 8, 3), "float32")).shape == (2, 14, 14, 3)


def test_keras_aliases_and_parameter_count():
    assert layers.Convolution2D is layers.Conv2D and layers.Convolution1D is layers.Conv1D
    assert layers.SeparableConvolution2D is layers.SeparableConv2D
    assert layers.Convolution2DTranspose is layers.Conv2DTranspose
    layer = layers.Conv2D(32, 3)
    layer(np.zeros((1, 28, 28, 1), "float32"))
    assert layer.count_params() == 320  # the Keras MNIST convnet's first layer


def test_float32_layer_stays_float32():
    layer = layers.Conv2D(2, 3, padding="same")
    y = layer(np.ones((1, 4, 4, 1)))
    assert y.dtype == np.float32 and layer.kernel.dtype == np.float32


# ----------------------------------------------------------------------------- config
@pytest.mark.parametrize("make", [
    lambda: layers.Conv1D(3, 2, strides=2, padding="causal", activation="relu", name="c1"),
    lambda: layers.Conv2D(4, (3, 2), dilation_rate=2, groups=2, use_bias=False,
                          kernel_initializer="he_normal", data_format="channels_first",
                          kernel_regularizer=keras.regularizers.L2(0.1), name="c2"),
    lambda: layers.Conv2DTranspose(2, 3, strides=2, padding="same", output_padding=1,
                                   name="t2"),
    lambda: layers.Conv1DTranspose(2, 3, name="t1"),
    lambda: layers.DepthwiseConv2D(3, depth_multiplier=2, name="d2"),
    lambda: layers.DepthwiseConv1D(2, padding="same", name="d1"),
    lambda: layers.SeparableConv2D(5, 3, depth_multiplier=2, pointwise_initializer="ones",
                                   name="s2"),
    lambda: layers.SeparableConv1D(2, 3, strides=2, name="s1"),
])
def test_config_round_trip(make):
    layer = make()
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    x = np.random.default_rng(0).uniform(size=(2, 4, 6, 6) if layer.rank == 2 else (2, 6, 4))
    x = x.astype("float32")
    layer(x)
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(x).numpy(), layer(x).numpy(), rtol=1e-6)


def test_config_keys_are_keras_keys():
    common = {"name", "trainable", "dtype", "kernel_size", "strides", "padding", "data_format",
              "dilation_rate", "activation", "use_bias", "activity_regularizer"}
    conv = set(layers.Conv2D(2, 3).get_config())
    assert conv == common | {"filters", "groups", "kernel_initializer", "bias_initializer",
                             "kernel_regularizer", "bias_regularizer", "kernel_constraint",
                             "bias_constraint"}
    sep = set(layers.SeparableConv2D(2, 3).get_config())
    assert sep == common | {"filters", "depth_multiplier", "depthwise_initializer",
                            "pointwise_initializer", "bias_initializer", "depthwise_regularizer",
                            "pointwise_regularizer", "bias_regularizer", "depthwise_constraint",
                            "pointwise_constraint", "bias_constraint"}
    depth = set(layers.DepthwiseConv2D(3).get_config())
    assert depth == common | {"depth_multiplier", "depthwise_initializer", "bias_initializer",
                              "depthwise_regularizer", "bias_regularizer", "depthwise_constraint",
                              "bias_constraint"}


def test_defaults_and_regularizer_losses():
    layer = layers.Conv2D(2, 3, kernel_regularizer=keras.regularizers.L2(0.1), dtype="float64")
    assert (layer.strides, layer.padding, layer.dilation_rate, layer.groups) == ((1, 1), "valid",
                                                                                 (1, 1), 1)
    assert layer.data_format == "channels_last" and layer.kernel_size == (3, 3)
    layer(np.ones((1, 4, 4, 2)))
    np.testing.assert_array_equal(layer.bias.numpy(), 0)  # bias_initializer="zeros"
    (loss,) = layer.losses
    np.testing.assert_allclose(loss.numpy(), 0.1 * np.sum(layer.kernel.numpy() ** 2))


# ----------------------------------------------------------------------------- errors
def test_kernel_larger_than_the_padded_input():
    with pytest.raises(ValueError, match=r'Layer "big": Computed output size would be negative'
                                         r".*inputs shape=\(2, 2, 2, 1\).*kernel_size=\(3, 3\)"):
        layers.Conv2D(1, 3, name="big")(np.zeros((2, 2, 2, 1)))
    with pytest.raises(ValueError, match=r'Layer "dil".*inputs shape=\(1, 4, 1\).*'
                                         r"dilation_rate=\[2\]"):
        layers.Conv1D(1, 3, dilation_rate=2, name="dil")(np.zeros((1, 4, 1)))
    layers.Conv2D(1, 3, padding="same")(np.zeros((2, 2, 2, 1)))  # same padding: fine
    built = layers.Conv2D(1, 3, name="later")
    built(np.zeros((1, 5, 5, 1)))
    with pytest.raises(ValueError, match=r'Layer "later": Computed output size would be negative'
                                         r".*inputs shape=\(1, 2, 2, 1\).*kernel shape=\(3, 3, 1, "
                                         r"1\)"):
        built(np.zeros((1, 2, 2, 1)))
    with pytest.raises(ValueError, match=r'Layer "sym": Computed output size would be negative'):
        layers.Conv2D(1, 3, name="sym")(keras.Input((2, 2, 1)))


def test_channel_count_fixed_after_build():
    layer = layers.Conv2D(2, 3, name="fixed")
    layer(np.zeros((1, 5, 5, 3)))
    with pytest.raises(ValueError, match=r'Input 0 of layer "fixed" is incompatible with the '
                                         r"layer: expected axis -1 of input shape to have value "
                                         r"3, but received input with shape \(1, 5, 5, 4\)"):
        layer(np.zeros((1, 5, 5, 4)))
    first = layers.Conv1D(2, 1, data_format="channels_first", name="cf")
    first(np.zeros((1, 3, 5)))
    with pytest.raises(ValueError, match=r'layer "cf" is incompatible.*value 3.*\(1, 2, 5\)'):
        first(np.zeros((1, 2, 5)))


def test_wrong_input_rank():
    with pytest.raises(ValueError, match=r'Input 0 of layer "r" is incompatible with the layer: '
                                         r"expected ndim=4, found ndim=3. Full shape received: "
                                         r"\(2, 5, 5\)"):
        layers.Conv2D(1, 3, name="r")(np.zeros((2, 5, 5)))
    layer = layers.Conv1D(1, 2, name="r1")
    layer(np.zeros((2, 5, 1)))
    with pytest.raises(ValueError, match=r'layer "r1".*expected ndim=3, found ndim=4'):
        layer(np.zeros((2, 5, 1, 1)))


def test_groups_errors():
    with pytest.raises(ValueError, match=r'Layer "g": The number of input channels must be evenly '
                                         r"divisible by the number of groups. Received groups=2, "
                                         r"but the input has 3 channels \(full input shape is "
                                         r"\(1, 4, 4, 3\)\)"):
        layers.Conv2D(4, 1, groups=2, name="g")(np.zeros((1, 4, 4, 3)))
    with pytest.raises(ValueError, match="The number of filters must be evenly divisible by the "
                                         "number of groups. Received: groups=2, filters=3."):
        layers.Conv2D(3, 1, groups=2)
    with pytest.raises(ValueError, match="groups must be a positive integer. Received: groups=0"):
        layers.Conv2D(3, 1, groups=0)


def test_argument_errors():
    with pytest.raises(ValueError, match="Expected a strictly positive value. Received filters=0"):
        layers.Conv2D(0, 3)
    with pytest.raises(ValueError, match=r"`strides > 1` not supported in conjunction with "
                                         r"`dilation_rate > 1`"):
        layers.Conv2D(1, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match=r"`padding` argument must be one of .*Received: "
                                         r"padding=causal"):
        layers.Conv2D(1, 3, padding="causal")
    with pytest.raises(ValueError, match=r"The `kernel_size` argument must be a tuple of 2 "
                                         r"integers. Received kernel_size=\(3, 0\), including "
                                         r"values \{0\} that do not satisfy `value > 0`"):
        layers.Conv2D(1, (3, 0))
    with pytest.raises(ValueError, match=r"`output_padding` must be < `strides`"):
        layers.Conv2DTranspose(1, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="data_format"):
        layers.Conv2D(1, 3, data_format="nhwc")
    with pytest.raises(ValueError, match="depth_multiplier=0"):
        layers.DepthwiseConv2D(3, depth_multiplier=0)
