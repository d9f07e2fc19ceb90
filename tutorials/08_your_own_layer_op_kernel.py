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
# # Lesson 08: Your own op, your own layer, your own kernel
#
# minikeras has many ops and layers, but sooner or later you want one it does not have.
# In this lesson you add one at each floor of the library, for the same function,
# **Mish** (Misra, 2019):
#
# $$\mathrm{mish}(x) = x \cdot \tanh(\mathrm{softplus}(x)), \qquad \mathrm{softplus}(x) = \ln(1 + e^x).$$
#
# **What you will learn**
#
# - how an op is built: a subclass of `keras.Function` with a `forward` on arrays and a
#   `backward` written with ops, and the `Rule:` line the debugging tools show;
# - how to check an op: `keras.utils.check_gradients` (finite differences),
#   `debug.check_node_gradients`, and the op seen on the tape;
# - how to write a layer: `build`, `call`, `add_weight`, `get_config`, then train it in a
#   model and save and load it;
# - how a CPU kernel is written in this library: a plain Python loop that Numba compiles.
#
# **Prerequisites:** lessons 01 (the tape), 02 (a Keras model) and 03 (backprop step by step).
#
# **Time:** about 50 minutes.

# %%
import inspect
import os
import tempfile
import time

import numpy as np
import numba

import minikeras as keras
from minikeras import debug, layers, ops
from exercises import exercise, optional, show

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
xp = keras.backend.xp      # the array module of the backend: numpy here
workdir = tempfile.mkdtemp()
print("backend:", keras.config.backend(), "| numba", numba.__version__)

# %% [markdown]
# ## 1. The math first
#
# Write $s = \mathrm{softplus}(x)$ and $t = \tanh(s)$, so $y = x\,t$. The chain rule needs three
# small facts: $\frac{ds}{dx} = \sigma(x)$ (the sigmoid), $\frac{dt}{ds} = 1 - t^2$, and the
# product rule. Together:
#
# $$\frac{dy}{dx} = t + x \cdot \frac{dt}{ds}\cdot\frac{ds}{dx} = t + x\,\sigma(x)\,(1 - t^2).$$
#
# The library already computes Mish, as a composition of three ops
# (`keras.activations.mish`). Its tape has three nodes where ours will have one.
# Let us check the formula against that composition before writing any class.

# %%
x = np.linspace(-5, 5, 11)
t = np.tanh(np.log1p(np.exp(x)))
sigma = 1 / (1 + np.exp(-x))
dy_dx_by_hand = t + x * sigma * (1 - t * t)

xt = keras.Tensor(x, requires_grad=True)
with keras.GradientTape() as tape:
    y_builtin = keras.activations.mish(xt)
composition = [type(node).__name__ for node in tape.nodes]
print(composition)                                         # the composition's nodes
assert composition == ["Softplus", "Tanh", "Multiply"]
dy_dx_tape = tape.gradient(y_builtin, xt).numpy()

assert np.allclose(y_builtin.numpy(), x * t)
assert np.allclose(dy_dx_tape, dy_dx_by_hand)
print(np.round(dy_dx_by_hand, 4))

# %% [markdown]
# ## 2. An op is a `Function`
#
# Every op of the library is one small class (see `minikeras/autograd/function.py` and, for
# examples, `minikeras/ops/nn.py`):
#
# - `forward(self, x)` gets **arrays** (NumPy here, CuPy on a GPU: use `keras.backend.xp`)
#   and returns the output array;
# - `backward(self, g)` gets $g = \partial L/\partial y$ as a **Tensor** and returns
#   $\partial L/\partial x$, written **with ops**. Because it is made of ops, the tape can record
#   the backward pass too, and second derivatives work;
# - inside `backward`, `self.inputs` are the input Tensors and `self.output()` the output;
# - the docstring ends with one `Rule:` line, which the step-by-step tools print.
#
# Here is how the library writes Softplus: the forward is stable for large $|x|$, the backward
# is one line.

# %%
print(inspect.getsource(ops.nn.Softplus))

