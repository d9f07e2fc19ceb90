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
# # Lesson 04: Convolution, from loops to im2col to `Conv2D`
#
# A convolution slides a small learned window over an image. This lesson builds one three
# times: with four nested loops (slow and obviously right), with **im2col** (one matrix
# product, the way minikeras computes it on a CPU), and with `keras.layers.Conv2D`. Then it
# follows the convolution onto the tape, writes the gradient of its kernel, looks at where
# a max pooling sends its gradient, and trains a small convnet on handwritten digits.
#
# **What you will learn**
#
# - the layout of a `Conv2D` kernel, `(kernel_height, kernel_width, in_channels, out_channels)`;
# - what `padding="valid"` / `"same"` and `strides` do to the output shape;
# - im2col: a convolution is one matrix product, and so is the gradient of its kernel;
# - the `Conv` node on the tape, and where the gradient of `MaxPooling2D` goes;
# - what the filters of a trained convnet look like.
#
# **Prerequisites:** lessons 01 to 03 (tensors and the tape, a backward rule, `fit`).
#
# **Time:** about 45 minutes.
#
# **Your turn:** three exercises, `im2col`, `conv_kernel_grad` and `max_pool_backward`.

# %%
import os
import tempfile

import numpy as np

import minikeras as keras
from minikeras import debug, layers, ops
from minikeras.datasets import digits
from exercises import exercise, optional, show

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
out_dir = tempfile.mkdtemp()          # the files this lesson writes go here

# %% [markdown]
# ## The data
#
# `keras.datasets.digits` holds 1,797 scanned digits of 8×8 pixels, grey levels 0 to 16,
# split 1,437 for training and 360 for testing. `Conv2D` wants images as
# `(batch, height, width, channels)` ("channels_last"), so we add an axis of size 1: one
# channel, the grey level.

# %%
(x_train, y_train), (x_test, y_test) = digits.load_data()
x_train, x_test = x_train[..., None], x_test[..., None]     # (n, 8, 8) -> (n, 8, 8, 1)
print(x_train.shape, x_train.dtype, "values", x_train.min(), "to", x_train.max())
assert x_train.shape == (1437, 8, 8, 1) and x_test.shape == (360, 8, 8, 1)
assert x_train.max() == 16
print("images per digit:", np.bincount(y_train))
assert np.bincount(y_train).min() > 130           # balanced: guessing gives about 10%

# %% [markdown]
# ## A convolution by loops
#
# Output pixel $(i, j)$ of filter $o$ is the window of the input at $(i, j)$ multiplied by
# the kernel of filter $o$, summed, plus a bias:
#
# $$y_{n,i,j,o} = b_o + \sum_{a=0}^{k_h-1}\sum_{b=0}^{k_w-1}\sum_{c} x_{n,\,i+a,\,j+b,\,c}\; W_{a,b,c,o}$$
#
# Keras stores the kernel $W$ as `(kh, kw, in_channels, out_channels)` and the bias as
# `(out_channels,)`; minikeras uses the same layout and names, so weights move between the
# two unchanged. Here is the formula as loops, for "valid" windows (those that lie wholly
# inside the image):

# %%
def conv_by_loops(x, w, b):
    """x (N, H, W, C), w (kh, kw, C, O), b (O,) -> (N, H-kh+1, W-kw+1, O)."""
    n, h, wd, c = x.shape
    kh, kw, _, o = w.shape
    y = np.zeros((n, h - kh + 1, wd - kw + 1, o))
    for s in range(n):
        for i in range(h - kh + 1):
            for j in range(wd - kw + 1):
                window = x[s, i:i + kh, j:j + kw, :]                  # (kh, kw, C)
                for f in range(o):
                    y[s, i, j, f] = b[f] + np.sum(window * w[:, :, :, f])
    return y


# %% [markdown]
# Now the layer. Like every Keras layer, `Conv2D` makes its weights on its first call, when
# it sees how many channels come in. The bias starts at zero; we give it other values so
# that the comparison covers it.

