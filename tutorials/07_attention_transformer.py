# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 07: Attention and a tiny transformer
#
# An LSTM passes information along a sequence one step at a time. Attention lets every
# position look at every other position directly, with weights it computes from the data.
# This lesson writes scaled dot-product attention in NumPy, shows that Keras's
# `MultiHeadAttention` is that same computation on learned projections, writes a layer
# normalization, and trains a one-block transformer to reverse sequences: a task it can
# only solve by attending to the right position. At the end we look at where it attends.
#
# **What you will learn**
#
# - attention as $\mathrm{softmax}(QK^\top/\sqrt d)\,V$, why the $\sqrt d$, and how a mask
#   hides keys;
# - why a softmax subtracts the maximum first;
# - the weights of `MultiHeadAttention`, `return_attention_scores`, `use_causal_mask`;
# - layer normalization, and a transformer block built from these pieces.
#
# **Prerequisites:** lessons 01 to 03 (the tape, `fit`); lesson 06 for sequences.
#
# **Time:** about 45 minutes.
#
# **Your turn:** two exercises, `attention` and `layer_norm`.

# %%
import os
import tempfile

import numpy as np

import minikeras as keras
from minikeras import debug, layers, ops
from exercises import exercise, optional, show

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
out_dir = tempfile.mkdtemp()          # the files this lesson writes go here

# %% [markdown]
# ## A softmax that does not overflow
#
# Attention turns scores into weights with a softmax, $\mathrm{softmax}(a)_s = e^{a_s} /
# \sum_r e^{a_r}$: positive weights that sum to 1. Written as it stands, it fails on large
# scores: $e^{1000}$ overflows to infinity and $\infty/\infty$ is NaN. Since the softmax does
# not change when the same number is subtracted from every score,
# $e^{a_s - m}/\sum_r e^{a_r - m} = e^{a_s}/\sum_r e^{a_r}$, we subtract the largest
# score $m$: every exponent is then $\le 0$ and the largest term is exactly 1.

# %%
def softmax(a, axis=-1):
    e = np.exp(a - a.max(axis=axis, keepdims=True))      # shifted: exp never overflows
    return e / e.sum(axis=axis, keepdims=True)


scores = np.array([[1.0, 2.0, 3.0], [1000.0, 1001.0, 1002.0]])
with np.errstate(over="ignore", invalid="ignore"):
    naive = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
print("naive:  ", naive.round(4).tolist())
print("shifted:", softmax(scores).round(4).tolist())
assert np.all(np.isnan(naive[1])) and np.allclose(naive[0], softmax(scores)[0])
assert np.allclose(softmax(scores)[0], softmax(scores)[1])      # only differences matter
assert np.allclose(softmax(scores), ops.softmax(scores).numpy())  # the library shifts too

# %% [markdown]
# ## Scaled dot-product attention
#
# Three matrices: queries $Q$ (one row per position that asks, $T$ rows), keys $K$ and
# values $V$ (one row per position that answers, $S$ rows). The score of query $t$ for key
# $s$ is their dot product divided by $\sqrt d$, $d$ the length of a key; a softmax over
# $s$ turns each row of scores into weights; the output for query $t$ is the weighted mean
# of the values:
#
# $$A = \mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt d}\right) \quad (T, S), \qquad
# \text{output} = A\,V \quad (T, d_v).$$
#
# A **mask** says which keys each query may see: a boolean array `(T, S)`, True where query
# $t$ may attend to key $s$. A hidden key gets a very negative score (we use $-10^9$)
# before the softmax, so its weight is $e^{-10^9} = 0$.
#
# ### Your turn: scaled dot-product attention with a mask
#
# Write `attention(Q, K, V, mask=None)` returning `(output, weights)`. `Q` is `(..., T, d)`,
# `K` `(..., S, d)`, `V` `(..., S, d_v)`: there may be leading batch axes, so transpose only
# the last two axes of `K` (`K.swapaxes(-1, -2)`). Use `softmax` above on the last axis.

# %% tags=["exercise"] exercise="attention"
def attention(Q, K, V, mask=None):
    # scores = Q K^T / sqrt(d); where the mask is False, put -1e9 (np.where);
    # weights = softmax(scores); output = weights @ V
    raise NotImplementedError


# %%
def reference_attention(Q, K, V, mask=None):       # the formula, written once more
    s = np.einsum("...td,...sd->...ts", Q, K) / np.sqrt(Q.shape[-1])
    if mask is not None:
        s = s + np.where(mask, 0.0, -1e9)
    w = np.exp(s - s.max(-1, keepdims=True))
    w = w / w.sum(-1, keepdims=True)
    return np.einsum("...ts,...sv->...tv", w, V), w


