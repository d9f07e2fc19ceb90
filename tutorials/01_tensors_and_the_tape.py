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
# # Lesson 01: Tensors and the tape, from scratch
#
# **What you will learn**
#
# - what a `Tensor` is, and how the tape records every operation you apply to it;
# - how `Tensor.backward()` and `keras.GradientTape` turn that record into derivatives;
# - the chain rule run over a graph in reverse topological order, by reading the tape's
#   nodes and calling each op's `backward` yourself;
# - why broadcasting in the forward pass means a *sum* in the backward pass (`unbroadcast`);
# - how to check any gradient with finite differences, by hand and with
#   `keras.utils.check_gradients`.
#
# **Prerequisites:** Python, NumPy, derivatives of one variable and the chain rule.
# This is the first lesson.
#
# **Time:** about 40 minutes.

# %%
import inspect
import os
import tempfile

import numpy as np

import minikeras as keras
from minikeras import debug, ops
from exercises import exercise, optional, show

keras.utils.set_random_seed(0)
workdir = tempfile.mkdtemp()   # every file this lesson writes goes here

# %% [markdown]
# ## 1. A function of two numbers, on paper
#
# Take
#
# $$f(x, y) = \tanh(x\,y) + x^2 .$$
#
# With $t = \tanh(xy)$ and $\frac{d}{du}\tanh u = 1 - \tanh^2 u$, the chain rule gives
#
# $$\frac{\partial f}{\partial x} = y\,(1 - t^2) + 2x, \qquad
#   \frac{\partial f}{\partial y} = x\,(1 - t^2).$$
#
# At $x = 0.5,\ y = -1.5$ we can compute those numbers with NumPy.

# %%
x0, y0 = 0.5, -1.5
t0 = np.tanh(x0 * y0)
f_paper = t0 + x0 ** 2
dfdx_paper = y0 * (1 - t0 ** 2) + 2 * x0
dfdy_paper = x0 * (1 - t0 ** 2)
print(f"f = {f_paper:.6f}   df/dx = {dfdx_paper:.6f}   df/dy = {dfdy_paper:.6f}")

# %% [markdown]
# ## 2. The same derivatives from the tape
#
# A `keras.Tensor` holds an array (`.data`) and, when it was made by an operation, a link
# to the *node* that made it. Setting `requires_grad=True` asks the tape to record every
# operation that uses the tensor. After the forward computation, `f.backward()` walks the
# record backwards and leaves $\partial f / \partial x$ in `x.grad`.

# %%
x = keras.Tensor(x0, requires_grad=True, name="x")
y = keras.Tensor(y0, requires_grad=True, name="y")
f = ops.tanh(x * y) + x * x
print("f =", f)
f.backward()
print("x.grad =", x.grad, "  y.grad =", y.grad)

# float32 on the tape, float64 on paper: equal to about 7 digits
assert np.isclose(f.item(), f_paper, rtol=1e-6)
assert np.isclose(x.grad.item(), dfdx_paper, rtol=1e-6)
assert np.isclose(y.grad.item(), dfdy_paper, rtol=1e-6)

# %% [markdown]
# Keras code asks for gradients through a `GradientTape` instead: everything computed
# inside the `with` block is recorded, and `tape.gradient(target, sources)` returns one
# gradient per source. Plain tensors are recorded only when the tape `watch`es them
# (trainable `Variable`s, the weights of a model, are watched automatically). It is the
# same tape and the same walk underneath, so the numbers are identical.

# %%
a = keras.Tensor(x0, name="x")
b = keras.Tensor(y0, name="y")
with keras.GradientTape() as tape:
    tape.watch([a, b])
    f2 = ops.tanh(a * b) + a * a
dfdx, dfdy = tape.gradient(f2, [a, b])
print("tape.gradient:", dfdx, dfdy)
assert dfdx.item() == x.grad.item() and dfdy.item() == y.grad.item()   # bit for bit

