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
# # Lesson 02: Your first Keras model, on the digits
#
# **What you will learn**
#
# - how to load and look at a small image data set (`keras.datasets`);
# - how to build a network with `keras.Sequential`, read `model.summary()` and draw it;
# - the four verbs of Keras: `compile`, `fit`, `evaluate`, `predict`;
# - how to read training curves (`keras.utils.plot_history`) and a confusion count.
#
# **Prerequisites:** lesson 01 (tensors and the tape). Here the tape works out of sight:
# `fit` records each batch and asks it for gradients.
#
# **Time:** about 30 minutes.
#
# This is ordinary Keras 3 code: with `import keras` in place of `import minikeras as
# keras` it runs on Keras too.

# %%
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np

import minikeras as keras
from minikeras import layers
from minikeras.datasets import digits
from exercises import exercise, optional, show

keras.utils.set_random_seed(0)   # the same weights, the same shuffles, the same numbers
workdir = tempfile.mkdtemp()     # every file this lesson writes goes here

# %% [markdown]
# ## 1. The data
#
# The UCI handwritten digits ship with minikeras, so nothing is downloaded: 1,797 grey
# images of 8×8 pixels, each pixel a count from 0 to 16, with their labels 0 to 9.
# `load_data()` shuffles them once (with a fixed seed) and holds out 20% as a test set,
# which the model never sees while it learns.

# %%
(x_train, y_train), (x_test, y_test) = digits.load_data()
print("train:", x_train.shape, x_train.dtype, " test:", x_test.shape)
print("pixel values from", x_train.min(), "to", x_train.max())
print("images per class in the training set:", np.bincount(y_train))

assert x_train.shape == (1437, 8, 8) and x_test.shape == (360, 8, 8)
assert x_train.min() == 0 and x_train.max() == 16
assert set(np.unique(y_train)) == set(range(10))
assert np.bincount(y_train).min() > 120     # roughly balanced: about 144 of each

# %% [markdown]
# Always look at the data before training on it.

# %%
fig, axes = plt.subplots(3, 10, figsize=(10, 3.4))
for k, ax in enumerate(axes.flat):
    ax.imshow(x_train[k], cmap="gray_r", vmin=0, vmax=16)
    ax.set_title(str(y_train[k]), fontsize=10)
    ax.axis("off")
fig.suptitle("The first 30 training images and their labels")
fig.tight_layout()
fig.savefig(os.path.join(workdir, "digits_grid.png"), dpi=100)
show(fig)

# %% [markdown]
# ## 2. The model
#
# A multi-layer perceptron (MLP): flatten each 8×8 image into 64 numbers, scale them to
# $[0, 1]$, then two hidden `Dense` layers with ReLU and an output layer of 10 units with
# softmax, one probability per digit. A `Dense` layer computes
# $\mathrm{activation}(x W + b)$ with a kernel $W$ of shape (inputs, units) and a bias $b$
# of shape (units,). `Dropout` zeroes 20% of the hidden units at random while training,
# which keeps the network from leaning on a few of them.

# %%
model = keras.Sequential([
    keras.Input(shape=(8, 8)),
    layers.Flatten(),
    layers.Rescaling(1.0 / 16),
    layers.Dense(128, activation="relu"),
    layers.Dropout(0.2),
    layers.Dense(64, activation="relu"),
    layers.Dense(10, activation="softmax"),
])
model.summary()

# %% [markdown]
# The parameter counts are the sizes of $W$ and $b$: $64 \cdot 128 + 128$ for the first
# `Dense`, and so on. Flatten, Rescaling and Dropout have no weights.

# %%
by_hand = (64 * 128 + 128) + (128 * 64 + 64) + (64 * 10 + 10)
print("parameters:", model.count_params(), " by hand:", by_hand)
assert model.count_params() == by_hand == 17226
first_dense = model.layers[2]          # Flatten, Rescaling, then the first Dense
assert isinstance(first_dense, layers.Dense)
assert [tuple(w.shape) for w in first_dense.weights] == [(64, 128), (128,)]

# %% [markdown]
# `keras.utils.plot_model` draws the same stack, with the shape of each layer's output
# (`None` is the batch size, unknown until data arrives). It needs Graphviz's `dot`.

# %%
# keras.utils.plot_model(model, to_file=...) through `optional`, which says what it
# skipped when `dot` is missing
optional("Graphviz's dot", keras.utils.plot_model, model,
         to_file=os.path.join(workdir, "model.png"), show_shapes=True,
         show_layer_activations=True)

# %% [markdown]
# Before training, the weights are random. The model already answers (ten probabilities
# per image, summing to 1), but it is no better than guessing.

# %%
probs = model.predict(x_test[:5], verbose=0)
print(np.round(probs, 2))
assert probs.shape == (5, 10) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)
untrained_accuracy = np.mean(np.argmax(model.predict(x_test, verbose=0), axis=1) == y_test)
print(f"accuracy before training: {untrained_accuracy:.1%}")
assert untrained_accuracy < 0.35

