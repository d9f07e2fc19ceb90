"""Recurrent layers and cells: forward against a plain NumPy loop over time (Keras's
formulas), gradients of inputs, initial states and weights against finite differences in
float64, masks, go_backwards, return_state, stateful, configs, errors, and the fused
sequence ops against the cell loop once they exist."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minikeras as keras
from minikeras import layers, ops
from minikeras.layers import Layer
from minikeras.tensor import Tensor
from minikeras.utils import check_gradients, check_layer_gradients

KINDS = ["simple_rnn", "lstm", "gru"]
LAYER = {"simple_rnn": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}
CELL = {"simple_rnn": layers.SimpleRNNCell, "lstm": layers.LSTMCell, "gru": layers.GRUCell}


def rand(shape, seed=0, scale=1.0):
    return np.random.default_rng(seed).uniform(-scale, scale, size=shape)


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


# ------------------------------------------------------------------ the NumPy reference
def ref_step(kind, x, h, c, kernel, rkernel, bias, reset_after=True):
    """One step of Keras's formulas; returns (h, c)."""
    u = h.shape[-1]
    if kind == "simple_rnn":
        z = x @ kernel + h @ rkernel + (0 if bias is None else bias)
        return np.tanh(z), None
    if kind == "lstm":
        z = x @ kernel + h @ rkernel + (0 if bias is None else bias)
        i, f, g, o = (z[:, k * u:(k + 1) * u] for k in range(4))
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        return sigmoid(o) * np.tanh(c), c
    b_in = np.zeros(3 * u) if bias is None else (bias[0] if reset_after else bias)
    b_rec = np.zeros(3 * u) if bias is None or not reset_after else bias[1]
    xw = x @ kernel + b_in
    hu = h @ rkernel + b_rec
    z = sigmoid(xw[:, :u] + hu[:, :u])
    r = sigmoid(xw[:, u:2 * u] + hu[:, u:2 * u])
    if reset_after:
        hh = np.tanh(xw[:, 2 * u:] + r * hu[:, 2 * u:])
    else:
        hh = np.tanh(xw[:, 2 * u:] + (r * h) @ rkernel[:, 2 * u:])
    return z * h + (1 - z) * hh, None


def ref_sequence(kind, x, weights, h0, c0=None, mask=None, go_backwards=False,
                 zero_output=False, reset_after=True, unroll=False):
    """(outputs in processing order (B, T, u), last output, h, c) by a loop over time.
    A masked step keeps the states and outputs the previous h (or zeros); Keras's unrolled
    loop outputs the previous output instead, zeros before the first real step."""
    kernel, rkernel = weights[0], weights[1]
    bias = weights[2] if len(weights) > 2 else None
    steps = range(x.shape[1] - 1, -1, -1) if go_backwards else range(x.shape[1])
    h, c = h0, c0
    outs = []
    for t in steps:
        new_h, new_c = ref_step(kind, x[:, t], h, c, kernel, rkernel, bias, reset_after)
        if mask is not None:
            keep = mask[:, t][:, None]
            if unroll:
                out = np.where(keep, new_h, outs[-1] if outs else 0.0)
            else:
                out = np.where(keep, new_h, 0.0 if zero_output else h)
            new_h = np.where(keep, new_h, h)
            if c is not None:
                new_c = np.where(keep, new_c, c)
        else:
            out = new_h
        h, c = new_h, new_c
        outs.append(out)
    return np.stack(outs, axis=1), outs[-1], h, c


def n_states(kind):
    return 2 if kind == "lstm" else 1


def random_mask(rng, batch, steps):
    m = rng.random((batch, steps)) < 0.6
    m[0, -1] = False  # at least one masked step, so the mask is not skipped as all-True
    return m


class Harness(Layer):
    """Calls an RNN layer with fixed mask and training flag, the initial states given as
    inputs (so they are gradient-checked too) and every output joined into one tensor."""

    def __init__(self, rnn, mask=None, **kwargs):
        super().__init__(dtype="float64", **kwargs)
        self.rnn, self.mask = rnn, mask

    def call(self, x, *states):
        y = self.rnn(x, initial_state=list(states) or None, mask=self.mask)
        if isinstance(y, tuple):
            y = ops.concatenate([ops.reshape(t, (t.shape[0], -1)) for t in y], axis=-1)
        return y