# %% [markdown]
# ### Your turn: the backward of Mish
#
# The forward is written for you (the same stable softplus). Write `backward`: return
# $g \cdot \big(t + x\,\sigma(x)\,(1 - t^2)\big)$ with `x = self.inputs[0]`, using
# `ops.softplus`, `ops.tanh` and `ops.sigmoid` on Tensors (not NumPy on `.data`).

# %% tags=["exercise"] exercise="mish_backward"
class Mish(keras.Function):
    """y = x · tanh(softplus(x)).   dy/dx = t + x · σ(x) · (1 - t²), t = tanh(softplus(x)).

    Rule: dL/dx = g · (t + x · sigmoid(x) · (1 - t²)), t = tanh(softplus(x))
    """

    def forward(self, x):
        softplus = xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
        return x * xp.tanh(softplus)

    def backward(self, g):
        # Your turn: with ops on Tensors (x is self.inputs[0]), compute t = tanh(softplus(x)),
        # then return g times dy/dx, the derivative in the docstring above.
        raise NotImplementedError


def mish(x):
    """Mish of a Tensor (or array), as one node on the tape."""
    return Mish()(x)


# %%
with exercise("mish_backward") as ex:
    x = np.concatenate([np.linspace(-6, 6, 25), rng.normal(size=7)])
    w = rng.uniform(0.5, 2.0, size=x.shape)          # the gradient g that arrives: not all ones

    def gradient(f):
        xt = keras.Tensor(x, requires_grad=True)
        with keras.GradientTape() as tape:
            loss = ops.sum(f(xt) * w)
        return tape.gradient(loss, xt).numpy()

    y = mish(keras.Tensor(x, requires_grad=True))
    ex.expect_close(y, x * np.tanh(np.log1p(np.exp(x))), what="the forward of Mish")
    returned = ex.call(y.node.backward, keras.Tensor(w))
    returned = returned[0] if isinstance(returned, (tuple, list)) else returned
    ex.expect(isinstance(returned, keras.Tensor),
              f"backward returned a {type(returned).__name__}; it should return a Tensor made "
              "with ops (ops.tanh, ops.sigmoid, *, +) from self.inputs[0] and g.")
    ours = ex.call(gradient, mish)
    reference = gradient(keras.activations.mish)     # the built-in composition of three ops
    ex.expect(not np.allclose(ours, reference / w),
              "your gradient is dy/dx without the factor g: multiply by g, the gradient that "
              "arrived at the output (the chain rule).")
    ex.expect_close(ours, reference, what="dL/dx from your backward",
                    hint="compare with dy/dx = t + x·σ(x)·(1 - t²), with t = tanh(softplus(x)), "
                         "times g.")
    ex.expect_gradients(lambda t: ops.sum(mish(t) * w), x)
    second = keras.utils.check_gradients(lambda t: ops.sum(mish(t) * w), x, order=2)
    ex.expect(second.ok, "the first derivative is right but the second is not: write backward "
                         "with ops on Tensors (self.inputs[0], g), not with NumPy on .data, so "
                         "that the tape can differentiate it again.")

# %% [markdown]
# ## 3. The new op on the tape
#
# `mish(x)` now records **one** node, `Mish`, where the built-in composition recorded three.
# `debug.check_node_gradients` reruns each node in float64 and compares its `backward` with
# finite differences of that node alone: this is the check that finds a wrong rule inside a
# big model. The card of `debug.backward_steps` quotes our `Rule:` line.

# %%
a = keras.Tensor(rng.normal(size=(3, 4)), requires_grad=True)
with keras.GradientTape() as tape:
    y = mish(a)
assert [type(node).__name__ for node in tape.nodes] == ["Mish"]    # one node
loss = ops.sum(y * 2.0)
debug.print_tape(loss)
report = debug.check_node_gradients(loss)
print(report)
assert [row["op"] for row in report.rows] == ["Sum", "Multiply", "Mish"]
assert all(row["ok"] for row in report.rows)