with exercise("attention") as ex:
    Q, K, V = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 6))
    result = ex.call(attention, Q, K, V)
    ex.expect(isinstance(result, tuple) and len(result) == 2,
              "attention should return a pair (output, weights).")
    out_ref, w_ref = reference_attention(Q, K, V)
    w_got = ex.expect_array(result[1], (2, 3, 5), "weights")
    ex.expect(np.allclose(w_got.sum(-1), 1),
              "each row of weights should sum to 1: take the softmax over the last axis (the keys).")
    ex.expect(not np.allclose(w_got, reference_attention(Q * 2, K, V)[1]),
              "the weights are those of Q K^T without the division: divide the scores by "
              "sqrt(d), d = Q.shape[-1].")
    ex.expect_close(w_got, w_ref, what="the weights",
                    hint="scores = Q @ K.swapaxes(-1, -2) / np.sqrt(d), then softmax(scores).")
    ex.expect_close(result[0], out_ref, what="the output", hint="output = weights @ V.")
    mask = rng.random((3, 5)) < 0.6
    mask[:, 0] = True                                       # every query sees a key
    result = ex.call(attention, Q, K, V, mask)
    ex.expect_close(result[1], reference_attention(Q, K, V, mask)[1],
                    what="the weights with a mask",
                    hint="where the mask is False the score must become -1e9 before the "
                         "softmax (np.where(mask, scores, -1e9)), so that key gets weight 0.")
    ex.expect_close(result[0], reference_attention(Q, K, V, mask)[0],
                    what="the output with a mask")

# %% [markdown]
# With one-hot values the output *is* the weights, which makes attention easy to see: two
# queries that resemble keys 2 and 0 pick out those keys.

# %%
K4 = rng.standard_normal((4, 8))           # 4 keys of length 8
Q2 = 4.0 * K4[[2, 0]]                      # two queries: strongly aligned with keys 2 and 0
out, weights = attention(Q2, K4, np.eye(4))
print(weights.round(3))
assert weights[0].argmax() == 2 and weights[1].argmax() == 0
assert np.allclose(out, weights)

# %% [markdown]
# ### Why divide by $\sqrt d$?
#
# The dot product of two random vectors with $d$ independent unit-variance components has
# variance $d$. Without the division, long keys give large scores, the softmax saturates
# to nearly one-hot weights, and its gradient (the `Rule:` of `ops.nn.Softmax`: $z \odot (g - \sum g z)$) nearly
# vanishes. Divided by $\sqrt d$, the scores have a standard deviation near 1 whatever $d$:

# %%
for d in (4, 64, 1024):
    q, k = rng.standard_normal((2000, d)), rng.standard_normal((2000, d))
    raw = np.sum(q * k, axis=1)
    print(f"d={d:5}: std of q.k = {raw.std():6.2f}, of q.k/sqrt(d) = {(raw / np.sqrt(d)).std():.2f}")
    assert 0.9 < (raw / np.sqrt(d)).std() < 1.1

q, k = rng.standard_normal((8, 1024)), rng.standard_normal((8, 1024))
largest_raw = softmax(q @ k.T).max(axis=1).mean()
largest_scaled = softmax(q @ k.T / np.sqrt(1024)).max(axis=1).mean()
print(f"d=1024: mean largest weight {largest_raw:.3f} unscaled, {largest_scaled:.3f} scaled")
assert largest_raw > 0.9 and largest_scaled < 0.6

# %% [markdown]
# ## `MultiHeadAttention`: the same, on learned projections
#
# `layers.MultiHeadAttention(num_heads, key_dim)` first projects its inputs with learned
# weights: the query into `num_heads` queries of length `key_dim`, the key and the value
# likewise; runs the attention above once per head; then projects the heads back to the
# query's feature size. Keras keeps each projection as an `EinsumDense` sublayer, with the
# head axis apart:
#
# - `query/kernel`, `key/kernel`, `value/kernel`: `(features, num_heads, key_dim)`, biases
#   `(num_heads, key_dim)`;
# - `attention_output/kernel`: `(num_heads, key_dim, features)`, bias `(features,)`.
#
# `mha(query, value)` is self-attention when both are the same tensor (the key defaults to
# the value). With `return_attention_scores=True` it also returns the weights,
# `(batch, num_heads, T, S)`.