@st.composite
def rnn_setup(draw):
    return dict(kind=draw(st.sampled_from(KINDS)), batch=draw(st.integers(1, 3)),
                steps=draw(st.integers(1, 4)), features=draw(st.integers(1, 3)),
                units=draw(st.integers(1, 3)), seed=draw(st.integers(0, 999)))


# ------------------------------------------------------------------ cells
@given(s=rnn_setup(), use_bias=st.booleans(), reset_after=st.booleans())
def test_cell_one_step_forward_and_gradients(s, use_bias, reset_after):
    kind, b, d, u = s["kind"], s["batch"], s["features"], s["units"]
    extra = {"reset_after": reset_after} if kind == "gru" else {}
    cell = CELL[kind](u, use_bias=use_bias, dtype="float64", bias_initializer="uniform", **extra)
    x, h = rand((b, d), s["seed"]), rand((b, u), s["seed"] + 1)
    c = rand((b, u), s["seed"] + 2)
    states = [h, c] if kind == "lstm" else [h]
    out, new_states = cell(x, [Tensor(v) for v in states])
    ref_h, ref_c = ref_step(kind, x, h, c, *[w.numpy() for w in cell.weights][:2],
                            cell.bias.numpy() if use_bias else None, reset_after)
    np.testing.assert_allclose(out.numpy(), ref_h, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(new_states[0].numpy(), ref_h, rtol=1e-10, atol=1e-12)
    if kind == "lstm":
        np.testing.assert_allclose(new_states[1].numpy(), ref_c, rtol=1e-10, atol=1e-12)
    assert cell.output_size == u
    assert cell.state_size == ([u, u] if kind == "lstm" else u)

    class Step(Layer):
        def __init__(self):
            super().__init__(dtype="float64")
            self.cell = cell

        def call(self, x, *states):
            out, new = self.cell(x, list(states))
            return ops.concatenate([out] + list(new), axis=-1)

    report = check_layer_gradients(Step(), x, *states)
    assert report.ok, str(report)


def test_cell_weights_initial_state_and_unit_forget_bias():
    cell = layers.LSTMCell(3)
    cell.build((None, 2))
    assert [w.shape for w in cell.weights] == [(2, 12), (3, 12), (12,)]
    np.testing.assert_array_equal(cell.bias.numpy(), [0] * 3 + [1] * 3 + [0] * 6)
    no_forget = layers.LSTMCell(3, unit_forget_bias=False)
    no_forget.build((None, 2))
    np.testing.assert_array_equal(no_forget.bias.numpy(), np.zeros(12))
    gru = layers.GRUCell(4)
    gru.build((None, 2))
    assert [w.shape for w in gru.weights] == [(2, 12), (4, 12), (2, 12)]
    gru_before = layers.GRUCell(4, reset_after=False)
    gru_before.build((None, 2))
    assert gru_before.bias.shape == (12,)
    states = cell.get_initial_state(batch_size=5)
    assert [s.shape for s in states] == [(5, 3), (5, 3)] and not np.any(states[0].numpy())
    # the recurrent kernel starts orthogonal (Keras's default)
    q = layers.SimpleRNNCell(4)
    q.build((None, 3))
    r = q.recurrent_kernel.numpy()
    np.testing.assert_allclose(r.T @ r, np.eye(4), atol=1e-5)


# ------------------------------------------------------------------ layers: forward
@given(s=rnn_setup(), return_sequences=st.booleans(), return_state=st.booleans(),
       go_backwards=st.booleans(), masked=st.booleans(), with_state=st.booleans(),
       zero_output=st.booleans(), reset_after=st.booleans(), unroll=st.booleans())
def test_layer_forward_matches_numpy_loop(s, return_sequences, return_state, go_backwards,
                                          masked, with_state, zero_output, reset_after, unroll):
    kind, b, t, d, u = s["kind"], s["batch"], s["steps"], s["features"], s["units"]
    rng = np.random.default_rng(s["seed"])
    kwargs = dict(return_sequences=return_sequences, return_state=return_state,
                  go_backwards=go_backwards, zero_output_for_mask=zero_output, unroll=unroll,
                  dtype="float64")
    if kind == "gru":
        kwargs["reset_after"] = reset_after
    if kind != "simple_rnn":
        kwargs["use_cudnn"] = False
    layer = LAYER[kind](u, **kwargs)
    x = rng.uniform(-1, 1, (b, t, d))
    mask = random_mask(rng, b, t) if masked else None
    states = [rng.uniform(-1, 1, (b, u)) for _ in range(n_states(kind))] if with_state else None
    y = layer(x, initial_state=states, mask=mask)
    h0 = states[0] if with_state else np.zeros((b, u))
    c0 = (states[1] if with_state else np.zeros((b, u))) if kind == "lstm" else None
    seq, last, h, c = ref_sequence(kind, x, layer.get_weights(), h0, c0, mask, go_backwards,
                                   zero_output, reset_after, unroll)
    outs = list(y) if return_state else [y]
    np.testing.assert_allclose(outs[0].numpy(), seq if return_sequences else last,
                               rtol=1e-10, atol=1e-12)
    if return_state:
        np.testing.assert_allclose(outs[1].numpy(), h, rtol=1e-10, atol=1e-12)
        if kind == "lstm":
            np.testing.assert_allclose(outs[2].numpy(), c, rtol=1e-10, atol=1e-12)
        assert len(outs) == 1 + n_states(kind)
    shapes = layer.compute_output_shape((b, t, d))
    expected = shapes if return_state else (shapes,)
    assert [tuple(o.shape) for o in outs] == [tuple(e) for e in expected]


def test_weight_paths_shapes_and_order():
    x = np.zeros((2, 3, 5), "float32")
    for layer, cell, n in ((layers.SimpleRNN(4), "simple_rnn_cell", 1),
                           (layers.LSTM(4), "lstm_cell", 4), (layers.GRU(4), "gru_cell", 3)):
        layer(x)
        assert [w.path for w in layer.weights] == [f"{layer.name}/{cell}/{k}" for k in
                                                   ("kernel", "recurrent_kernel", "bias")]
        assert layer.weights[0].shape == (5, 4 * n) and layer.weights[1].shape == (4, 4 * n)
        assert layer.cell.name == cell and layer.units == 4
    assert layers.GRU(4).name.startswith("gru") and layers.SimpleRNN(2).name.startswith(
        "simple_rnn")


# ------------------------------------------------------------------ layers: gradients
@settings(max_examples=10)
@given(s=rnn_setup(), return_sequences=st.booleans(), return_state=st.booleans(),
       go_backwards=st.booleans(), masked=st.booleans(), with_state=st.booleans(),
       reset_after=st.booleans())
def test_layer_gradients(s, return_sequences, return_state, go_backwards, masked, with_state,
                         reset_after):
    kind, b, t, d, u = s["kind"], s["batch"], s["steps"], s["features"], s["units"]
    rng = np.random.default_rng(s["seed"])
    kwargs = dict(return_sequences=return_sequences, return_state=return_state,
                  go_backwards=go_backwards, dtype="float64", bias_initializer="uniform")
    if kind == "gru":
        kwargs["reset_after"] = reset_after
    if kind != "simple_rnn":
        kwargs["use_cudnn"] = False
    layer = LAYER[kind](u, **kwargs)
    x = rng.uniform(-1, 1, (b, t, d))
    states = [rng.uniform(-1, 1, (b, u)) for _ in range(n_states(kind))] if with_state else []
    harness = Harness(layer, mask=random_mask(rng, b, t) if masked else None)
    report = check_layer_gradients(harness, x, *states)
    assert report.ok, str(report)


def test_second_derivatives_through_the_cell_loop():
    for kind in KINDS:
        kwargs = {} if kind == "simple_rnn" else {"use_cudnn": False}
        layer = LAYER[kind](2, dtype="float64", bias_initializer="uniform", **kwargs)
        x = rand((2, 3, 2), 4)
        layer(x)
        report = check_gradients(lambda v: layer(v), x, order=2)
        assert report.ok, str(report)
    # with the default use_cudnn="auto" the layer runs the fused op on every tape; a
    # gradient of a gradient then says how to get the cell loop
    layer = layers.LSTM(2, dtype="float64")
    x = keras.Variable(rand((1, 2, 2), 5))
    with keras.GradientTape():
        with keras.GradientTape() as inner:
            y = ops.sum(layer(x))
        with pytest.raises(RuntimeError, match="use_cudnn=False"):
            inner.gradient(y, x)


# ------------------------------------------------------------------ dropout
def test_dropout_masks_are_drawn_once_per_sequence():
    # Linear cell, no recurrence: h_t = (x_t · m) W. With the same x at every step, every
    # step's output is the same, because the input mask m is the same.
    layer = layers.SimpleRNN(6, activation=None, use_bias=False, recurrent_initializer="zeros",
                             dropout=0.5, return_sequences=True, seed=3, dtype="float64")
    x = np.repeat(rand((4, 1, 8), 1), 5, axis=1)
    y = layer(x, training=True).numpy()
    np.testing.assert_allclose(y, np.repeat(y[:, :1], 5, axis=1), rtol=1e-12)
    ref = x[:, 0] @ layer.cell.kernel.numpy()
    assert not np.allclose(y[:, 0], ref)            # something was dropped
    np.testing.assert_allclose(layer(x).numpy()[:, 0], ref)  # inference: no dropout
    assert not np.allclose(layer(x, training=True).numpy(), y)  # a new mask per call
    # Recurrent dropout: h_t = (h_{t-1} · m) with U = I and no input; m is the same at
    # every step, so h_2 = h_0 · m².
    rec = layers.SimpleRNN(6, activation=None, use_bias=False, kernel_initializer="zeros",
                           recurrent_initializer="identity", recurrent_dropout=0.5,
                           return_sequences=True, seed=5, dtype="float64")
    h0 = np.ones((3, 6))
    y = rec(np.zeros((3, 2, 1)), initial_state=[h0], training=True).numpy()
    m = y[:, 0] / h0
    assert set(np.unique(m)) <= {0.0, 2.0}
    np.testing.assert_allclose(y[:, 1], h0 * m * m)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_gated_dropout_in_training_only(kind):
    layer = LAYER[kind](3, dropout=0.3, recurrent_dropout=0.3, seed=1, use_cudnn=False)
    x = rand((4, 3, 2)).astype("float32")
    a, b = layer(x).numpy(), layer(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(layer(x, training=True).numpy(), a)
    assert layer.cell.dropout_mask_count == (4 if kind == "lstm" else 3)
    assert layer.cell._dropout_mask is None  # reset after the sequence


# ------------------------------------------------------------------ masks through models
def test_mask_from_keras_mask_and_compute_mask():
    x = rand((2, 4, 3), 2)
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 0]], bool)
    t = Tensor(x.astype("float32"))
    t._keras_mask = Tensor(mask)
    seq = layers.LSTM(3, return_sequences=True)
    y = seq(t)
    np.testing.assert_allclose(y.numpy(), seq(x, mask=mask).numpy(), rtol=1e-6)
    np.testing.assert_array_equal(y._keras_mask.numpy(), mask)
    last = layers.GRU(3)
    assert getattr(last(t), "_keras_mask", None) is None
    both = layers.LSTM(3, return_sequences=True, return_state=True)
    out = both(t)
    assert out[0]._keras_mask is not None and getattr(out[1], "_keras_mask", None) is None
    assert both.compute_mask(t, Tensor(mask))[1:] == [None, None]