# %%
steps = debug.backward_steps(loss)
cards = list(steps)
print(cards[-1])                                  # the card of our node
assert "tanh(softplus(x))" in str(cards[-1])
t = np.tanh(np.log1p(np.exp(a.numpy())))
by_hand = 2.0 * (t + a.numpy() / (1 + np.exp(-a.numpy())) * (1 - t * t))
assert np.allclose(steps.gradient(a).numpy(), by_hand)

# %% [markdown]
# Second derivatives come for free, because `backward` is made of ops: the gradient check
# with `order=2` differentiates our backward once more.

# %%
print(keras.utils.check_gradients(lambda t: ops.sum(mish(t)), np.linspace(-3, 3, 7), order=2))

# %% [markdown]
# A picture of what we built: Mish next to ReLU and softplus, and its derivative as our
# `backward` computes it (dots, through the tape) on top of central finite differences (line).

# %%
import matplotlib.pyplot as plt

grid = np.linspace(-5, 3, 161)
gt = keras.Tensor(grid, requires_grad=True)
ops.sum(mish(gt)).backward()
h = 1e-5
numeric = (Mish().forward(grid + h) - Mish().forward(grid - h)) / (2 * h)
assert np.allclose(gt.grad.numpy(), numeric, atol=1e-7)

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
left.plot(grid, np.maximum(grid, 0), label="relu", color="0.6")
left.plot(grid, np.log1p(np.exp(grid)), label="softplus", color="tab:green")
left.plot(grid, mish(grid).numpy(), label="mish (our op)", color="tab:red", lw=2)
left.set_title("y = f(x)")
right.plot(grid, numeric, label="finite differences", color="0.3")
right.plot(grid[::8], gt.grad.numpy()[::8], "o", color="tab:red", label="our backward (tape)")
right.axhline(0, color="0.8", lw=0.8)
right.set_title("dy/dx")
for axis in (left, right):
    axis.legend(frameon=False)
    axis.grid(alpha=0.3)
fig.tight_layout()
fig.savefig(os.path.join(workdir, "mish.png"), dpi=100)
show(fig)

# %% [markdown]
# ## 4. Your own layer
#
# A layer owns weights and calls ops. Subclass `keras.layers.Layer` and write:
#
# - `__init__`: keep the arguments (here `units`) and pass the rest (`name`, `dtype`...) on;
# - `build(input_shape)`: called once, on the first call, when the input size is known;
#   `self.add_weight(shape, initializer, name)` makes a trainable `Variable`;
# - `call(x)`: the forward pass, with ops; the tape records it like any other layer's;
# - `get_config()`: the arguments that rebuild the layer, for saving.
#
# `@keras.saving.register_keras_serializable` gives the class a name (`course>MishDense`)
# under which `load_model` finds it again.
#
# ### Your turn: the layer's `call`
#
# `MishDense(units)` is a Dense layer with Mish built in: $y = \mathrm{mish}(x W + b)$.
# Write `call` with `ops.matmul`, `+` and **your** `mish`.