# %%
images = (x_train[:2] / 16.0).astype("float32")             # two digits, values in [0, 1]
conv = layers.Conv2D(4, 3, name="conv2d")                    # 4 filters of 3x3, "valid"
y = conv(images)
print([(w.path, w.shape) for w in conv.weights])
assert conv.kernel.shape == (3, 3, 1, 4) and conv.bias.shape == (4,)
assert y.shape == (2, 6, 6, 4)                               # 8 - 3 + 1 = 6

conv.bias.assign(np.array([0.1, -0.2, 0.3, 0.0], dtype="float32"))
y = conv(images).numpy()
expected = conv_by_loops(images, conv.kernel.numpy(), conv.bias.numpy())
print("layer vs loops, largest difference:", np.abs(y - expected).max())
assert np.allclose(y, expected, atol=1e-5)

# %% [markdown]
# ## Padding and strides
#
# With `padding="valid"` (the default) an 8-pixel side gives $8 - 3 + 1 = 6$ outputs: each
# layer shrinks the image. `padding="same"` first adds zeros around the border (one pixel
# on each side for a 3×3 window), so that the output keeps the input's size. `strides=2`
# moves the window two pixels at a time: "same" then gives $\lceil 8/2 \rceil = 4$ outputs,
# "valid" gives $\lfloor (8-3)/2 \rfloor + 1 = 3$. `compute_output_shape` answers without
# computing anything.

# %%
for padding, strides, side in [("valid", 1, 6), ("same", 1, 8), ("valid", 2, 3), ("same", 2, 4)]:
    layer = layers.Conv2D(4, 3, padding=padding, strides=strides)
    shape = layer.compute_output_shape((None, 8, 8, 1))
    print(f"padding={padding!r:8} strides={strides}: (None, 8, 8, 1) -> {shape}")
    assert tuple(shape) == (None, side, side, 4)
    assert layer(images).shape == (2, side, side, 4)

# %% [markdown]
# ## im2col: a convolution is one matrix product
#
# Loops over pixels are far too slow in Python. The trick most CPU frameworks use: copy
# every window of the input into one row of a matrix, the *im2col* matrix ("image to
# columns"). It has one row per output position $(n, i, j)$, in that order, and one column
# per number of a window, in the order of the kernel's first three axes $(a, b, c)$:
#
# $$\text{cols}\,[\,(n, i, j),\ (a, b, c)\,] = x_{n,\,i+a,\,j+b,\,c}
# \qquad \text{shape } (N \cdot OH \cdot OW,\ k_h k_w C)$$
#
# Then the whole convolution is one product with the kernel reshaped to $(k_h k_w C, O)$:
#
# $$y = \text{cols} \cdot W_{\text{flat}} + b, \quad\text{reshaped to } (N, OH, OW, O).$$
#
# ### Your turn: write `im2col`
#
# Write `im2col(x, kh, kw, stride=1)` for "valid" windows: `x` is `(N, H, W, C)`; return the
# matrix of shape `(N*OH*OW, kh*kw*C)` with $OH = \lfloor (H - k_h)/s \rfloor + 1$ (and the
# same for $OW$). Row `(n*OH + i)*OW + j` holds the window whose top-left corner is
# `(i*stride, j*stride)`, flattened with `.ravel()` (pixel by pixel, and within a pixel
# channel by channel). Loops over the output positions are fine here; the library does it
# with one strided view.

# %% tags=["exercise"] exercise="im2col"
def im2col(x, kh, kw, stride=1):
    n, h, w, c = x.shape
    oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    # Fill a matrix of shape (n * oh * ow, kh * kw * c): one row per window,
    # the window x[s, i*stride : i*stride+kh, j*stride : j*stride+kw, :] flattened.
    raise NotImplementedError


# %%
from minikeras.kernels.cpu.conv import im2col as library_im2col