def test_mask_propagation_through_sequential_and_functional_models():
    ids = np.array([[3, 1, 0, 0], [2, 2, 4, 0], [1, 0, 0, 0]])
    emb = layers.Embedding(5, 3, mask_zero=True)
    lstm1, lstm2 = layers.LSTM(4, return_sequences=True), layers.LSTM(2)
    model = keras.Sequential([emb, lstm1, lstm2])
    y = model(ids).numpy()
    for i, n in enumerate((ids != 0).sum(axis=1)):
        # a padded sequence gives what its unpadded prefix gives
        np.testing.assert_allclose(y[i], model(ids[i:i + 1, :n]).numpy()[0], rtol=1e-5,
                                   atol=1e-6)
    inputs = keras.Input(shape=(4,), dtype="int32")
    functional = keras.Model(inputs, lstm2(lstm1(emb(inputs))))
    np.testing.assert_allclose(functional(ids).numpy(), y, rtol=1e-6)


def test_symbolic_initial_state_encoder_decoder():
    """The encoder's final states start the decoder, in a functional model (the states are
    keras.Input-derived tensors given as initial_state)."""
    encoder = layers.LSTM(3, return_state=True)
    decoder = layers.LSTM(3, return_sequences=True)
    enc_in, dec_in = keras.Input((None, 2)), keras.Input((None, 4))
    _, h, c = encoder(enc_in)
    model = keras.Model([enc_in, dec_in], decoder(dec_in, initial_state=[h, c]))
    a, b = rand((2, 5, 2), 1).astype("float32"), rand((2, 3, 4), 2).astype("float32")
    _, h_real, c_real = encoder(a)
    np.testing.assert_allclose(model([a, b]).numpy(),
                               decoder(b, initial_state=[h_real, c_real]).numpy(), rtol=1e-6)
    assert len(model.trainable_weights) == 6  # the encoder is part of the model


