"""Embedding and Masking, and how a mask travels through layers and models: forward against
NumPy, gradients against finite differences, masks, config, errors."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minikeras as keras
from minikeras import layers, ops
from minikeras.layers.layer import get_mask
from minikeras.utils import check_gradients


def ids(shape, high, seed=0):
    return np.random.default_rng(seed).integers(0, high, size=shape).astype(np.int32)


@given(batch=st.integers(1, 3), steps=st.integers(1, 5), input_dim=st.integers(1, 6),
       output_dim=st.integers(1, 4), seed=st.integers(0, 99))
def test_embedding_lookup_and_gradient(batch, steps, input_dim, output_dim, seed):
    layer = layers.Embedding(input_dim, output_dim, dtype="float64")
    x = ids((batch, steps), input_dim, seed)
    y = layer(x)
    table = layer.embeddings.numpy()
    assert table.shape == (input_dim, output_dim)
    np.testing.assert_array_equal(y.numpy(), table[x])
    assert get_mask(y) is None  # mask_zero=False: no mask
    # d(sum(w * y))/d(table[i]) = sum of w at the places id i appears (finite differences)
    report = check_gradients(lambda t: ops.take(t, x, axis=0), table)
    assert report.ok, str(report)
    with keras.GradientTape() as tape:
        loss = ops.sum(layer(x) * 2.0)
    (grad,) = tape.gradient(loss, [layer.embeddings])
    counts = np.bincount(x.reshape(-1), minlength=input_dim)
    np.testing.assert_allclose(grad.numpy(), 2.0 * counts[:, None] * np.ones((1, output_dim)))


def test_embedding_defaults_and_config():
    layer = layers.Embedding(10, 4)
    y = layer(np.array([[1, 2, 0]]))
    assert y.shape == (1, 3, 4) and y.dtype == np.float32
    assert layer.weights[0].path == f"{layer.name}/embeddings"
    w = layer.embeddings.numpy()
    assert np.all(np.abs(w) <= 0.05)          # "uniform" = RandomUniform(-0.05, 0.05)
    config = layer.get_config()
    assert config["input_dim"] == 10 and config["output_dim"] == 4 and not config["mask_zero"]
    clone = layers.Embedding.from_config(config)
    assert clone.input_dim == 10 and clone.output_dim == 4
    assert layer.compute_output_shape((None, 7)) == (None, 7, 4)
    float_ids = layer(np.array([[1.0, 3.0]]))   # float ids are cast to int32
    np.testing.assert_array_equal(float_ids.numpy(), w[[[1, 3]]])


def test_embedding_initial_weights():
    table = np.arange(12, dtype=np.float32).reshape(6, 2)
    layer = layers.Embedding(6, 2, weights=[table])
    np.testing.assert_array_equal(layer(np.array([[5, 0]])).numpy(), table[[[5, 0]]])


def test_embedding_mask_zero():
    layer = layers.Embedding(5, 3, mask_zero=True)
    x = np.array([[3, 1, 0, 0], [2, 0, 4, 0]])
    y = layer(x)
    np.testing.assert_array_equal(get_mask(y).numpy(), x != 0)
    np.testing.assert_array_equal(layer.compute_mask(x).numpy(), x != 0)
    assert layer.supports_masking


@pytest.mark.parametrize("bad", [-1, 7])
def test_embedding_id_out_of_range(bad):
    layer = layers.Embedding(7, 2)
    with pytest.raises(ValueError, match=rf"embedding.*got the id {bad}, outside \[0, input_dim\)"):
        layer(np.array([[0, bad]]))


@pytest.mark.parametrize("arg", [0, -3, 2.5])
def test_embedding_bad_dims(arg):
    with pytest.raises(ValueError, match="`input_dim`, expected a positive integer"):
        layers.Embedding(arg, 2)
    with pytest.raises(ValueError, match="`output_dim`, expected a positive integer"):
        layers.Embedding(3, arg)


@given(batch=st.integers(1, 3), steps=st.integers(1, 5), features=st.integers(1, 3),
       seed=st.integers(0, 99))
def test_masking_forward_mask_and_gradient(batch, steps, features, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 2.0, size=(batch, steps, features))
    padded = rng.random((batch, steps)) < 0.4
    x[padded] = -1.0
    layer = layers.Masking(mask_value=-1.0, dtype="float64")
    y = layer(x)
    keep = ~padded
    np.testing.assert_array_equal(get_mask(y).numpy(), keep)
    np.testing.assert_array_equal(y.numpy(), x * keep[..., None])
    # Padded entries sit exactly on the mask value, where y jumps, so finite differences do
    # not apply there: the gradient is w on real steps and 0 on padded ones.
    w = rng.normal(size=x.shape)
    t = keras.Tensor(x, requires_grad=True)
    ops.sum(layer(t) * w).backward()
    np.testing.assert_array_equal(t.grad.numpy(), w * keep[..., None])
    report = check_gradients(lambda v: layer(v), np.abs(x) + 0.5)  # no padding: y = x
    assert report.ok, str(report)


def test_masking_keeps_a_step_with_one_real_feature():
    x = np.array([[[0.0, 0.0], [0.0, 3.0]]])
    y = layers.Masking()(x)
    np.testing.assert_array_equal(get_mask(y).numpy(), [[False, True]])
    assert layers.Masking(mask_value=2.5).get_config()["mask_value"] == 2.5


class _RecordMask(layers.Layer):
    """Keeps the mask it is handed."""

    def call(self, inputs, mask=None):
        self.seen = mask
        return inputs + 0.0  # a new tensor (the input itself would still carry its mask)


def test_mask_is_passed_to_call_and_through_masking_layers():
    x = np.array([[4, 2, 0], [1, 0, 0]])
    emb = layers.Embedding(5, 2, mask_zero=True)
    dense = layers.Dense(3)                  # supports masking: the mask goes on
    probe = _RecordMask()
    y = probe(dense(emb(x)))
    np.testing.assert_array_equal(probe.seen.numpy(), x != 0)
    # A layer that does not support masking (the probe) drops it.
    assert get_mask(y) is None
    # Flatten does not support masking either.
    assert get_mask(layers.Flatten()(emb(x))) is None
    # An explicit mask= wins over the tensor's own.
    explicit = np.ones_like(x, dtype=bool)
    probe(emb(x), mask=keras.Tensor(explicit))
    np.testing.assert_array_equal(probe.seen.numpy(), explicit)


def test_mask_travels_through_sequential_and_functional_models():
    x = np.array([[3, 1, 0], [2, 0, 0]])
    probe = _RecordMask()
    model = keras.Sequential([layers.Embedding(4, 2, mask_zero=True), layers.Dense(2), probe])
    model(x)
    np.testing.assert_array_equal(probe.seen.numpy(), x != 0)

    probe2 = _RecordMask()
    inputs = keras.Input(shape=(3,), dtype="int32")
    h = layers.Embedding(4, 2, mask_zero=True)(inputs)
    h = layers.Dropout(0.5)(h)
    out = probe2(h)
    functional = keras.Model(inputs, out)
    functional(x)
    np.testing.assert_array_equal(probe2.seen.numpy(), x != 0)


def test_supports_masking_flag():
    class Plain(layers.Layer):
        pass

    class WithComputeMask(layers.Layer):
        def compute_mask(self, inputs, previous_mask=None):
            return previous_mask

    assert not Plain().supports_masking
    assert WithComputeMask().supports_masking
    layer = Plain()
    layer.supports_masking = True
    assert layer.supports_masking


def test_merging_layers_combine_masks():
    a_ids = np.array([[1, 2, 0], [3, 0, 0]])
    b_ids = np.array([[1, 0, 0], [2, 2, 1]])
    emb = layers.Embedding(4, 2, mask_zero=True)
    a, b = emb(a_ids), emb(b_ids)
    both = layers.Add()([a, b])               # every input masked: a logical or (Keras)
    np.testing.assert_array_equal(get_mask(both).numpy(), (a_ids != 0) | (b_ids != 0))
    # Joined along time, the masks are joined too.
    joined = layers.Concatenate(axis=1)([a, b])
    np.testing.assert_array_equal(get_mask(joined).numpy(),
                                  np.concatenate([a_ids != 0, b_ids != 0], axis=1))
    # Joined along the features, an input without a mask counts as real everywhere.
    plain = keras.Tensor(np.ones((2, 3, 1), dtype=np.float32))
    side = layers.Concatenate()([a, plain])
    np.testing.assert_array_equal(get_mask(side).numpy(), np.ones((2, 3), dtype=bool))
    assert get_mask(layers.Add()([plain, plain])) is None
    assert get_mask(layers.Add()([a, plain])) is None  # one input without a mask: none
    assert get_mask(layers.Dot(axes=2)([a, b])) is None


def test_merging_values_at_padded_steps_follow_keras():
    """Multiply counts a padded step as 1 (and gives 0 where every input is padded);
    Maximum and Minimum let a padded step take the other input's value (where both are
    padded, the first input's). The expected values are what Keras 3.15 gives."""
    x = keras.Tensor(np.array([[[2.0], [3.0], [5.0]]], np.float32))
    y = keras.Tensor(np.array([[[-4.0], [7.0], [1.0]]], np.float32))
    x._keras_mask = keras.Tensor(np.array([[True, False, False]]))
    y._keras_mask = keras.Tensor(np.array([[False, True, False]]))
    np.testing.assert_array_equal(layers.Multiply()([x, y]).numpy()[0, :, 0], [2.0, 7.0, 0.0])
    np.testing.assert_array_equal(layers.Maximum()([x, y]).numpy()[0, :, 0], [2.0, 7.0, 5.0])
    np.testing.assert_array_equal(layers.Minimum()([x, y]).numpy()[0, :, 0], [2.0, 7.0, 5.0])
    np.testing.assert_array_equal(get_mask(layers.Maximum()([x, y])).numpy(),
                                  [[True, True, False]])


def test_mask_survives_autocast_and_goes_to_the_first_output_only():
    emb = layers.Embedding(5, 2, mask_zero=True)          # float32 output with a mask
    x = np.array([[1, 2, 0]])
    probe = _RecordMask(dtype="float64")                  # casts its input to float64
    probe(emb(x))
    np.testing.assert_array_equal(probe.seen.numpy(), x != 0)

    class TwoOutputs(layers.Layer):
        _supports_masking = True

        def call(self, inputs):
            return [inputs + 0.0, inputs * 2.0]

    first, second = TwoOutputs()(emb(x))
    np.testing.assert_array_equal(get_mask(first).numpy(), x != 0)
    assert get_mask(second) is None


def test_functional_graph_with_symbolic_tensors_in_other_arguments():
    class Scale(layers.Layer):
        def call(self, inputs, other):
            return inputs * other

    a = keras.Input(shape=(3,))
    b = keras.Input(shape=(3,))
    out = Scale()(a, b)
    model = keras.Model([a, b], out)
    xa, xb = np.ones((2, 3), np.float32) * 2, np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(model([xa, xb]).numpy(), xa * xb)