with exercise("im2col") as ex:
    x_small = rng.standard_normal((2, 5, 6, 3))
    got = ex.expect_array(ex.call(im2col, x_small, 3, 2), (30, 18), "im2col(x, 3, 2)")
    want = library_im2col(x_small, (3, 2), (1, 1), (1, 1), ((0, 0), (0, 0)))
    same_numbers = np.allclose(np.sort(got, axis=1), np.sort(want, axis=1))
    ex.expect(not same_numbers or np.allclose(got, want),
              "each row holds the right window, but its numbers are in another order: "
              "flatten the window (kh, kw, C) as it is, x[n, i:i+kh, j:j+kw, :].ravel(), "
              "so that the columns follow the kernel's (kh, kw, C) axes.")
    ex.expect_close(got, want, what="im2col(x, 3, 2) (one row per window)",
                    hint="row (n*OH + i)*OW + j is x[n, i:i+kh, j:j+kw, :].ravel(); check "
                         "the order of the rows (image, then output row, then output column).")
    got = ex.call(im2col, x_small, 3, 3, 2)
    want = library_im2col(x_small, (3, 3), (2, 2), (1, 1), ((0, 0), (0, 0)))
    ex.expect_close(got, want, what="im2col(x, 3, 3, stride=2)",
                    hint="with a stride the window of output (i, j) starts at row i*stride "
                         "and column j*stride.")
    w_small = rng.standard_normal((3, 2, 3, 4))
    y_mine = ex.call(im2col, x_small, 3, 2) @ w_small.reshape(-1, 4)
    ex.expect_close(y_mine.reshape(2, 3, 5, 4), ops.conv(x_small, w_small),
                    what="im2col(x) @ kernel, reshaped", rtol=1e-7, atol=1e-10)

# %% [markdown]
# Your function agrees with the library's `im2col`
# (`minikeras/kernels/cpu/conv.py`), which takes the geometry in full: kernel size,
# strides, dilation and the zeros to add before and after each spatial axis. With it, the
# layer's convolution is reproduced by one product, bias included:

# %%
cols = im2col(images.astype("float64"), 3, 3)
print("cols:", cols.shape, "= (2 images x 6 x 6 positions, 3*3*1 numbers per window)")
assert cols.shape == (2 * 6 * 6, 9)
y_by_matmul = (cols @ conv.kernel.numpy().reshape(9, 4) + conv.bias.numpy()).reshape(2, 6, 6, 4)
assert np.allclose(y_by_matmul, conv(images).numpy(), atol=1e-5)
assert np.allclose(y_by_matmul, expected, atol=1e-5)         # and the loops

# %% [markdown]
# "same" padding is the same product on a padded image. The windows, now one per input
# pixel, include the zeros of the border:

# %%
x4 = np.arange(4 * 4 * 2, dtype="float64").reshape(1, 4, 4, 2)   # one image, 2 channels
cols_same = im2col(np.pad(x4, ((0, 0), (1, 1), (1, 1), (0, 0))), 3, 3)
assert cols_same.shape == (16, 18)                                # one window per pixel
corner = cols_same[0].reshape(3, 3, 2)                            # the window around (0, 0)
assert np.all(corner[0] == 0) and np.all(corner[:, 0] == 0)       # the padded row and column
assert np.array_equal(corner[1:, 1:], x4[0, :2, :2])
same = layers.Conv2D(5, 3, padding="same", dtype="float64")
y_same = same(x4).numpy()
assert np.allclose((cols_same @ same.kernel.numpy().reshape(18, 5)).reshape(1, 4, 4, 5), y_same)

# %% [markdown]
# The price of im2col is memory: every pixel is copied up to $k_h k_w$ times. For 8×8
# digits that is nothing; for big images the library works through the batch in chunks.
#
# ## The convolution on the tape
#
# Inside a `GradientTape`, the layer records **one** node, `Conv`, with three inputs: the
# images, the kernel and the bias (the bias is added inside the same op). Its docstring
# states the derivative, with the rule line that the debugging tools quote.