# %% [markdown]
# ## 3. The graph the tape recorded
#
# Every operation became a node: a `Multiply` made $xy$, a `Tanh` made $t$, another
# `Multiply` made $x \cdot x$, an `Add` made $f$. The number `#k` of a node is its place in
# the recording order (one counter for the whole session, so a newer node has a larger
# number). `backward()`
# frees the graph once it is done (to save memory), so we record $f$ again and print its
# tree. (`x` appears three times: it is used by two nodes. The leaves `x` and `y` are
# marked "leaf, requires grad": no op made them, and the tape wants their gradients.)

# %%
x = keras.Tensor(x0, requires_grad=True, name="x")
y = keras.Tensor(y0, requires_grad=True, name="y")
f = ops.tanh(x * y) + x * x
debug.print_tape(f)
tree = debug.tape_text(f)  # the same text, as a string
assert tree.count("(leaf, requires grad)") == 4  # x three times, y once
ops_in_tree = [line.split("#")[1].split()[1] for line in tree.splitlines() if "#" in line]
assert ops_in_tree == ["Add", "Tanh", "Multiply", "Multiply"], ops_in_tree

# %% [markdown]
# The same graph as a drawing: ops are boxes, tensors are ellipses, each edge is labelled
# with the backward step that sends a gradient along it. It needs Graphviz's `dot`
# program; without it the lesson says what it skipped and goes on.

# %%
# debug.plot_tape(f, to_file=...) through `optional`: without `dot` it says what it skipped
optional("Graphviz's dot", debug.plot_tape, f, to_file=os.path.join(workdir, "tape_f.svg"))

# %% [markdown]
# The tree is nothing more than links you can follow yourself: `f.node` is the `Add` that
# made `f`, and `f.node.inputs` are the tensors it added.

# %%
add = f.node
print(add, "\n  inputs:", add.inputs)
t, xx = add.inputs
print("t was made by", t.node, "\n  whose input was made by", t.node.inputs[0].node)
assert type(add).__name__ == "Add" and type(t.node).__name__ == "Tanh"
assert t.node.inputs[0].node.inputs[0] is x and x.node is None     # x is a leaf

# %% [markdown]
# ## 4. The chain rule, node by node
#
# Each op is a class with a `forward` (arrays in, array out) and a `backward`: given
# $g = \partial L/\partial z$, the gradient that arrived at its output $z$, it returns
# $\partial L/\partial \text{input}$ for each input. Here is `Tanh`, from
# `minikeras/ops/math.py`. Its docstring states the derivative, and `backward` is that
# formula written with ops: $g \cdot (1 - z^2)$.

# %%
print(inspect.getsource(ops.math.Tanh))

# %% [markdown]
# The backward walk is short enough to write here. Collect the nodes behind the target,
# sort them newest first (a node is always newer than the nodes that made its inputs, so
# this is a reverse topological order), seed $\partial f/\partial f = 1$, and for each
# node hand the gradient of its output to its `backward`, *adding* what comes out to the
# gradient of each input. The adding is the multivariate chain rule: `x` is used twice,
# so its two contributions are summed.

# %%
def my_backward(target):
    """{id(tensor): dtarget/dtensor} for every tensor behind ``target``."""
    nodes, stack, seen = [], [target], set()
    while stack:                                   # 1. collect the nodes
        node = stack.pop().node
        if node is not None and id(node) not in seen:
            seen.add(id(node))
            nodes.append(node)
            stack.extend(node.inputs)
    nodes.sort(key=lambda n: n.seq, reverse=True)  # 2. newest first
    grads = {id(target): keras.Tensor(np.ones(target.shape, "float32"))}
    with keras.no_grad():                          # 3. the walk itself is not recorded
        for node in nodes:
            g = grads[id(node.output())]
            outs = node.backward(g)
            outs = outs if isinstance(outs, tuple) else (outs,)
            print(f"  {node.name:9s} #{node.seq}: dL/dz = {g.item():+.5f} -> "
                  + ", ".join(f"{gi.item():+.5f}" for gi in outs if gi is not None))
            for inp, gi in zip(node.inputs, outs):
                if gi is not None:
                    grads[id(inp)] = gi if id(inp) not in grads else grads[id(inp)] + gi
    return grads


