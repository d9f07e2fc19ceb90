"""Keras 3 itself as the oracle: the same Keras code builds a layer in minikeras and in real
Keras (NumPy backend), the weights are copied from minikeras to Keras with
``set_weights(get_weights())``, and both must compute the same outputs.

This checks what no hand-written reference can: that our weights have exactly Keras's
shapes, order and names, and that our arithmetic (padding, gate order, masking rules,
statistics) is Keras's. Every case is one line of Keras code written once for both
libraries: ``make(L)`` gets the library module (``minikeras`` or ``keras``).
"""
import re

import numpy as np
import pytest

from keras_reference import keras  # real Keras 3, NumPy backend

import minikeras  # noqa: E402

RNG = np.random.default_rng(0)


def _floats(*shape, low=-1.0, high=1.0):
    return RNG.uniform(low, high, size=shape).astype(np.float32)


def _ids(*shape, high=7, zeros_at_end=True):
    x = RNG.integers(1, high, size=shape).astype(np.int32)
    if zeros_at_end and len(shape) == 2 and shape[1] > 2:
        x[0, -2:] = 0  # padding at the end of the first sequence
        x[-1, -1:] = 0
    return x


def _suffixes(variables):
    """Weight paths without the layer's own name and without the counters of automatic
    names (``forward_lstm_1`` -> ``forward_lstm``): ``kernel``, ``lstm_cell/kernel``,
    ``forward_lstm/lstm_cell/bias``, ..."""
    out = []
    for v in variables:
        parts = v.path.split("/")[1:] or [v.path]
        out.append("/".join(re.sub(r"_\d+$", "", p) for p in parts))
    return out


def _as_numpy(out):
    if isinstance(out, (list, tuple)):
        return [_as_numpy(o) for o in out]
    return np.asarray(out.numpy() if hasattr(out, "numpy") else out)


def compare(make, inputs, call_kwargs=None, training=False, rtol=1e-5, atol=1e-5,
            check_paths=True):
    """Build ``make(L)`` in both libraries on ``inputs``, copy the weights minikeras ->
    Keras, and compare the outputs (and weight shapes, order and paths)."""
    call_kwargs = call_kwargs or {}
    ours = make(minikeras)
    theirs = make(keras)
    out_ours = ours(inputs, training=training, **call_kwargs)
    out_theirs = theirs(inputs, training=training, **call_kwargs)
    w_ours = ours.get_weights()
    assert [w.shape for w in w_ours] == [tuple(w.shape) for w in theirs.get_weights()], (
        "weight shapes or order differ from Keras's")
    if check_paths:
        assert _suffixes(ours.weights) == _suffixes(theirs.weights)
    theirs.set_weights(w_ours)
    # Call both again, so a layer that updates state in training (BatchNormalization's
    # moving statistics) has been called as often in both libraries.
    out_ours = ours(inputs, training=training, **call_kwargs)
    out_theirs = theirs(inputs, training=training, **call_kwargs)
    a, b = _as_numpy(out_ours), _as_numpy(out_theirs)
    if isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol)
    else:
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    return ours, theirs


# --------------------------------------------------------------------------- core layers
CORE = {
    "dense": (lambda L: L.layers.Dense(3, activation="tanh"), lambda: _floats(2, 4)),
    "dense_3d": (lambda L: L.layers.Dense(2), lambda: _floats(2, 3, 4)),
    "embedding": (lambda L: L.layers.Embedding(7, 3), lambda: _ids(2, 5)),
    "prelu": (lambda L: L.layers.PReLU(), lambda: _floats(2, 3)),
}


@pytest.mark.parametrize("name", sorted(CORE))
def test_core_layers_match_keras(name):
    make, data = CORE[name]
    compare(make, data())


def test_the_oracle_notices_a_difference():
    """A different layer in Keras gives different outputs: the comparison can fail."""
    x = _floats(2, 4)
    with pytest.raises(AssertionError):
        compare(lambda L: L.layers.Dense(3, activation="tanh" if L is minikeras else "relu"),
                x)