# %% tags=["exercise"] exercise="mish_dense_call"
@keras.saving.register_keras_serializable(package="course")
class MishDense(layers.Layer):
    """A fully connected layer followed by Mish: mish(x @ kernel + bias)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units),
                                      initializer="glorot_uniform", name="kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

    def call(self, x):
        # Your turn: return the layer's output, mish(x W + b), from self.kernel and
        # self.bias, with ops and the mish() of section 2 (one line).
        raise NotImplementedError

    def get_config(self):
        return {**super().get_config(), "units": self.units}


# %%
with exercise("mish_dense_call") as ex:
    layer = MishDense(5)
    x_in = rng.normal(size=(4, 3)).astype("float32")
    out = ex.call(layer, x_in)
    ex.expect_array(out, (4, 5), what="the layer's output")
    # The same math with built-in pieces: a Dense layer with the library's mish, same weights.
    twin = layers.Dense(5, activation="mish")
    twin.build((None, 3))
    layer.bias.assign(rng.normal(size=5).astype("float32"))  # a bias that is not all zeros
    twin.set_weights(layer.get_weights())
    out = ex.call(layer, x_in)
    ex.expect_close(out, twin(x_in), what="MishDense's output", rtol=1e-5, atol=1e-6,
                    hint="the output should be mish(x @ kernel + bias): is the bias or the "
                         "activation missing?")
    ex.expect(type(out.node).__name__ == "Mish",
              f"the last node of your call is {type(out.node).__name__}, not Mish: apply your "
              "own mish() last, so that the tape records your op.")
    xt = keras.Tensor(x_in, requires_grad=True)
    ex.expect_node_gradients(ops.sum(layer(xt)))

# %% [markdown]
# The layer now trains like any built-in one. A small model on the bundled digits:

# %%
from minikeras.datasets import digits

(x_train, y_train), (x_test, y_test) = digits.load_data()
keras.utils.set_random_seed(0)
model = keras.Sequential([
    keras.Input(shape=(8, 8)),
    layers.Flatten(),
    layers.Rescaling(1 / 16),
    MishDense(32),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x_train, y_train, epochs=10, batch_size=32, validation_split=0.1, verbose=0)
test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
model.summary()
print(f"test accuracy {test_accuracy:.3f}")
assert test_accuracy > 0.85

# %% [markdown]
# Saved and loaded: `get_config` gives `{"units": 32, ...}`, the registered name finds the
# class, and the weights come back. The loaded model predicts exactly the same numbers.

# %%
path = os.path.join(workdir, "mish_digits.keras")
model.save(path)
print(keras.saving.get_registered_name(MishDense), model.layers[2].get_config())
loaded = keras.saving.load_model(path)
assert type(loaded.layers[2]) is MishDense and loaded.layers[2].units == 32
assert np.array_equal(loaded.predict(x_test, verbose=0), model.predict(x_test, verbose=0))

# %% [markdown]
# On the tape of one batch, our layer is a box (`sequential/mish_dense`) with our `Mish` node
# inside, next to the built-in `Dense`. `debug.plot_tape(loss, to_file=...)` draws it; the
# drawing needs Graphviz's `dot`, so the lesson calls it through `optional`, which says what
# it skipped when `dot` is missing.

# %%
with keras.GradientTape() as tape:
    loss = keras.losses.SparseCategoricalCrossentropy()(y_train[:4], model(x_train[:4]))
names = [type(node).__name__ for node in tape.nodes]
assert "Mish" in names
picture = optional("Graphviz's dot", debug.plot_tape, loss,
                   to_file=os.path.join(workdir, "tape.svg"))
picture

# %% [markdown]
# ## 5. Your own kernel
#
# `Mish.forward` makes several passes over memory: `abs`, `exp`, `log1p`, `maximum`, `+`,
# `tanh`, `*`, each a NumPy call that reads a whole array and writes a new one. A **kernel**
# does the whole formula for one element, then the next, in one loop. In Python that loop
# would be very slow; [Numba](https://numba.pydata.org) compiles it to machine code.
#
# This is how the library writes its CPU kernels (`minikeras/kernels/cpu/`): a plain Python
# loop, readable and runnable as Python, compiled by `numba.njit` the first time it is
# called (`kernels/cpu/jit.py`), behind a function that checks the arrays fit:

# %%
from minikeras.kernels.cpu import activations as cpu_activations
print(inspect.getsource(cpu_activations._relu_loop))
print(inspect.getsource(cpu_activations.relu))

# %% [markdown]
# ### Your turn: the kernel's loop body
#
# Write the body of the loop: for element `i`, read `v = x[i]`, compute
# $\mathrm{softplus}(v) = \max(v, 0) + \ln(1 + e^{-|v|})$ with `math.exp`, `math.log1p` and
# `abs`, and store `v * math.tanh(softplus)` in `out[i]`. The `math` functions work on one
# number at a time: that is what Numba compiles well.

# %% tags=["exercise"] exercise="mish_loop_body"
import math


def mish_loop(x, out):
    """out[i] = mish(x[i]) for every i; x and out are flat arrays of the same size."""
    for i in range(x.size):
        # Your turn: read x[i], compute its stable softplus (the formula above) with
        # math.exp, math.log1p and abs, and store mish of x[i] in out[i].
        raise NotImplementedError


# %%
with exercise("mish_loop_body") as ex:
    def numpy_mish(x):
        return x * np.tanh(np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))))

    small = np.array([-30.0, -2.0, -0.5, 0.0, 0.5, 2.0, 30.0])
    out = np.full_like(small, np.nan)
    ex.call(mish_loop, small, out)                 # first as plain Python: errors are readable
    ex.expect(not np.isnan(out).any(),             # out starts as NaN: what stays NaN was skipped
              f"out[{int(np.argmax(np.isnan(out)))}] was never written (out starts filled with "
              "NaN): the loop must store a value in out[i] for every i (out[i] = ..., not "
              "out = ...).")
    ex.expect_close(out, numpy_mish(small), what="out (the loop run as plain Python)",
                    hint="out[i] should be x[i] · tanh(softplus(x[i])); check each factor.")
    compiled = ex.call(numba.njit, mish_loop)
    big = rng.normal(scale=3, size=10_001).astype("float32")
    out = np.full_like(big, np.nan)
    ex.call(compiled, big, out)                    # then compiled by Numba, in float32
    ex.expect(not np.isnan(out).any(), f"the compiled loop left out[{int(np.argmax(np.isnan(out)))}] "
                                       "unwritten: store a value in out[i] for every i.")
    ex.expect_close(out, numpy_mish(big), what="out (the loop compiled by Numba)", rtol=1e-5,
                    atol=1e-6, hint="does the loop write every element, out[i] for each i?")

# %% [markdown]
# The kernel in an op: `FastMish` keeps `Mish.backward` and only swaps the forward. (We do not
# register it in the library's kernel table: that table is the library's own, the same names
# on every backend, see `minikeras/kernels/cpu/__init__.py`.) It gives the same numbers and
# passes the same checks. Time both on your machine: the loop makes one pass where NumPy
# makes several, but which wins depends on the size and the CPU, and the library only keeps a
# loop where a benchmark in `benchmarks/` shows it wins.

# %%
fast_loop = numba.njit(mish_loop)


class FastMish(Mish):
    """Mish with the forward computed by one compiled loop; the backward is Mish's."""

    def forward(self, x):
        flat = xp.ascontiguousarray(x).reshape(-1)
        out = xp.empty_like(flat)
        fast_loop(flat, out)
        return out.reshape(x.shape)