# %%
mha = layers.MultiHeadAttention(num_heads=2, key_dim=4)
x = rng.standard_normal((3, 5, 6)).astype("float32")        # batch 3, 5 positions, 6 features
y, att = mha(x, x, return_attention_scores=True)
print([(w.path, w.shape) for w in mha.weights])
assert y.shape == (3, 5, 6) and att.shape == (3, 2, 5, 5)
shapes = {w.path.split("/", 1)[1]: tuple(w.shape) for w in mha.weights}
assert shapes == {
    "query/kernel": (6, 2, 4), "query/bias": (2, 4),
    "key/kernel": (6, 2, 4), "key/bias": (2, 4),
    "value/kernel": (6, 2, 4), "value/bias": (2, 4),
    "attention_output/kernel": (2, 4, 6), "attention_output/bias": (6,),
}

# %% [markdown]
# Now the layer rebuilt from its weights with NumPy and *your* `attention`, the heads as a
# batch axis:

# %%
w = {v.path.split("/", 1)[1]: v.numpy().astype("float64") for v in mha.weights}
x64 = x.astype("float64")


def project(inputs, name):                                   # (b, t, f) -> (b, heads, t, k)
    return np.einsum("btf,fhk->bhtk", inputs, w[f"{name}/kernel"]) + w[f"{name}/bias"][:, None]


heads, head_weights = attention(project(x64, "query"), project(x64, "key"), project(x64, "value"))
expected = np.einsum("bhtk,hkf->btf", heads, w["attention_output/kernel"]) + w["attention_output/bias"]
print("MultiHeadAttention vs by hand, largest difference:", np.abs(y.numpy() - expected).max())
assert np.allclose(y.numpy(), expected, atol=1e-5)
assert np.allclose(att.numpy(), head_weights, atol=1e-5)

# %% [markdown]
# Each head has its own projections, so each can attend to something else. On the tape, the
# layer is a handful of ordinary ops (einsums, a softmax, additions), so its gradient
# comes for free and passes a check in float64, for all eight weights and both inputs:

# %%
with keras.GradientTape() as tape:
    loss = ops.sum(mha(x, x) ** 2)
print(sorted({type(n).__name__ for n in tape.nodes}))
assert "Softmax" in {type(n).__name__ for n in tape.nodes}
optional("Graphviz's dot", debug.plot_tape, loss, to_file=os.path.join(out_dir, "mha_tape.svg"))

x_small = rng.standard_normal((2, 3, 4))
report = keras.utils.check_layer_gradients(layers.MultiHeadAttention(2, 2, dtype="float64"),
                                           x_small, x_small)
print(report)
assert report.ok

# %% [markdown]
# ## The causal mask
#
# A model that generates text one token at a time must not peek at later tokens.
# `use_causal_mask=True` hides them: query $t$ may only attend to keys $s \le t$, the mask
# `np.tril(np.ones((T, T), bool))`. The weights are lower-triangular, and the first row puts
# all its weight on position 0.

# %%
y_causal, att = mha(x, x, use_causal_mask=True, return_attention_scores=True)
a = att.numpy()
print(a[0, 0].round(3))
assert np.allclose(np.triu(a, k=1), 0) and np.allclose(a[..., 0, 0], 1)

causal = np.tril(np.ones((5, 5), dtype=bool))
_, by_hand = attention(project(x64, "query"), project(x64, "key"), project(x64, "value"), causal)
assert np.allclose(a, by_hand, atol=1e-5)                # your mask, the layer's mask

# So the output at t cannot depend on the inputs after t:
x_changed = x.copy()
x_changed[:, 3:] = rng.standard_normal((3, 2, 6))
y_changed = mha(x_changed, x_changed, use_causal_mask=True).numpy()
assert np.allclose(y_changed[:, :3], y_causal.numpy()[:, :3], atol=1e-6)
assert not np.allclose(y_changed[:, 3:], y_causal.numpy()[:, 3:])

# %% [markdown]
# Changing positions 3 and 4 changed the outputs there and left positions 0 to 2 as they were.
#
# ## Layer normalization
#
# A transformer block adds each sub-layer's output to its input (a residual connection) and
# then normalizes every position on its own: over the features of that position, subtract
# the mean $\mu$, divide by the standard deviation, then scale and shift with learned
# $\gamma$ (`gamma`) and $\beta$ (`beta`), one per feature:
#
# $$\mathrm{LN}(x) = \gamma \odot \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta, \qquad
# \mu = \frac1F\sum_f x_f, \quad \sigma^2 = \frac1F\sum_f (x_f - \mu)^2.$$
#
# Unlike batch normalization it does not look at the other examples of the batch, so it
# works the same in training and inference and for a batch of one.
#
# ### Your turn: layer norm forward
#
# Write `layer_norm(x, gamma, beta, epsilon=1e-3)` for `x` of shape `(..., F)`, normalizing
# over the last axis (Keras's default $\epsilon$ is `1e-3`).