grads = my_backward(f)
print("my df/dx =", grads[id(x)], "  my df/dy =", grads[id(y)])
assert np.isclose(grads[id(x)].item(), dfdx_paper, rtol=1e-6)
assert np.isclose(grads[id(y)].item(), dfdy_paper, rtol=1e-6)

# %% [markdown]
# The library's walk (`minikeras/autograd/walk.py`) does exactly this, plus hooks and
# memory care. The debugger `debug.backward_steps` pauses it after each node and shows a
# card: the op, the gradient that arrived, the op's rule, what it handed on. The last
# card is the `Multiply` that made $xy$: it adds the second contribution to `x`.

# %%
f = ops.tanh(x * y) + x * x
steps = debug.backward_steps(f)
cards = list(steps)
print(cards[-1])
assert len(cards) == 4
assert steps.gradient(x).item() == grads[id(x)].item()   # the same walk, the same bits

# %% [markdown]
# ## 5. Vectors, broadcasting, and the sum in backward
#
# Tensors are arrays, and ops broadcast like NumPy. A layer adds a bias of shape `(3,)`
# to a batch of shape `(4, 3)`: the bias is *copied* to every row. A value copied to four
# places influences the loss through all four, so its gradient is the **sum** of the four
# gradients:
#
# $$z_{ij} = X_{ij} + b_j \quad\Rightarrow\quad
#   \frac{\partial L}{\partial b_j} = \sum_i \frac{\partial L}{\partial z_{ij}} .$$

# %%
rng = np.random.default_rng(0)
X = keras.Tensor(rng.standard_normal((4, 3)).astype("float32"), requires_grad=True, name="X")
bias = keras.Tensor(np.zeros(3, "float32"), requires_grad=True, name="bias")
W = rng.standard_normal((4, 3)).astype("float32")       # weights of a toy loss
loss = ops.sum(ops.tanh(X + bias) * W)
loss.backward()
print("X.grad shape", X.grad.shape, "  bias.grad shape", bias.grad.shape)

g_z = W * (1 - np.tanh(X.numpy() + bias.numpy()) ** 2)   # dL/dz on paper, shape (4, 3)
assert bias.grad.shape == (3,) and X.grad.shape == (4, 3)
assert np.allclose(bias.grad.numpy(), g_z.sum(axis=0), rtol=1e-6)
assert np.allclose(X.grad.numpy(), g_z, rtol=1e-6)

# %% [markdown]
# Where does that sum happen? In `Add.backward`, through `unbroadcast(g, x)`: the
# gradient `g` is summed over the axes along which `x` was stretched, until it has `x`'s
# shape again.

# %%
print(inspect.getsource(ops.math.Add.backward))
print(inspect.getsource(ops.core.unbroadcast))

# %%
g = keras.Tensor(g_z)
summed = ops.core.unbroadcast(g, bias)
print("unbroadcast (4, 3) -> ", summed.shape)
assert summed.shape == (3,) and np.array_equal(summed.numpy(), g_z.sum(axis=0))
# a size-1 axis is stretched too: (4, 1) keeps its axis and sums over the columns
col = keras.Tensor(np.zeros((4, 1), "float32"))
assert np.array_equal(ops.core.unbroadcast(g, col).numpy(), g_z.sum(axis=1, keepdims=True))

# %% [markdown]
# ## 6. Checking a gradient with finite differences
#
# How do we know a `backward` is right? Nudge one input by a tiny $h$ and watch the
# output move. The central difference
#
# $$\frac{\partial f}{\partial x_k} \approx \frac{f(x + h\,e_k) - f(x - h\,e_k)}{2h}$$
#
# has an error of order $h^2$. Done for every element, it needs only the forward pass, so
# it checks the tape independently. We work in float64, where $h = 10^{-6}$ is fine.

# %%
def numeric_gradient(fn, array, h=1e-6):
    """dfn/darray by central differences, one element at a time (float64)."""
    array = np.array(array, dtype=np.float64)
    grad = np.zeros_like(array)
    for k in np.ndindex(array.shape):
        old = array[k]
        array[k] = old + h
        up = fn(keras.Tensor(array)).item()
        array[k] = old - h
        down = fn(keras.Tensor(array)).item()
        array[k] = old
        grad[k] = (up - down) / (2 * h)
    return grad