# ------------------------------------------------------------------ stacked cells, RNN(cell)
def test_rnn_of_a_cell_and_stacked_cells():
    x = rand((2, 3, 2), 7)
    cell_a, cell_b = layers.LSTMCell(3, dtype="float64"), layers.GRUCell(2, dtype="float64")
    rnn = layers.RNN([cell_a, cell_b], return_sequences=True, return_state=True,
                     dtype="float64")
    seq, state_a, state_b = rnn(x)
    w = rnn.get_weights()
    ha, _, h_a, c_a = ref_sequence("lstm", x, w[:3], np.zeros((2, 3)), np.zeros((2, 3)))
    hb, _, h_b, _ = ref_sequence("gru", ha, w[3:], np.zeros((2, 2)))
    np.testing.assert_allclose(seq.numpy(), hb, rtol=1e-10)
    np.testing.assert_allclose(state_a[1].numpy(), c_a, rtol=1e-10)
    np.testing.assert_allclose(_flat(state_b)[0].numpy(), h_b, rtol=1e-10)
    assert rnn.weights[0].path == f"{rnn.name}/{rnn.cell.name}/{cell_a.name}/kernel"
    assert check_layer_gradients(Harness(layers.RNN([layers.SimpleRNNCell(2, dtype="float64"),
                                                     layers.SimpleRNNCell(3, dtype="float64")],
                                                    dtype="float64")), x).ok
    plain = layers.RNN(layers.SimpleRNNCell(2, dtype="float64"), dtype="float64")
    np.testing.assert_allclose(plain(x).numpy(), ref_sequence("simple_rnn", x,
                                                              plain.get_weights(),
                                                              np.zeros((2, 2)))[1])