# %%
with keras.GradientTape() as tape:
    out = conv(images)
    loss = ops.sum(out * out)
debug.print_tape(loss)
conv_node = next(n for n in tape.nodes if type(n).__name__ == "Conv")
print(type(conv_node).__doc__)
assert len(conv_node.inputs) == 3
assert [tuple(t.shape) for t in conv_node.inputs] == [(2, 8, 8, 1), (3, 3, 1, 4), (4,)]
print("recorded at", conv_node.location())            # a line of your code, not of minikeras

# %% [markdown]
# The same tape as a drawing: `debug.plot_tape(loss, to_file="tape.svg")` draws ops as
# boxes and tensors as ellipses, with their shapes and gradients. It needs Graphviz's `dot`;
# here it goes through `optional`, which says what it skipped when `dot` is missing:

# %%
optional("Graphviz's dot", debug.plot_tape, loss, to_file=os.path.join(out_dir, "conv_tape.svg"))

# %% [markdown]
# What computed the numbers? `debug.trace()` records everything that ran inside its block,
# nested, from the layer call down to the kernel functions in `minikeras/kernels/cpu/`:

# %%
with debug.trace() as t:
    with keras.GradientTape() as tape:
        loss = ops.sum(conv(images) ** 2)
    grads = tape.gradient(loss, [conv.kernel, conv.bias])
print(t)
report_text = str(t)
assert "kernels/cpu/conv.py:conv_forward" in report_text
assert "kernels/cpu/conv.py:im2col  (2, 8, 8, 1) float32 -> (72, 10)" in report_text
assert "kernels/cpu/conv.py:conv_kernel_grad" in report_text
assert "conv_input_grad" not in report_text          # the images are data: no gradient for them

# %% [markdown]
# Three things to notice. The forward pass is `conv_forward`, which calls `im2col` and one
# matrix product. Its `cols` has 10 columns, not 9: one window of 9 pixels plus a column of
# ones, so that the same product also adds the bias (the ones times the bias row). And the
# backward pass computes only the kernel's (and bias's) gradient, `conv_kernel_grad`: nobody
# asked for the gradient of the images, so the tape skips it.
#
# The walk ran `Conv`'s `backward_arrays`, a twin that goes straight to the kernels on raw
# arrays. The readable rule, `backward`, is written with two more ops (`ConvInputGrad`,
# `ConvKernelGrad`) so that it can itself be differentiated; `readable_backward()` makes
# every walk take it. Both give the same numbers:

# %%
from minikeras.autograd import readable_backward

with readable_backward():
    with keras.GradientTape() as tape:
        loss = ops.sum(conv(images) ** 2)
    readable = tape.gradient(loss, conv.kernel)
assert np.allclose(readable.numpy(), grads[0].numpy(), rtol=1e-5, atol=1e-5)

# %% [markdown]
# ## The gradient of the kernel
#
# Since $y = \text{cols}\cdot W_{\text{flat}}$ is a matrix product, the rule of lesson 03 for
# `matmul` gives the gradient of the kernel at once. With $G = \partial L/\partial y$
# reshaped to $(N\cdot OH\cdot OW,\ O)$, one row per output position:
#
# $$\frac{\partial L}{\partial W_{\text{flat}}} = \text{cols}^{\top} G
# \qquad (k_h k_w C,\ O),\ \text{then reshaped to } (k_h, k_w, C, O).$$
#
# Every window contributes, so this product sums over all positions **and** over the batch.
# The gradient of the bias is the sum of $G$ over its rows; the gradient of the input,
# col2im of $G W_{\text{flat}}^\top$, adds each row back onto the pixels it was copied from.
#
# ### Your turn: the kernel's gradient
#
# Write `conv_kernel_grad(x, g, kh, kw)` for a "valid" convolution with stride 1: `x` is the
# input `(N, H, W, C)`, `g` the gradient of the output `(N, OH, OW, O)`. Use your `im2col`.

