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
# # Lesson 06: Recurrent networks: an LSTM by hand, then the layer, and masks
#
# Sentences, melodies and clicks come one item after another, in sequences of different
# lengths. A recurrent network reads them one step at a time and carries a *state* from
# step to step. This lesson writes one step of an LSTM in NumPy with the weights of
# `keras.layers.LSTM`, follows the Keras answer to sequences of different lengths (padding
# and masks), compares the two ways minikeras computes an LSTM, writes the gradient
# through time of a tiny recurrent network, and trains a model that looks for a 7.
#
# **What you will learn**
#
# - the LSTM's equations, and its weights: kernel `(D, 4u)`, recurrent kernel `(u, 4u)`,
#   bias `(4u,)`, gates in the order i, f, c, o;
# - `pad_sequences`, the mask of `Embedding(mask_zero=True)`, and what a masked step does;
# - the fused sequence op (one node on the tape) against the cell built from small ops
#   (`use_cudnn=False`): the same numbers, very different tapes;
# - backpropagation through time: the gradient of a weight used at every step is a sum
#   over the steps.
#
# **Prerequisites:** lessons 01 to 03 (the tape, backward rules, `fit`); lesson 04 helps.
#
# **Time:** about 45 minutes.
#
# **Your turn:** two exercises, `lstm_step` and `rnn_backward`.

# %%
import collections
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
# ## The LSTM's weights
#
# An LSTM with `units=u` on inputs of `D` features keeps two state vectors of length $u$:
# the output $h$ and the cell $c$. It has three weights, laid out as in Keras: `kernel`
# $W$ `(D, 4u)` multiplies the input, `recurrent_kernel` $U$ `(u, 4u)` multiplies the
# previous $h$, and `bias` $b$ `(4u,)`. The $4u$ columns are four blocks of $u$, one per
# gate, in Keras's order **i, f, c, o**. The weights live in a cell layer inside the LSTM,
# hence their paths. Keras starts the forget gate's bias at 1 (`unit_forget_bias=True`) so
# that a fresh LSTM remembers by default, and the recurrent kernel as an orthogonal matrix.

# %%
u, D = 4, 3
lstm = layers.LSTM(u, return_sequences=True)
lstm(np.zeros((1, 2, D), dtype="float32"))           # build it: weights appear on the first call
print([(w.path, w.shape) for w in lstm.weights])
W, U, b = (w.numpy() for w in lstm.weights)
assert W.shape == (D, 4 * u) and U.shape == (u, 4 * u) and b.shape == (4 * u,)
assert [w.path for w in lstm.weights] == [f"{lstm.name}/lstm_cell/kernel",
                                          f"{lstm.name}/lstm_cell/recurrent_kernel",
                                          f"{lstm.name}/lstm_cell/bias"]
assert np.all(b[u:2 * u] == 1) and np.all(b[:u] == 0) and np.all(b[2 * u:] == 0)
assert np.allclose(U @ U.T, np.eye(u), atol=1e-5)    # orthonormal rows

# %% [markdown]
# ## One step of an LSTM
#
# With $\sigma$ the sigmoid, one step from $(h_{t-1}, c_{t-1})$ and the input $x_t$:
#
# $$z = x_t W + h_{t-1} U + b, \quad \text{split into four blocks of } u:\ z_i, z_f, z_c, z_o$$
#
# $$i = \sigma(z_i),\quad f = \sigma(z_f),\quad \tilde c = \tanh(z_c),\quad o = \sigma(z_o)$$
#
# $$c_t = f \odot c_{t-1} + i \odot \tilde c, \qquad h_t = o \odot \tanh(c_t)$$
#
# The forget gate $f$ decides how much of the old cell to keep, the input gate $i$ how much
# of the candidate $\tilde c$ to write, the output gate $o$ how much of the cell to show as
# $h$. Each gate is a number between 0 and 1 per unit: a soft switch.
#
# ### Your turn: one LSTM step forward
#
# Write `lstm_step(x_t, h, c, W, U, b)`: `x_t` is `(batch, D)`, `h` and `c` are
# `(batch, u)`; return `(h_new, c_new)`, both `(batch, u)`. Use the `sigmoid` below and
# `np.tanh`; mind the gate order i, f, c, o in the columns.