# --------------------------------------------------------------------------- images
IMAGES = {
    "conv1d": (lambda L: L.layers.Conv1D(3, 3, strides=2, padding="same", activation="relu"),
               lambda: _floats(2, 7, 2)),
    "conv1d_causal": (lambda L: L.layers.Conv1D(2, 3, padding="causal", dilation_rate=2),
                      lambda: _floats(2, 6, 3)),
    "conv2d": (lambda L: L.layers.Conv2D(4, 3), lambda: _floats(2, 6, 5, 3)),
    "conv2d_same_strided": (lambda L: L.layers.Conv2D(3, (3, 2), strides=(2, 3), padding="same"),
                            lambda: _floats(2, 7, 8, 2)),
    "conv2d_dilated": (lambda L: L.layers.Conv2D(2, 3, dilation_rate=2, padding="same"),
                       lambda: _floats(1, 7, 7, 2)),
    "conv2d_groups": (lambda L: L.layers.Conv2D(4, 3, groups=2), lambda: _floats(2, 5, 5, 4)),
    "conv2d_transpose": (lambda L: L.layers.Conv2DTranspose(3, 3, strides=2),
                         lambda: _floats(2, 4, 3, 2)),
    "conv2d_transpose_same": (lambda L: L.layers.Conv2DTranspose(2, (3, 2), strides=2,
                                                                 padding="same"),
                              lambda: _floats(2, 3, 4, 3)),
    "conv2d_transpose_output_padding": (
        lambda L: L.layers.Conv2DTranspose(2, 3, strides=2, output_padding=1),
        lambda: _floats(1, 3, 3, 2)),
    "depthwise_conv2d": (lambda L: L.layers.DepthwiseConv2D(3, depth_multiplier=2),
                         lambda: _floats(2, 5, 6, 3)),
    "separable_conv2d": (lambda L: L.layers.SeparableConv2D(4, 3, padding="same"),
                         lambda: _floats(2, 5, 5, 3)),
    "max_pooling2d": (lambda L: L.layers.MaxPooling2D(2), lambda: _floats(2, 5, 7, 3)),
    "max_pooling2d_same": (lambda L: L.layers.MaxPooling2D(3, strides=2, padding="same"),
                           lambda: _floats(2, 6, 5, 2)),
    "average_pooling2d_same": (lambda L: L.layers.AveragePooling2D(3, strides=2, padding="same"),
                               lambda: _floats(2, 6, 5, 2)),
    "max_pooling1d": (lambda L: L.layers.MaxPooling1D(3, strides=1), lambda: _floats(2, 6, 2)),
    "average_pooling1d": (lambda L: L.layers.AveragePooling1D(2, padding="same"),
                          lambda: _floats(2, 5, 2)),
    "global_average_pooling2d": (lambda L: L.layers.GlobalAveragePooling2D(),
                                 lambda: _floats(2, 3, 4, 5)),
    "global_max_pooling1d": (lambda L: L.layers.GlobalMaxPooling1D(keepdims=True),
                             lambda: _floats(2, 3, 4)),
    "up_sampling2d": (lambda L: L.layers.UpSampling2D((2, 3)), lambda: _floats(2, 2, 3, 2)),
    "zero_padding2d": (lambda L: L.layers.ZeroPadding2D(((1, 2), (0, 1))),
                       lambda: _floats(2, 2, 3, 2)),
    "cropping2d": (lambda L: L.layers.Cropping2D(((1, 0), (1, 2))), lambda: _floats(2, 4, 5, 2)),
    "conv2d_channels_first": (lambda L: L.layers.Conv2D(3, 2, strides=2, padding="same",
                                                        data_format="channels_first"),
                              lambda: _floats(2, 2, 5, 7)),
    "conv1d_transpose": (lambda L: L.layers.Conv1DTranspose(2, 3, strides=2, padding="same"),
                         lambda: _floats(2, 5, 3)),
    "depthwise_conv1d": (lambda L: L.layers.DepthwiseConv1D(3, strides=2, depth_multiplier=2),
                         lambda: _floats(2, 7, 3)),
    "depthwise_conv2d_strided": (lambda L: L.layers.DepthwiseConv2D(3, strides=2,
                                                                    padding="same"),
                                 lambda: _floats(2, 7, 6, 2)),
    "separable_conv1d": (lambda L: L.layers.SeparableConv1D(4, 3, depth_multiplier=2),
                         lambda: _floats(2, 6, 3)),
    "separable_conv2d_multiplier": (lambda L: L.layers.SeparableConv2D(
        3, 3, strides=2, padding="same", depth_multiplier=2), lambda: _floats(2, 7, 7, 2)),
    "up_sampling2d_bilinear": (lambda L: L.layers.UpSampling2D(2, interpolation="bilinear"),
                               lambda: _floats(2, 3, 4, 2)),
    "up_sampling1d": (lambda L: L.layers.UpSampling1D(3), lambda: _floats(2, 3, 2)),
    "zero_padding1d": (lambda L: L.layers.ZeroPadding1D((2, 1)), lambda: _floats(2, 3, 2)),
    "cropping1d": (lambda L: L.layers.Cropping1D((1, 2)), lambda: _floats(2, 6, 2)),
    "global_max_pooling2d": (lambda L: L.layers.GlobalMaxPooling2D(),
                             lambda: _floats(2, 3, 5, 2)),
    "global_average_pooling1d": (lambda L: L.layers.GlobalAveragePooling1D(),
                                 lambda: _floats(2, 4, 3)),
    "time_distributed_conv2d": (lambda L: L.layers.TimeDistributed(L.layers.Conv2D(2, 3)),
                                lambda: _floats(2, 3, 5, 5, 2)),
}


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_image_layers_match_keras(name):
    make, data = IMAGES[name]
    compare(make, data())


