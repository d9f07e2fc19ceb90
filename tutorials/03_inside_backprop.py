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
# # Lesson 03: Inside backprop
#
# A two-layer network, its backward pass derived on paper, and the same backward pass
# run by the tape one node at a time, each step checked against the paper.
#
# **What you will learn**
#
# - the gradients of a dense layer, a ReLU and a softmax cross-entropy, derived by hand;
# - to step through the real backward pass with `debug.backward_steps` and read each card:
#   the op, the gradient that arrived, the rule, the gradients handed on;
# - why a bias gradient is a sum over the batch, and why `x @ W` has a transpose in its
#   backward;
# - to check a backward you wrote against the tape and against finite differences.
#
# **Prerequisites:** lessons 01 (tensors and the tape) and 02 (a first Keras model).
# **Time:** about 45 minutes.

# %%
import numpy as np

import minikeras as keras
from minikeras import debug, ops
from exercises import exercise, optional

keras.utils.set_random_seed(0)
keras.config.set_floatx("float64")  # float64, so that paper and tape agree to 1e-12

# %% [markdown]
# ## 1. The network
#
# Four samples with three features each, three classes. The model is the smallest one
# with everything a real classifier has: a hidden `Dense` layer with a ReLU, an output
# `Dense` layer giving logits, and the softmax cross-entropy of the logits.

# %%
rng = np.random.default_rng(0)
x = rng.standard_normal((4, 3))
y = np.array([0, 2, 1, 2])

model = keras.Sequential([keras.Input((3,)),
                          keras.layers.Dense(5, activation="relu", name="hidden"),
                          keras.layers.Dense(3, name="logits")])
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

W1, b1 = [w.numpy() for w in model.layers[0].weights]
W2, b2 = [w.numpy() for w in model.layers[1].weights]
print("W1", W1.shape, "b1", b1.shape, "W2", W2.shape, "b2", b2.shape)

# %% [markdown]
# ## 2. The forward pass on paper
#
# With $N = 4$ samples, written for the whole batch at once (one row per sample):
#
# $$z_1 = x W_1 + b_1,\quad h = \max(z_1, 0),\quad z_2 = h W_2 + b_2,\quad
#   p = \mathrm{softmax}(z_2),\quad L = -\frac{1}{N}\sum_n \log p_{n, y_n}.$$
#
# The same in NumPy, and the model's loss for comparison:

# %%
z1 = x @ W1 + b1
h = np.maximum(z1, 0)
z2 = h @ W2 + b2
p = np.exp(z2 - z2.max(axis=1, keepdims=True))
p /= p.sum(axis=1, keepdims=True)
L = -np.mean(np.log(p[np.arange(4), y]))

with keras.GradientTape() as tape:
    loss = loss_fn(y, model(x))
print(f"NumPy: {L:.12f}   minikeras: {float(loss.numpy()):.12f}")
assert np.isclose(L, loss.numpy(), rtol=1e-12)

# %% [markdown]
# The tape recorded six nodes. `debug.print_tape` shows them as a tree, from the loss
# down to the weights (`plot_tape` draws the same graph; it needs Graphviz):

# %%
debug.print_tape(loss)

# %%
import tempfile, os
folder = tempfile.mkdtemp()
optional("the drawing needs Graphviz's dot", debug.plot_tape, loss,
         to_file=os.path.join(folder, "tape.svg"))

# %% [markdown]
# ## 3. The backward pass on paper
#
# Backprop walks the graph from the loss back to the weights, and at each node applies
# the chain rule: the gradient that *arrived* at the node's output (call it $g$) times the
# node's local derivative gives the gradient *handed on* to each input.
#
# **Softmax cross-entropy.** For one sample, $\partial(-\log p_y)/\partial z_k = p_k - [k=y]$.
# With the mean over the batch:
# $$\frac{\partial L}{\partial z_2} = \frac{1}{N}\,(p - \mathrm{onehot}(y)).$$
#
# **A bias add** $z = a + b$, where $b$ (shape `(units,)`) was broadcast to every row: the
# gradient of $a$ is $g$ itself, and the gradient of $b$ is $g$ *summed over the rows*,
# because each $b_j$ touched every sample.
#
# **A matrix product** $z = h W$: $\;\partial L/\partial h = g\,W^\top$ and
# $\partial L/\partial W = h^\top g$. The shapes tell you where the transposes go:
# $g$ is `(N, out)`, $W$ is `(in, out)`, so only $g W^\top$ gives `(N, in)`.
#
# **ReLU** $h = \max(z, 0)$: the gradient passes where $z > 0$ and is zero elsewhere.
#
# Put together, the whole backward pass on paper:

# %%
onehot = np.eye(3)[y]
paper = {}
paper["dz2"] = (p - onehot) / 4
paper["dW2"] = h.T @ paper["dz2"]
paper["db2"] = paper["dz2"].sum(axis=0)
paper["dh"] = paper["dz2"] @ W2.T
paper["dz1"] = paper["dh"] * (z1 > 0)
paper["dW1"] = x.T @ paper["dz1"]
paper["db1"] = paper["dz1"].sum(axis=0)
{k: v.shape for k, v in paper.items()}

# %% [markdown]
# ## 4. The tape's backward pass, one step at a time
#
# `debug.backward_steps(loss)` runs the tape's own backward walk and pauses after each
# node. Each step is a card: the op, the line that called it, the gradient that arrived
# (`dL/d output`), the op's rule (from its docstring), and the gradients handed on.
# Here is the first card, the loss node:

# %%
steps = debug.backward_steps(loss)
first = next(steps)
print(first)

# %% [markdown]
# Its gradient for the logits is our $\frac{1}{N}(p - \mathrm{onehot}(y))$. The labels get
# none (they are integers). Let us check every remaining step the same way: for each
# card, what the tape handed on must equal what the paper says.

# %%
def handed_on(step):
    """{input name: gradient as a NumPy array} for the inputs that got one."""
    return {name: g.numpy() for name, g in step.grads if g is not None}

# The cards name a computed tensor by the node that made it ("#3 mat_mul": node 3 of the
# session, a matmul). The nodes of the forward pass, in recording order:
made = [debug.tensor_name(node.output()) for node in tape.nodes]
print(made)
expected = [  # (op, {input name: paper value}) in the order the walk visits the nodes
    ("Add", {made[3]: paper["dz2"], "logits/bias": paper["db2"]}),
    ("MatMul", {made[2]: paper["dh"], "logits/kernel": paper["dW2"]}),
    ("Relu", {made[1]: paper["dz1"]}),
    ("Add", {made[0]: paper["dz1"], "hidden/bias": paper["db1"]}),
    ("MatMul", {"hidden/kernel": paper["dW1"]}),
]
np.testing.assert_allclose(handed_on(first)[made[4]], paper["dz2"], rtol=1e-12)
for step, (op, values) in zip(steps, expected):
    assert step.op == op, (step.op, op)
    got = handed_on(step)
    assert set(got) == set(values), (step.op, sorted(got))
    for name, value in values.items():
        np.testing.assert_allclose(got[name], value, rtol=1e-12, atol=1e-15)
    print(f"step {step.index} of {step.total}: {step.op:7s} in {step.node.layer:20s} "
          f"rule {step.rule.splitlines()[0] if step.rule else ''}  ✓ matches the paper")

# %% [markdown]
# Every step agrees with the paper to twelve digits. Two details worth a second look:
#
# - the step of the bias `Add` reports that `hidden/bias` was *broadcast in the forward
#   pass, so its gradient was summed back*: that is the `.sum(axis=0)` of the paper;
# - the first `MatMul` hands nothing to `x`: the data is a constant, so the tape does not
#   compute a gradient nobody asked for.
#
# When the walk is done, the gradients equal `tape.gradient` bit for bit:

# %%
grads = tape.gradient(loss, model.trainable_weights)
for w, g in zip(model.trainable_weights, grads):
    assert np.array_equal(steps.gradient(w).numpy(), g.numpy())
print({w.path: g.shape for w, g in zip(model.trainable_weights, grads)})

# %% [markdown]
# A picture of the same numbers: each weight's gradient from the paper beside the tape's,
# and the tiny difference between them (note the scale of the last column).