def toy_loss(X):
    return ops.sum(ops.tanh(X + keras.Tensor(np.ones(3))) * keras.Tensor(W.astype("float64")))


X64 = rng.standard_normal((4, 3))
Xt = keras.Tensor(X64, requires_grad=True)
toy_loss(Xt).backward()
numeric = numeric_gradient(toy_loss, X64)
error = np.max(np.abs(Xt.grad.numpy() - numeric) / np.maximum(1, np.abs(numeric)))
print(f"largest relative error between the tape and finite differences: {error:.2e}")
assert Xt.grad.dtype == "float64" and error < 1e-8

# %% [markdown]
# The library's `keras.utils.check_gradients` does the same for every float input of a
# function (in float64) and prints one line per input.

# %%
report = keras.utils.check_gradients(toy_loss, X64)
print(report)
assert report.ok
row = report.rows[0]      # its worst element: the same number as our own differences
assert np.isclose(row["numeric"], numeric[row["index"]], rtol=1e-6)

# %% [markdown]
# How small should $h$ be? Too large and the $h^2$ term of the Taylor series shows; too
# small and rounding (about $10^{-16}$ in float64, divided by $2h$) takes over. The
# picture below shows both regimes for one element: a "V" with its bottom near
# $h = 10^{-5}$. In float32 (about $10^{-7}$ of rounding) the bottom is far higher and at a
# much larger $h$; below $h \approx 10^{-7}$ the nudge is lost altogether ($x + h = x$ in
# float32) and the estimate is 0. That is why gradient checks run in float64.

# %%
import matplotlib.pyplot as plt

hs = np.logspace(-12, -1, 23)
exact = Xt.grad.numpy()[0, 0]
errors = {}
for dtype in ("float64", "float32"):
    def f00(v, dtype=dtype):
        Xd = X64.astype(dtype).copy()
        Xd[0, 0] = v
        Wd = W.astype(dtype)
        return float(np.sum(np.tanh(Xd + np.ones(3, dtype)) * Wd))
    v0 = X64.astype(dtype)[0, 0]
    errors[dtype] = [abs((f00(v0 + h) - f00(v0 - h)) / (2 * h) - exact) + 1e-17
                     for h in hs]

fig, ax = plt.subplots(figsize=(6, 3.6))
for dtype, errs in errors.items():
    ax.loglog(hs, errs, "o-", label=dtype, markersize=3)
ax.set_xlabel("step h")
ax.set_ylabel("|central difference - tape|")
ax.set_title("Finite differences: truncation (right) vs rounding (left)")
ax.legend()
fig.tight_layout()
fig.savefig(os.path.join(workdir, "finite_differences.png"), dpi=120)
show(fig)

best64 = hs[int(np.argmin(errors["float64"]))]
assert 1e-8 <= best64 <= 1e-3 and min(errors["float64"]) < 1e-9
assert min(errors["float32"]) > 100 * min(errors["float64"])          # a far higher bottom
assert hs[int(np.argmin(errors["float32"]))] > 100 * best64             # at a much larger h
lost = hs <= 1e-8                                                        # x + h == x in float32:
assert np.allclose(np.array(errors["float32"])[lost], abs(exact))        # the estimate is 0

# %% [markdown]
# ## Summary
#
# - A `Tensor` is an array plus a link to the node that made it; those links *are* the
#   graph, and `print_tape` / `plot_tape` show them.
# - `f.backward()` and `GradientTape.gradient` run the same walk: nodes newest first,
#   each op's `backward` turning $\partial L/\partial z$ into $\partial L/\partial
#   \text{inputs}$, contributions to a tensor used twice added up.
# - Broadcasting copies values forward, so backward sums them back (`unbroadcast`).
# - Central differences in float64 check any gradient; `keras.utils.check_gradients` does
#   it for you.
#
# **Where to go next:** lesson 02 uses all of this without showing it: a Keras model on
# the digits, trained with `fit`. Lesson 10 opens `fit` again and writes its loop with a
# `GradientTape`.