# %% tags=["exercise"] exercise="layer_norm"
def layer_norm(x, gamma, beta, epsilon=1e-3):
    # mean and variance over the last axis (keepdims=True), then
    # gamma * (x - mean) / sqrt(variance + epsilon) + beta
    raise NotImplementedError


# %%
with exercise("layer_norm") as ex:
    x_ln = rng.standard_normal((2, 3, 5)) * 3 + 1
    norm = layers.LayerNormalization(dtype="float64")       # the library's layer
    norm(x_ln)
    gamma, beta = rng.standard_normal(5), rng.standard_normal(5)
    norm.set_weights([gamma, beta])
    got = ex.call(layer_norm, x_ln, gamma, beta)
    plain = ex.expect_array(ex.call(layer_norm, x_ln, np.ones(5), np.zeros(5)), (2, 3, 5),
                            "layer_norm(x, gamma=1, beta=0)")
    ex.expect(not np.allclose(plain, plain.flat[0]),
              f"with gamma = 1 and beta = 0 every value came out {plain.flat[0]:.3g}: the "
              "normalized x was multiplied by 0. Are gamma and beta swapped? The result is "
              "gamma * (x - mean) / sqrt(variance + epsilon) + beta.")
    ex.expect(np.allclose(plain.mean(-1), 0, atol=1e-6),
              "with gamma = 1 and beta = 0 every position should have mean 0 over its "
              "features: take the mean over the last axis (axis=-1, keepdims=True), not "
              "over the whole array or the batch.")
    ex.expect(np.allclose(plain.var(-1), 1, atol=1e-2),
              "with gamma = 1 and beta = 0 every position should have variance ~1 over its "
              "features: divide by sqrt(variance + epsilon), the variance (not the standard "
              "deviation) taken over the last axis.")
    ex.expect_close(got, norm(x_ln), what="layer_norm(x, gamma, beta)",
                    hint="scale by gamma and shift by beta after normalizing, and keep "
                         "epsilon inside the square root: sqrt(var + epsilon).")

# %% [markdown]
# ## A tiny transformer learns to reverse a sequence
#
# The task: given 6 tokens from an alphabet of 8, output them in reverse order; the output
# at position $t$ must be the input at position $5 - t$. Dense layers act on each position
# separately, so the only way to move a token to another position is attention; and to find
# "the mirrored position" the model must know where each token is, so the input is a token
# embedding plus a learned position embedding.
#
# One transformer block: self-attention, a residual connection and a layer normalization,
# then a two-layer feed-forward network, again with a residual and a normalization. Both
# are ordinary Keras subclassed layers:

# %%
T, VOCAB, DIM = 6, 8, 32


class TokenAndPosition(layers.Layer):
    """(batch, T) token ids -> token embedding + position embedding, (batch, T, DIM)."""

    def __init__(self, length, vocab, dim, **kwargs):
        super().__init__(**kwargs)
        self.tokens = layers.Embedding(vocab, dim)
        self.positions = layers.Embedding(length, dim)

    def call(self, x):
        return self.tokens(x) + self.positions(ops.arange(x.shape[1]))


