"""Bidirectional and TimeDistributed: forward against NumPy loops, gradients (inputs,
initial states, weights) against finite differences in float64, merge modes, masks,
return_state, naming, configs, errors."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minikeras as keras
from minikeras import layers, ops
from minikeras.layers import Layer
from minikeras.tensor import Tensor
from minikeras.utils import check_layer_gradients


def rand(shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, size=shape)


def simple_rnn_ref(x, kernel, rkernel, bias, h0, mask=None, reverse=False):
    """SimpleRNN outputs (B, T, u) in the input's time order, h = tanh(x W + h U + b); at a
    masked step the state is kept and the output is zero (what Bidirectional asks for)."""
    b, t = x.shape[:2]
    h = h0
    outs = np.zeros((b, t, kernel.shape[1]))
    for s in (range(t - 1, -1, -1) if reverse else range(t)):
        new = np.tanh(x[:, s] @ kernel + h @ rkernel + bias)
        keep = np.ones((b, 1), bool) if mask is None else mask[:, s][:, None]
        outs[:, s] = np.where(keep, new, 0.0)
        h = np.where(keep, new, h)
    return outs, h


MERGE = {"concat": lambda a, b: np.concatenate([a, b], axis=-1), "sum": lambda a, b: a + b,
         "mul": lambda a, b: a * b, "ave": lambda a, b: (a + b) / 2}


class Harness(Layer):
    """A wrapper call with a fixed mask, the initial states as inputs, one joined output."""

    def __init__(self, inner, mask=None):
        super().__init__(dtype="float64")
        self.inner, self.mask = inner, mask

    def call(self, x, *states):
        kwargs = {"initial_state": list(states)} if states else {}
        if self.mask is not None:
            kwargs["mask"] = self.mask
        y = self.inner(x, **kwargs)
        flat = list(y) if isinstance(y, tuple) else [y]
        return ops.concatenate([ops.reshape(t, (t.shape[0], -1)) for t in flat], axis=-1)


# ------------------------------------------------------------------ Bidirectional
@given(batch=st.integers(1, 3), steps=st.integers(1, 4), features=st.integers(1, 3),
       units=st.integers(1, 3), merge_mode=st.sampled_from(["concat", "sum", "mul", "ave", None]),
       return_sequences=st.booleans(), return_state=st.booleans(), masked=st.booleans(),
       with_state=st.booleans(), seed=st.integers(0, 999))
def test_bidirectional_forward_matches_numpy(batch, steps, features, units, merge_mode,
                                             return_sequences, return_state, masked,
                                             with_state, seed):
    rng = np.random.default_rng(seed)
    layer = layers.Bidirectional(layers.SimpleRNN(units, return_sequences=return_sequences,
                                                  return_state=return_state,
                                                  bias_initializer="uniform", dtype="float64"),
                                 merge_mode=merge_mode, dtype="float64")
    x = rng.uniform(-1, 1, (batch, steps, features))
    mask = None
    if masked:
        mask = rng.random((batch, steps)) < 0.6
        mask[:, 0] = True  # a leading kept step: the last forward output is a real step
    states = [rng.uniform(-1, 1, (batch, units)) for _ in range(2)] if with_state else None
    y = layer(x, initial_state=states, mask=mask)
    w = layer.get_weights()
    h0 = states if with_state else [np.zeros((batch, units))] * 2
    fwd, h_f = simple_rnn_ref(x, *w[:3], h0[0], mask)
    bwd, h_b = simple_rnn_ref(x, *w[3:], h0[1], mask, reverse=True)
    if return_sequences:
        a, b = fwd, bwd
    else:
        a = h_f   # the state after the last kept step (its output with a masked last step)
        b = h_b   # the backward layer ends at the first time step
    outs = list(y) if isinstance(y, tuple) else [y]
    if merge_mode is None:
        got, rest = outs[:2], outs[2:]
        np.testing.assert_allclose(got[0].numpy(), a, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(got[1].numpy(), b, rtol=1e-10, atol=1e-12)
    else:
        got, rest = outs[0], outs[1:]
        np.testing.assert_allclose(got.numpy(), MERGE[merge_mode](a, b), rtol=1e-10, atol=1e-12)
    if return_state:
        np.testing.assert_allclose(rest[0].numpy(), h_f, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(rest[1].numpy(), h_b, rtol=1e-10, atol=1e-12)
    else:
        assert rest == []
    shape = layer.compute_output_shape((batch, steps, features))
    flat_shape = list(shape) if (return_state or merge_mode is None) else [shape]
    assert [tuple(o.shape) for o in outs] == [tuple(s) for s in flat_shape]


@settings(max_examples=10)
@given(kind=st.sampled_from(["lstm", "gru", "simple_rnn"]), batch=st.integers(1, 2),
       steps=st.integers(1, 3), features=st.integers(1, 2), units=st.integers(1, 2),
       merge_mode=st.sampled_from(["concat", "sum", "mul", "ave"]),
       return_sequences=st.booleans(), return_state=st.booleans(), masked=st.booleans(),
       with_state=st.booleans(), seed=st.integers(0, 999))
def test_bidirectional_gradients(kind, batch, steps, features, units, merge_mode,
                                 return_sequences, return_state, masked, with_state, seed):
    rng = np.random.default_rng(seed)
    inner = {"lstm": layers.LSTM, "gru": layers.GRU, "simple_rnn": layers.SimpleRNN}[kind]
    layer = layers.Bidirectional(inner(units, return_sequences=return_sequences,
                                       return_state=return_state, bias_initializer="uniform",
                                       dtype="float64"), merge_mode=merge_mode, dtype="float64")
    x = rng.uniform(-1, 1, (batch, steps, features))
    n = 2 if kind == "lstm" else 1
    states = [rng.uniform(-1, 1, (batch, units)) for _ in range(2 * n)] if with_state else []
    mask = (rng.random((batch, steps)) < 0.6) if masked else None
    report = check_layer_gradients(Harness(layer, mask), x, *states)
    assert report.ok, str(report)


def test_bidirectional_names_weights_and_config():
    layer = layers.Bidirectional(layers.LSTM(3, name="lstm"), name="bidirectional")
    layer(np.zeros((2, 4, 5), "float32"))
    assert layer.forward_layer.name == "forward_lstm"
    assert layer.backward_layer.name == "backward_lstm"
    assert layer.backward_layer.go_backwards and not layer.forward_layer.go_backwards
    assert [w.path for w in layer.weights] == [
        f"bidirectional/{d}_lstm/lstm_cell/{k}" for d in ("forward", "backward")
        for k in ("kernel", "recurrent_kernel", "bias")]
    config = layer.get_config()
    assert config["merge_mode"] == "concat"
    assert config["layer"]["class_name"] == "LSTM"
    assert config["backward_layer"]["config"]["go_backwards"] is True
    clone = layers.Bidirectional.from_config(config)
    x = rand((2, 4, 5)).astype("float32")
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(x).numpy(), layer(x).numpy(), rtol=1e-6)
    # a new layer is made from the given one's config: the original's weights are not used
    original = layers.GRU(2)
    wrapped = layers.Bidirectional(original)
    assert wrapped.forward_layer is not original


def test_bidirectional_weights_argument_and_backward_layer():
    src = layers.Bidirectional(layers.SimpleRNN(2))
    x = rand((3, 4, 2)).astype("float32")
    y = src(x).numpy()
    copy = layers.Bidirectional(layers.SimpleRNN(2), weights=src.get_weights())
    np.testing.assert_allclose(copy(x).numpy(), y, rtol=1e-6)
    back = layers.SimpleRNN(2, go_backwards=True, activation="relu")
    custom = layers.Bidirectional(layers.SimpleRNN(2), backward_layer=back)
    assert custom.backward_layer is back
    custom(x)
    assert custom.backward_layer.cell.activation is keras.activations.relu


def test_bidirectional_masks():
    mask = np.array([[1, 1, 0], [1, 1, 1]], bool)
    t = Tensor(rand((2, 3, 2)).astype("float32"))
    t._keras_mask = Tensor(mask)
    seq = layers.Bidirectional(layers.LSTM(2, return_sequences=True))
    y = seq(t)
    np.testing.assert_array_equal(y._keras_mask.numpy(), mask)
    np.testing.assert_array_equal(y.numpy()[0, 2], 0.0)  # masked: zeros in both directions
    last = layers.Bidirectional(layers.LSTM(2))
    assert getattr(last(t), "_keras_mask", None) is None
    split = layers.Bidirectional(layers.GRU(2, return_sequences=True), merge_mode=None)
    a, b = split(t)
    assert a._keras_mask is not None and b._keras_mask is not None
    with_states = layers.Bidirectional(layers.LSTM(2, return_sequences=True, return_state=True))
    out = with_states(t)
    assert len(out) == 5 and out[0]._keras_mask is not None
    assert all(getattr(s, "_keras_mask", None) is None for s in out[1:])


def test_bidirectional_with_symbolic_initial_state():
    layer = layers.Bidirectional(layers.GRU(2))
    seq, s1, s2 = keras.Input((None, 3)), keras.Input((2,)), keras.Input((2,))
    model = keras.Model([seq, s1, s2], layer(seq, initial_state=[s1, s2]))
    x, a, b = rand((2, 4, 3)).astype("float32"), rand((2, 2), 1), rand((2, 2), 2)
    a, b = a.astype("float32"), b.astype("float32")
    np.testing.assert_allclose(model([x, a, b]).numpy(),
                               layer(x, initial_state=[a, b]).numpy(), rtol=1e-6)
    assert isinstance(layers.TimeDistributed(layers.Dense(1)), layers.Wrapper)


def test_bidirectional_in_a_model_learns():
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(48, 5, 2)).astype("float32")
    y = (x[:, 0, 0] + x[:, -1, 1] > 0).astype("int32")
    model = keras.Sequential([keras.Input((5, 2)), layers.Bidirectional(layers.GRU(6)),
                              layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.Adam(0.03),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    losses = model.fit(x, y, epochs=8, batch_size=16, verbose=0).history["loss"]
    assert losses[-1] < 0.8 * losses[0], losses


def test_bidirectional_errors():
    with pytest.raises(ValueError, match="Invalid merge mode. Received: max"):
        layers.Bidirectional(layers.LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match="Please initialize `Bidirectional` layer with a "
                                         "`keras.layers.Layer` instance"):
        layers.Bidirectional("lstm")
    with pytest.raises(ValueError, match="should have different `go_backwards` value"):
        layers.Bidirectional(layers.LSTM(2), backward_layer=layers.LSTM(2))
    with pytest.raises(ValueError, match="forward_layer.go_backwards True, "
                                         "backward_layer.go_backwards=True"):
        layers.Bidirectional(layers.LSTM(2, go_backwards=True))  # as in Keras
    with pytest.raises(ValueError, match='same value for attribute "return_sequences", got '
                                         '"False" for forward layer and "True"'):
        layers.Bidirectional(layers.LSTM(2), backward_layer=layers.LSTM(
            2, go_backwards=True, return_sequences=True))
    bi = layers.Bidirectional(layers.LSTM(2), name="bi")
    with pytest.raises(ValueError, match=r'"bi": `initial_state` must hold .* received 3'):
        bi(np.zeros((1, 2, 2), "float32"), initial_state=[np.zeros((1, 2), "float32")] * 3)
    bi(np.zeros((1, 2, 2), "float32"))
    with pytest.raises(ValueError, match=r'"bi" is incompatible.*expected axis -1 of input '
                                         r'shape to have value 2'):
        bi(np.zeros((1, 2, 3), "float32"))


# ------------------------------------------------------------------ TimeDistributed
@given(batch=st.integers(1, 3), steps=st.integers(1, 4), features=st.integers(1, 3),
       units=st.integers(1, 3), seed=st.integers(0, 999))
def test_time_distributed_dense_forward_and_gradients(batch, steps, features, units, seed):
    layer = layers.TimeDistributed(layers.Dense(units, activation="tanh",
                                                bias_initializer="uniform", dtype="float64"),
                                   dtype="float64")
    x = rand((batch, steps, features), seed)
    y = layer(x).numpy()
    kernel, bias = layer.get_weights()
    for t in range(steps):
        np.testing.assert_allclose(y[:, t], np.tanh(x[:, t] @ kernel + bias), rtol=1e-12)
    assert layer.compute_output_shape((None, steps, features)) == (None, steps, units)
    report = check_layer_gradients(layer, x)
    assert report.ok, str(report)


def test_time_distributed_on_4d_inputs_names_and_config():
    layer = layers.TimeDistributed(layers.Flatten())
    x = rand((2, 3, 4, 5)).astype("float32")
    np.testing.assert_array_equal(layer(x).numpy(), x.reshape(2, 3, 20))
    dense = layers.TimeDistributed(layers.Dense(2, name="dense"), name="time_distributed")
    dense(x[:, :, 0])
    assert [w.path for w in dense.weights] == ["time_distributed/dense/kernel",
                                               "time_distributed/dense/bias"]
    config = dense.get_config()
    assert config["layer"]["class_name"] == "Dense"
    clone = layers.TimeDistributed.from_config(config)
    clone(x[:, :, 0])
    clone.set_weights(dense.get_weights())
    np.testing.assert_allclose(clone(x[:, :, 0]).numpy(), dense(x[:, :, 0]).numpy())


def test_time_distributed_passes_the_mask_on():
    seen = {}

    class Probe(Layer):
        supports_masking = True

        def call(self, inputs, mask=None):
            seen["mask"] = None if mask is None else np.asarray(mask.numpy())
            return inputs * 2.0

    mask = np.array([[1, 0, 1], [1, 1, 0]], bool)
    t = Tensor(rand((2, 3, 2)).astype("float32"))
    t._keras_mask = Tensor(mask)
    out = layers.TimeDistributed(Probe())(t)
    np.testing.assert_array_equal(seen["mask"], mask.reshape(6))
    np.testing.assert_array_equal(out._keras_mask.numpy(), mask)
    np.testing.assert_allclose(out.numpy(), t.numpy() * 2)


def test_time_distributed_then_lstm_model():
    model = keras.Sequential([keras.Input((4, 3)), layers.TimeDistributed(layers.Dense(5)),
                              layers.LSTM(2)])
    assert model(rand((2, 4, 3)).astype("float32")).shape == (2, 2)


def test_time_distributed_errors():
    with pytest.raises(ValueError, match="Please initialize `TimeDistributed` layer with a "
                                         "`keras.layers.Layer` instance"):
        layers.TimeDistributed(3)
    with pytest.raises(ValueError, match=r"should be passed an `input_shape` with at least 3 "
                                         r"dimensions, received: \(2, 3\)"):
        layers.TimeDistributed(layers.Dense(2))(np.zeros((2, 3), "float32"))
    with pytest.raises(ValueError, match=r"should be passed a `mask` of shape \(2, 3, \.\.\.\), "
                                         r"received: mask.shape=\(2, 4\)"):
        layers.TimeDistributed(layers.Dense(2))(np.zeros((2, 3, 1), "float32"),
                                                mask=np.ones((2, 4), bool))
