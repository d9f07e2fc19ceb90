"""Attention layers: MultiHeadAttention, Attention, AdditiveAttention and EinsumDense.

Forward results against references written here with plain loops over batch items, heads
and positions; gradients (inputs and every weight) against finite differences in float64
on small hypothesis-drawn shapes; masks, mask propagation, dropout, errors, configs, and a
small transformer block trained with fit."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minikeras as keras
from minikeras import layers
from minikeras.utils import check_layer_gradients


def rand(shape, seed=0):
    return np.random.default_rng(seed).uniform(-1.5, 1.5, size=shape)


def softmax_row(logits, allowed):
    """Softmax over the allowed entries (a row with at least one), zero elsewhere."""
    e = [math.exp(x) if ok else 0.0 for x, ok in zip(logits, allowed)]
    total = sum(e)
    return [x / total for x in e]


def keep_one_per_row(mask, seed):
    """The boolean mask with one True (at a random place) forced into every last-axis row."""
    mask = np.array(mask, dtype=bool)
    rows = mask.reshape(-1, mask.shape[-1])
    picks = np.random.default_rng(seed).integers(0, mask.shape[-1], size=rows.shape[0])
    rows[np.arange(rows.shape[0]), picks] = True
    return rows.reshape(mask.shape)


# --------------------------------------------------------------------------- references
def mha_reference(layer, query, value, key=None, allowed=None):
    """Multi-head attention by loops: per batch item and head, project, score every
    (target, source) pair, softmax over the allowed sources, mix the values, project out.
    ``allowed`` is a (B, T, S) boolean array or None. Returns output and weights."""
    key = value if key is None else key
    wq, bq, wk, bk, wv, bv, wo, bo = layer.get_weights()
    batch, t_len, s_len = query.shape[0], query.shape[1], value.shape[1]
    heads, key_dim = wq.shape[1], wq.shape[2]
    out = np.zeros((batch, t_len, wo.shape[-1]))
    weights = np.zeros((batch, heads, t_len, s_len))
    for b in range(batch):
        for h in range(heads):
            q = query[b] @ wq[:, h, :] + bq[h]
            k = key[b] @ wk[:, h, :] + bk[h]
            v = value[b] @ wv[:, h, :] + bv[h]
            for i in range(t_len):
                logits = [float(q[i] @ k[j]) / math.sqrt(key_dim) for j in range(s_len)]
                ok = [True] * s_len if allowed is None else list(allowed[b, i])
                w = softmax_row(logits, ok)
                weights[b, h, i] = w
                context = sum(w[j] * v[j] for j in range(s_len))
                out[b, i] += context @ wo[h]
        out[b] += bo
    return out, weights


def luong_reference(query, value, key=None, allowed=None, scale=1.0, mode="dot", weight=1.0):
    key = value if key is None else key
    batch, t_len, s_len = query.shape[0], query.shape[1], value.shape[1]
    out = np.zeros((batch, t_len, value.shape[-1]))
    weights = np.zeros((batch, t_len, s_len))
    for b in range(batch):
        for i in range(t_len):
            if mode == "dot":
                logits = [scale * float(query[b, i] @ key[b, j]) for j in range(s_len)]
            elif mode == "concat":
                logits = [weight * float(np.sum(np.tanh(scale * (query[b, i] + key[b, j]))))
                          for j in range(s_len)]
            else:  # additive: scale is a vector
                logits = [float(np.sum(scale * np.tanh(query[b, i] + key[b, j])))
                          for j in range(s_len)]
            ok = [True] * s_len if allowed is None else list(allowed[b, i])
            weights[b, i] = softmax_row(logits, ok)
            out[b, i] = sum(weights[b, i, j] * value[b, j] for j in range(s_len))
    return out, weights


def causal(t_len, s_len):
    return np.array([[j <= i for j in range(s_len)] for i in range(t_len)])


# --------------------------------------------------------------------------- strategies
@st.composite
def mha_case(draw):
    return dict(batch=draw(st.integers(1, 2)), t=draw(st.integers(1, 4)),
                s=draw(st.integers(1, 4)), dim_q=draw(st.integers(1, 4)),
                dim_v=draw(st.integers(1, 4)), heads=draw(st.integers(1, 2)),
                key_dim=draw(st.integers(1, 3)), seed=draw(st.integers(0, 999)))


class WithMasks(layers.Layer):
    """Calls a layer with fixed keyword arguments (masks) and zeroes the rows of
    ``row_mask``, so that check_layer_gradients can check a masked call."""

    def __init__(self, inner, row_mask=None, **call_kwargs):
        super().__init__(dtype="float64")
        self.inner, self.row_mask, self.call_kwargs = inner, row_mask, call_kwargs

    def call(self, *inputs):
        out = self.inner(*inputs, **self.call_kwargs)
        if self.row_mask is not None:
            out = out * self.row_mask[..., None].astype("float64")
        return out


# =========================================================================== EinsumDense
def einsum_reference(equation, x, kernel):
    """The einsum by explicit loops over every output and summed index."""
    lhs, out_spec = equation.split("->")
    in_spec, k_spec = lhs.split(",")
    size = dict(zip(in_spec, x.shape))
    size.update(zip(k_spec, kernel.shape))
    summed = [c for c in size if c not in out_spec]
    out = np.zeros([size[c] for c in out_spec])
    for o in np.ndindex(out.shape):
        idx = dict(zip(out_spec, o))
        total = 0.0
        for s in np.ndindex(*[size[c] for c in summed]):
            idx.update(zip(summed, s))
            total += x[tuple(idx[c] for c in in_spec)] * kernel[tuple(idx[c] for c in k_spec)]
        out[o] = total
    return out


@given(batch=st.integers(1, 2), t=st.integers(1, 3), d=st.integers(1, 3), e=st.integers(1, 3),
       f=st.integers(1, 2), seed=st.integers(0, 99),
       form=st.sampled_from(["abc,cde->abde", "abcd,cde->abe", "abc,cd->abd", "ab,bc->ac"]))
@settings(max_examples=15)
def test_einsum_dense_forward_and_gradients(batch, t, d, e, f, seed, form):
    shapes = {"abc,cde->abde": ((batch, t, d), (None, e, f), "de"),
              "abcd,cde->abe": ((batch, t, d, e), (None, f), "e"),
              "abc,cd->abd": ((batch, t, d), (None, e), "d"),
              "ab,bc->ac": ((batch, d), (e,), "c")}
    x_shape, out_shape, bias_axes = shapes[form]
    layer = layers.EinsumDense(form, out_shape, bias_axes=bias_axes, activation="tanh",
                               bias_initializer="glorot_uniform", dtype="float64")
    x = rand(x_shape, seed)
    y = layer(x).numpy()
    kernel, bias = layer.get_weights()
    np.testing.assert_allclose(y, np.tanh(einsum_reference(form, x, kernel) + bias), atol=1e-12)
    assert y.shape == layer.compute_output_shape(x_shape)
    assert [w.path for w in layer.weights] == [f"{layer.name}/kernel", f"{layer.name}/bias"]
    report = check_layer_gradients(layer, x)
    assert report.ok, str(report)


def test_einsum_dense_shapes_and_ellipsis():
    layer = layers.EinsumDense("...x,xy->...y", output_shape=6, bias_axes="y")
    x = rand((2, 3, 5, 4)).astype("float32")
    y = layer(x)
    assert y.shape == (2, 3, 5, 6) and y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), x @ layer.kernel.numpy(), rtol=1e-5, atol=1e-6)
    right = layers.EinsumDense("ab...,bc->ac...", output_shape=3, bias_axes="c")
    assert right(rand((2, 4, 5))).shape == (2, 3, 5)
    assert right.kernel.shape == (4, 3) and right.bias.shape == (3, 1)
    heads = layers.EinsumDense("abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de")
    heads.build((None, 7, 5))
    assert heads.kernel.shape == (5, 2, 3) and heads.bias.shape == (2, 3)
    assert heads.compute_output_shape((None, 7, 5)) == (None, 7, 2, 3)
    no_bias = layers.EinsumDense("ab,bc->ac", output_shape=4)
    no_bias.build((None, 3))
    assert [w.name for w in no_bias.weights] == ["kernel"]


def test_einsum_dense_errors():
    with pytest.raises(ValueError, match=r"Invalid einsum equation 'ab->b'. Equations must be "
                                         r"in the form \[X\],\[Y\]->\[Z\]"):
        layers.EinsumDense("ab->b", 3)
    layer = layers.EinsumDense("ab,bc->ac", 4, bias_axes="z", name="proj")
    with pytest.raises(ValueError, match="Bias dimension 'z' was requested, but is not part of "
                                         "the output spec 'ac'"):
        layer(rand((2, 3)))
    with pytest.raises(ValueError, match="Input shape and output shape do not match at shared "
                                         "dimension 'b'. Input shape is 3, and output shape is 5"):
        layers.EinsumDense("abc,cd->abd", (5, 2))(rand((2, 3, 4)))
    with pytest.raises(ValueError, match="Weight dimension 'z' did not have a match"):
        layers.EinsumDense("ab,bz->ab", (3,))(rand((2, 3)))
    with pytest.raises(ValueError, match=r'Layer "ed": output_shape \(4, 5\) does not fit the '
                                         "output subscripts 'ac'"):
        layers.EinsumDense("ab,bc->ac", (4, 5), name="ed")(rand((2, 3)))
    built = layers.EinsumDense("ab,bc->ac", 4, name="fixed")
    built(rand((2, 3)))
    with pytest.raises(ValueError, match=r'layer "fixed".*expected axis -1 of input shape to '
                                         r"have value 3, but received input with shape \(2, 5\)"):
        built(rand((2, 5)))


def test_einsum_dense_config_round_trip():
    layer = layers.EinsumDense("abc,cde->abde", (None, 2, 3), bias_axes="de", activation="relu",
                               kernel_regularizer="l2", bias_constraint="non_neg")
    config = layer.get_config()
    assert config["output_shape"] == (None, 2, 3) and config["equation"] == "abc,cde->abde"
    assert config["bias_axes"] == "de" and config["activation"] == "relu"
    assert config["kernel_initializer"]["class_name"] == "GlorotUniform"
    clone = layers.EinsumDense.from_config(config)
    assert clone.get_config() == config


# =========================================================================== MultiHeadAttention
@given(case=mha_case(), separate_key=st.booleans())
@settings(max_examples=20)
def test_mha_forward_matches_loops(case, separate_key):
    c = case
    layer = layers.MultiHeadAttention(c["heads"], c["key_dim"], dtype="float64",
                                      bias_initializer="glorot_uniform")
    q = rand((c["batch"], c["t"], c["dim_q"]), c["seed"])
    v = rand((c["batch"], c["s"], c["dim_v"]), c["seed"] + 1)
    k = rand((c["batch"], c["s"], c["dim_v"] + 1), c["seed"] + 2) if separate_key else None
    out, scores = layer(q, v, k, return_attention_scores=True)
    ref_out, ref_scores = mha_reference(layer, q, v, k)
    np.testing.assert_allclose(out.numpy(), ref_out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(scores.numpy(), ref_scores, rtol=1e-10, atol=1e-12)
    assert out.shape == layer.compute_output_shape(q.shape, v.shape, None if k is None else k.shape)


@given(case=mha_case(), kind=st.sampled_from(["value", "attention", "causal", "all"]))
@settings(max_examples=20)
def test_mha_masks_match_loops(case, kind):
    c = case
    rng = np.random.default_rng(c["seed"])
    b, t, s = c["batch"], c["t"], c["s"]
    layer = layers.MultiHeadAttention(c["heads"], c["key_dim"], dtype="float64")
    q, v = rand((b, t, c["dim_q"]), c["seed"]), rand((b, s, c["dim_v"]), c["seed"] + 1)
    value_mask = keep_one_per_row(rng.random((b, s)) < 0.5, c["seed"])
    attention_mask = keep_one_per_row(rng.random((b, t, s)) < 0.5, c["seed"] + 1)
    kwargs, allowed = {}, np.ones((b, t, s), bool)
    if kind in ("value", "all"):
        if kind == "all":
            value_mask[:, 0] = True       # the causal mask always allows source step 0
        kwargs["value_mask"] = value_mask
        allowed &= value_mask[:, None, :]
    if kind in ("attention", "all"):
        if kind == "all":
            attention_mask[:, :, 0] = True
        kwargs["attention_mask"] = attention_mask
        allowed &= attention_mask
    if kind in ("causal", "all"):
        kwargs["use_causal_mask"] = True
        allowed &= causal(t, s)[None]
    out, scores = layer(q, v, return_attention_scores=True, **kwargs)
    ref_out, ref_scores = mha_reference(layer, q, v, allowed=allowed)
    np.testing.assert_allclose(out.numpy(), ref_out, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(scores.numpy(), ref_scores, rtol=1e-9, atol=1e-12)


def test_mha_query_mask_and_mask_propagation():
    layer = layers.MultiHeadAttention(2, 3, dtype="float64")
    q, v = rand((2, 4, 5), 1), rand((2, 3, 5), 2)
    query_mask = np.array([[True, True, False, True], [True, False, False, False]])
    value_mask = np.array([[True, False, True], [False, True, True]])
    out = layer(q, v, query_mask=query_mask, value_mask=value_mask)
    allowed = query_mask[:, :, None] & value_mask[:, None, :]
    ref, _ = mha_reference(layer, q, v, allowed=np.where(query_mask[:, :, None], allowed, True))
    # Rows of masked query steps have no allowed source: compare the real rows only.
    np.testing.assert_allclose(out.numpy()[query_mask], ref[query_mask], rtol=1e-9)
    np.testing.assert_array_equal(out._keras_mask.numpy(), query_mask)
    # The same masks carried by the tensors themselves (as Embedding(mask_zero=True) makes).
    qt, vt = keras.Tensor(q), keras.Tensor(v)
    qt._keras_mask, vt._keras_mask = keras.Tensor(query_mask), keras.Tensor(value_mask)
    out2, scores = layer(qt, vt, return_attention_scores=True)
    np.testing.assert_allclose(out2.numpy()[query_mask], ref[query_mask], rtol=1e-9)
    np.testing.assert_array_equal(out2._keras_mask.numpy(), query_mask)
    # No mask anywhere: no mask on the output.
    assert getattr(layer(q, v), "_keras_mask", None) is None


def test_mha_mask_from_embedding_in_a_model():
    tokens = keras.Input((4,), dtype="int32")
    embedding = layers.Embedding(10, 6, mask_zero=True)
    mha = layers.MultiHeadAttention(2, 3)
    x = embedding(tokens)
    model = keras.Model(tokens, mha(x, x))
    ids = np.array([[3, 4, 0, 0], [5, 1, 2, 0]])
    keep = ids != 0
    out = model(ids)
    np.testing.assert_array_equal(out._keras_mask.numpy(), keep)
    # The same as giving the masks explicitly, and not the same as giving none.
    plain = embedding(ids).numpy()
    explicit = mha(plain, plain, query_mask=keep, value_mask=keep)
    np.testing.assert_allclose(out.numpy()[keep], explicit.numpy()[keep], rtol=1e-5)
    assert not np.allclose(out.numpy()[keep], mha(plain, plain).numpy()[keep], rtol=1e-3)


@given(case=mha_case(), use_bias=st.booleans(), separate_key=st.booleans())
@settings(max_examples=10)
def test_mha_gradients(case, use_bias, separate_key):
    c = case
    layer = layers.MultiHeadAttention(c["heads"], c["key_dim"], use_bias=use_bias,
                                      dtype="float64", bias_initializer="glorot_uniform")
    q = rand((c["batch"], c["t"], c["dim_q"]), c["seed"])
    v = rand((c["batch"], c["s"], c["dim_v"]), c["seed"] + 1)
    inputs = [q, v] + ([rand((c["batch"], c["s"], 2), c["seed"] + 2)] if separate_key else [])
    report = check_layer_gradients(layer, *inputs)
    assert report.ok, str(report)
    assert len(report.rows) == len(inputs) + (8 if use_bias else 4)


@given(case=mha_case())
@settings(max_examples=10)
def test_mha_gradients_with_masks(case):
    c = case
    rng = np.random.default_rng(c["seed"])
    b, t, s = c["batch"], c["t"], c["s"]
    query_mask = rng.random((b, t)) < 0.7
    value_mask = keep_one_per_row(rng.random((b, s)) < 0.5, c["seed"])
    value_mask[:, 0] = True
    mha = layers.MultiHeadAttention(c["heads"], c["key_dim"], dtype="float64")
    layer = WithMasks(mha, row_mask=query_mask, query_mask=query_mask, value_mask=value_mask,
                      use_causal_mask=True)
    q, v = rand((b, t, c["dim_q"]), c["seed"]), rand((b, s, c["dim_v"]), c["seed"] + 1)
    report = check_layer_gradients(layer, q, v)
    assert report.ok, str(report)


def test_mha_weights_layout_and_output_shape():
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4, output_shape=7)
    q, v = rand((2, 5, 6)).astype("float32"), rand((2, 3, 8)).astype("float32")
    out, scores = layer(q, v, return_attention_scores=True)
    assert out.shape == (2, 5, 7) and scores.shape == (2, 2, 5, 3)
    assert out.dtype == np.float32 and scores.dtype == np.float32
    shapes = [(w.path, w.shape) for w in layer.weights]
    name = layer.name
    assert shapes == [(f"{name}/query/kernel", (6, 2, 3)), (f"{name}/query/bias", (2, 3)),
                      (f"{name}/key/kernel", (8, 2, 3)), (f"{name}/key/bias", (2, 3)),
                      (f"{name}/value/kernel", (8, 2, 4)), (f"{name}/value/bias", (2, 4)),
                      (f"{name}/attention_output/kernel", (2, 4, 7)),
                      (f"{name}/attention_output/bias", (7,))]
    assert layer.compute_output_shape((None, 5, 6), (None, 3, 8)) == (None, 5, 7)
    plain = layers.MultiHeadAttention(1, 2, use_bias=False)
    plain(q, q)
    assert [w.name for w in plain.weights] == ["kernel"] * 4
    assert plain.compute_output_shape((None, 5, 6), (None, 3, 8)) == (None, 5, 6)


@given(seed=st.integers(0, 99), heads=st.integers(1, 2))
@settings(max_examples=8)
def test_mha_attention_axes(seed, heads):
    """Attention over two axes equals attention over them flattened into one sequence;
    attention over axis 2 alone treats axis 1 as more batch."""
    q, v = rand((2, 2, 3, 4), seed), rand((2, 2, 3, 4), seed + 1)
    both = layers.MultiHeadAttention(heads, 2, attention_axes=(1, 2), dtype="float64")
    out = both(q, v)
    flat = layers.MultiHeadAttention(heads, 2, dtype="float64")
    flat(q.reshape(2, 6, 4), v.reshape(2, 6, 4))
    flat.set_weights(both.get_weights())
    np.testing.assert_allclose(out.numpy().reshape(2, 6, 4),
                               flat(q.reshape(2, 6, 4), v.reshape(2, 6, 4)).numpy(), rtol=1e-10)
    rows = layers.MultiHeadAttention(heads, 2, attention_axes=2, dtype="float64")
    out_rows, scores = rows(q, v, return_attention_scores=True)
    assert scores.shape == (2, 2, heads, 3, 3)
    per_row = layers.MultiHeadAttention(heads, 2, dtype="float64")
    per_row(q[:, 0], v[:, 0])
    per_row.set_weights(rows.get_weights())
    for r in range(2):
        np.testing.assert_allclose(out_rows.numpy()[:, r], per_row(q[:, r], v[:, r]).numpy(),
                                   rtol=1e-10)
    report = check_layer_gradients(rows, q[:1, :, :2], v[:1, :, :2])
    assert report.ok, str(report)


def test_mha_dropout():
    layer = layers.MultiHeadAttention(2, 4, dropout=0.5, seed=3)
    q = rand((2, 6, 8), 1).astype("float32")
    inference = layer(q, q).numpy()
    np.testing.assert_array_equal(layer(q, q, training=False).numpy(), inference)
    out, scores = layer(q, q, training=True, return_attention_scores=True)
    assert not np.allclose(out.numpy(), inference)
    # The returned scores are the probabilities before dropout.
    _, clean = layer(q, q, return_attention_scores=True)
    np.testing.assert_allclose(scores.numpy(), clean.numpy(), rtol=1e-6)


def test_mha_errors():
    with pytest.raises(ValueError, match="Received an invalid value for `num_heads`, expected a "
                                         "positive integer. Received: num_heads=0"):
        layers.MultiHeadAttention(0, 4)
    with pytest.raises(ValueError, match="Received: key_dim=-1"):
        layers.MultiHeadAttention(2, -1)
    with pytest.raises(ValueError, match="`attention_axes` must be an int, list, or tuple"):
        layers.MultiHeadAttention(2, 2, attention_axes="1")
    with pytest.raises(ValueError, match="Expected a float value between 0 and 1"):
        layers.MultiHeadAttention(2, 2, dropout=1.5)
    layer = layers.MultiHeadAttention(2, 2, name="mha")
    q, v = rand((2, 4, 3)), rand((2, 5, 3))
    with pytest.raises(ValueError, match=r"All dimensions of `value` and `key`, except the last "
                                         r"one, must be equal. Received: value_shape=\(2, 5, 3\) "
                                         r"and key_shape=\(2, 4, 3\)"):
        layer(q, v, key=rand((2, 4, 3)))
    layer(q, v)
    with pytest.raises(ValueError, match=r'Layer "mha": value_mask must have the shape of value '
                                         r"without its last axis, \(2, 5\).*received value_mask "
                                         r"of shape \(2, 4\) for value of shape \(2, 5, 3\)"):
        layer(q, v, value_mask=np.ones((2, 4), bool))
    with pytest.raises(ValueError, match=r'Layer "mha": query_mask must have the shape of query'):
        layer(q, v, query_mask=np.ones((2, 5), bool))
    with pytest.raises(ValueError, match=r'Layer "mha": attention_mask of shape \(2, 4, 4\) does '
                                         r"not broadcast to \(batch, target, source\) = "
                                         r"\(2, 4, 5\)"):
        layer(q, v, attention_mask=np.ones((2, 4, 4), bool))
    layer(q, v, attention_mask=np.ones((4, 5), bool))  # broadcasts over the batch: fine
    with pytest.raises(ValueError, match=r'Layer "mha" was built for value with last dimension '
                                         r"3, but received value of shape \(2, 5, 2\)"):
        layer(q, rand((2, 5, 2)))
    with pytest.raises(ValueError, match=r'Input 0 of layer "mha" is incompatible'):
        layer(rand((2, 4, 6)), v)
    with pytest.raises(ValueError, match=r'Layer "mha" needs a `value` tensor'):
        layer(q)
    with pytest.raises(ValueError, match=r"attention_axes \(3,\) must be distinct axes"):
        layers.MultiHeadAttention(1, 2, attention_axes=3)(q, v)


def test_mha_config_round_trip():
    layer = layers.MultiHeadAttention(3, 4, value_dim=2, dropout=0.1, use_bias=False,
                                      output_shape=(5,), kernel_regularizer="l2", seed=7,
                                      kernel_initializer="he_normal")
    config = layer.get_config()
    for key in ["num_heads", "key_dim", "value_dim", "dropout", "use_bias", "output_shape",
                "attention_axes", "kernel_initializer", "bias_initializer",
                "kernel_regularizer", "bias_regularizer", "activity_regularizer",
                "kernel_constraint", "bias_constraint", "seed", "name", "trainable", "dtype"]:
        assert key in config
    assert config["value_dim"] == 2 and config["output_shape"] == (5,)
    assert layers.MultiHeadAttention(2, 3).get_config()["value_dim"] == 3
    clone = layers.MultiHeadAttention.from_config(config)
    assert clone.get_config() == config
    q = rand((1, 2, 3)).astype("float32")
    layer(q, q)
    clone(q, q)
    assert [w.shape for w in clone.weights] == [w.shape for w in layer.weights]
    assert len(layer.losses) == 4  # the L2 penalty of the four kernels


def test_mha_functional_cross_attention():
    target, source = keras.Input((4, 6)), keras.Input((3, 5))
    out, scores = layers.MultiHeadAttention(2, 3)(target, source, return_attention_scores=True)
    assert out.shape == (None, 4, 6) and scores.shape == (None, 2, 4, 3)
    model = keras.Model([target, source], [out, scores])
    y, s = model([rand((2, 4, 6)).astype("float32"), rand((2, 3, 5)).astype("float32")])
    assert y.shape == (2, 4, 6) and s.shape == (2, 2, 4, 3)
    np.testing.assert_allclose(s.numpy().sum(-1), 1.0, rtol=1e-5)


def test_transformer_block_trains():
    """Embedding -> self-attention -> residual + LayerNormalization -> feed-forward ->
    pooling -> classifier, on a task that needs attention: is the first token present
    later in the sequence?"""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 6, size=(64, 5))
    labels = (ids[:, 1:] == ids[:, :1]).any(axis=1).astype("int32")
    tokens = keras.Input((5,), dtype="int32")
    x = layers.Embedding(6, 8)(tokens)
    attended = layers.MultiHeadAttention(2, 4)(x, x)
    x = layers.LayerNormalization()(layers.Add()([x, attended]))
    x = layers.Dense(8, activation="relu")(x)
    x = layers.Flatten()(x)
    probs = layers.Dense(2, activation="softmax")(x)
    model = keras.Model(tokens, probs)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    history = model.fit(ids, labels, epochs=30, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.6 * losses[0], losses


# =========================================================================== Attention
@given(batch=st.integers(1, 2), t=st.integers(1, 4), s=st.integers(1, 4), d=st.integers(1, 4),
       use_scale=st.booleans(), mode=st.sampled_from(["dot", "concat"]),
       masked=st.booleans(), use_causal=st.booleans(), seed=st.integers(0, 99))
@settings(max_examples=20)
def test_attention_forward_and_gradients(batch, t, s, d, use_scale, mode, masked, use_causal,
                                         seed):
    layer = layers.Attention(use_scale=use_scale, score_mode=mode, dtype="float64")
    q, v = rand((batch, t, d), seed), rand((batch, s, d + 1), seed + 1)
    k = rand((batch, s, d), seed + 2)
    rng = np.random.default_rng(seed)
    query_mask = rng.random((batch, t)) < 0.7 if masked else None
    value_mask = keep_one_per_row(rng.random((batch, s)) < 0.5, seed) if masked else None
    if masked and use_causal:
        value_mask[:, 0] = True
    mask = [query_mask, value_mask] if masked else None
    layer.build([q.shape, v.shape, k.shape])
    if use_scale:      # weights other than their initial 1, so that a missing one shows
        layer.scale.assign(np.array(0.7))
    if mode == "concat":
        layer.concat_score_weight.assign(np.array(1.3))
    out, weights = layer([q, v, k], mask=mask, return_attention_scores=True,
                         use_causal_mask=use_causal)
    allowed = np.ones((batch, t, s), bool)
    if masked:
        allowed &= value_mask[:, None, :]
    if use_causal:
        allowed &= causal(t, s)[None]
    ref, ref_w = luong_reference(q, v, k, allowed, scale=0.7 if use_scale else 1.0, mode=mode,
                                 weight=1.3)
    if masked:
        ref = ref * query_mask[..., None]
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(weights.numpy(), ref_w, rtol=1e-9, atol=1e-12)
    assert [w.name for w in layer.weights] == (["scale"] if use_scale else []) + (
        ["concat_score_weight"] if mode == "concat" else [])
    wrapped = WithMasks(layer, mask=mask, use_causal_mask=use_causal)
    report = _check_list_layer(wrapped, [q, v, k])
    assert report.ok, str(report)


def _check_list_layer(wrapped, arrays):
    """check_layer_gradients for a layer called on a list: the wrapper takes the tensors
    one by one and hands the layer the list."""
    class Splat(layers.Layer):
        def __init__(self, inner):
            super().__init__(dtype="float64")
            self.inner = inner

        def call(self, *tensors):
            return self.inner(list(tensors))
    return check_layer_gradients(Splat(wrapped), *arrays)


@given(batch=st.integers(1, 2), t=st.integers(1, 4), s=st.integers(1, 4), d=st.integers(1, 4),
       use_scale=st.booleans(), seed=st.integers(0, 99))
@settings(max_examples=15)
def test_additive_attention_forward_and_gradients(batch, t, s, d, use_scale, seed):
    layer = layers.AdditiveAttention(use_scale=use_scale, dtype="float64")
    q, v = rand((batch, t, d), seed), rand((batch, s, d), seed + 1)
    out = layer([q, v])
    scale = layer.scale.numpy() if use_scale else np.ones(d)
    assert (layer.scale.shape == (d,)) if use_scale else layer.scale is None
    ref, _ = luong_reference(q, v, scale=scale, mode="additive")
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-9, atol=1e-12)
    report = _check_list_layer(layer, [q, v])
    assert report.ok, str(report)


def test_attention_masks_from_tensors_and_propagation():
    layer = layers.Attention()
    q = keras.Tensor(rand((2, 3, 4)).astype("float32"))
    v = keras.Tensor(rand((2, 5, 4)).astype("float32"))
    q._keras_mask = keras.Tensor(np.array([[True, False, True], [True, True, False]]))
    v._keras_mask = keras.Tensor(np.array([[True] * 5, [True, True, False, False, False]]))
    out, scores = layer([q, v], return_attention_scores=True)
    np.testing.assert_array_equal(out._keras_mask.numpy(), q._keras_mask.numpy())
    assert getattr(scores, "_keras_mask", None) is None
    np.testing.assert_array_equal(out.numpy()[~q._keras_mask.numpy()], 0.0)
    np.testing.assert_allclose(scores.numpy()[1, :, 2:], 0.0, atol=1e-30)
    explicit = layer([q.numpy(), v.numpy()], mask=[q._keras_mask.numpy(), v._keras_mask.numpy()])
    np.testing.assert_allclose(explicit.numpy(), out.numpy())
    assert layer.compute_output_shape([(None, 3, 4), (None, 5, 6)]) == (None, 3, 6)


def test_attention_dropout():
    layer = layers.Attention(dropout=0.5, seed=1)
    q = rand((2, 6, 4), 3).astype("float32")
    np.testing.assert_array_equal(layer([q, q]).numpy(), layer([q, q], training=False).numpy())
    assert not np.allclose(layer([q, q], training=True).numpy(), layer([q, q]).numpy())


def test_attention_errors():
    with pytest.raises(ValueError, match=r"Invalid value for argument score_mode. Expected one "
                                         r"of \{'dot', 'concat'\}. Received: score_mode=cosine"):
        layers.Attention(score_mode="cosine")
    q, v = rand((2, 3, 4)), rand((2, 5, 4))
    with pytest.raises(ValueError, match="Attention layer must be called on a list of inputs"):
        layers.Attention()(q)
    with pytest.raises(ValueError, match="accepts inputs list of length 2 or 3"):
        layers.Attention()([q])
    with pytest.raises(ValueError, match="Attention layer mask must be a list"):
        layers.Attention()([q, v], mask=np.ones((2, 3), bool))
    with pytest.raises(ValueError, match=r'Layer "att": query and key must have the same last '
                                         r"dimension.*query shape \(2, 3, 4\), key shape "
                                         r"\(2, 5, 2\)"):
        layers.Attention(name="att")([q, rand((2, 5, 2))])
    with pytest.raises(ValueError, match=r'Layer "att2": value_mask must have shape \(2, 5\) '
                                         r".*received a mask of shape \(2, 3\)"):
        layers.Attention(name="att2")([q, v], mask=[None, np.ones((2, 3), bool)])
    with pytest.raises(ValueError, match=r"key and value must have the same number of steps"):
        layers.Attention()([q, v, rand((2, 4, 4))])
    with pytest.raises(ValueError, match="AdditiveAttention layer accepts inputs list"):
        layers.AdditiveAttention()([q, v, v, v])


def test_attention_config_round_trip():
    layer = layers.Attention(use_scale=True, score_mode="concat", dropout=0.2, seed=4)
    config = layer.get_config()
    assert {"use_scale": True, "score_mode": "concat", "dropout": 0.2}.items() <= config.items()
    assert layers.Attention.from_config(config).get_config() == config
    add = layers.AdditiveAttention(use_scale=False)
    config = add.get_config()
    assert "score_mode" not in config and config["use_scale"] is False
    assert layers.AdditiveAttention.from_config(config).get_config() == config
    assert layers.AdditiveAttention().use_scale is True


@given(seed=st.integers(0, 99), t=st.integers(1, 3), s=st.integers(1, 3))
@settings(max_examples=5)
def test_second_derivatives(seed, t, s):
    """The backward passes are written with ops, so they can be differentiated again."""
    from minikeras.utils import check_gradients
    q, v = rand((1, t, 2), seed), rand((1, s, 2), seed + 1)
    mha = layers.MultiHeadAttention(2, 2, dtype="float64")
    report = check_gradients(lambda x: mha(x, v, use_causal_mask=True), q, order=2)
    assert report.ok, str(report)
    luong = layers.Attention(use_scale=True, score_mode="concat", dtype="float64")
    report = check_gradients(lambda x: luong([x, v]), q, order=2)
    assert report.ok, str(report)