# %%
import matplotlib.pyplot as plt
from exercises import show

fig, axes = plt.subplots(2, 3, figsize=(9, 5), constrained_layout=True)
for row, (name, w) in enumerate([("dW1", model.layers[0].kernel), ("dW2", model.layers[1].kernel)]):
    tape_value = steps.gradient(w).numpy()
    for col, (title, value) in enumerate([(f"{name} on paper", paper[name]),
                                          (f"{name} from the tape", tape_value),
                                          ("tape - paper", tape_value - paper[name])]):
        image = axes[row, col].imshow(value, cmap="coolwarm")
        axes[row, col].set_title(title)
        fig.colorbar(image, ax=axes[row, col], shrink=0.8)
fig.savefig(os.path.join(folder, "gradients.png"))
show(fig)

# %% [markdown]
# In a notebook you can also walk at your own pace: `stepper = debug.step_backward(loss,
# interactive=False)`, then `stepper.next()` in a cell shows the next card, and
# `stepper.onecmd("where")` shows the line that recorded the node. (At a terminal,
# `debug.step_backward(loss)` opens a prompt with `next`, `break logits`, `continue`...)

# %%
with keras.GradientTape() as tape:
    loss = loss_fn(y, model(x))
stepper = debug.step_backward(loss, interactive=False)
stepper.onecmd("break Relu")
stepper.cont()

# %% [markdown]
# ## 5. Your turn: write the backward pass yourself
#
# Three pieces, from the output backwards. Each check compares your code with the tape's
# gradient of the same computation and with finite differences (nudging an input and
# watching the loss), so it does not matter how you write it, only that it is right.
#
# **Exercise 1.** The gradient of the mean softmax cross-entropy with respect to the
# logits. `logits` has shape `(N, classes)`, `labels` holds one class index per row.
# Compute the softmax stably (subtract each row's maximum first).

# %% tags=["exercise"] exercise="softmax_xent_backward"
def softmax_xent_backward(logits, labels):
    """dL/dlogits for L = mean over rows of -log softmax(logits)[row, label]."""
    # Your code: the softmax of each row, minus one at the label, divided by N.
    raise NotImplementedError

# %%
with exercise("softmax_xent_backward") as ex:
    logits = rng.standard_normal((6, 4)) * 3
    labels = rng.integers(0, 4, size=6)
    t = keras.Variable(logits)
    with keras.GradientTape() as tape:
        l = loss_fn(labels, t)
    tape_grad = tape.gradient(l, t)
    got = ex.expect_array(ex.call(softmax_xent_backward, logits, labels), (6, 4), "dL/dlogits")
    ex.expect(not np.allclose(got, 6 * tape_grad.numpy()),
              "dL/dlogits is N = 6 times too large: the loss is the mean over the N rows, "
              "so divide by N.")
    ex.expect(np.allclose(got.sum(axis=1), 0, atol=1e-9),
              f"each row of dL/dlogits should sum to 0 (a softmax row sums to 1, minus the one "
              f"at the label), but row 0 sums to {got[0].sum():.3g}: is the one subtracted at "
              "the label, and is the softmax taken along each row (axis=1)?")
    ex.expect_close(got, tape_grad, what="dL/dlogits", rtol=1e-7,
                    hint="softmax(logits) along each row, minus 1 at [row, label], all divided by N.")
    big = ex.call(softmax_xent_backward, logits + 1000.0, labels)
    ex.expect_close(big, tape_grad, what="dL/dlogits for logits near 1000", rtol=1e-7,
                    hint="exp(1000) overflows: subtract each row's max before exp.")

# %% [markdown]
# **Exercise 2.** The backward of a dense layer $z = xW + b$: given the gradient `g` that
# arrived at `z`, return the three gradients `(dx, dW, db)`. Think about the shapes: `x`
# is `(N, in)`, `W` is `(in, out)`, `b` is `(out,)`, `g` is `(N, out)`.

# %% tags=["exercise"] exercise="dense_backward"
def dense_backward(x, W, b, g):
    """Return (dL/dx, dL/dW, dL/db) for z = x @ W + b, given g = dL/dz."""
    # Your code: one matrix product for dx, one for dW, a sum for db.
    raise NotImplementedError