# %% [markdown]
# ## 3. Compile, then fit
#
# `compile` chooses how to learn:
#
# - the **loss**: `sparse_categorical_crossentropy`, the average of $-\log p_{y}$, the
#   minus log of the probability given to the true class $y$ ("sparse": labels are plain
#   integers, not one-hot vectors);
# - the **optimizer**: Adam, a gradient step with a per-weight step size;
# - the **metrics** to report: here the accuracy.
#
# `fit` then cuts the training set into batches of 32, and for each batch runs the model,
# computes the loss, asks the tape for the gradient of the loss with respect to every
# weight and lets the optimizer update the weights. One pass over the data is an
# *epoch*. `validation_split=0.1` keeps the last 10% of the training set aside and
# reports the loss and accuracy on it after every epoch.
#
# Three epochs first, with the progress bar:

# %%
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
first = model.fit(x_train, y_train, batch_size=32, epochs=3, validation_split=0.1)

# %% [markdown]
# Calling `fit` again goes on from where training stopped. Seventeen more epochs, quietly
# (`verbose=0`); `initial_epoch=3` numbers them 4 to 20.

# %%
rest = model.fit(x_train, y_train, batch_size=32, epochs=20, initial_epoch=3,
                 validation_split=0.1, verbose=0)
history = {k: first.history[k] + rest.history[k] for k in first.history}
print({k: len(v) for k, v in history.items()})
print(f"epoch 20: loss {history['loss'][-1]:.4f}, val_accuracy {history['val_accuracy'][-1]:.4f}")
assert len(history["loss"]) == 20
assert history["loss"][-1] < history["loss"][0] / 5    # the loss fell a lot

# %% [markdown]
# ## 4. The training curves
#
# `keras.utils.plot_history` draws each metric per epoch, training and validation on
# the same axes. Both losses fall together; when the validation loss stops falling while
# the training loss keeps going, the model has started to memorise the training set
# (overfitting). Here they stay close. (In the first epochs the validation accuracy is
# even above the training one: the training numbers are averaged over an epoch in which
# the model was still improving, and measured with dropout switched on.)

# %%
fig = keras.utils.plot_history(history, to_file=os.path.join(workdir, "digits_history.png"))
assert history["val_loss"][-1] < history["val_loss"][0] / 5            # both losses fell
assert abs(history["val_loss"][-1] - history["loss"][-1]) < 0.15       # and stayed close
assert all(v > t for v, t in zip(history["val_accuracy"][:3], history["accuracy"][:3]))
fig

# %% [markdown]
# ## 5. Evaluate on the test set
#
# The validation set guided us; the test set is the honest final score. `evaluate` runs
# the model in inference mode (no dropout) on data it has never seen.

# %%
test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test loss {test_loss:.4f}, test accuracy {test_accuracy:.4f}")
assert test_accuracy > 0.93      # about 0.97 on this seed; a safe margin below

# %% [markdown]
# ## 6. Predict, and count the mistakes
#
# `predict` returns the ten probabilities for each image; the predicted digit is the one
# with the largest. The fraction of right answers is exactly the accuracy that `evaluate`
# reported.

# %%
probs = model.predict(x_test, verbose=0)
predicted = np.argmax(probs, axis=1)
print("first ten: predicted", predicted[:10], "\n           true     ", y_test[:10])
assert probs.shape == (360, 10)
assert np.isclose(np.mean(predicted == y_test), test_accuracy, atol=1e-6)

# %% [markdown]
# A confusion count says which digits are taken for which: row = the true digit, column
# = the predicted one. The diagonal holds the right answers.

# %%
confusion = np.zeros((10, 10), dtype=int)
np.add.at(confusion, (y_test, predicted), 1)
print("true \\ predicted " + " ".join(f"{d:3d}" for d in range(10)))
for d in range(10):
    print(f"{d:16d} " + " ".join(f"{c:3d}" if c else "  ." for c in confusion[d]))
assert confusion.sum() == len(y_test)
assert np.trace(confusion) == np.sum(predicted == y_test)
assert np.array_equal(confusion.sum(axis=1), np.bincount(y_test, minlength=10))

# %% [markdown]
# And the mistakes themselves, with the model's answer and its confidence. Some are hard
# even for a person at 8×8 pixels.

# %%
wrong = np.flatnonzero(predicted != y_test)
print(f"{len(wrong)} mistakes out of {len(y_test)}")
fig, axes = plt.subplots(1, min(8, len(wrong)), figsize=(10, 1.9), squeeze=False)
for ax, k in zip(axes.flat, wrong):
    ax.imshow(x_test[k], cmap="gray_r", vmin=0, vmax=16)
    ax.set_title(f"{y_test[k]} → {predicted[k]} ({probs[k].max():.0%})", fontsize=9)
    ax.axis("off")
fig.suptitle("true → predicted (confidence)", fontsize=10)
fig.tight_layout()
fig.savefig(os.path.join(workdir, "mistakes.png"), dpi=100)
show(fig)
assert 0 < len(wrong) < 0.07 * len(y_test)

# %% [markdown]
# ## Summary
#
# - `keras.datasets` gives arrays; look at them first (shapes, ranges, a grid of images).
# - `Sequential` stacks layers; `summary()` and `plot_model` show the shapes and the
#   parameter counts, which you can check by hand.
# - `compile` picks the loss, the optimizer and the metrics; `fit` runs the loop over
#   batches and epochs; `evaluate` scores held-out data; `predict` gives the outputs.
# - The training curves and a confusion count tell you what the model learned and where
#   it still fails.
#
# **Where to go next:** the next lessons open the layers, the losses and the optimizers
# that `fit` used here thousands of times, down to each op's `backward`. Lesson 10 writes
# `fit`'s loop by hand with a `GradientTape`.