# %% tags=["exercise"] exercise="conv_kernel_grad"
def conv_kernel_grad(x, g, kh, kw):
    c, o = x.shape[3], g.shape[3]
    # dL/dW = cols.T @ (g as a matrix with one row per output position),
    # reshaped to the kernel's layout (kh, kw, c, o).
    raise NotImplementedError


# %%
from minikeras.autograd import Function


class ConvWithYourGradient(Function):
    """y = conv(x, w) with the library's forward and YOUR gradient for w (x is data)."""

    def __init__(self, x):
        self.x = x

    def forward(self, w):
        return ops.conv(self.x, w).numpy()

    def backward(self, g):
        kh, kw = self.inputs[0].shape[:2]
        return keras.Tensor(conv_kernel_grad(self.x, g.numpy(), kh, kw))


with exercise("conv_kernel_grad") as ex:
    x_small = rng.standard_normal((2, 5, 6, 3))
    w_small = keras.Variable(rng.standard_normal((3, 2, 3, 4)))
    g_small = rng.standard_normal((2, 3, 5, 4))
    got = ex.call(conv_kernel_grad, x_small, g_small, 3, 2)
    shape = ex.expect_array(got, what="dL/dkernel").shape
    ex.expect(shape == (3, 2, 3, 4), f"dL/dkernel has shape {shape}, but it should have the "
              "kernel's shape (3, 2, 3, 4): the product cols.T @ g is (kh*kw*C, O); reshape it "
              "to (kh, kw, C, O).")
    with keras.GradientTape() as tape:                      # the tape's gradient of ops.conv
        loss = ops.sum(ops.conv(x_small, w_small) * g_small)
    ex.expect_close(got, tape.gradient(loss, w_small), what="dL/dkernel",
                    hint="the product is cols.T @ g.reshape(-1, o): the transpose is on cols, "
                         "and all the batch's rows go into one product, so the batch is summed.")
    ex.expect_gradients(lambda w: ops.sum(ConvWithYourGradient(x_small)(w) ** 2),
                        rng.standard_normal((3, 2, 3, 4)))

# %% [markdown]
# The last line ran your gradient inside a real op on the tape and compared it with finite
# differences. The library's `ConvKernelGrad` does the same product on the `cols` that the
# forward pass kept. For the input and all the weights of a strided "same" convolution (the
# geometry where padding and stride interact and a bug would hide), the library checks
# itself in float64:

# %%
report = keras.utils.check_layer_gradients(
    layers.Conv2D(3, 3, padding="same", strides=2, dtype="float64"),
    rng.standard_normal((2, 5, 5, 2)))
print(report)
assert report.ok

# %% [markdown]
# ## Max pooling: where its gradient goes
#
# `MaxPooling2D(2)` keeps the largest value of every 2×2 block (the strides default to the
# pool size, so the blocks do not overlap) and halves height and width. It has no weights.
# The output depends only on the winner of each block, so the whole gradient of that output
# goes to the winner and the three others get 0:
#
# $$\frac{\partial L}{\partial x_{p}} = \begin{cases} \partial L/\partial y_{\text{block}(p)} & p \text{ is its block's maximum}\\ 0 & \text{otherwise.}\end{cases}$$

# %%
x_pool = rng.permutation(16).astype("float32").reshape(1, 4, 4, 1)   # distinct: no ties
x_t = keras.Tensor(x_pool, requires_grad=True)
y_pool = layers.MaxPooling2D(2)(x_t)
print("input:\n", x_pool[0, :, :, 0], "\nmax of each 2x2 block:\n", y_pool.numpy()[0, :, :, 0])
assert np.array_equal(y_pool.numpy()[0, :, :, 0],
                      x_pool[0, :, :, 0].reshape(2, 2, 2, 2).max(axis=(1, 3)))

