"""Pooling layers: forward against a plain-loop reference, gradients against finite
differences in float64, output shapes against compute_output_shape for every padding and
stride, config round trips, masks, ties, and every error message; plus the error paths of
ops.max_pool / ops.average_pool."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minikeras import GradientTape, layers, no_grad, ops
from minikeras.tensor import Tensor
from minikeras.utils import check_layer_gradients


def distinct_values(shape, seed):
    """Values no two of which are closer than 0.05: every window has a single maximum."""
    n = int(np.prod(shape))
    rng = np.random.default_rng(seed)
    return (rng.permutation(max(n, 200))[:n] * 0.05 - 5.0).reshape(shape)


def pool_reference(x, pool, strides, padding, mode):
    """channels_last pooling, written out: pad with NaN (TensorFlow's "same" split, computed
    here from its definition), then for every output position take nanmax / nanmean of its
    window, so padding never counts."""
    spatial = x.shape[1:-1]
    pads, outs = [], []
    for size, k, s in zip(spatial, pool, strides):
        if padding == "same":
            out = math.ceil(size / s)
            total = max((out - 1) * s + k - size, 0)
            pads.append((total // 2, total - total // 2))
        else:
            out = (size - k) // s + 1
            pads.append((0, 0))
        outs.append(out)
    xp = np.pad(x, [(0, 0)] + pads + [(0, 0)], constant_values=np.nan)
    y = np.zeros((x.shape[0],) + tuple(outs) + (x.shape[-1],))
    reduce = np.nanmax if mode == "max" else np.nanmean
    for position in np.ndindex(*outs):
        window = tuple(slice(o * s, o * s + k) for o, s, k in zip(position, strides, pool))
        block = xp[(slice(None),) + window]
        y[(slice(None),) + position] = reduce(block.reshape(x.shape[0], -1, x.shape[-1]), axis=1)
    return y


LAYERS = {(1, "max"): layers.MaxPooling1D, (2, "max"): layers.MaxPooling2D,
          (1, "average"): layers.AveragePooling1D, (2, "average"): layers.AveragePooling2D}


@st.composite
def pooling_setups(draw):
    rank = draw(st.integers(1, 2))
    mode = draw(st.sampled_from(["max", "average"]))
    padding = draw(st.sampled_from(["valid", "same"]))
    pool = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    strides = draw(st.one_of(st.none(), st.tuples(*[st.integers(1, 3)] * rank)))
    sides = tuple(draw(st.integers(1 if padding == "same" else k, 5)) for k in pool)
    shape = (draw(st.integers(1, 2)),) + sides + (draw(st.integers(1, 3)),)
    data_format = draw(st.sampled_from(["channels_last", "channels_first"]))
    return rank, mode, padding, pool, strides, shape, data_format, draw(st.integers(0, 999))


@settings(max_examples=40)
@given(setup=pooling_setups())
def test_pooling_layers_forward_shapes_and_gradients(setup):
    rank, mode, padding, pool, strides, shape, data_format, seed = setup
    layer = LAYERS[rank, mode](pool_size=pool, strides=strides, padding=padding,
                               data_format=data_format, dtype="float64")
    x = distinct_values(shape, seed)
    expected = pool_reference(x, pool, strides or pool, padding, mode)
    if data_format == "channels_first":
        x, expected = np.moveaxis(x, -1, 1).copy(), np.moveaxis(expected, -1, 1)
    y = layer(x)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)
    assert layer.compute_output_shape(x.shape) == y.shape
    assert layer.compute_output_shape((None,) + x.shape[1:]) == (None,) + y.shape[1:]
    assert check_layer_gradients(layer, x).ok


def test_every_pool_stride_and_padding_on_small_inputs():
    """Exhaustive over pool and stride 1-3 and both paddings (hypothesis samples these;
    this grid leaves no combination out): forward and compute_output_shape."""
    cases = [((n,), (k,), (s,)) for n in range(1, 6) for k in range(1, 4) for s in range(1, 4)]
    cases += [((5, 4), (kh, kw), (sh, sw)) for kh in range(1, 4) for kw in range(1, 4)
              for sh in range(1, 4) for sw in range(1, 4)]
    for sides, pool, strides in cases:
        x = distinct_values((2,) + sides + (2,), sum(sides) + 7 * sum(pool))
        for padding in ("valid", "same"):
            if padding == "valid" and any(n < k for n, k in zip(sides, pool)):
                continue
            for mode in ("max", "average"):
                layer = LAYERS[len(sides), mode](pool, strides, padding, dtype="float64")
                y = layer(x)
                np.testing.assert_allclose(
                    y.numpy(), pool_reference(x, pool, strides, padding, mode), rtol=1e-12,
                    atol=1e-12, err_msg=f"{mode} {padding} pool={pool} strides={strides} "
                                        f"input {x.shape}")
                assert layer.compute_output_shape(x.shape) == y.shape


@given(setup=pooling_setups())
def test_pooling_config_round_trip(setup):
    rank, mode, padding, pool, strides, _, data_format, _ = setup
    layer = LAYERS[rank, mode](pool_size=pool, strides=strides, padding=padding.upper(),
                               data_format=data_format)
    config = layer.get_config()
    assert {"pool_size", "strides", "padding", "data_format"} <= set(config)
    assert config["pool_size"] == pool and config["strides"] == (strides or pool)
    assert config["padding"] == padding       # case-insensitive, stored lower case
    clone = type(layer).from_config(config)
    assert clone.get_config() == config


def test_pooling_defaults_follow_keras():
    assert layers.MaxPooling2D().get_config()["pool_size"] == (2, 2)
    assert layers.MaxPooling2D().strides == (2, 2)
    assert layers.MaxPooling1D().pool_size == (2,)
    assert layers.MaxPooling2D(3, strides=1).strides == (1, 1)
    assert layers.MaxPooling2D().padding == "valid"
    assert layers.MaxPooling2D().data_format == "channels_last"
    for cls in (layers.AveragePooling1D, layers.AveragePooling2D):   # no default pool_size
        with pytest.raises(TypeError):
            cls()
    assert layers.MaxPool2D is layers.MaxPooling2D and layers.AvgPool1D is layers.AveragePooling1D
    assert layers.MaxPooling2D().name.startswith("max_pooling2d")


def test_max_pool_on_the_mnist_convnet_shape_drops_the_odd_row_and_stays_float32():
    x = distinct_values((2, 11, 11, 3), 1).astype("float32")
    layer = layers.MaxPooling2D(2)
    xt = Tensor(x, requires_grad=True)
    with GradientTape() as tape:
        y = layer(xt)
        total = ops.sum(y)
    assert y.shape == (2, 5, 5, 3) and y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), pool_reference(x, (2, 2), (2, 2), "valid", "max"))
    (g,) = tape.gradient(total, [xt])
    assert g.dtype == np.float32
    assert g.numpy()[:, 10].sum() == 0 and g.numpy()[:, :, 10].sum() == 0   # dropped row/col
    assert g.numpy().sum() == 2 * 5 * 5 * 3                                  # one 1 per window


@pytest.mark.parametrize("strides", [(2, 2), (1, 1)])
def test_ties_send_the_gradient_to_the_first_maximum(strides):
    x = Tensor(np.ones((1, 4, 4, 1)), requires_grad=True)
    with GradientTape() as tape:
        y = ops.max_pool(x, 2, strides=strides)
        total = ops.sum(y)
    (g,) = tape.gradient(total, [x])
    expected = np.zeros((4, 4))
    for i in range(y.shape[1]):
        for j in range(y.shape[2]):
            expected[i * strides[0], j * strides[1]] += 1     # the window's first cell
    np.testing.assert_array_equal(g.numpy()[0, :, :, 0], expected)


def test_inference_without_recording_gives_the_same_result():
    x = distinct_values((2, 5, 5, 2), 3)
    for op in (ops.max_pool, ops.average_pool):
        recorded = op(Tensor(x, requires_grad=True), 3, strides=2, padding="same").numpy()
        with no_grad():
            plain = op(x, 3, strides=2, padding="same").numpy()
        np.testing.assert_array_equal(plain, recorded)


# --------------------------------------------------------------------------- global pooling
GLOBAL = {(1, "average"): layers.GlobalAveragePooling1D,
          (2, "average"): layers.GlobalAveragePooling2D,
          (1, "max"): layers.GlobalMaxPooling1D, (2, "max"): layers.GlobalMaxPooling2D}


@given(rank=st.integers(1, 2), mode=st.sampled_from(["max", "average"]), keepdims=st.booleans(),
       data_format=st.sampled_from(["channels_last", "channels_first"]),
       sides=st.lists(st.integers(1, 4), min_size=4, max_size=4), seed=st.integers(0, 999))
def test_global_pooling(rank, mode, keepdims, data_format, sides, seed):
    shape = tuple(sides[:rank + 2])
    x = distinct_values(shape, seed)
    layer = GLOBAL[rank, mode](data_format=data_format, keepdims=keepdims, dtype="float64")
    last = np.moveaxis(x, 1, -1) if data_format == "channels_first" else x
    expected = np.zeros((shape[0], last.shape[-1]))
    for n in range(shape[0]):                     # one reduction per (sample, channel)
        for c in range(last.shape[-1]):
            cells = [last[(n,) + p + (c,)] for p in np.ndindex(*last.shape[1:-1])]
            expected[n, c] = max(cells) if mode == "max" else sum(cells) / len(cells)
    if keepdims:
        expected = expected.reshape((shape[0],) + (1,) * rank + (last.shape[-1],))
        if data_format == "channels_first":
            expected = np.moveaxis(expected, -1, 1)
    y = layer(x)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-14)
    assert layer.compute_output_shape(shape) == y.shape
    assert check_layer_gradients(layer, x).ok
    config = layer.get_config()
    assert config["keepdims"] == keepdims and config["data_format"] == data_format
    assert type(layer).from_config(config).get_config() == config


@given(steps=st.integers(2, 5), features=st.integers(1, 3), channels_first=st.booleans(),
       seed=st.integers(0, 999))
def test_global_average_pooling1d_averages_the_unmasked_steps_only(steps, features,
                                                                    channels_first, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(3, steps, features))
    mask = rng.random((3, steps)) < 0.6
    mask[:, 0] = True                                  # at least one real step per sample
    expected = np.array([[sum(x[n, t, f] for t in range(steps) if mask[n, t]) / mask[n].sum()
                          for f in range(features)] for n in range(3)])
    data_format = "channels_first" if channels_first else "channels_last"
    if channels_first:
        x = np.moveaxis(x, 1, 2).copy()
    layer = layers.GlobalAveragePooling1D(data_format=data_format, dtype="float64")
    y = layer(x, mask=mask)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-14)
    # a mask carried by the tensor is used too, and the output carries none
    xt = Tensor(x)
    xt._keras_mask = Tensor(mask)
    out = layer(xt)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    assert getattr(out, "_keras_mask", None) is None
    report = check_layer_gradients(_Masked(layer, mask), x)
    assert report.ok, str(report)


class _Masked(layers.Layer):
    """A layer that calls ``inner`` with a fixed mask, for the gradient check."""

    def __init__(self, inner, mask):
        super().__init__(dtype="float64")
        self.inner, self.mask = inner, mask

    def call(self, inputs):
        return self.inner(inputs, mask=self.mask)


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("cls,shape", [(layers.MaxPooling2D, (2, 4, 3)),
                                       (layers.AveragePooling1D, (2, 4, 4, 3)),
                                       (layers.GlobalAveragePooling2D, (2, 4, 3)),
                                       (layers.GlobalMaxPooling1D, (2, 3))])
def test_wrong_rank_names_the_layer(cls, shape):
    layer = cls(2, name="pool") if "Global" not in cls.__name__ else cls(name="pool")
    want = 4 if cls.__name__.endswith("2D") else 3
    with pytest.raises(ValueError, match=rf'Input 0 of layer "pool" is incompatible with the '
                                         rf"layer: expected ndim={want}, found ndim={len(shape)}"):
        layer(np.zeros(shape))


def test_pool_larger_than_the_input_names_the_layer_and_the_shapes():
    layer = layers.MaxPooling2D((3, 3), name="pool")
    with pytest.raises(ValueError, match=r'Layer "pool" \(MaxPooling2D\): computed output size '
                                         r"would be negative. Received: "
                                         r"inputs.shape=\(1, 2, 5, 1\) and pool_size=\(3, 3\)"):
        layer(np.zeros((1, 2, 5, 1)))
    with pytest.raises(ValueError, match=r'Layer "p1" \(AveragePooling1D\): computed output '
                                         r"size would be negative. Received: inputs.shape="
                                         r"\(None, 2, 5\) and pool_size=\(3,\)"):
        layers.AveragePooling1D(3, name="p1").compute_output_shape((None, 2, 5))
    # channels_first: the steps are the last axis
    assert layers.AveragePooling1D(3, data_format="channels_first").compute_output_shape(
        (None, 2, 5)) == (None, 2, 1)
    # with "same" padding any size fits
    assert layers.MaxPooling2D(3, padding="same")(np.zeros((1, 2, 5, 1))).shape == (1, 1, 2, 1)


@pytest.mark.parametrize("kwargs,message", [
    (dict(pool_size=0), r"The `pool_size` argument must be a tuple of 2 integers. Received "
                        r"pool_size=0, including values \{0\} that do not satisfy `value > 0`"),
    (dict(pool_size=(2, 2, 2)), r"The `pool_size` argument must be a tuple of 2 integers. "
                                r"Received pool_size=\(2, 2, 2\)"),
    (dict(pool_size="big"), r"The `pool_size` argument must be a tuple of 2 integers"),
    (dict(pool_size=2, strides=(1, -1)), r"Received strides=\(1, -1\), including values \{-1\}"),
    (dict(pool_size=2, padding="full"), r"The `padding` argument must be one of \{'valid', "
                                        r"'same'\}. Received: padding=full"),
    (dict(pool_size=2, data_format="NHWC"), r"The `data_format` argument must be one of "
                                            r"\{'channels_first', 'channels_last'\}. Received: "
                                            r"data_format=NHWC"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        layers.AveragePooling2D(**kwargs)


def test_op_errors():
    with pytest.raises(ValueError, match=r"ops.max_pool: expected inputs of rank 3 .* or 4 .*got "
                                         r"rank 2 with shape \(3, 4\)"):
        ops.max_pool(np.zeros((3, 4)), 2)
    with pytest.raises(ValueError, match=r"ops.average_pool: the pooling window \(3, 3\) is "
                                         r"larger than the input's spatial shape \(2, 4\)"):
        ops.average_pool(np.zeros((1, 2, 4, 1)), 3)
    with pytest.raises(ValueError, match=r"ops.average_pool: the pooling window \(3, 3\) is "
                                         r"larger than the input's spatial shape \(2, 4\) "
                                         r"\(inputs of shape \(1, 1, 2, 4\), "
                                         r"data_format='channels_first'\)"):
        ops.average_pool(np.zeros((1, 1, 2, 4)), 3, data_format="channels_first")
    with pytest.raises(ValueError, match=r"ops.max_pool: `padding` must be 'valid' or 'same', "
                                         r"got padding='causal'"):
        ops.max_pool(np.zeros((1, 4, 1)), 2, padding="causal")
    with pytest.raises(ValueError, match=r"ops.max_pool: The `pool_size` argument must be a "
                                         r"tuple of 1 integers. Received pool_size=\(2, 2\)"):
        ops.max_pool(np.zeros((1, 4, 1)), (2, 2))
    with pytest.raises(ValueError, match=r"ops.max_pool: The `strides` argument must be .*"
                                         r"Received strides=0, including values \{0\}"):
        ops.max_pool(np.zeros((1, 4, 4, 1)), 2, strides=0)
    with pytest.raises(ValueError, match=r"ops.max_pool: The `data_format` argument must be one "
                                         r"of \{'channels_first', 'channels_last'\}. Received: "
                                         r"data_format=nchw"):
        ops.max_pool(np.zeros((1, 4, 4, 1)), 2, data_format="nchw")


def test_pooling_layers_train_in_a_sequential_model():
    import minikeras as keras
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(16, 7, 7, 2)).astype("float32")
    y = rng.integers(0, 3, size=16)
    model = keras.Sequential([keras.Input((7, 7, 2)), layers.MaxPooling2D(),
                              layers.AveragePooling2D(2, strides=1, padding="same"),
                              layers.Flatten(), layers.Dense(3, activation="softmax")])
    assert model.layers[0].compute_output_shape((None, 7, 7, 2)) == (None, 3, 3, 2)
    assert model(x).shape == (16, 3)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=5, batch_size=8, verbose=0)
    assert model.evaluate(x, y, verbose=0) < before


def test_global_average_pooling1d_mask_of_the_wrong_shape_names_the_layer():
    layer = layers.GlobalAveragePooling1D(name="gap")
    x = np.ones((2, 4, 3), "float32")
    with pytest.raises(ValueError, match=r'Layer "gap" got a mask of shape \(2, 5\) for inputs of '
                                         r'shape \(2, 4, 3\): the mask must be \(batch, steps\) = '
                                         r'\(2, 4\)'):
        layer(x, mask=np.ones((2, 5), bool))


@settings(max_examples=60, deadline=None)
@given(rank=st.sampled_from([1, 2]), pool=st.integers(1, 3), stride=st.integers(1, 4),
       padding=st.sampled_from(["valid", "same"]), sides=st.tuples(st.integers(1, 7),
                                                                   st.integers(1, 7)),
       channels=st.integers(1, 3), dtype=st.sampled_from(["float32", "float64"]),
       ties=st.booleans(), nan=st.booleans(), seed=st.integers(0, 999))
def test_compiled_max_pool_loops_match_the_offset_views(rank, pool, stride, padding, sides,
                                                        channels, dtype, ties, nan, seed):
    """On NumPy arrays max pooling runs as Numba loops; the offset-view code (what CuPy
    arrays run) is the reference: the same maxima, the same argmax (first maximum on ties,
    NaN spreading) and the same input gradient."""
    from minikeras.kernels.cpu import pooling as kernels
    rng = np.random.default_rng(seed)
    shape = (2,) + sides[:rank] + (channels,)
    x = rng.integers(-2, 3, shape) if ties else rng.standard_normal(shape)
    x = x.astype(dtype)
    if nan:
        x.flat[rng.integers(0, x.size)] = np.nan
    window, steps = (pool,) * rank, (stride,) * rank
    if padding == "valid" and min(sides[:rank]) < pool:
        return  # no output: the layer refuses such inputs before the kernel runs
    results = []
    for loops in (True, False):
        with pytest.MonkeyPatch.context() as m:
            if not loops:
                m.setattr(kernels, "_loops_fit", lambda *a: False)
            y, argmax = kernels.max_pool_forward(x, window, steps, padding)
            g = np.random.default_rng(seed + 1).standard_normal(y.shape).astype(dtype)
            dx = kernels.max_pool_backward(g, argmax, x.shape, window, steps, padding)
            results.append((y, argmax, dx))
    (y1, a1, d1), (y2, a2, d2) = results
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(d1, d2)
    assert y1.dtype == dx.dtype == np.dtype(dtype) and d1.shape == x.shape