# %%
def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


# %% tags=["exercise"] exercise="lstm_step"
def lstm_step(x_t, h, c, W, U, b):
    n = h.shape[1]
    # z = x_t @ W + h @ U + b, then its four blocks of n columns (i, f, c, o),
    # the gates, the new cell and the new output.
    raise NotImplementedError


# %%
with exercise("lstm_step") as ex:
    x1 = rng.standard_normal((2, 1, D))                      # a batch of 2, one step
    h0, c0 = rng.standard_normal((2, u)), rng.standard_normal((2, u))
    one_step = layers.LSTM(u, return_state=True, dtype="float64")
    one_step(x1)                                             # build, then use our weights
    one_step.set_weights([W, U, rng.standard_normal(4 * u)])
    _, h_ref, c_ref = one_step(x1, initial_state=[h0, c0])   # the layer, T = 1
    result = ex.call(lstm_step, x1[:, 0], h0, c0, *one_step.get_weights())
    ex.expect(isinstance(result, tuple) and len(result) == 2,
              f"lstm_step should return a pair (h_new, c_new), but it returned "
              f"{type(result).__name__}{' of length ' + str(len(result)) if isinstance(result, tuple) else ''}.")
    h_new, c_new = (ex.expect_array(a, (2, u), name) for a, name in zip(result, ("h_new", "c_new")))
    ex.expect(not (np.allclose(h_new, c_ref) and np.allclose(c_new, h_ref)),
              "h_new and c_new are swapped: return them in the order (h_new, c_new).")

    def slip(order="ifco", bias=True):   # the step with a usual slip, to name it
        Ws, Us, bs = one_step.get_weights()
        z = x1[:, 0] @ Ws + h0 @ Us + (bs if bias else 0)
        gate = {name: z[:, k * u:(k + 1) * u] for k, name in enumerate(order)}
        c_s = sigmoid(gate["f"]) * c0 + sigmoid(gate["i"]) * np.tanh(gate["c"])
        return c_s
    ex.expect(not np.allclose(c_new, slip(bias=False)),
              "c_new is what you get without the bias: z = x_t @ W + h @ U + b.")
    ex.expect(not np.allclose(c_new, slip(order="ifoc")),
              "c_new takes the candidate from the last block of z: Keras's order is i, f, c, "
              "o, so the candidate is z[:, 2u:3u] and the output gate z[:, 3u:].")
    ex.expect_close(c_new, c_ref, what="c_new",
                    hint="c_new = f * c + i * tanh(z_c); the blocks of z are, in order, "
                         "z[:, :u] (i), z[:, u:2u] (f), z[:, 2u:3u] (c), z[:, 3u:] (o).")
    ex.expect_close(h_new, h_ref, what="h_new",
                    hint="h_new = o * tanh(c_new): the tanh of the NEW cell state.")

# %% [markdown]
# Your step matches the layer run for one step from the same state. Over a whole sequence
# the layer just repeats it, carrying $(h, c)$ on; with `return_sequences=True` it returns
# every $h_t$:

# %%
def lstm_by_hand(x, W, U, b, mask=None):
    """x (batch, T, D) -> every h_t (batch, T, u), and the last (h, c)."""
    batch, steps, _ = x.shape
    h = c = np.zeros((batch, U.shape[0]))
    outputs = []
    for t in range(steps):
        h_new, c_new = lstm_step(x[:, t], h, c, W, U, b)
        if mask is not None:                     # a masked step keeps the old state
            keep = mask[:, t, None]
            h_new, c_new = np.where(keep, h_new, h), np.where(keep, c_new, c)
        h, c = h_new, c_new
        outputs.append(h)
    return np.stack(outputs, axis=1), h, c


x_seq = rng.standard_normal((2, 5, D)).astype("float32")
by_hand, _, _ = lstm_by_hand(x_seq.astype("float64"), W, U, b)
print("by hand vs layer, largest difference:", np.abs(by_hand - lstm(x_seq).numpy()).max())
assert np.allclose(by_hand, lstm(x_seq).numpy(), atol=1e-5)