probe = rng.normal(size=(2, 3))
assert np.allclose(FastMish()(probe).numpy(), mish(probe).numpy(), rtol=1e-12)
assert keras.utils.check_gradients(lambda t: ops.sum(FastMish()(t) * probe), probe).ok

x_big = rng.normal(size=1_000_000).astype("float32")
for name, fn in [("NumPy formula (Mish.forward)", Mish().forward),
                 ("Numba loop (FastMish.forward)", FastMish().forward)]:
    fn(x_big)
    start = time.perf_counter()
    fn(x_big)
    print(f"{name:32s} {1e3 * (time.perf_counter() - start):7.2f} ms for 1e6 float32")

# %% [markdown]
# ## Summary
#
# - An **op** is a `keras.Function`: `forward` on arrays, `backward` with ops on Tensors,
#   a `Rule:` line in the docstring. Check it with `keras.utils.check_gradients` (also
#   `order=2`) and, inside a model, with `debug.check_node_gradients`.
# - A **layer** subclasses `keras.layers.Layer`: `build` makes the weights with
#   `add_weight`, `call` runs ops, `get_config` plus `register_keras_serializable` make it
#   saveable. It trains, saves and loads like a built-in layer.
# - A **CPU kernel** is a loop over elements that Numba compiles; check it against the NumPy
#   formula first as plain Python, then compiled.
#
# **Where to go next:** lesson 09 writes kernels for the GPU (threads, blocks, shared memory)
# and runs them in Numba's CUDA simulator. To read more: `minikeras/ops/nn.py` (all the
# activations as Functions), `minikeras/layers/core.py` (Dense), and
# `minikeras/kernels/cpu/` (the library's loops).