# --------------------------------------------------------------------------- normalization
NORMS = {
    "batch_norm_inference": (lambda L: L.layers.BatchNormalization(), lambda: _floats(4, 3),
                             False),
    "batch_norm_training": (lambda L: L.layers.BatchNormalization(momentum=0.9),
                            lambda: _floats(4, 2, 3), True),
    "layer_norm": (lambda L: L.layers.LayerNormalization(), lambda: _floats(2, 3, 4), False),
    "layer_norm_axes": (lambda L: L.layers.LayerNormalization(axis=[1, 2]),
                        lambda: _floats(2, 3, 4), False),
    "group_norm": (lambda L: L.layers.GroupNormalization(groups=2), lambda: _floats(2, 3, 4),
                   False),
    "group_norm_axis1": (lambda L: L.layers.GroupNormalization(groups=3, axis=1),
                         lambda: _floats(2, 6, 4), False),
    "batch_norm_renorm": (lambda L: L.layers.BatchNormalization(renorm=True),
                          lambda: _floats(6, 3), True),
    "layer_norm_rms": (lambda L: L.layers.LayerNormalization(rms_scaling=True),
                       lambda: _floats(2, 3, 4), False),
}


@pytest.mark.parametrize("name", sorted(NORMS))
@pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`")  # Keras's own deprecation
def test_normalization_layers_match_keras(name):
    make, data, training = NORMS[name]
    ours, theirs = compare(make, data(), training=training, rtol=1e-4, atol=1e-5)
    if training:
        # The moving statistics moved the same way in both.
        for a, b in zip(ours.get_weights(), theirs.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- sequences
def _seq(b=3, t=5, d=4):
    return _floats(b, t, d)


SEQUENCES = {
    "simple_rnn": (lambda L: L.layers.SimpleRNN(3), _seq, {}),
    "simple_rnn_sequences": (lambda L: L.layers.SimpleRNN(3, return_sequences=True,
                                                         go_backwards=True), _seq, {}),
    "lstm": (lambda L: L.layers.LSTM(3), _seq, {}),
    "lstm_state": (lambda L: L.layers.LSTM(3, return_sequences=True, return_state=True),
                   _seq, {}),
    "lstm_backwards": (lambda L: L.layers.LSTM(2, go_backwards=True), _seq, {}),
    "lstm_cell_path": (lambda L: L.layers.LSTM(3, use_cudnn=False, return_sequences=True),
                       _seq, {}),
    "gru": (lambda L: L.layers.GRU(3), _seq, {}),
    "gru_not_reset_after": (lambda L: L.layers.GRU(3, reset_after=False,
                                                   return_sequences=True), _seq, {}),
    "bidirectional_lstm": (lambda L: L.layers.Bidirectional(L.layers.LSTM(2)), _seq, {}),
    "bidirectional_gru_sum": (lambda L: L.layers.Bidirectional(
        L.layers.GRU(2, return_sequences=True), merge_mode="sum"), _seq, {}),
    "time_distributed_dense": (lambda L: L.layers.TimeDistributed(L.layers.Dense(2)), _seq, {}),
}


@pytest.mark.parametrize("name", sorted(SEQUENCES))
def test_recurrent_layers_match_keras(name):
    make, data, kwargs = SEQUENCES[name]
    compare(make, data(), kwargs, rtol=1e-4, atol=1e-5)


MASKED = ["simple_rnn", "lstm", "lstm_state", "lstm_backwards", "lstm_cell_path", "gru",
          "gru_not_reset_after", "bidirectional_lstm"]


@pytest.mark.parametrize("name", MASKED)
def test_recurrent_layers_with_a_padding_mask_match_keras(name):
    """Embedding(mask_zero=True) -> the recurrent layer, as a Sequential model: the mask the
    embedding makes reaches the RNN, which skips the padded steps as Keras does."""
    make, _, _ = SEQUENCES[name]

    def model(L):
        return L.Sequential([L.Input((6,), dtype="int32"),
                             L.layers.Embedding(7, 4, mask_zero=True), make(L)])
    compare(model, _ids(3, 6), rtol=1e-4, atol=1e-5, check_paths=False)


# --------------------------------------------------------------------------- the other layers
# name -> (make, data, training, keyword arguments of the call). The noise layers are compared
# at inference, where they pass the input through: in training each library draws its own
# random numbers.
_Q, _V = _floats(2, 3, 4), _floats(2, 5, 4)
LAYERS = {
    "activation": (lambda L: L.layers.Activation("softplus"), lambda: _floats(2, 3), False, {}),
    "elu": (lambda L: L.layers.ELU(alpha=0.7), lambda: _floats(2, 3), False, {}),
    "leaky_relu": (lambda L: L.layers.LeakyReLU(negative_slope=0.2), lambda: _floats(2, 3),
                   False, {}),
    "relu_options": (lambda L: L.layers.ReLU(max_value=0.8, negative_slope=0.1, threshold=0.2),
                     lambda: _floats(2, 5), False, {}),
    "softmax": (lambda L: L.layers.Softmax(axis=1), lambda: _floats(2, 3, 4), False, {}),
    "identity": (lambda L: L.layers.Identity(), lambda: _floats(2, 3), False, {}),
    "lambda": (lambda L: L.layers.Lambda(lambda t: t * 2.0 + 1.0), lambda: _floats(2, 3),
               False, {}),
    "einsum_dense": (lambda L: L.layers.EinsumDense("abc,cd->abd", output_shape=(3, 2),
                                                    bias_axes="d"),
                     lambda: _floats(2, 3, 4), False, {}),
    "flatten": (lambda L: L.layers.Flatten(), lambda: _floats(2, 3, 4), False, {}),
    "reshape": (lambda L: L.layers.Reshape((2, -1)), lambda: _floats(2, 3, 4), False, {}),
    "permute": (lambda L: L.layers.Permute((2, 1)), lambda: _floats(2, 3, 4), False, {}),
    "repeat_vector": (lambda L: L.layers.RepeatVector(3), lambda: _floats(2, 4), False, {}),
    "rescaling": (lambda L: L.layers.Rescaling(2.0, offset=-1.0), lambda: _floats(2, 3), False,
                  {}),
    "masking": (lambda L: L.layers.Masking(0.0), lambda: _floats(2, 4, 3) * (
        np.arange(4) % 2 == 0)[None, :, None], False, {}),
    "normalization": (lambda L: L.layers.Normalization(mean=[0.5, -1.0, 2.0],
                                                       variance=[1.0, 4.0, 0.25]),
                      lambda: _floats(2, 3), False, {}),
    "dropout_at_inference": (lambda L: L.layers.Dropout(0.5), lambda: _floats(2, 3), False, {}),
    "spatial_dropout1d_at_inference": (lambda L: L.layers.SpatialDropout1D(0.5),
                                       lambda: _floats(2, 3, 4), False, {}),
    "spatial_dropout2d_at_inference": (lambda L: L.layers.SpatialDropout2D(0.5),
                                       lambda: _floats(2, 3, 3, 2), False, {}),
    "gaussian_noise_at_inference": (lambda L: L.layers.GaussianNoise(0.5),
                                    lambda: _floats(2, 3), False, {}),
    "gaussian_dropout_at_inference": (lambda L: L.layers.GaussianDropout(0.5),
                                      lambda: _floats(2, 3), False, {}),
    "add": (lambda L: L.layers.Add(), lambda: [_floats(2, 3) for _ in range(3)], False, {}),
    "subtract": (lambda L: L.layers.Subtract(), lambda: [_floats(2, 3), _floats(2, 3)], False,
                 {}),
    "multiply": (lambda L: L.layers.Multiply(), lambda: [_floats(2, 3), _floats(2, 3)], False,
                 {}),
    "average": (lambda L: L.layers.Average(), lambda: [_floats(2, 3), _floats(2, 3)], False, {}),
    "maximum": (lambda L: L.layers.Maximum(), lambda: [_floats(2, 3), _floats(2, 3)], False, {}),
    "minimum": (lambda L: L.layers.Minimum(), lambda: [_floats(2, 3), _floats(2, 3)], False, {}),
    "concatenate": (lambda L: L.layers.Concatenate(axis=1),
                    lambda: [_floats(2, 3, 4), _floats(2, 2, 4)], False, {}),
    "dot": (lambda L: L.layers.Dot(axes=(2, 2), normalize=True),
            lambda: [_floats(2, 3, 4), _floats(2, 5, 4)], False, {}),
    "attention": (lambda L: L.layers.Attention(use_scale=True), lambda: [_Q, _V], False, {}),
    "additive_attention": (lambda L: L.layers.AdditiveAttention(), lambda: [_Q, _V], False, {}),
    "multi_head_attention": (lambda L: L.layers.MultiHeadAttention(2, 3), lambda: _Q, False,
                             {"value": _V}),
    "rnn_lstm_cell": (lambda L: L.layers.RNN(L.layers.LSTMCell(3)), _seq, False, {}),
    "rnn_gru_cell": (lambda L: L.layers.RNN(L.layers.GRUCell(3), return_sequences=True), _seq,
                     False, {}),
    "rnn_stacked_cells": (lambda L: L.layers.RNN(L.layers.StackedRNNCells(
        [L.layers.SimpleRNNCell(3), L.layers.GRUCell(2)])), _seq, False, {}),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_other_layers_match_keras(name):
    make, data, training, kwargs = LAYERS[name]
    compare(make, data(), kwargs, training=training, rtol=1e-4, atol=1e-5)


def oracle_cases():
    """Every case of the tables above as name -> (make, data, training, call keywords), for
    tests/test_layer_registry.py."""
    tables = (CORE, IMAGES, NORMS, SEQUENCES, LAYERS)
    assert sum(map(len, tables)) == len(set().union(*tables)), "a case name is used twice"
    cases = {}
    for name, (make, data) in {**CORE, **IMAGES}.items():
        cases[name] = (make, data, False, {})
    for name, (make, data, training) in NORMS.items():
        cases[name] = (make, data, training, {})
    for name, (make, data, kwargs) in SEQUENCES.items():
        cases[name] = (make, data, False, kwargs)
    cases.update(LAYERS)
    return cases


# --------------------------------------------------------------------------- attention
def test_multi_head_attention_matches_keras():
    q, v = _floats(2, 4, 5), _floats(2, 3, 6)
    ours = minikeras.layers.MultiHeadAttention(num_heads=2, key_dim=3)
    theirs = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3)
    a = ours(q, v)
    theirs(q, v)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    assert _suffixes(ours.weights) == _suffixes(theirs.weights)
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(a.numpy(), np.asarray(theirs(q, v)), rtol=1e-5, atol=1e-5)
    mask = RNG.random((2, 4, 3)) > 0.3
    mask[..., 0] = True
    out_o, scores_o = ours(q, v, attention_mask=mask, return_attention_scores=True)
    out_t, scores_t = theirs(q, v, attention_mask=mask, return_attention_scores=True)
    np.testing.assert_allclose(out_o.numpy(), np.asarray(out_t), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(scores_o.numpy(), np.asarray(scores_t), rtol=1e-5, atol=1e-6)
    x = _floats(2, 4, 6)
    ours_self = minikeras.layers.MultiHeadAttention(num_heads=2, key_dim=2, value_dim=3)
    theirs_self = keras.layers.MultiHeadAttention(num_heads=2, key_dim=2, value_dim=3)
    a = ours_self(x, x, use_causal_mask=True)
    theirs_self(x, x, use_causal_mask=True)
    theirs_self.set_weights(ours_self.get_weights())
    np.testing.assert_allclose(a.numpy(), np.asarray(theirs_self(x, x, use_causal_mask=True)),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("score_mode", ["dot", "concat"])
def test_attention_matches_keras(score_mode):
    q, v = _floats(2, 3, 4), _floats(2, 5, 4)

    def make(L):
        return L.layers.Attention(use_scale=True, score_mode=score_mode)
    ours, theirs = make(minikeras), make(keras)
    ours([q, v])
    theirs([q, v])
    theirs.set_weights(ours.get_weights())
    mask = [np.ones((2, 3), dtype=bool), RNG.random((2, 5)) > 0.4]
    mask[1][:, 0] = True
    np.testing.assert_allclose(ours([q, v], mask=mask).numpy(),
                               np.asarray(theirs([q, v], mask=mask)), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours([q, v], use_causal_mask=True).numpy(),
                               np.asarray(theirs([q, v], use_causal_mask=True)),
                               rtol=1e-5, atol=1e-5)


def test_stacked_masked_model_matches_keras():
    """Embedding(mask_zero) -> LSTM(return_sequences) -> GRU -> Dense, in a functional model:
    the mask reaches both recurrent layers."""
    def model(L):
        ids = L.Input((6,), dtype="int32")
        h = L.layers.Embedding(8, 4, mask_zero=True)(ids)
        h = L.layers.LSTM(3, return_sequences=True)(h)
        h = L.layers.GRU(2)(h)
        return L.Model(ids, L.layers.Dense(2)(h))
    compare(model, _ids(3, 6, high=8), rtol=1e-4, atol=1e-5, check_paths=False)


def test_masked_global_average_and_self_attention_match_keras():
    def model(L):
        ids = L.Input((5,), dtype="int32")
        h = L.layers.Embedding(9, 4, mask_zero=True)(ids)
        h = L.layers.MultiHeadAttention(num_heads=2, key_dim=2)(h, h)
        return L.Model(ids, L.layers.GlobalAveragePooling1D()(h))
    compare(model, _ids(3, 5, high=9), rtol=1e-4, atol=1e-5, check_paths=False)


def test_functional_layer_order_matches_keras():
    """model.layers (and so model.weights and the summary rows) in Keras's order."""
    def model(L):
        a = L.Input((3,), name="a")
        b = L.Input((4,), name="b")
        x = L.layers.Dense(5, name="left")(a)
        y = L.layers.Dense(5, name="right")(b)
        y2 = L.layers.Dense(5, name="right_more")(y)
        joined = L.layers.Concatenate(name="joined")([y2, x])
        skip = L.layers.Dense(10, name="skip")(a)
        out = L.layers.Add(name="out")([L.layers.Dense(10, name="head")(joined), skip])
        return L.Model([a, b], out)
    ours, theirs = model(minikeras), model(keras)
    assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]


def test_model_weights_order_matches_keras_with_batch_normalization():
    """get_weights/set_weights lists move between the libraries for a convnet with
    BatchNormalization (Keras lists weights layer by layer)."""
    def model(L):
        return L.Sequential([L.Input((6, 6, 2)), L.layers.Conv2D(3, 3),
                             L.layers.BatchNormalization(), L.layers.Flatten(),
                             L.layers.Dense(2)])
    compare(model, _floats(2, 6, 6, 2), check_paths=False)


@pytest.mark.parametrize("loss, metrics", [("mse", ["mae"]),
                                           ("sparse_categorical_crossentropy", ["accuracy"])])
def test_losses_and_metrics_skip_padded_steps_as_keras(loss, metrics):
    """A sequence-labelling model's output carries the padding mask; the loss and the
    metrics average over the real steps only."""
    ids = _ids(3, 5, high=7)
    if loss == "mse":
        targets = _floats(3, 5, 3)
    else:
        targets = RNG.integers(0, 3, size=(3, 5))

    def model(L):
        m = L.Sequential([L.Input((5,), dtype="int32"), L.layers.Embedding(7, 4, mask_zero=True),
                          L.layers.LSTM(3, return_sequences=True),
                          L.layers.Dense(3, activation="softmax")])
        return m
    ours, theirs = model(minikeras), model(keras)
    theirs.set_weights(ours.get_weights())
    for m in (ours, theirs):
        m.compile("sgd", loss, metrics=metrics)
    np.testing.assert_allclose(ours.evaluate(ids, targets, verbose=0),
                               theirs.evaluate(ids, targets, verbose=0), rtol=1e-5)
    unmasked = model(minikeras)
    unmasked.layers[0].mask_zero = False
    unmasked.set_weights(ours.get_weights())
    unmasked.compile("sgd", loss, metrics=metrics)
    assert not np.allclose(unmasked.evaluate(ids, targets, verbose=0),
                           ours.evaluate(ids, targets, verbose=0))  # the mask mattered


def _summary_text(model):
    lines = []
    model.summary(print_fn=lambda text, **kwargs: lines.append(text))
    return "\n".join(lines).rstrip()


def _summary_models(L):
    convnet = L.Sequential([L.Input((28, 28, 1), name="image"),
                            L.layers.Conv2D(32, 3, activation="relu", name="conv"),
                            L.layers.BatchNormalization(name="batch_normalization"),
                            L.layers.MaxPooling2D(2, name="pool"),
                            L.layers.GlobalAveragePooling2D(name="global_average_pooling2d"),
                            L.layers.Dense(10, name="dense")], name="convnet")
    ids = L.Input((20,), dtype="int32", name="ids")
    h = L.layers.Embedding(100, 16, name="embedding")(ids)
    seq, state_h, state_c = L.layers.LSTM(8, return_sequences=True, return_state=True,
                                          name="lstm")(h)
    att = L.layers.MultiHeadAttention(2, 4, name="multi_head_attention")(seq, seq)
    pooled = L.layers.GlobalAveragePooling1D(name="global_average_pooling1d")(att)
    joined = L.layers.Concatenate(name="concatenate")([pooled, state_h, state_c])
    text = L.Model(ids, L.layers.Dense(1, name="head")(joined), name="text")
    a = L.Input((4,), name="a")
    chain = L.Model(a, L.layers.Dense(2, name="b")(L.layers.Dense(3, name="h")(a)),
                    name="chain")                      # a plain chain: three columns
    x, y = L.Input((4,), name="x"), L.Input((4,), name="y")
    shared = L.layers.Dense(3, name="shared")
    twice = L.Model([x, y], L.layers.Add(name="add")([shared(x), shared(y)]), name="twice")
    return [convnet, text, chain, twice]


@pytest.mark.parametrize("columns", ["200", "80", "60"])
def test_summary_text_is_keras_text(columns, monkeypatch):
    """model.summary() prints what Keras prints, in a wide terminal and in an 80-column one
    (long names wrapped, several outputs in brackets, "Connected to" cut with "…")."""
    monkeypatch.setenv("COLUMNS", columns)
    for ours, theirs in zip(_summary_models(minikeras), _summary_models(keras)):
        assert _summary_text(ours) == _summary_text(theirs)


@pytest.mark.parametrize("columns", ["200", "90"])
def test_summary_trainable_column_and_positions_are_keras_text(columns, monkeypatch):
    monkeypatch.setenv("COLUMNS", columns)

    def models(L):
        convnet = L.Sequential([L.Input((8, 8, 1), name="img"), L.layers.Conv2D(4, 3, name="conv"),
                                L.layers.BatchNormalization(name="bn"),
                                L.layers.Flatten(name="flat"), L.layers.Dense(3, name="head")],
                               name="m")
        convnet.layers[0].trainable = False
        x, y = L.Input((4,), name="x"), L.Input((4,), name="y")
        two = L.Model([x, y], L.layers.Add(name="add")(
            [L.layers.Dense(2, name="d1")(x), L.layers.Dense(2, name="d2", trainable=False)(y)]),
            name="f")
        return convnet, two

    def text(model, **kwargs):
        lines = []
        model.summary(print_fn=lambda t, **k: lines.append(t), **kwargs)
        return "\n".join(lines).rstrip()

    for ours, theirs in zip(models(minikeras), models(keras)):
        assert text(ours, show_trainable=True) == text(theirs, show_trainable=True)
    ours, theirs = models(minikeras)[1], models(keras)[1]
    positions = [0.4, 0.6, 0.75, 1.0]
    assert text(ours, positions=positions) == text(theirs, positions=positions)