upstream = np.array([1.0, 2.0, 3.0, 4.0], dtype="float32").reshape(1, 2, 2, 1)
ops.sum(y_pool * upstream).backward()
grad = x_t.grad.numpy()[0, :, :, 0]
print("gradient:\n", grad)
for i in range(2):
    for j in range(2):
        block = x_pool[0, 2 * i:2 * i + 2, 2 * j:2 * j + 2, 0]
        got_block = grad[2 * i:2 * i + 2, 2 * j:2 * j + 2]
        assert np.array_equal(got_block, np.where(block == block.max(), upstream[0, i, j, 0], 0))

# %% [markdown]
# Each 2×2 block of the gradient holds one non-zero number, the upstream gradient of its
# output (1, 2, 3, 4), at the position of the block's maximum. The kernel does not search
# for the maximum again in the backward pass: the forward pass remembers, for each output,
# which cell of its window won.
#
# ### Your turn: max-pool backward
#
# Write `max_pool_backward(x, g)` for `MaxPooling2D(2)`: `x` is the input `(N, H, W, C)`
# with even `H` and `W`, `g` the gradient of the output `(N, H/2, W/2, C)`. Return the
# gradient of `x`: zeros, except that each output's gradient goes to the winner of its 2×2
# block, separately for every image and channel. Loops over the output positions are fine;
# `np.argmax` of a block's four values (flattened) gives the winner.

# %% tags=["exercise"] exercise="max_pool_backward"
def max_pool_backward(x, g):
    dx = np.zeros_like(x)
    n, h, w, c = x.shape
    # For every image s, block (i, j) and channel k: find the largest of
    # x[s, 2i:2i+2, 2j:2j+2, k] and put g[s, i, j, k] at that cell of dx.
    raise NotImplementedError


# %%
class PoolWithYourGradient(Function):
    """y = max_pool(x, 2) with the library's forward and YOUR backward."""

    def forward(self, x):
        return ops.max_pool(x, 2).numpy()

    def backward(self, g):
        return keras.Tensor(max_pool_backward(self.inputs[0].numpy(), g.numpy()))


with exercise("max_pool_backward") as ex:
    x_p = rng.standard_normal((2, 4, 6, 3))                 # random: no ties
    g_p = rng.standard_normal((2, 2, 3, 3))
    got = ex.expect_array(ex.call(max_pool_backward, x_p, g_p), x_p.shape, "dL/dx")
    ex.expect(np.count_nonzero(got) == g_p.size,
              f"dL/dx has {np.count_nonzero(got)} non-zero values, but it should have one per "
              f"output ({g_p.size}): each output's gradient goes to one cell, its block's "
              "maximum, and every other cell gets 0.")
    x_t = keras.Tensor(x_p, requires_grad=True)
    ops.sum(layers.MaxPooling2D(2, dtype="float64")(x_t) * g_p).backward()
    ex.expect_close(got, x_t.grad, what="dL/dx",
                    hint="the gradient belongs at the block's largest value; take the maximum "
                         "per image and per channel, and copy g there (not 1).")
    ex.expect_gradients(lambda x: ops.sum(PoolWithYourGradient()(x) ** 2), x_p)

# %% [markdown]
# ## A small convnet on the digits
#
# Two 3×3 convolutions with ReLU, a max pooling between them (8×8 → 4×4), then a softmax
# over the ten digits. `Rescaling(1/16)` turns the grey levels 0..16 into floats in [0, 1].

# %%
keras.utils.set_random_seed(0)
model = keras.Sequential([
    keras.Input(shape=(8, 8, 1)),
    layers.Rescaling(1.0 / 16),
    layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1"),    # (8, 8, 8)
    layers.MaxPooling2D(2),                                                   # (4, 4, 8)
    layers.Conv2D(16, 3, padding="same", activation="relu", name="conv2"),   # (4, 4, 16)
    layers.Flatten(),                                                         # 256
    layers.Dense(10, activation="softmax"),
])
model.summary()
assert model.get_layer("conv1").count_params() == 3 * 3 * 1 * 8 + 8
assert model.get_layer("conv2").count_params() == 3 * 3 * 8 * 16 + 16