class TransformerBlock(layers.Layer):
    def __init__(self, dim, heads, hidden, **kwargs):
        super().__init__(**kwargs)
        self.attention = layers.MultiHeadAttention(heads, dim // heads)
        self.norm1 = layers.LayerNormalization()
        self.hidden = layers.Dense(hidden, activation="relu")
        self.out = layers.Dense(dim)
        self.norm2 = layers.LayerNormalization()

    def call(self, x):
        x = self.norm1(x + self.attention(x, x))          # attend, then add and normalize
        return self.norm2(x + self.out(self.hidden(x)))   # feed forward, add and normalize


def make_data(n, rng):
    tokens = rng.integers(0, VOCAB, size=(n, T))
    return tokens, tokens[:, ::-1].copy()


x_tr, y_tr = make_data(4000, np.random.default_rng(1))
x_te, y_te = make_data(500, np.random.default_rng(2))
print(x_tr[0], "->", y_tr[0])

keras.utils.set_random_seed(0)
model = keras.Sequential([
    keras.Input(shape=(T,), dtype="int32"),
    TokenAndPosition(T, VOCAB, DIM),
    TransformerBlock(DIM, heads=2, hidden=64),
    layers.Dense(VOCAB, activation="softmax"),           # a distribution over tokens, per position
])
model.summary()
assert model.output.shape == (None, T, VOCAB)

# %% [markdown]
# Our `layer_norm` computes what the block's normalizations compute:

# %%
block = model.layers[1]
probe = rng.standard_normal((2, T, DIM)).astype("float32")
assert np.allclose(layer_norm(probe.astype("float64"), *block.norm1.get_weights()),
                   block.norm1(probe).numpy(), atol=1e-5)

# %%
model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
start_loss, start_accuracy = model.evaluate(x_te, y_te, verbose=0)
history = model.fit(x_tr, y_tr, batch_size=64, epochs=10, verbose=0)
loss, accuracy = model.evaluate(x_te, y_te, verbose=0)
print(f"before training: loss {start_loss:.3f}, accuracy {start_accuracy:.3f} (chance {1 / VOCAB:.3f})")
print(f"after training:  loss {loss:.3f}, accuracy {accuracy:.3f}")
assert start_accuracy < 0.25 and loss < start_loss / 4 and accuracy >= 0.9

# %%
keras.utils.plot_history(history, to_file=os.path.join(out_dir, "history.png"))

# %% [markdown]
# The accuracy counts tokens, so chance is 1/8, and the untrained model is there.
#
# ## What the attention learned
#
# If the model solves the task through attention, output position $t$ should attend to
# input position $5 - t$: the weights, averaged over the test sequences, should light up
# the anti-diagonal in at least one head. We run the embedding and the attention layer of
# the trained model on the test sequences and look.

# %%
from matplotlib.figure import Figure

embedded = model.layers[0](x_te)
_, att = block.attention(embedded, embedded, return_attention_scores=True)
mean = att.numpy().mean(axis=0)                    # (heads, T, T), averaged over the batch
best = mean.max(axis=0)                            # the strongest head for each (t, s)
mirrored = best[np.arange(T), T - 1 - np.arange(T)]   # the weight of input 5 - t at output t
print("weight on the mirrored position, per output position:", mirrored.round(2))
assert mirrored.min() > 0.4 and mirrored.mean() > 0.6

fig = Figure(figsize=(9, 4))
axes = fig.subplots(1, mean.shape[0])
for h, ax in enumerate(axes):
    image = ax.imshow(mean[h], cmap="magma", vmin=0, vmax=1)
    ax.set_title(f"head {h}")
    ax.set_xlabel("input position s (key)")
    ax.set_ylabel("output position t (query)")
    for t in range(T):
        for s in range(T):
            if mean[h, t, s] > 0.3:
                ax.text(s, t, f"{mean[h, t, s]:.2f}", ha="center", va="center", fontsize=8,
                        color="black" if mean[h, t, s] > 0.6 else "white")
fig.colorbar(image, ax=list(axes))
fig.suptitle("Mean attention weights of the trained block: output t looks at input 5 - t")
fig.savefig(os.path.join(out_dir, "attention.png"), dpi=100)
show(fig)

# %% [markdown]
# The anti-diagonal: nothing told the model where to look; the loss and the position
# embeddings were enough for the attention to find the mirrored position. Where a head
# splits its weight between the mirrored position and another one, the residual connection
# and the feed-forward layers sort it out: the block's input at $t$ already carries token $t$
# itself. (Train with another seed and the heads may share the work differently; the
# anti-diagonal stays.)
#
# ## Summary
#
# - Attention: $\mathrm{softmax}(QK^\top/\sqrt d)V$; each output is a weighted mean of the
#   values; the $\sqrt d$ keeps the scores near unit scale so the softmax does not saturate;
#   a mask sets hidden scores to $-10^9$.
# - A softmax subtracts the largest score first; the result is the same and nothing overflows.
# - `MultiHeadAttention` is learned projections `(features, heads, key_dim)`, the attention
#   per head, and an output projection; `use_causal_mask=True` is a lower-triangular mask.
# - Layer normalization normalizes each position over its features, then scales and shifts.
# - One block of attention + feed-forward, with residuals and layer norms, learns to reverse
#   sequences, and its attention shows how.
#
# ## Where to go next
#
# - `minikeras/layers/attention.py`: `MultiHeadAttention`, its projections and the masks.
# - `minikeras/layers/einsum_dense.py`: the projection layer behind the weight shapes.
# - `minikeras/ops/nn.py`: `softmax`, whose backward is one line of ops.
# - Lesson 08 shows how to write your own layer, your own op and your own kernel.