def test_rnn_of_a_custom_cell():
    """A cell written as in Keras's RNN docstring: state_size, build, call(inputs, states)."""
    class MinimalRNNCell(Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units, self.state_size = units, units

        def build(self, input_shape):
            self.kernel = self.add_weight((input_shape[-1], self.units), name="kernel")
            self.recurrent_kernel = self.add_weight((self.units, self.units),
                                                    name="recurrent_kernel")

        def call(self, inputs, states):
            output = ops.matmul(inputs, self.kernel) + ops.matmul(states[0],
                                                                  self.recurrent_kernel)
            return output, [output]

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    layer = layers.RNN(MinimalRNNCell(2, dtype="float64"), return_sequences=True,
                       dtype="float64")
    x = rand((3, 4, 2), 9)
    y = layer(x).numpy()
    k, r = layer.get_weights()
    h = np.zeros((3, 2))
    for t in range(4):
        h = x[:, t] @ k + h @ r
        np.testing.assert_allclose(y[:, t], h, rtol=1e-10)
    assert check_layer_gradients(layer, x).ok
    # the config names the custom cell class, which is found again
    clone = layers.RNN.from_config(layer.get_config())
    assert type(clone.cell) is MinimalRNNCell and clone.cell.units == 2
    with pytest.raises(ValueError, match="Unknown layer class 'NoSuchCell'"):
        layers.RNN.from_config({**layer.get_config(), "cell": {"class_name": "NoSuchCell",
                                                               "config": {}}})
    with pytest.warns(UserWarning, match=r"Do not pass an `input_shape`"):  # as Keras 3
        model = keras.Sequential([layers.LSTM(2, input_shape=(4, 2)), layers.Dense(1)])
    assert model(x.astype("float32")).shape == (3, 1)


def _flat(s):
    return s if isinstance(s, (list, tuple)) else [s]


# ------------------------------------------------------------------ stateful
def test_stateful_carries_states_between_calls():
    x = rand((2, 6, 3), 8).astype("float32")
    stateful = layers.LSTM(4, stateful=True, return_sequences=True)
    first, second = stateful(x[:, :3]).numpy(), stateful(x[:, 3:]).numpy()
    plain = layers.LSTM(4, return_sequences=True)
    plain(x)
    plain.set_weights(stateful.get_weights())
    whole = plain(x).numpy()
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, rtol=1e-5,
                               atol=1e-6)
    stateful.reset_state()
    np.testing.assert_allclose(stateful(x[:, :3]).numpy(), first, rtol=1e-6)
    assert len(stateful.weights) == 3  # the states are not weights
    assert len(stateful.states) == 2 and stateful.states[0].shape == (2, 4)
    assert stateful.states[0].path == f"{stateful.name}/rnn_state"
    with pytest.raises(ValueError, match="stateful and keeps states for a batch of 2"):
        stateful(x[:1])


