"""Merging layers: forward against NumPy, gradients against finite differences in float64 on
hypothesis-drawn shapes (broadcasting and rank lifting included), the functional API and
the functional forms, config round trips, and Keras's error messages."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minikeras as keras
from minikeras import layers
from minikeras.utils import check_gradients


def rand(shape, seed=0):
    return np.random.default_rng(seed).uniform(-1.5, 1.5, size=shape)


def check_merge_gradients(layer, *arrays):
    """Gradient check of a layer that takes a list: the list is built from the inputs."""
    report = check_gradients(lambda *xs: layer(list(xs)), *arrays)
    assert report.ok, str(report)


ELEMENTWISE = {
    "Add": lambda xs: sum(xs[1:], xs[0]),
    "Subtract": lambda xs: xs[0] - xs[1],
    "Multiply": lambda xs: np.prod(np.broadcast_arrays(*xs), axis=0),
    "Average": lambda xs: sum(xs[1:], xs[0]) / len(xs),
    "Maximum": lambda xs: np.maximum.reduce(np.broadcast_arrays(*xs)),
    "Minimum": lambda xs: np.minimum.reduce(np.broadcast_arrays(*xs)),
}


@given(kind=st.sampled_from(sorted(ELEMENTWISE)),
       shape=st.lists(st.integers(1, 4), min_size=2, max_size=4).map(tuple),
       count=st.integers(2, 4), seed=st.integers(0, 99))
def test_elementwise_merges_forward_and_gradients(kind, shape, count, seed):
    count = 2 if kind == "Subtract" else count
    xs = [rand(shape, seed + k) for k in range(count)]
    layer = getattr(layers, kind)(dtype="float64")
    np.testing.assert_allclose(layer(xs).numpy(), ELEMENTWISE[kind](xs), rtol=1e-12)
    check_merge_gradients(layer, *xs)


@given(kind=st.sampled_from(sorted(ELEMENTWISE)), batch=st.integers(1, 3),
       inner=st.integers(2, 4), features=st.integers(2, 4), seed=st.integers(0, 99))
def test_broadcasting_and_lower_rank_inputs(kind, batch, inner, features, seed):
    # (b, 1, f) against (b, n, f), and (b, f) lifted to (b, 1, f) against (b, n, f).
    layer = getattr(layers, kind)(dtype="float64")
    full = rand((batch, inner, features), seed)
    for small in (rand((batch, 1, features), seed + 1), rand((batch, features), seed + 2)):
        ref_small = small if small.ndim == 3 else small[:, None, :]
        np.testing.assert_allclose(layer([small, full]).numpy(),
                                   ELEMENTWISE[kind]([ref_small, full]), rtol=1e-12)
        assert layer.compute_output_shape([small.shape, full.shape]) == full.shape
        check_merge_gradients(layer, small, full)


@given(rank=st.integers(2, 4), axis_pick=st.integers(0, 10), count=st.integers(1, 3),
       data=st.data())
def test_concatenate_forward_and_gradients(rank, axis_pick, count, data):
    base = data.draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank))
    axis = axis_pick % rank - (rank if axis_pick % 2 else 0)   # positive and negative axes
    shapes = []
    for k in range(count):
        s = list(base)
        s[axis] = data.draw(st.integers(1, 3))
        shapes.append(tuple(s))
    xs = [rand(s, k) for k, s in enumerate(shapes)]
    layer = layers.Concatenate(axis=axis, dtype="float64")
    y = layer(xs).numpy()
    np.testing.assert_array_equal(y, np.concatenate(xs, axis=axis))
    assert layer.compute_output_shape(shapes) == y.shape
    check_merge_gradients(layer, *xs)


def _batch_dot_reference(x1, x2, a1, a2):
    out = np.stack([np.tensordot(p, q, axes=(a1 - 1, a2 - 1)) for p, q in zip(x1, x2)])
    return out.reshape(out.shape + (1,)) if out.ndim == 1 else out


@given(r1=st.integers(2, 4), r2=st.integers(2, 4), normalize=st.booleans(),
       negative=st.booleans(), data=st.data())
def test_dot_forward_and_gradients(r1, r2, normalize, negative, data):
    batch, n = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 4))
    a1, a2 = data.draw(st.integers(1, r1 - 1)), data.draw(st.integers(1, r2 - 1))
    s1 = [batch] + data.draw(st.lists(st.integers(1, 3), min_size=r1 - 1, max_size=r1 - 1))
    s2 = [batch] + data.draw(st.lists(st.integers(1, 3), min_size=r2 - 1, max_size=r2 - 1))
    s1[a1], s2[a2] = n, n
    x1, x2 = rand(s1, 1), rand(s2, 2)
    axes = (a1 - r1, a2 - r2) if negative else (a1, a2)
    layer = layers.Dot(axes=axes, normalize=normalize, dtype="float64")
    if normalize:
        ref = _batch_dot_reference(
            x1 / np.maximum(np.linalg.norm(x1, axis=a1, keepdims=True), 1e-7),
            x2 / np.maximum(np.linalg.norm(x2, axis=a2, keepdims=True), 1e-7), a1, a2)
    else:
        ref = _batch_dot_reference(x1, x2, a1, a2)
    y = layer([x1, x2]).numpy()
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-12)
    assert layer.compute_output_shape([tuple(s1), tuple(s2)]) == y.shape
    check_merge_gradients(layer, x1, x2)


def test_dot_int_axes_and_cosine_similarity():
    x, y = rand((3, 5), 0), rand((3, 5), 1)
    out = layers.Dot(axes=1)([x, y]).numpy()
    assert out.shape == (3, 1)
    np.testing.assert_allclose(out[:, 0], np.sum(x * y, axis=1), rtol=1e-5)
    cos = layers.Dot(axes=-1, normalize=True)([x, y]).numpy()[:, 0]
    ref = np.sum(x * y, 1) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1))
    np.testing.assert_allclose(cos, ref, rtol=1e-5)
    # an all-zero vector: a zero output and finite gradients (no 0/0), thanks to epsilon
    zero = keras.Variable(np.zeros((1, 4)))
    with keras.GradientTape() as tape:
        out = layers.Dot(axes=1, normalize=True)([zero, rand((1, 4))])
    np.testing.assert_array_equal(out.numpy(), [[0.0]])
    assert np.all(np.isfinite(tape.gradient(out, zero).numpy()))


def test_functional_model_with_merges():
    a, b = keras.Input(shape=(3,)), keras.Input(shape=(3,))
    model = keras.Model([a, b], layers.Add()([a, b]))
    x, y = rand((4, 3), 0).astype("float32"), rand((4, 3), 1).astype("float32")
    np.testing.assert_allclose(model([x, y]).numpy(), x + y, rtol=1e-6)
    np.testing.assert_allclose(model.predict([x, y], verbose=0), x + y, rtol=1e-6)

    c = layers.concatenate([a, layers.Dense(2)(b)])
    assert c.shape == (None, 5)
    d = layers.dot([a, b], axes=1)
    assert d.shape == (None, 1)
    for fn, ref in [(layers.add, x + y), (layers.subtract, x - y), (layers.multiply, x * y),
                    (layers.average, (x + y) / 2), (layers.maximum, np.maximum(x, y)),
                    (layers.minimum, np.minimum(x, y))]:
        out = fn([a, b])
        assert out.shape == (None, 3)
        np.testing.assert_allclose(keras.Model([a, b], out)([x, y]).numpy(), ref, rtol=1e-6)
    both = keras.Model([a, b], [c, d])
    got_c, got_d = both([x, y])
    assert got_c.shape == (4, 5) and got_d.shape == (4, 1)


def test_merge_model_trains():
    a, b = keras.Input(shape=(3,)), keras.Input(shape=(2,))
    h = layers.Concatenate()([layers.Dense(4)(a), layers.Dense(4)(b)])
    model = keras.Model([a, b], layers.Dense(1)(layers.Multiply()([h, h])))
    model.compile(optimizer="sgd", loss="mse")
    x1, x2 = rand((8, 3)).astype("float32"), rand((8, 2), 1).astype("float32")
    history = model.fit([x1, x2], np.ones((8, 1), "float32"), epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


def test_config_round_trip():
    for layer in [layers.Add(name="plus"), layers.Concatenate(axis=1, name="cat"),
                  layers.Dot(axes=(1, 2), normalize=True, name="d"), layers.Subtract()]:
        config = layer.get_config()
        clone = type(layer).from_config(config)
        assert clone.get_config() == config
    assert layers.Concatenate(axis=1).get_config()["axis"] == 1
    config = layers.Dot(axes=(1, 2), normalize=True).get_config()
    assert config["axes"] == (1, 2) and config["normalize"] is True


def test_no_weights_and_output_shapes():
    layer = layers.Add()
    layer([np.ones((2, 3)), np.ones((2, 3))])
    assert layer.weights == []
    assert layers.Add().compute_output_shape([(None, 3), (None, 4, 3)]) == (None, 4, 3)
    assert layers.Concatenate().compute_output_shape([(None, 3), (None, 4)]) == (None, 7)
    assert layers.Concatenate(axis=1).compute_output_shape([(2, None), (2, 4)]) == (2, None)
    assert layers.Dot(axes=(1, 2)).compute_output_shape([(None, 3, 5), (None, 4, 3)]) == \
        (None, 5, 4)


# --------------------------------------------------------------------------- errors
def test_concatenate_shape_mismatch_names_the_layer_and_the_shapes():
    msg = (r'Layer "cat": A `Concatenate` layer requires inputs with matching shapes except for '
           r"the concatenation axis. Received: input_shape=\[\(None, 3\), \(None, 4, 2\)\]")
    with pytest.raises(ValueError, match=msg):
        layers.Concatenate(name="cat")([keras.Input(shape=(3,)), keras.Input(shape=(4, 2))])
    with pytest.raises(ValueError, match=r"input_shape=\[\(2, 3, 4\), \(2, 5, 5\)\]"):
        layers.Concatenate()([np.zeros((2, 3, 4)), np.zeros((2, 5, 5))])
    with pytest.raises(ValueError, match="out of range"):
        layers.Concatenate(axis=3)([np.zeros((2, 3)), np.zeros((2, 3))])


def test_elementwise_shape_mismatch():
    with pytest.raises(ValueError, match=r'Layer "plus": Inputs have incompatible shapes. '
                                         r"Received shapes \(3,\) and \(4,\)"):
        layers.Add(name="plus")([keras.Input(shape=(3,)), keras.Input(shape=(4,))])
    layer = layers.Multiply()
    layer([np.ones((2, 3)), np.ones((2, 3))])
    with pytest.raises(ValueError, match=r"Received shapes \(3,\) and \(5,\)"):  # every call
        layer([np.ones((2, 3)), np.ones((2, 5))])
    with pytest.raises(ValueError, match=r"Cannot merge tensors with different batch sizes. "
                                         r"Received tensors with shapes \[\(2, 3\), \(3, 3\)\]"):
        layers.Maximum()([np.ones((2, 3)), np.ones((3, 3))])


def test_merge_needs_a_list():
    with pytest.raises(ValueError, match=r"A merge layer should be called on a list of inputs. "
                                         r"Received: inputs with shape \(2, 3\)"):
        layers.Add()(np.ones((2, 3)))
    with pytest.raises(ValueError, match="at least 1 input"):
        layers.Average()([])
    with pytest.raises(ValueError, match=r"A `Subtract` layer should be called on exactly 2 "
                                         r"inputs. Received: input_shape=\[\(2, 3\), \(2, 3\), "
                                         r"\(2, 3\)\]"):
        layers.Subtract()([np.ones((2, 3))] * 3)
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        layers.subtract([keras.Input(shape=(3,))])


def test_dot_errors():
    with pytest.raises(ValueError, match=r"Incompatible input shapes: axis values 3 \(at axis "
                                         r"1\) != 4 \(at axis 1\). Full input shapes: "
                                         r"\(None, 3\), \(None, 4\)"):
        layers.Dot(axes=1)([keras.Input(shape=(3,)), keras.Input(shape=(4,))])
    with pytest.raises(ValueError, match="should be called on a list of 2 inputs"):
        layers.Dot(axes=1)([np.ones((2, 3))] * 3)
    with pytest.raises(ValueError, match="Cannot perform batch_dot over axis 0"):
        layers.Dot(axes=0)([np.ones((2, 3)), np.ones((2, 3))])
    with pytest.raises(ValueError, match="rank < 2"):
        layers.Dot(axes=-1)([np.ones(3), np.ones(3)])
    with pytest.raises(TypeError, match="Invalid type for argument `axes`"):
        layers.Dot(axes="1")
    with pytest.raises(ValueError, match="it should contain two elements"):
        layers.Dot(axes=(1, 2, 3))
    with pytest.raises(ValueError, match="list elements should be integers"):
        layers.Dot(axes=(1, 2.0))