# %% [markdown]
# A convolution's parameters grow with the product of its input and output channels, not
# with the size of the image: `conv2` has $3\cdot3\cdot8\cdot16+16 = 1168$, whatever the
# image size. We train for 10 epochs with Adam and measure the accuracy on the 360 test
# images, which the model has never seen.

# %%
model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=32, epochs=10, validation_split=0.1, verbose=0)
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"loss {history.history['loss'][0]:.3f} -> {history.history['loss'][-1]:.3f}, "
      f"test accuracy {accuracy:.3f}")
assert history.history["loss"][-1] < history.history["loss"][0] / 4
assert accuracy > 0.94

# %%
keras.utils.plot_history(history, to_file=os.path.join(out_dir, "history.png"))

# %% [markdown]
# ## What the first layer learned
#
# The eight 3×3 filters of `conv1` are its kernel, `(3, 3, 1, 8)`, one image per filter.
# Beside them, the eight feature maps of one test digit: the output of `conv1`, one 8×8
# map per filter, bright where the filter's pattern is found.

# %%
from matplotlib.figure import Figure

filters = model.get_layer("conv1").kernel.numpy()                         # (3, 3, 1, 8)
probe = keras.Model(model.inputs, model.get_layer("conv1").output)
maps = probe.predict(x_test[:1], verbose=0)[0]                            # (8, 8, 8)
assert filters.shape == (3, 3, 1, 8) and maps.shape == (8, 8, 8)
assert np.all(maps >= 0)                                                  # after the ReLU

fig = Figure(figsize=(10, 3.4))
limit = np.abs(filters).max()
axes = fig.subplots(2, 9)
axes[1, 0].imshow(x_test[0, :, :, 0], cmap="gray_r")
axes[1, 0].set_title(f"digit {y_test[0]}", fontsize=9)
axes[0, 0].text(0.5, 0.5, "filters\n(3x3)", ha="center", va="center", fontsize=9)
for k in range(8):
    axes[0, k + 1].imshow(filters[:, :, 0, k], cmap="RdBu_r", vmin=-limit, vmax=limit)
    axes[0, k + 1].set_title(f"filter {k}", fontsize=9)
    axes[1, k + 1].imshow(maps[:, :, k], cmap="viridis")
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_frame_on(ax in axes[:, 1:] or ax is axes[1, 0])
fig.suptitle("conv1 after training: its filters (top) and the feature maps of a test digit (bottom)")
fig.savefig(os.path.join(out_dir, "filters.png"), dpi=100)
show(fig)
assert os.path.getsize(os.path.join(out_dir, "filters.png")) > 5000

# %% [markdown]
# Red is a positive weight, blue a negative one. Each filter weighs the 9 pixels of a window
# in its own way (ink on one side and none on the other, a corner, a thin stroke), so each
# map lights up at other parts of the same digit. The layers above build on these maps.
#
# ## Summary
#
# - A `Conv2D` kernel is `(kh, kw, in, out)`; "valid" windows shrink the image by $k-1$,
#   "same" pads with zeros to keep its size; a stride $s$ divides it by $s$.
# - im2col copies each window into a row; the convolution is then `cols @ kernel`, and the
#   kernel's gradient is `cols.T @ g`, one product summing over every position and image.
# - On the tape a convolution is one `Conv` node (bias included); its backward is written
#   with two more ops, `ConvInputGrad` and `ConvKernelGrad`.
# - Max pooling sends each output's gradient to the winner of its window only.
# - A 2-layer convnet reaches about 96% on the 8×8 test digits (this seed) in a few seconds.
#
# ## Where to go next
#
# - `minikeras/kernels/cpu/conv.py`: `im2col` as one strided view, `col2im` (its adjoint)
#   and the chunked products.
# - `minikeras/ops/convolution.py`: the `Conv` op, its docstring and its two backward rules.
# - `minikeras/kernels/cpu/pooling.py`: pooling as strided views of the input.
# - Lesson 05 debugs training that goes wrong; lesson 06 moves from images to sequences.
