"""Every layer's gradients against finite differences, in float64, on drawn shapes.

Each case of ``GRADIENT_CASES`` builds one layer (``dtype="float64"``) and its inputs from
hypothesis's ``draw``; :func:`minikeras.utils.check_layer_gradients` then compares the tape's
gradients with central differences, for the float inputs **and every trainable weight**.
tests/test_layer_registry.py runs each case under a recorder and checks that every layer
class minikeras exports is run by one of them (or by the oracle and round-trip cases).

A layer called on a list (merges, attention) or with states (the cells) runs inside a small
harness layer that takes its tensors one by one; a noise layer runs in training with the
same noise at every call (its seed counter put back), so the finite differences see one
function.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minikeras import layers, ops
from minikeras.utils import check_layer_gradients

F64 = {"dtype": "float64"}


def floats(draw, *shape):
    seed = draw(st.integers(0, 2**16))
    return np.random.default_rng(seed).standard_normal(shape)


def small(draw, low=1, high=3):
    return draw(st.integers(low, high))


class OnList(layers.Layer):
    """Calls the inner layer on the list of its tensors: ``inner([a, b, ...])``."""

    def __init__(self, inner):
        super().__init__(**F64)
        self.inner = inner

    def call(self, *tensors):
        return self.inner(list(tensors))


class CellStep(layers.Layer):
    """One step of a cell: ``cell(x, [states])``, its output and new states side by side."""

    def __init__(self, cell):
        super().__init__(**F64)
        self.cell = cell

    def call(self, x, *states):
        out, new = self.cell(x, list(states))
        return ops.concatenate([out] + list(new), axis=-1)


class SameNoise(layers.Layer):
    """A noise layer in training, drawing the same noise at every call."""

    def __init__(self, inner):
        super().__init__(**F64)
        self.inner = inner

    def call(self, x):
        self.inner.seed_generator.counter = 0
        return self.inner(x, training=True)


# --------------------------------------------------------------------------- the cases
# name -> draw -> (layer, inputs, training)

def _dense(draw):
    b, d, u = small(draw), small(draw), small(draw)
    shape = (b, small(draw), d) if draw(st.booleans()) else (b, d)
    return layers.Dense(u, activation="tanh", **F64), [floats(draw, *shape)], False


def _elementwise(make):
    def case(draw):
        return make(), [floats(draw, small(draw), small(draw, 1, 4))], False
    return case


def _seq(draw, b=None, t=None, d=None):
    return floats(draw, b or small(draw, 1, 2), t or small(draw, 1, 4), d or small(draw, 1, 3))


def _image(draw, channels=None):
    return floats(draw, small(draw, 1, 2), small(draw, 3, 5), small(draw, 3, 5),
                  channels or small(draw, 1, 2))


def _conv(make, rank):
    def case(draw):
        x = _seq(draw, t=small(draw, 4, 6)) if rank == 1 else _image(draw)
        return make(), [x], False
    return case


def _reshaping(make, rank):
    def case(draw):
        x = _seq(draw, t=small(draw, 4, 5)) if rank == 1 else _image(draw)
        return make(), [x], False
    return case


def _merge(make, n=2):
    def case(draw):
        shape = (small(draw, 1, 2), small(draw, 1, 4))
        return OnList(make()), list(floats(draw, n, *shape)), False  # n different arrays
    return case


def _einsum_dense(draw):
    x = _seq(draw)
    layer = layers.EinsumDense("abc,cd->abd", (x.shape[1], 2), bias_axes="d", **F64)
    return layer, [x], False


def _noise(make):
    def case(draw):
        return SameNoise(make()), [_seq(draw, t=small(draw, 2, 4))], False
    return case


def _cell(make, n_states):
    def case(draw):
        b, d, u = small(draw, 1, 2), small(draw), small(draw, 1, 2)
        states = [floats(draw, b, u) for _ in range(n_states)]
        return CellStep(make(u)), [floats(draw, b, d)] + states, False
    return case


def _recurrent(make):
    def case(draw):
        return make(small(draw, 1, 2)), [_seq(draw)], False
    return case


def _embedding(draw):
    ids = np.random.default_rng(draw(st.integers(0, 99))).integers(0, 5, (2, small(draw, 1, 4)))
    return layers.Embedding(5, small(draw), **F64), [ids], False


def _normalization(draw):
    d = small(draw)
    mean, variance = floats(draw, d), 0.5 + np.abs(floats(draw, d))
    return layers.Normalization(mean=mean, variance=variance, **F64), [floats(draw, 2, d)], False


def _attention(make):
    def case(draw):
        b, d = small(draw, 1, 2), small(draw, 1, 3)
        q, v = _seq(draw, b=b, d=d), _seq(draw, b=b, d=d)
        return OnList(make()), [q, v], False
    return case


def _mha(draw):
    b = small(draw, 1, 2)
    q, v = _seq(draw, b=b), _seq(draw, b=b)
    return layers.MultiHeadAttention(small(draw, 1, 2), small(draw, 1, 2), **F64), [q, v], False


def _batch_norm(draw):
    return layers.BatchNormalization(**F64), [floats(draw, small(draw, 3, 4), small(draw))], True


def _stacked(draw):
    cells = layers.StackedRNNCells([layers.SimpleRNNCell(2, **F64), layers.GRUCell(1, **F64)],
                                   **F64)
    return layers.RNN(cells, **F64), [_seq(draw)], False


GRADIENT_CASES = {
    # core
    "dense": _dense,
    "einsum_dense": _einsum_dense,
    "embedding": _embedding,
    "activation": _elementwise(lambda: layers.Activation("tanh", **F64)),
    "identity": _elementwise(lambda: layers.Identity(**F64)),
    "lambda": _elementwise(lambda: layers.Lambda(lambda t: t * t + 1.0, **F64)),
    "rescaling": _elementwise(lambda: layers.Rescaling(0.5, offset=0.25, **F64)),
    "masking": lambda draw: (layers.Masking(0.0, **F64), [_seq(draw)], False),
    "flatten": lambda draw: (layers.Flatten(**F64), [_image(draw)], False),
    "reshape": lambda draw: (layers.Reshape((-1,), **F64), [_seq(draw)], False),
    "permute": lambda draw: (layers.Permute((2, 1), **F64), [_seq(draw)], False),
    "repeat_vector": _elementwise(lambda: layers.RepeatVector(2, **F64)),
    "normalization": _normalization,
    # activations
    "relu": _elementwise(lambda: layers.ReLU(max_value=1.0, negative_slope=0.1, **F64)),
    "leaky_relu": _elementwise(lambda: layers.LeakyReLU(0.2, **F64)),
    "elu": _elementwise(lambda: layers.ELU(**F64)),
    "prelu": _elementwise(lambda: layers.PReLU(alpha_initializer="random_uniform", **F64)),
    "softmax": _elementwise(lambda: layers.Softmax(**F64)),
    # convolution
    "conv1d": _conv(lambda: layers.Conv1D(2, 3, padding="same", **F64), 1),
    "conv2d": _conv(lambda: layers.Conv2D(2, 2, strides=(1, 2), **F64), 2),
    "conv1d_transpose": _conv(lambda: layers.Conv1DTranspose(2, 2, strides=2, **F64), 1),
    "conv2d_transpose": _conv(lambda: layers.Conv2DTranspose(2, 2, strides=2, **F64), 2),
    "depthwise_conv1d": _conv(lambda: layers.DepthwiseConv1D(2, depth_multiplier=2, **F64), 1),
    "depthwise_conv2d": _conv(lambda: layers.DepthwiseConv2D(2, **F64), 2),
    "separable_conv1d": _conv(lambda: layers.SeparableConv1D(2, 2, **F64), 1),
    "separable_conv2d": _conv(lambda: layers.SeparableConv2D(2, 2, **F64), 2),
    # pooling
    "max_pooling1d": _reshaping(lambda: layers.MaxPooling1D(2, **F64), 1),
    "max_pooling2d": _reshaping(lambda: layers.MaxPooling2D(2, **F64), 2),
    "average_pooling1d": _reshaping(lambda: layers.AveragePooling1D(2, padding="same",
                                                                    **F64), 1),
    "average_pooling2d": _reshaping(lambda: layers.AveragePooling2D(2, **F64), 2),
    "global_max_pooling1d": _reshaping(lambda: layers.GlobalMaxPooling1D(**F64), 1),
    "global_max_pooling2d": _reshaping(lambda: layers.GlobalMaxPooling2D(**F64), 2),
    "global_average_pooling1d": _reshaping(lambda: layers.GlobalAveragePooling1D(**F64), 1),
    "global_average_pooling2d": _reshaping(lambda: layers.GlobalAveragePooling2D(**F64), 2),
    # reshaping
    "cropping1d": _reshaping(lambda: layers.Cropping1D((1, 2), **F64), 1),
    "cropping2d": _reshaping(lambda: layers.Cropping2D(1, **F64), 2),
    "zero_padding1d": _reshaping(lambda: layers.ZeroPadding1D(1, **F64), 1),
    "zero_padding2d": _reshaping(lambda: layers.ZeroPadding2D(((1, 0), (0, 1)), **F64), 2),
    "up_sampling1d": _reshaping(lambda: layers.UpSampling1D(2, **F64), 1),
    "up_sampling2d": _reshaping(lambda: layers.UpSampling2D(2, **F64), 2),
    # normalization
    "batch_normalization": _batch_norm,
    "layer_normalization": lambda draw: (layers.LayerNormalization(**F64), [_seq(draw)], False),
    "group_normalization": lambda draw: (layers.GroupNormalization(groups=2, **F64),
                                         [_seq(draw, d=4)], False),
    # noise in training, the same noise at each call
    "dropout": _noise(lambda: layers.Dropout(0.5, seed=1, **F64)),
    "spatial_dropout1d": _noise(lambda: layers.SpatialDropout1D(0.5, seed=2, **F64)),
    "spatial_dropout2d": lambda draw: (SameNoise(layers.SpatialDropout2D(0.5, seed=3, **F64)),
                                       [_image(draw)], False),
    "gaussian_noise": _noise(lambda: layers.GaussianNoise(0.3, seed=4, **F64)),
    "gaussian_dropout": _noise(lambda: layers.GaussianDropout(0.3, seed=5, **F64)),
    # merging
    "add": _merge(lambda: layers.Add(**F64), 3),
    "subtract": _merge(lambda: layers.Subtract(**F64)),
    "multiply": _merge(lambda: layers.Multiply(**F64)),
    "average": _merge(lambda: layers.Average(**F64)),
    "maximum": _merge(lambda: layers.Maximum(**F64)),
    "minimum": _merge(lambda: layers.Minimum(**F64)),
    "concatenate": _merge(lambda: layers.Concatenate(**F64)),
    "dot": _merge(lambda: layers.Dot(axes=1, normalize=True, **F64)),
    # attention
    "attention": _attention(lambda: layers.Attention(use_scale=True, **F64)),
    "additive_attention": _attention(lambda: layers.AdditiveAttention(**F64)),
    "multi_head_attention": _mha,
    # recurrent
    "simple_rnn_cell": _cell(lambda u: layers.SimpleRNNCell(u, **F64), 1),
    "lstm_cell": _cell(lambda u: layers.LSTMCell(u, **F64), 2),
    "gru_cell": _cell(lambda u: layers.GRUCell(u, **F64), 1),
    "rnn_stacked_cells": _stacked,
    "simple_rnn": _recurrent(lambda u: layers.SimpleRNN(u, return_sequences=True, **F64)),
    "lstm": _recurrent(lambda u: layers.LSTM(u, **F64)),
    "gru": _recurrent(lambda u: layers.GRU(u, return_sequences=True, **F64)),
    "bidirectional": _recurrent(lambda u: layers.Bidirectional(layers.GRU(u, **F64), **F64)),
    "time_distributed": _recurrent(lambda u: layers.TimeDistributed(layers.Dense(u, **F64),
                                                                    **F64)),
}


def not_float64(layer):
    return [w.path for w in layer.weights if w.dtype.kind == "f" and w.dtype != np.float64]


@pytest.mark.parametrize("name", sorted(GRADIENT_CASES))
@settings(max_examples=8)
@given(data=st.data())
def test_layer_gradients_match_finite_differences(name, data):
    layer, inputs, training = GRADIENT_CASES[name](data.draw)
    report = check_layer_gradients(layer, *inputs, training=training)
    assert report.ok, str(report)
    assert not not_float64(layer), f"{name}: weights not in float64"