# %% [markdown]
# (`lstm_by_hand` already knows about masks; the next sections explain them.)
#
# ## Padding: one array for sequences of any length
#
# A batch is one rectangular array, but sequences differ in length. `pad_sequences` makes
# a list of integer sequences into one `(n, maxlen)` array by adding zeros. As in Keras,
# the zeros go *before* the items by default (`padding="pre"`), and sequences longer than
# `maxlen` lose their first items (`truncating="pre"`).

# %%
sequences = [[3, 1, 4], [1, 5], [9, 2, 6, 5]]
pre = keras.utils.pad_sequences(sequences)
post = keras.utils.pad_sequences(sequences, padding="post")
print(pre, "\n", post)
assert pre.tolist() == [[0, 3, 1, 4], [0, 0, 1, 5], [9, 2, 6, 5]]
assert post.tolist() == [[3, 1, 4, 0], [1, 5, 0, 0], [9, 2, 6, 5]]
assert keras.utils.pad_sequences(sequences, maxlen=2).tolist() == [[1, 4], [1, 5], [6, 5]]

# %% [markdown]
# The id 0 now means "nothing here", so real tokens use the ids 1 and up.
#
# ## The mask that `Embedding` attaches
#
# `Embedding(input_dim, output_dim)` turns each id into a learned vector: row `i` of its
# weight `embeddings` `(input_dim, output_dim)`. With `mask_zero=True` it also attaches a
# boolean tensor to its output, `output._keras_mask`, True where the id is not 0. The row of
# id 0 is an ordinary row; what makes the padding harmless is the mask, which the layers
# downstream read. `input_dim` counts the padding id: 9 tokens need `input_dim=10`.

# %%
embedding = layers.Embedding(input_dim=10, output_dim=D, mask_zero=True)
vectors = embedding(post)
mask = vectors._keras_mask
print(vectors.shape, "\n", mask.numpy())
assert vectors.shape == (3, 4, D)
assert np.array_equal(mask.numpy(), post != 0)
table = embedding.embeddings.numpy()
assert np.array_equal(vectors.numpy()[1, 3], table[0])    # a padded step: the row of id 0
assert np.array_equal(vectors.numpy()[2, 0], table[9])    # a real step: the row of its id

# %% [markdown]
# Nobody passes the mask by hand. `Layer.__call__` looks at its input: if it carries a
# `_keras_mask` and the layer's `call` has a `mask` argument, the mask is passed as
# `mask=...`; if the layer `supports_masking`, the output gets the mask too, so it flows on.
# A layer that only records what it receives shows it:

# %%
class ShowMask(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True       # hand the mask on to the output
        self.received = None

    def call(self, inputs, mask=None):
        self.received = mask
        return inputs


spy = ShowMask()
passed_on = spy(vectors)
assert np.array_equal(spy.received.numpy(), post != 0)
assert np.array_equal(passed_on._keras_mask.numpy(), post != 0)

# %% [markdown]
# ## What an LSTM does at a masked step
#
# At a masked step the LSTM does not update: it carries $(h, c)$ over unchanged,
#
# $$h_t = m_t\, h_t^{\text{new}} + (1 - m_t)\, h_{t-1}, \qquad c_t = m_t\, c_t^{\text{new}} + (1 - m_t)\, c_{t-1},$$
#
# so with `return_sequences=True` the output at a masked step repeats the previous one.
# With `padding="post"` the outputs freeze after the last real step; with `"pre"` they stay
# at the initial state, zeros, until the first real step. Our `lstm_by_hand` does the same
# with `np.where`.

# %%
lstm_e = layers.LSTM(4, return_sequences=True)
outputs = lstm_e(vectors).numpy()                 # the mask arrives through Layer.__call__
for row, n in enumerate(len(s) for s in sequences):
    for t in range(n, 4):
        assert np.array_equal(outputs[row, t], outputs[row, n - 1])      # carried over
print("sequence 1 (2 real steps, then 2 padded):\n", outputs[1].round(4))

expected, _, _ = lstm_by_hand(vectors.numpy().astype("float64"),
                              *(w.numpy() for w in lstm_e.weights), mask=post != 0)
assert np.allclose(expected, outputs, atol=1e-5)

# The padding changes nothing: the short sequence alone gives the same outputs,
alone = lstm_e(embedding(np.array([sequences[1]]))).numpy()
assert np.allclose(alone[0], outputs[1, :2], atol=1e-6)
# and with pre-padding the output is zero until the first real step.
outputs_pre = lstm_e(embedding(pre)).numpy()
assert np.all(outputs_pre[1, :2] == 0)
assert np.allclose(outputs_pre[1, 2:], outputs[1, :2], atol=1e-6)

# %% [markdown]
# ## Two ways to compute it: the fused op and the cell
#
# minikeras runs an LSTM in one of two ways, with the same weights and the same numbers:
#
# - the default: one fused op for the whole sequence, `ops.lstm_sequence`. Its forward and
#   its backward through time are array code in `minikeras/kernels/cpu/recurrent.py`: the
#   input projection of all steps is one matrix product, only `h @ U` stays in the loop.
#   It records **one** node on the tape. (This is the role cuDNN plays for Keras on a GPU.)
# - `use_cudnn=False`: the `LSTMCell` runs step by step, each step built from ordinary ops
#   (matmul, add, sigmoid, tanh, multiply, split, the mask's `where`). Every one is a node
#   on the tape, so its backward is made of ops too and is easy to read.

# %%
fused = layers.LSTM(4, return_sequences=True)
stepwise = layers.LSTM(4, return_sequences=True, use_cudnn=False)
fused(vectors), stepwise(vectors)                     # build both
stepwise.set_weights(fused.get_weights())


def recorded(layer, inputs):
    with keras.GradientTape() as tape:
        out = layer(inputs)
        loss = ops.sum(out)
    return out.numpy(), loss, list(tape.nodes)


out_fused, loss_fused, nodes_fused = recorded(fused, vectors)
out_step, loss_step, nodes_step = recorded(stepwise, vectors)
assert np.allclose(out_fused, out_step, atol=1e-5)
kinds = collections.Counter(type(n).__name__ for n in nodes_step)
print("fused:   ", len(nodes_fused), "nodes:", [type(n).__name__ for n in nodes_fused])
print("stepwise:", len(nodes_step), "nodes, most common:", kinds.most_common(6))
assert [type(n).__name__ for n in nodes_fused] == ["LstmSequence", "Sum"]
debug.print_tape(loss_fused)

# %% [markdown]
# The stepwise tape grows with the length of the sequence; the fused one does not:

# %%
longer = embedding(keras.utils.pad_sequences(sequences, maxlen=8, padding="post"))
per_step = (len(recorded(stepwise, longer)[2]) - len(nodes_step)) / 4
print(f"stepwise: {per_step:.0f} more nodes per time step; fused: still",
      len(recorded(fused, longer)[2]))
assert len(recorded(fused, longer)[2]) == 2 and per_step > 10

# %% [markdown]
# The backward walk visits every node, so the fused op saves that bookkeeping at every step.
# It pays with one thing: its backward is array code, not recorded ops, so a second
# derivative needs `use_cudnn=False`. Both backward passes agree with finite differences,
# for the input and every weight, in float64:

# %%
x64 = rng.standard_normal((2, 3, 2))
for use_cudnn in ("auto", False):
    report = keras.utils.check_layer_gradients(
        layers.LSTM(3, use_cudnn=use_cudnn, dtype="float64"), x64)
    print(report)
    assert report.ok

# %% [markdown]
# ## The gradient through time
#
# Why can the fused op compute its backward in one loop? Take the simplest recurrent
# network, without bias, `keras.layers.SimpleRNN(use_bias=False)`:
#
# $$h_0 = 0, \qquad h_t = \tanh(x_t W_x + h_{t-1} W_h), \quad t = 1, \dots, T.$$
#
# The same $W_x$ and $W_h$ are used at every step, so their gradients are sums over the
# steps. Walk back from $g = \partial L/\partial h_T$ (and $h$'s gradient $\delta_T = g$):
#
# $$a_t = \delta_t \odot (1 - h_t^2), \qquad \frac{\partial L}{\partial W_x} \mathrel{+}= x_t^\top a_t,
# \qquad \frac{\partial L}{\partial W_h} \mathrel{+}= h_{t-1}^\top a_t, \qquad \delta_{t-1} = a_t W_h^\top.$$
#
# That is backpropagation through time: the tape's backward walk over the unrolled steps,
# written as one loop from $t = T$ down to 1.
#
# ### Your turn: the gradient through time of a tiny RNN
#
# `rnn_forward` below returns the states `hs = [h_0, h_1, ..., h_T]`. Write
# `rnn_backward(x, W_x, W_h, hs, g)` that returns `(dW_x, dW_h)` for a loss whose gradient
# with respect to the last state $h_T$ is `g` (`(batch, u)`).

# %%
def rnn_forward(x, W_x, W_h):
    """x (batch, T, D) -> the states [h_0, ..., h_T], each (batch, u)."""
    hs = [np.zeros((x.shape[0], W_h.shape[0]))]
    for t in range(x.shape[1]):
        hs.append(np.tanh(x[:, t] @ W_x + hs[-1] @ W_h))
    return hs


# %% tags=["exercise"] exercise="rnn_backward"
def rnn_backward(x, W_x, W_h, hs, g):
    dW_x, dW_h = np.zeros_like(W_x), np.zeros_like(W_h)
    delta = g                                   # dL/dh_T
    # for t = T, T-1, ..., 1 (x[:, t - 1] is the input of step t, hs[t] its output):
    #   a = delta * (1 - h_t**2); add x_t.T @ a to dW_x, h_{t-1}.T @ a to dW_h;
    #   delta = a @ W_h.T
    raise NotImplementedError


# %%
from minikeras.autograd import Function


class RnnWithYourGradient(Function):
    """h_T of the tiny RNN, with the forward above and YOUR backward."""

    def __init__(self, x):
        self.x = x

    def forward(self, W_x, W_h):
        self.hs = rnn_forward(self.x, W_x, W_h)
        return self.hs[-1]

    def backward(self, g):
        W_x, W_h = (t.numpy() for t in self.inputs)
        dW_x, dW_h = rnn_backward(self.x, W_x, W_h, self.hs, g.numpy())
        return keras.Tensor(dW_x), keras.Tensor(dW_h)


with exercise("rnn_backward") as ex:
    x_r = rng.standard_normal((2, 4, 3))
    W_x, W_h = rng.standard_normal((3, 5)) * 0.5, rng.standard_normal((5, 5)) * 0.5
    g_r = rng.standard_normal((2, 5))
    result = ex.call(rnn_backward, x_r, W_x, W_h, rnn_forward(x_r, W_x, W_h), g_r)
    ex.expect(isinstance(result, tuple) and len(result) == 2,
              "rnn_backward should return a pair (dW_x, dW_h).")
    rnn = layers.SimpleRNN(5, use_bias=False, dtype="float64")   # the library's layer
    rnn(x_r)
    rnn.set_weights([W_x, W_h])
    with keras.GradientTape() as tape:
        loss = ops.sum(rnn(x_r) * g_r)
    ref_x, ref_h = tape.gradient(loss, rnn.trainable_weights)
    hs_r = rnn_forward(x_r, W_x, W_h)
    last_only = hs_r[3].T @ (g_r * (1 - hs_r[4] ** 2))          # the term of step T alone
    ex.expect(not np.allclose(ex.expect_array(result[1], (5, 5), "dW_h"), last_only),
              "dW_h holds only the term of the last step: the same W_h was used at every "
              "step, so loop over t = T, ..., 1 and add each step's h_{t-1}.T @ a.")
    def slip(tanh_grad=True, transpose=True):   # the loop with a usual slip, to name it
        dh, delta = np.zeros_like(W_h), g_r
        for t in range(x_r.shape[1], 0, -1):
            a = delta * (1 - hs_r[t] ** 2) if tanh_grad else delta
            dh += hs_r[t - 1].T @ a
            delta = a @ (W_h.T if transpose else W_h)
        return dh
    ex.expect(not np.allclose(result[1], slip(tanh_grad=False)),
              "dW_h is what you get without the derivative of tanh: at each step "
              "a = delta * (1 - h_t**2), with h_t = hs[t], before it is used.")
    ex.expect(not np.allclose(result[1], slip(transpose=False)),
              "delta moves back through h_{t-1} @ W_h, so it goes back with the transpose: "
              "delta = a @ W_h.T, not a @ W_h.")
    ex.expect_close(result[1], ref_h, what="dW_h",
                    hint="at step t the recurrent weight met h_{t-1} = hs[t - 1], not hs[t]; "
                         "every step adds to dW_h; and delta moves back through the matmul "
                         "h_{t-1} @ W_h with a @ W_h.T (transposed).")
    ex.expect_close(result[0], ref_x, what="dW_x",
                    hint="dW_x sums x_t.T @ a over every step; a = delta * (1 - h_t**2) "
                         "with h_t = hs[t], and delta moves back with a @ W_h.T.")
    ex.expect_gradients(lambda a, b: ops.sum(RnnWithYourGradient(x_r)(a, b) ** 2), W_x, W_h)

# %% [markdown]
# Your loop is what the tape does over the unrolled steps: the library's `SimpleRNN` and
# finite differences agree with it. Notice the factor $W_h^\top$ and $(1 - h_t^2) \le 1$ at
# every step back: over many steps they shrink (or blow up) the gradient that reaches the
# early inputs. The LSTM's cell path $c_t = f \odot c_{t-1} + \dots$ passes the gradient back
# multiplied only by $f$, which is why it remembers over longer spans.
#
# ## Training: does the sequence contain a 7?
#
# A small task where the mask matters: sequences of 2 to 12 tokens from 1..9, padded to 12;
# the label is 1 when the token 7 appears anywhere. Half the sequences get one 7 at a random
# place, the others are drawn from the tokens without 7, so guessing gives 50%.

# %%
def make_data(n, rng, maxlen=12):
    seqs, labels = [], []
    for _ in range(n):
        length = int(rng.integers(2, maxlen + 1))
        label = int(rng.integers(0, 2))
        seq = rng.choice([1, 2, 3, 4, 5, 6, 8, 9], size=length)
        if label:
            seq[rng.integers(0, length)] = 7
        seqs.append(seq.tolist())
        labels.append(label)
    return keras.utils.pad_sequences(seqs, maxlen=maxlen, padding="post"), np.array(labels)


data_rng = np.random.default_rng(1)
x_tr, y_tr = make_data(1500, data_rng)
x_te, y_te = make_data(400, data_rng)
print(x_tr[:3], y_tr[:3])

keras.utils.set_random_seed(0)
model = keras.Sequential([
    keras.Input(shape=(None,), dtype="int32"),
    layers.Embedding(10, 8, mask_zero=True),
    layers.LSTM(16),
    layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy",
              metrics=["accuracy"])
history = model.fit(x_tr, y_tr, batch_size=32, epochs=8, verbose=0)
loss, accuracy = model.evaluate(x_te, y_te, verbose=0)
print(f"loss {history.history['loss'][0]:.3f} -> {history.history['loss'][-1]:.3f}, "
      f"test accuracy {accuracy:.3f}")
assert accuracy >= 0.9

# %% [markdown]
# Because of the mask, the amount of padding does not change a prediction: the same
# sequences padded to 20 steps instead of 12 give the same probabilities.

# %%
p12 = model.predict(x_te[:50], verbose=0)
p20 = model.predict(np.concatenate([x_te[:50], np.zeros((50, 8), dtype=x_te.dtype)], axis=1),
                    verbose=0)
assert np.allclose(p12, p20, atol=1e-6)

# %% [markdown]
# ## Inside the trained LSTM: gates and state over time
#
# Let us watch the trained LSTM read one test sequence that contains a 7. We run the steps
# by hand with its weights (checking that we get the layer's last state), and record the
# input gate $i$, the forget gate $f$ and the output $h$ at every step.

# %%
emb_layer, lstm_layer = model.layers[0], model.layers[1]
k = next(n for n in range(len(x_te))                # a sequence with its 7 in the middle
         if y_te[n] == 1 and 3 <= list(x_te[n]).index(7) <= np.count_nonzero(x_te[n]) - 3)
tokens = x_te[k][x_te[k] != 0]
steps_in = emb_layer(tokens[None]).numpy().astype("float64")            # (1, T, 8)
Wk, Uk, bk = (w.numpy().astype("float64") for w in lstm_layer.weights)
n_units = Uk.shape[0]
h = c = np.zeros((1, n_units))
gates = {"input gate i": [], "forget gate f": [], "output h": []}
for t in range(len(tokens)):
    z = steps_in[:, t] @ Wk + h @ Uk + bk
    gates["input gate i"].append(sigmoid(z[0, :n_units]))
    gates["forget gate f"].append(sigmoid(z[0, n_units:2 * n_units]))
    h, c = lstm_step(steps_in[:, t], h, c, Wk, Uk, bk)
    gates["output h"].append(h[0])
assert np.allclose(h, lstm_layer(emb_layer(tokens[None])).numpy(), atol=1e-5)
print("tokens:", tokens, " the model says", float(model.predict(tokens[None], verbose=0)[0, 0]))

# %%
from matplotlib.figure import Figure

fig = Figure(figsize=(9, 7))
axes = fig.subplots(3, 1, sharex=True)
for ax, (name, rows) in zip(axes, gates.items()):
    values = np.array(rows).T                                            # (units, T)
    image = ax.imshow(values, aspect="auto", cmap="RdBu_r" if name == "output h" else "viridis",
                      vmin=-1 if name == "output h" else 0, vmax=1)
    ax.set_ylabel(f"{name}\n(unit)")
    ax.axvline(list(tokens).index(7), color="white" if name != "output h" else "black",
               lw=1, ls="--")
    fig.colorbar(image, ax=ax)
axes[-1].set_xticks(range(len(tokens)), [str(t) for t in tokens])
axes[-1].set_xlabel("the tokens of the sequence, one step each (the dashed line: the 7)")
fig.suptitle("The trained LSTM reading one sequence: gates and output over time")
fig.savefig(os.path.join(out_dir, "lstm_gates.png"), dpi=100)
show(fig)
h_before = np.array(gates["output h"][list(tokens).index(7) - 1])
h_at = np.array(gates["output h"][list(tokens).index(7)])
print("largest change of h at the 7:", np.abs(h_at - h_before).max())
assert np.abs(h_at - h_before).max() > 0.3           # the 7 switches the state
seven = list(tokens).index(7)
f_gates, i_gates = np.array(gates["forget gate f"]), np.array(gates["input gate i"])
print(f"at the 7: mean forget gate {f_gates[seven].mean():.2f}, mean input gate "
      f"{i_gates[seven].mean():.2f}; after it: mean forget gate {f_gates[seven + 1:].mean():.2f}")
assert f_gates[seven].mean() < 0.3 and i_gates[seven].mean() > 0.7    # forget, then write
assert f_gates[seven + 1:].mean() > 0.8                                # then hold

# %% [markdown]
# Look at the column of the 7. There the forget gate drops to nearly 0 (wipe the cell) and
# the input gate rises to nearly 1 (write the candidate): the cell is overwritten with
# "I have seen a 7". After it the forget gate stays near 1 and the input gate mostly low,
# so the cell holds that fact to the end, and so does $h$, which the Dense layer reads.
#
# ## Summary
#
# - One LSTM step: $z = x_t W + h_{t-1} U + b$ split into i, f, c, o;
#   $c_t = f\,c_{t-1} + i\,\tilde c$, $h_t = o \tanh(c_t)$. Keras's weights: `(D, 4u)`,
#   `(u, 4u)`, `(4u,)`, forget bias 1.
# - `pad_sequences` makes one array; `Embedding(mask_zero=True)` marks the padding; an LSTM
#   carries its state across a masked step, so padding changes no prediction.
# - The fused `LstmSequence` op is one node on the tape; `use_cudnn=False` builds every
#   step from ops. Same numbers, same gradients.
# - Backpropagation through time sums a shared weight's gradient over the steps, walking
#   back with $\delta_{t-1} = (\delta_t \odot \tanh') W_h^\top$.
#
# ## Where to go next
#
# - `minikeras/layers/rnn_cells.py`: `LSTMCell.call`, one step written with ops.
# - `minikeras/ops/recurrent.py` and `minikeras/kernels/cpu/recurrent.py`: the fused op, its
#   derivative in the docstring, the loop through time in NumPy.
# - `minikeras/layers/embedding.py`: `Embedding` and `Masking`, the two layers that start a mask.
# - Lesson 07 replaces the recurrence with attention.