# %%
with exercise("dense_backward") as ex:
    xs, Ws, bs = rng.standard_normal((5, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    gs = rng.standard_normal((5, 2))
    tx, tW, tb = keras.Variable(xs), keras.Variable(Ws), keras.Variable(bs)
    with keras.GradientTape() as tape:
        z = ops.matmul(tx, tW) + tb
    want = tape.gradient(z, [tx, tW, tb], output_gradients=gs)
    got = ex.call(dense_backward, xs, Ws, bs, gs)
    ex.expect(isinstance(got, tuple) and len(got) == 3,
              f"return three gradients (dx, dW, db) as a tuple; got {type(got).__name__}"
              f"{' of length ' + str(len(got)) if isinstance(got, tuple) else ''}.")
    for name, mine, theirs in zip(("dL/dx", "dL/dW", "dL/db"), got, want):
        ex.expect_close(mine, theirs, what=name,
                        hint="dx = g W^T and dW = x^T g; db sums g over the batch rows.")

# %% [markdown]
# **Exercise 3.** The backward of ReLU, given its input `z` and the gradient `g` that
# arrived at its output. (What should happen at exactly `z == 0`? ReLU has no derivative
# there; like the tape, use 0.)

# %% tags=["exercise"] exercise="relu_backward"
def relu_backward(z, g):
    """dL/dz for h = max(z, 0), given g = dL/dh."""
    # Your code: an array of z's shape, g where the ReLU let z through, 0 where it did not.
    raise NotImplementedError

# %%
with exercise("relu_backward") as ex:
    zs = rng.standard_normal((4, 6))
    zs[0, :3] = 0.0  # a few exact zeros
    gs = rng.standard_normal((4, 6))
    tz = keras.Variable(zs)
    with keras.GradientTape() as tape:
        hz = ops.relu(tz)
    want = tape.gradient(hz, tz, output_gradients=gs)
    ex.expect_close(ex.call(relu_backward, zs, gs), want, what="dL/dz",
                    hint="dL/dz is g where z > 0 and 0 elsewhere, z == 0 included: g times the "
                         "mask (z > 0), not the mask alone.")

# %% [markdown]
# ## 6. Your backprop against the tape
#
# Your three functions, chained in the order backprop visits the nodes, give the gradient
# of every weight of the model. They must match the tape's:

# %%
def my_gradients(x, y):
    z1 = x @ W1 + b1
    h = np.maximum(z1, 0)
    z2 = h @ W2 + b2
    dz2 = softmax_xent_backward(z2, y)
    dh, dW2, db2 = dense_backward(h, W2, b2, dz2)
    dz1 = relu_backward(z1, dh)
    _, dW1, db1 = dense_backward(x, W1, b1, dz1)
    return [dW1, db1, dW2, db2]

with keras.GradientTape(persistent=True) as tape:
    loss = loss_fn(y, model(x))
for w, mine, theirs in zip(model.trainable_weights, my_gradients(x, y),
                           tape.gradient(loss, model.trainable_weights)):
    np.testing.assert_allclose(mine, theirs.numpy(), rtol=1e-10, atol=1e-14)
    print(f"{w.path:16s} ✓ your backprop equals the tape's")

# %% [markdown]
# And the tape itself is checked the same way: `debug.check_node_gradients` re-runs each
# node's op with finite differences and compares with its rule. (The tape above was
# `persistent=True`, so its graph is still there after `tape.gradient`.)

# %%
report = debug.check_node_gradients(loss)
print(report)
assert report.ok

# %%
keras.config.set_floatx("float32")

# %% [markdown]
# ## Summary
#
# - Backprop is the chain rule applied node by node, from the loss back, in the reverse
#   of the order the forward pass recorded the nodes.
# - Each node hands on *gradient that arrived × local derivative*; the shapes tell you
#   where the transposes go; a broadcast in the forward pass becomes a sum in the backward.
# - `debug.backward_steps` shows each step of the real walk; its final gradients are
#   exactly `tape.gradient`'s.
#
# **Next:** lesson 04 takes the same ideas to convolution: im2col turns a `Conv2D` into
# one matrix product, whose backward you now know.