# ------------------------------------------------------------------ config, shapes
@pytest.mark.parametrize("make", [
    lambda: layers.SimpleRNN(3, return_sequences=True, go_backwards=True, dropout=0.1),
    lambda: layers.LSTM(3, unit_forget_bias=False, return_state=True, kernel_regularizer="l2"),
    lambda: layers.GRU(3, reset_after=False, recurrent_activation="hard_sigmoid"),
    lambda: layers.RNN(layers.LSTMCell(3), zero_output_for_mask=True),
    lambda: layers.RNN([layers.GRUCell(2), layers.SimpleRNNCell(3)]),
])
def test_config_round_trip(make):
    layer = make()
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    x = rand((2, 3, 4)).astype("float32")
    layer(x)
    clone(x)
    clone.set_weights(layer.get_weights())
    for a, b in zip(_flat(layer(x)), _flat(clone(x))):
        np.testing.assert_allclose(_flat(a)[0].numpy(), _flat(b)[0].numpy(), rtol=1e-6)


def test_regularizers_and_freezing_reach_the_cell():
    layer = layers.GRU(2, kernel_regularizer="l2", recurrent_regularizer="l1")
    layer(np.ones((1, 2, 3), "float32"))
    assert len(layer.losses) == 2
    expected = 0.01 * float(np.sum(layer.cell.kernel.numpy() ** 2))
    np.testing.assert_allclose(float(layer.losses[0].numpy()), expected, rtol=1e-5)
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 3


def test_config_keys_are_keras_keys():
    config = layers.LSTM(3).get_config()
    for key in ("units", "activation", "recurrent_activation", "use_bias", "unit_forget_bias",
                "kernel_initializer", "recurrent_initializer", "bias_initializer",
                "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                "activity_regularizer", "kernel_constraint", "recurrent_constraint",
                "bias_constraint", "dropout", "recurrent_dropout", "seed", "return_sequences",
                "return_state", "go_backwards", "stateful", "unroll", "zero_output_for_mask"):
        assert key in config, key
    assert "cell" not in config
    assert config["recurrent_initializer"] == "orthogonal"
    assert "reset_after" in layers.GRU(2).get_config()
    assert "recurrent_activation" not in layers.SimpleRNN(2).get_config()
    assert layers.RNN(layers.GRUCell(2)).get_config()["cell"]["class_name"] == "GRUCell"


def test_functional_shapes_and_float32():
    inputs = keras.Input(shape=(None, 3))
    seq, h, c = layers.LSTM(4, return_sequences=True, return_state=True)(inputs)
    assert seq.shape == (None, None, 4) and h.shape == (None, 4) and c.shape == (None, 4)
    y = layers.GRU(2)(rand((2, 3, 3)).astype("float32"))
    assert y.dtype == np.float32
    assert layers.SimpleRNN(2).compute_output_shape((None, 7, 3)) == (None, 2)


