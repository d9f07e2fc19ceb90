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
# # Lesson 05: Debugging training
#
# A model that does not learn rarely crashes. It runs, the loss goes down a little or not
# at all, and the bug hides somewhere between the data and the optimizer. This lesson
# plants five classic bugs in small models on the digits and finds each one with a tool
# that reads the real tape.
#
# **You will learn** to
#
# - see vanishing and exploding gradients layer by layer with `debug.LayerHealth` and
#   `debug.plot_layer_health`, and fix them with the right initialisation;
# - find the op where a NaN or an Inf started with `with debug.check_numerics():`;
# - spot a wrong `from_logits` from the outputs and from the loss at the start;
# - find a wrong rule in a custom op with `debug.check_node_gradients` and `debug.compare`.
#
# **Prerequisites:** lessons 01 to 03 (the tape, a Keras model on the digits, backprop
# step by step).
#
# **Time:** about 45 minutes.

# %%
import math
import os
import tempfile

import numpy as np
from matplotlib.figure import Figure

import minikeras as keras
from minikeras import debug, layers, ops
from exercises import exercise, optional, show

OUT = tempfile.mkdtemp()          # the pictures of this lesson go here
keras.utils.set_random_seed(0)

(x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
x_train = (x_train.reshape(-1, 64) / 16.0).astype("float32")   # pixels 0..16 -> 0..1
x_test = (x_test.reshape(-1, 64) / 16.0).astype("float32")
print(x_train.shape, y_train.shape, x_test.shape)
assert x_train.shape == (1437, 64) and x_test.shape == (360, 64)

# %% [markdown]
# ## 1. Vanishing gradients
#
# Take a deep, narrow network: eight hidden `Dense` layers of 32 sigmoid units, then 10
# logits. `make_mlp` builds it with a chosen activation and kernel initialiser, so that we
# can try several.

# %%
def make_mlp(activation, initializer, depth=8, width=32, learning_rate=0.1):
    """A deep MLP on the 64 pixels, compiled with plain SGD."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((64,))]
        + [layers.Dense(width, activation=activation, kernel_initializer=initializer,
                        name=f"hidden_{i}") for i in range(depth)]
        + [layers.Dense(10, name="logits")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def kernel_grad_norms(health, step=0):
    """{kernel: norm of its gradient} at one recorded training step of a LayerHealth."""
    return {w["name"]: w["grad_norm"] for r in health.history if r["step"] == step
            for w in r["weights"] if w["name"].endswith("kernel")}


sigmoid_model = make_mlp("sigmoid", "glorot_uniform")
sigmoid_health = debug.LayerHealth(every=5, verbose=0)
sigmoid_history = sigmoid_model.fit(x_train, y_train, epochs=3, batch_size=64,
                                    callbacks=[sigmoid_health], verbose=0)
for name, norm in kernel_grad_norms(sigmoid_health).items():
    print(f"{name:<18} gradient norm {norm:.2e}")

# %% [markdown]
# `debug.LayerHealth` is a callback of `fit`: every `every` batches it writes down each
# layer's activations and each weight's gradient norm. Read the column from the bottom
# up: the logits get a gradient of norm near 1, and every sigmoid layer passes on only a
# fraction of what it received. The first layer gets about $10^{-5}$.
#
# Why? Backprop multiplies by the derivative of each activation, and
# $\sigma'(x) = \sigma(x)(1 - \sigma(x)) \le \tfrac14$. Eight layers of that (times the
# weights) is a factor of order $4^{-8} \approx 1.5 \cdot 10^{-5}$. The first layers
# barely move, and after three epochs the model is still guessing:

# %%
norms = list(kernel_grad_norms(sigmoid_health).values())
print(f"last / first layer gradient norm: {norms[-1] / norms[0]:.0f}")
print("loss per epoch:", np.round(sigmoid_history.history["loss"], 3))
assert norms[-1] / norms[0] > 1000          # the gradient vanishes on its way down
assert sigmoid_history.history["accuracy"][-1] < 0.3    # and the model learns nothing

# %% [markdown]
# `debug.plot_layer_health` draws the records against the training step. The lower left
# plot is the one to look at: one line per weight, on a log scale. Healthy layers sit
# together; here they are spread over five orders of magnitude.

# %%
fig = debug.plot_layer_health(sigmoid_health, to_file=os.path.join(OUT, "sigmoid_health.png"))
show(fig)

# %% [markdown]
# ## 2. Exploding gradients
#
# The opposite failure: ReLU layers whose weights are drawn with standard deviation 1.
# Each layer now *multiplies* the size of the signal by about $\sqrt{32/2} = 4$, forward
# and backward.

# %%
big_model = make_mlp("relu", keras.initializers.RandomNormal(stddev=1.0))
big_health = debug.LayerHealth(every=5, verbose=0)
with np.errstate(over="ignore", invalid="ignore"):   # NumPy would warn about the overflow
    big_history = big_model.fit(x_train, y_train, epochs=1, batch_size=64,
                                callbacks=[big_health], verbose=0)
for name, norm in kernel_grad_norms(big_health).items():
    print(f"{name:<18} gradient norm {norm:.2e}")
print("loss:", big_history.history["loss"])
assert min(kernel_grad_norms(big_health).values()) > 1000
assert not np.isfinite(big_history.history["loss"][-1])    # the loss became NaN

# %% [markdown]
# Gradient norms in the thousands on the first step: one SGD step throws the weights far
# away, the next forward pass overflows float32, and the loss is `nan`. Which op made the
# first non-finite number? Run the same training inside `debug.check_numerics()`: every
# op's output and every gradient is checked as it is made, and the first op that turns
# finite numbers into NaN or Inf stops the block with its name, its inputs and your line.

# %%
big_model = make_mlp("relu", keras.initializers.RandomNormal(stddev=1.0))
try:
    with debug.check_numerics():
        big_model.fit(x_train, y_train, epochs=1, batch_size=64, verbose=0)
except debug.NumericsError as error:
    message = str(error)
    print(message)
assert "mat_mul made" in message and "hidden_" in message

# %% [markdown]
# The report says that a `mat_mul` produced `inf` from finite inputs, and that one of
# those inputs is a `hidden_.../kernel` whose values reach $10^{20}$: the weights had
# already blown up, the update did it. The cure is not a smaller learning rate but weights
# of the right size.
#
# ## 3. The right size: He initialisation
#
# Take one layer $y = W^\top x$ with `fan_in` inputs and weights of variance $s^2$. Each
# output is a sum of `fan_in` terms, so $\mathrm{Var}(y) = \text{fan\_in} \cdot s^2 \cdot
# E[x^2]$. A ReLU zeroes half of its inputs, which halves $E[x^2]$. The size of the signal
# stays the same from layer to layer when
#
# $$s = \sqrt{2 / \text{fan\_in}} \qquad \text{(He et al., 2015)}.$$
#
# With $s = 1$ the signal grew 4 times per layer. With a small $s = 0.05$ it shrinks:
# $\sqrt{32 \cdot 0.05^2 / 2} = 0.2$, five times smaller at each layer. The signal fades
# on its way up (look at the spread of each layer's output), and every gradient, made
# from those outputs, is tiny too.

# %%
small_model = make_mlp("relu", keras.initializers.RandomNormal(stddev=0.05))
small_health = debug.LayerHealth(every=5, verbose=0)
small_model.fit(x_train, y_train, epochs=1, batch_size=64, callbacks=[small_health], verbose=0)
for r in small_health.history:
    if r["step"] == 0 and r["layer"].startswith("hidden"):
        print(f"{r['layer']:<10} output std {r['std']:.1e}   kernel gradient norm "
              f"{r['weights'][0]['grad_norm']:.1e}")
small = kernel_grad_norms(small_health)
assert max(small.values()) < 1e-3

# %% [markdown]
# ### Your turn: write He's initialiser
#
# A Keras initialiser can be any function `f(shape, dtype=None)` that returns an array of
# that shape. For a `Dense` kernel the shape is `(fan_in, units)`. Write `he_normal`:
# normal numbers with mean 0 and standard deviation $\sqrt{2/\text{fan\_in}}$, drawn
# from `rng`, cast to `dtype` (float32 when it is None). The check builds the deep ReLU
# model with it, and asks that the gradient norms of all nine kernels stay within a factor
# of 10 of each other.

# %% tags=["exercise"] exercise="he_init"
rng = np.random.default_rng(0)


def he_normal(shape, dtype=None):
    fan_in = shape[0]
    # Return rng.normal(...) with mean 0 and standard deviation sqrt(2 / fan_in), of the
    # given shape, as dtype (or "float32").
    raise NotImplementedError


# %%
with exercise("he_init") as ex:
    for shape in [(64, 32), (32, 32), (200, 10)]:
        w = ex.expect_array(ex.call(he_normal, shape, "float32"), shape,
                            what=f"he_normal({shape})")
        ex.expect(abs(w.mean()) < 0.1 * math.sqrt(2 / shape[0]),
                  f"the mean of he_normal({shape}) is {w.mean():.3g}; it should be near 0.")
        target = math.sqrt(2 / shape[0])
        ex.expect(abs(w.std() / target - 1) < 0.15,
                  f"the standard deviation of he_normal({shape}) is {w.std():.3g}, but He's "
                  f"rule gives sqrt(2 / fan_in) = sqrt(2 / {shape[0]}) = {target:.3g}. Hint: "
                  "fan_in = shape[0] is the number of inputs of the layer (not its outputs).")
    he_model = make_mlp("relu", he_normal)
    he_health = debug.LayerHealth(every=5, verbose=0)
    he_history = he_model.fit(x_train, y_train, epochs=3, batch_size=64,
                              callbacks=[he_health], verbose=0)
    he_norms = kernel_grad_norms(he_health)
    spread = max(he_norms.values()) / min(he_norms.values())
    ex.expect(spread < 10, f"the kernels' gradient norms differ by a factor of {spread:.0f} "
                           "between layers; with He's initialisation they stay within 10.")
    ex.expect(he_history.history["accuracy"][-1] > 0.3,
              f"the model reached only {he_history.history['accuracy'][-1]:.0%} accuracy "
              "in 3 epochs; with He's initialisation it learns (above 30%).")

# %% [markdown]
# The same deep network now learns: its accuracy climbs every epoch, where the sigmoid
# network stayed at chance (10%). Eight narrow layers and plain SGD are slow; what matters
# is that every layer gets a gradient of the same size. The library's `"he_normal"` is the
# same idea (a truncated normal, so its numbers differ, not its size):

# %%
for name, norm in he_norms.items():
    print(f"{name:<18} gradient norm {norm:.2e}")
print("accuracy per epoch:", np.round(he_history.history["accuracy"], 3))
assert np.all(np.diff(he_history.history["accuracy"]) > 0)
library = keras.initializers.HeNormal(seed=0)((64, 32)).numpy()
print(f"std: library {library.std():.4f}, yours {he_normal((64, 32)).std():.4f}, "
      f"sqrt(2/64) = {math.sqrt(2 / 64):.4f}")
assert abs(library.std() - math.sqrt(2 / 64)) < 0.02
fig = debug.plot_layer_health(he_health, to_file=os.path.join(OUT, "he_health.png"))
show(fig)

# %% [markdown]
# ## 4. A log of zero
#
# The second classic NaN. A hand-written cross-entropy takes the softmax, then the log of
# the probability of the right class. With confident logits float32 is not enough: the
# softmax of a class 400 below the top is $e^{-400} \approx 10^{-174}$, far below the
# smallest float32 ($10^{-45}$), so it is exactly 0, and $\log 0 = -\infty$.

# %%
logits = keras.Tensor(np.array([[3.0, -1.0, 0.5],
                                [200.0, 0.0, -200.0]], dtype="float32"), requires_grad=True)
labels = np.array([0, 2])


def naive_cross_entropy(logits, labels):
    p = ops.softmax(logits)
    picked = ops.take_along_axis(p, ops.convert_to_tensor(labels[:, None]), axis=1)
    return -ops.mean(ops.log(picked))


try:
    with debug.check_numerics():
        naive_cross_entropy(logits, labels).backward()
except debug.NumericsError as error:
    message = str(error)
    print(message)
assert "forward of log made -inf at [1, 0]" in message

# %% [markdown]
# `check_numerics` names the op (`log`), the index (row 1) and the value that came in
# (`0`). The cure is to never form the probability: compute its log directly.
# $\log \mathrm{softmax}(x)_i = x_i - \log \sum_j e^{x_j}$, and subtracting the row's
# maximum $m$ first changes nothing mathematically, but keeps every $e^{x_j - m} \le 1$:
#
# $$\log \mathrm{softmax}(x)_i = (x_i - m) - \log \sum_j e^{x_j - m}.$$
#
# ### Your turn: a stable log-softmax
#
# Write `stable_log_softmax(x)` for a Tensor `x` of logits, along the last axis, with
# `ops.max`, `ops.exp`, `ops.log`, `ops.sum` (use `keepdims=True` so that a row's max and
# sum broadcast against the row). The check compares it with the library's
# `ops.log_softmax` on logits up to 1000 and checks its gradient against finite
# differences.

# %% tags=["exercise"] exercise="stable_log_softmax"
def stable_log_softmax(x):
    # m = the max of each row (axis=-1, keepdims=True); then
    # return (x - m) - log(sum(exp(x - m))) along the last axis, keeping the axis.
    raise NotImplementedError


# %%
with exercise("stable_log_softmax") as ex:
    small_logits = np.array([[1.0, 2.0, 3.0], [0.5, -0.5, 0.0]], dtype="float32")
    ex.expect_close(ex.call(stable_log_softmax, keras.Tensor(small_logits)),
                    ops.log_softmax(keras.Tensor(small_logits)), rtol=1e-5, atol=1e-6,
                    what="log_softmax of small logits")
    big_logits = np.array([[1000.0, 0.0, -1000.0], [200.0, 0.0, -200.0]], dtype="float32")
    ex.expect_close(ex.call(stable_log_softmax, keras.Tensor(big_logits)),
                    ops.log_softmax(keras.Tensor(big_logits)), rtol=1e-5, atol=1e-3,
                    what="log_softmax of logits up to 1000",
                    hint="exp(1000) overflows to inf: subtract each row's max before exp.")
    ex.expect_gradients(stable_log_softmax,
                        keras.Tensor(np.random.default_rng(1).normal(size=(3, 5)) * 10))

# %% [markdown]
# With it, the loss is finite: about 200, the mean of a small loss for row 0 and 400 for
# row 1, which is very sure and very wrong. Its gradient is finite too:

# %%
def stable_cross_entropy(logits, labels):
    picked = ops.take_along_axis(stable_log_softmax(logits),
                                 ops.convert_to_tensor(labels[:, None]), axis=1)
    return -ops.mean(picked)


with debug.check_numerics():
    loss = stable_cross_entropy(logits, labels)
    loss.backward()
print("loss", float(loss.numpy()), "gradient", np.round(logits.grad.numpy(), 3))
assert np.all(np.isfinite(logits.grad.numpy())) and 200 < float(loss.numpy()) < 201

# %% [markdown]
# Keras's losses do this for you when you let them: with `from_logits=True` they take
# the logits and compute the log-softmax inside, stably. Which brings us to the next bug.
#
# ## 5. A wrong `from_logits`
#
# `SparseCategoricalCrossentropy(from_logits=True)` expects raw scores (logits);
# `from_logits=False` (the default) expects probabilities. Mix them up and nothing
# crashes. Three shallow models, the same seed:

# %%
def shallow(output_activation, from_logits):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), layers.Dense(32, activation="relu"),
                              layers.Dense(10, activation=output_activation)])
    model.compile(optimizer=keras.optimizers.SGD(0.5), metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits))
    return model


runs = {"logits, from_logits=True (right)": (None, True),
        "softmax, from_logits=True (wrong)": ("softmax", True),
        "logits, from_logits=False (wrong)": (None, False)}
histories = {}
for label, (activation, from_logits) in runs.items():
    model = shallow(activation, from_logits)
    start = model.evaluate(x_train, y_train, verbose=0)[0]
    histories[label] = model.fit(x_train, y_train, epochs=5, batch_size=64, verbose=0)
    sums = model.predict(x_train[:3], verbose=0).sum(axis=1)
    print(f"{label:<35} loss at start {start:5.2f}, after 5 epochs "
          f"{histories[label].history['loss'][-1]:5.2f}, accuracy "
          f"{histories[label].history['accuracy'][-1]:.2f}, outputs sum to {np.round(sums, 2)}")

# %% [markdown]
# Three things to look at:
#
# - **The loss at the start.** A fresh model guesses, and guessing among 10 classes costs
#   $\log 10 \approx 2.30$. The right model starts near it. Logits read as
#   probabilities start far above (about 7): the loss divides each row by its sum and
#   clips it into $[10^{-7}, 1]$, so a negative score costs $-\log 10^{-7} \approx 16$.
# - **The outputs.** If a row of the output sums to 1, it is already a softmax, so the
#   loss must not apply another one.
# - **The floor.** A softmax output read as logits can never be confident: even a perfect
#   one-hot output costs $\log(9 + e) - 1 \approx 1.46$, so the loss creeps down slowly
#   and stops there.

# %%
wrong_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
perfect = np.eye(10, dtype="float32")[y_train[:100]]          # the best possible softmax
floor = float(wrong_loss(y_train[:100], perfect).numpy())
print(f"loss of a perfect answer with the wrong flag: {floor:.3f}; "
      f"log(9 + e) - 1 = {math.log(9 + math.e) - 1:.3f}")
assert abs(floor - (math.log(9 + math.e) - 1)) < 1e-5
right, soft, raw = (histories[k].history for k in runs)
assert abs(soft["loss"][0] - math.log(10)) < 0.1 and raw["loss"][0] > 5
assert right["accuracy"][-1] > 0.9 > soft["accuracy"][-1] and raw["accuracy"][-1] < 0.3

fig = Figure(figsize=(6, 3.5))
ax = fig.subplots()
for label, history in histories.items():
    ax.plot(range(1, 6), history.history["loss"], marker="o", label=label)
ax.axhline(math.log(10), color="gray", linestyle=":", label="log 10 (a guess)")
ax.set_xlabel("epoch"), ax.set_ylabel("training loss"), ax.legend(fontsize=8)
ax.set_xticks(range(1, 6))
fig.tight_layout()
fig.savefig(os.path.join(OUT, "from_logits.png"), dpi=100)
show(fig)

# %% [markdown]
# ## 6. A wrong rule in a custom op
#
# The last bug lives in the backward pass itself. Here is SiLU,
# $y = x\,\sigma(x)$, written as our own op. Its forward is the library's; its backward
# was derived by hand, with a slip. The true derivative is
# $\frac{dy}{dx} = \sigma(x)\,(1 + x\,(1 - \sigma(x)))$.

# %%
class BuggySilu(ops.nn.Silu):
    """y = x·σ(x), with a wrong backward."""

    def backward(self, g):
        x = self.inputs[0]
        s = ops.sigmoid(x)
        return g * s * (1 + x * s)          # the slip is in here


def silu_model(activation):
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((64,)), layers.Dense(8, activation=activation,
                                                              name="hidden"),
                             layers.Dense(10, name="logits")])


loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
x, y = x_train[:4], y_train[:4]
reference = silu_model("silu")
student = silu_model(lambda t: BuggySilu()(t))
assert np.array_equal(reference(x).numpy(), student(x).numpy())   # the forward is right

# %% [markdown]
# The forward pass is exactly right, so the loss looks fine and training runs without
# an error, with wrong gradients. `debug.check_node_gradients(loss)` reruns each node's op alone in float64,
# compares its backward with finite differences of that op, and prints one row per node:

# %%
with keras.GradientTape() as tape:
    loss = loss_fn(y, student(x, training=True))
report = debug.check_node_gradients(loss)
print(report)
assert [row["op"] for row in report.rows if row["ok"] is False] == ["BuggySilu"]

# %% [markdown]
# Only `BuggySilu` is marked WRONG: every other op passes its own check. The second tool,
# `debug.compare`, diffs two recorded runs node by node. Run the model with the library's
# SiLU and with ours on the same batch: the first node where the gradients part is named,
# with the layer, the line and the worst index.

# %%
a = debug.record(lambda: loss_fn(y, reference(x)))
b = debug.record(lambda: loss_fn(y, student(x)))
comparison = debug.compare(a, b)
print(comparison)
assert comparison.kind == "backward" and "Silu" in str(comparison)

# %% [markdown]
# "The gradient that arrived agreed" and the one it handed on did not: the bug is in that
# node's rule, nowhere else.
#
# ### Your turn: fix the backward
#
# Write `FixedSilu.backward`: it receives `g` (dL/dy) and returns dL/dx =
# $g\,\sigma(x)\,(1 + x\,(1 - \sigma(x)))$. The check runs `check_node_gradients` on a
# loss that uses your op.

# %% tags=["exercise"] exercise="silu_backward"
class FixedSilu(ops.nn.Silu):
    """y = x·σ(x).   dy/dx = σ(x)·(1 + x·(1 - σ(x)))."""

    def backward(self, g):
        x = self.inputs[0]
        s = ops.sigmoid(x)
        # Return g times the derivative above, written with s and x.
        raise NotImplementedError


# %%
with exercise("silu_backward") as ex:
    rng = np.random.default_rng(2)
    z = keras.Tensor(rng.normal(size=(4, 5)) * 3, requires_grad=True)
    weights = keras.Tensor(rng.normal(size=(4, 5)))
    with keras.GradientTape(persistent=True) as tape:
        fixed_loss = ex.call(lambda: ops.sum(FixedSilu()(z) * weights))
    yours = ex.call(tape.gradient, fixed_loss, z)       # runs your backward
    with keras.GradientTape() as library_tape:
        library_loss = ops.sum(ops.silu(z) * weights)
    ex.expect_close(yours, library_tape.gradient(library_loss, z), what="dL/dx",
                    hint="d/dx [x·σ(x)] = σ(x) + x·σ'(x), and σ'(x) = σ(x)·(1 - σ(x)).")
    ex.expect_node_gradients(fixed_loss)

# %% [markdown]
# With the fix the two runs agree, node for node:

# %%
fixed = silu_model(lambda t: FixedSilu()(t))
comparison = debug.compare(a, debug.record(lambda: loss_fn(y, fixed(x))))
print(comparison)
assert comparison.ok

# %% [markdown]
# ## Summary
#
# | symptom | tool | what it showed |
# |---|---|---|
# | the loss hardly moves in a deep net | `debug.LayerHealth`, `plot_layer_health` | gradient norms falling layer by layer (sigmoid; weights too small) |
# | the loss becomes `nan` | `with debug.check_numerics():` | the first op that made an Inf (`mat_mul` on exploded weights, `log` of 0) |
# | the loss starts far from $\log 10$, or stalls above it | the outputs (do rows sum to 1?), the loss at the start | a wrong `from_logits` |
# | the model trains, but worse than it should | `debug.check_node_gradients`, `debug.compare` | the node whose backward rule is wrong |
#
# Rules of thumb: initialise ReLU layers with $\sqrt{2/\text{fan\_in}}$ (`he_normal`),
# never take the log of a softmax (compute the log-softmax, or let the loss do it with
# `from_logits=True`), check the loss of a fresh model against $\log(\text{classes})$,
# and check every hand-written backward against finite differences.
#
# **Where to go next:** lesson 08 writes your own layer, op and kernel (check them with
# these tools); lesson 10 writes the training loop that `fit` runs; lesson 12 looks at
# the optimizers that turn these gradients into steps.