# ------------------------------------------------------------------ training
def test_small_lstm_model_learns():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6, 2)).astype("float32")
    y = (x[:, :, 0].sum(axis=1) > 0).astype("int32")
    model = keras.Sequential([keras.Input((6, 2)), layers.LSTM(8), layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.Adam(0.02),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, epochs=8, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.7 * losses[0], losses


# ------------------------------------------------------------------ errors
def test_errors_name_the_layer_and_the_shapes():
    lstm = layers.LSTM(3, name="lstm")
    with pytest.raises(ValueError, match=r'Input 0 of layer "lstm" is incompatible with the '
                                         r'layer: expected ndim=3, found ndim=2\. Full shape '
                                         r'received: \(2, 3\)'):
        lstm(np.zeros((2, 3), "float32"))
    lstm(np.zeros((2, 4, 5), "float32"))
    with pytest.raises(ValueError, match=r'"lstm".*expected ndim=3, found ndim=4'):
        lstm(np.zeros((2, 4, 5, 1), "float32"))
    with pytest.raises(ValueError, match=r'"lstm".*expected axis -1 of input shape to have '
                                         r'value 5, but received input with shape \(2, 4, 6\)'):
        lstm(np.zeros((2, 4, 6), "float32"))
    with pytest.raises(ValueError, match=r'Layer "lstm" expects a mask of shape \(batch_size, '
                                         r'timesteps\) = \(2, 4\), but received a mask of shape '
                                         r'\(2, 3\)'):
        lstm(np.zeros((2, 4, 5), "float32"), mask=np.ones((2, 3), bool))
    with pytest.raises(ValueError, match=r'Layer "lstm" expects 2 initial state tensor\(s\) '
                                         r'\(cell.state_size=\[3, 3\]\), but it received 1'):
        lstm(np.zeros((2, 4, 5), "float32"), initial_state=[np.zeros((2, 3), "float32")])
    with pytest.raises(ValueError, match=r'Layer "lstm": initial state 1 should have shape '
                                         r'\(batch_size, state_size\) = \(2, 3\), but received '
                                         r'an initial state of shape \(2, 4\)'):
        lstm(np.zeros((2, 4, 5), "float32"),
             initial_state=[np.zeros((2, 3), "float32"), np.zeros((2, 4), "float32")])
    with pytest.raises(ValueError, match="expected a positive integer, got 0"):
        layers.GRU(0)
    with pytest.raises(ValueError, match="Expected one of {'auto', True, False}. Received: "
                                         "use_cudnn=yes"):
        layers.LSTM(2, use_cudnn="yes")
    with pytest.raises(ValueError, match="should have a `state_size` attribute"):
        layers.RNN(layers.Dense(2))
    with pytest.raises(ValueError, match='"rnn_x" is incompatible.*expected min_ndim=3, found '
                                         'ndim=2'):
        layers.RNN(layers.SimpleRNNCell(2), name="rnn_x")(np.zeros((2, 3), "float32"))


def test_use_cudnn_true_where_the_fused_op_cannot_run():
    # relu is not a cuDNN activation: Keras refuses use_cudnn=True there, so do we
    with pytest.raises(ValueError, match="use_cudnn=True was specified, but cuDNN is not "
                                         "supported for this layer configuration"):
        layers.LSTM(2, activation="relu", use_cudnn=True)(np.zeros((1, 2, 2), "float32"))
    with pytest.raises(ValueError, match="use_cudnn=True was specified"):
        layers.GRU(2, recurrent_dropout=0.1, use_cudnn=True)(np.zeros((1, 2, 2), "float32"))


# ------------------------------------------------------------------ fused ops vs cell loop
def _fused_vs_loop(kind, setup, go_backwards, masked, with_state, reset_after, return_sequences,
                   zero_output):
    b, t, d, u = setup["batch"], setup["steps"], setup["features"], setup["units"]
    rng = np.random.default_rng(setup["seed"])
    extra = {"reset_after": reset_after} if kind == "gru" else {}

    def make(cudnn):
        return LAYER[kind](u, return_sequences=return_sequences, return_state=True,
                           go_backwards=go_backwards, dtype="float64", bias_initializer="uniform",
                           zero_output_for_mask=zero_output, use_cudnn=cudnn, **extra)
    fused, loop = make(True), make(False)
    x = rng.uniform(-1, 1, (b, t, d))
    mask = random_mask(rng, b, t) if masked else None
    states = [rng.uniform(-1, 1, (b, u)) for _ in range(n_states(kind))] if with_state else []
    fused(x), loop(x)
    loop.set_weights(fused.get_weights())
    for a, c in zip(fused(x, initial_state=states or None, mask=mask),
                    loop(x, initial_state=states or None, mask=mask)):
        np.testing.assert_allclose(a.numpy(), c.numpy(), rtol=1e-9, atol=1e-11)
    report = check_layer_gradients(Harness(fused, mask=mask), x, *states)
    assert report.ok, str(report)


fused_cases = dict(setup=rnn_setup(), go_backwards=st.booleans(), masked=st.booleans(),
                   with_state=st.booleans(), reset_after=st.booleans(),
                   return_sequences=st.booleans(), zero_output=st.booleans())


@settings(max_examples=10)
@given(**fused_cases)
def test_fused_lstm_matches_cell_loop(setup, go_backwards, masked, with_state, reset_after,
                                      return_sequences, zero_output):
    _fused_vs_loop("lstm", setup, go_backwards, masked, with_state, reset_after,
                   return_sequences, zero_output)


@settings(max_examples=10)
@given(**fused_cases)
def test_fused_gru_matches_cell_loop(setup, go_backwards, masked, with_state, reset_after,
                                     return_sequences, zero_output):
    _fused_vs_loop("gru", setup, go_backwards, masked, with_state, reset_after,
                   return_sequences, zero_output)


def test_fused_path_is_taken_when_keras_would_take_cudnn(monkeypatch):
    calls = []
    real = ops.lstm_sequence

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)
    monkeypatch.setattr(ops, "lstm_sequence", spy)
    x = rand((2, 3, 2)).astype("float32")
    layers.LSTM(2)(x)
    assert calls == [1]
    layers.LSTM(2, use_cudnn=False)(x)
    layers.LSTM(2, recurrent_dropout=0.2)(x)
    layers.LSTM(2, activation="relu")(x)
    layers.LSTM(2, unroll=True)(x)
    assert calls == [1]


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_fused_path_with_input_dropout_uses_the_cell_loop_mask(kind):
    # Keras keeps cuDNN with input dropout (one mask, applied to every step): the same seed
    # draws the same mask on both paths, so training outputs agree.
    fused, loop = (LAYER[kind](3, dropout=0.4, seed=7, use_cudnn=c, return_sequences=True)
                   for c in (True, False))
    x = rand((4, 3, 5), 3).astype("float32")
    fused(x), loop(x)
    loop.set_weights(fused.get_weights())
    a = fused(x, training=True).numpy()
    np.testing.assert_allclose(a, loop(x, training=True).numpy(), rtol=1e-5, atol=1e-6)
    assert not np.allclose(a, fused(x).numpy())


@pytest.mark.parametrize("layer_class", [layers.LSTM, layers.GRU])
def test_fused_sequences_are_not_overwritten_by_the_next_call(layer_class):
    """The fused op reuses its step buffers from one call to the next; the sequence it
    returns must be a copy even when batch or time is 1 (where a swapped view would already
    be contiguous)."""
    model = keras.Sequential([keras.Input((5, 2)), layer_class(3, return_sequences=True)])
    x = np.random.default_rng(0).random((3, 5, 2)).astype("float32")
    np.testing.assert_allclose(model.predict(x, batch_size=1, verbose=0), model(x).numpy(),
                               rtol=1e-6, atol=1e-7)
    single = layer_class(3, return_sequences=True)
    xa, xb = np.ones((4, 1, 2), "float32"), np.zeros((4, 1, 2), "float32")
    with keras.no_grad():
        ya = single(xa)
        kept = ya.numpy().copy()
        single(xb)
    np.testing.assert_array_equal(ya.numpy(), kept)


def test_input_mask_is_not_passed_when_initial_state_tensors_are_given():
    """Keras hands the input's mask to `mask` only when the input is the call's one tensor
    argument: a decoder given initial_state tensors runs its padded steps too."""
    ids = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
    emb = layers.Embedding(5, 3, mask_zero=True)(ids)
    h = keras.Tensor(np.full((2, 2), 0.3, np.float32))
    c = keras.Tensor(np.full((2, 2), -0.2, np.float32))
    lstm = layers.LSTM(2, return_sequences=True)
    with_state = lstm(emb, initial_state=[h, c]).numpy()
    unmasked = lstm(keras.Tensor(emb.numpy()), initial_state=[h, c]).numpy()  # no mask at all
    np.testing.assert_allclose(with_state, unmasked, rtol=1e-6)
    masked = lstm(emb, initial_state=[h, c], mask=emb._keras_mask).numpy()
    assert np.abs(masked - with_state).max() > 1e-4                # the mask would change it


def test_a_nested_config_names_minikeras_classes_first_then_a_users_own():
    from minikeras.layers.nested import find_layer_class, layer_from_config

    class LSTMCell(Layer):            # a user's class that shares a minikeras name
        pass

    class MyCell(layers.SimpleRNNCell):
        pass

    assert find_layer_class("LSTMCell") is layers.LSTMCell
    cell = layer_from_config({"class_name": "MyCell", "config": MyCell(3).get_config()})
    assert type(cell) is MyCell and cell.units == 3
    with pytest.raises(ValueError, match=r"Unknown layer class 'NoSuchCell' in a layer config"):
        layer_from_config({"class_name": "NoSuchCell", "config": {}})
