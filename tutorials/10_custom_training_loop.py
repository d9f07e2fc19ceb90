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
# # Lesson 10: A custom training loop with `GradientTape`
#
# **What you will learn**
#
# - what `model.fit` does for each batch, by writing the same loop yourself: batches, a
#   `GradientTape`, the loss, `tape.gradient`, `optimizer.apply_gradients`, the metrics;
# - that your loop and `fit` give the same losses and, bit for bit, the same weights;
# - how running metrics work (`update_state`, `result`, `reset_state`);
# - gradient clipping by global norm, by hand;
# - the tape's other tools: `train_on_batch`, `persistent=True`, `watch`,
#   `stop_gradient`, and gradients of gradients with nested tapes.
#
# **Prerequisites:** lesson 01 (the tape) and lesson 02 (`compile` and `fit`); the
# lessons on optimizers and losses help but are not required.
#
# **Time:** about 45 minutes.

# %%
import inspect
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np

import minikeras as keras
from minikeras import layers, ops
from minikeras.datasets import digits
from exercises import ExerciseFailed, exercise, optional, show

workdir = tempfile.mkdtemp()   # every file this lesson writes goes here

(x_all, y_all), (x_test, y_test) = digits.load_data()
x_train = (x_all[:512].reshape(-1, 64) / 16).astype("float32")   # 512 images, 64 pixels each
y_train = y_all[:512]
x_test = (x_test.reshape(-1, 64) / 16).astype("float32")


def build_model(seed=1):
    """The same small MLP with the same initial weights for the same seed."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input(shape=(64,)),
        layers.Dense(32, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])


a, b = build_model(), build_model()
assert all(np.array_equal(u.numpy(), v.numpy()) for u, v in zip(a.weights, b.weights))
print("two models built with seed 1 start from the same", len(a.weights), "weight arrays")

# %% [markdown]
# ## 1. What `fit` runs for each batch
#
# Under `fit` there is a loop over epochs and batches, and for each batch it calls the
# model's `train_step`. Here it is, from `minikeras/models/trainer.py`:

# %%
print(inspect.getsource(keras.Model.train_step))

# %% [markdown]
# Four lines do the learning:
#
# 1. inside a `GradientTape`, run the model on the batch with `training=True` (dropout
#    and batch normalisation behave as in training) and compute the loss;
# 2. `tape.gradient(loss, weights)`: one backward walk gives $\partial L/\partial w$ for
#    every trainable weight;
# 3. `optimizer.apply_gradients(zip(grads, weights))` updates each weight in place
#    (for plain SGD, $w \leftarrow w - \eta\,\partial L/\partial w$);
# 4. the loss and the metrics are updated for the progress bar.

# %% [markdown]
# ### Your turn: the training step
#
# Write `train_step(model, optimizer, loss_fn, x, y)`: one update of `model` on the batch
# `(x, y)`, as above. Return the loss (a scalar Tensor) and the predictions `y_pred`
# (the loop below needs them for the metrics). A Keras loss is called as
# `loss_fn(y_true, y_pred)`, the true labels first.

# %% tags=["exercise"] exercise="train_step"
def train_step(model, optimizer, loss_fn, x, y):
    # 1. with keras.GradientTape() as tape: run the model (training=True) and the loss
    # 2. the gradients of the loss with respect to model.trainable_weights
    # 3. optimizer.apply_gradients(...) with (gradient, weight) pairs
    # 4. return loss, y_pred
    raise NotImplementedError


# %%
with exercise("train_step") as ex:
    xb, yb = x_train[:64], y_train[:64]
    reference = build_model()                 # the library's own step, on a twin model
    reference.compile(optimizer=keras.optimizers.SGD(0.5),
                      loss="sparse_categorical_crossentropy")
    start = [w.numpy().copy() for w in reference.trainable_weights]
    ref_loss = reference.train_on_batch(xb, yb)
    mine = build_model()
    try:
        out = ex.call(train_step, mine, keras.optimizers.SGD(0.5),
                      keras.losses.SparseCategoricalCrossentropy(), xb, yb)
    except ExerciseFailed as failed:
        if "No gradients" not in failed.hint:
            raise
        ex.fail(failed.hint + " The tape got no gradients: the model call and the loss "
                "must both run inside the `with keras.GradientTape() as tape:` block.")
    ex.expect(isinstance(out, tuple) and len(out) == 2,
              f"train_step should return two things, (loss, y_pred); it returned {out!r:.80}.")
    loss, y_pred = out
    ex.expect_array(y_pred, (64, 10), what="y_pred")
    ex.expect_close(loss, ref_loss, what="the loss", rtol=1e-6,
                    hint="the loss is loss_fn(y, y_pred), the true labels first, on the "
                         "model's output for this batch.")
    for w0, wr, wm in zip(start, reference.trainable_weights, mine.trainable_weights):
        step_ref, step_mine = wr.numpy() - w0, wm.numpy() - w0
        ratio = np.sum(step_mine * step_ref) / np.sum(step_ref * step_ref)
        name = wm.path if hasattr(wm, "path") else wm.name
        ex.expect(np.abs(step_mine).max() > 0,
                  f"{name} did not change: did you call optimizer.apply_gradients with the "
                  "(gradient, weight) pairs?")
        ex.expect(not np.isclose(ratio, -1, atol=0.05),
                  f"{name} moved the wrong way (uphill): apply_gradients subtracts the "
                  "gradient itself; pass the gradients as the tape gives them.")
        ex.expect(not np.isclose(ratio, 2, atol=0.1),
                  f"{name} moved twice as far as it should: is the update applied twice?")
        ex.expect_close(wm, wr, what=f"{name} after one step", rtol=1e-6, atol=1e-7,
                        hint="the weights should equal those after model.train_on_batch "
                             "on a model built with the same seed.")

# %% [markdown]
# ## 2. The whole loop, next to `fit`
#
# Around the step, `fit` cuts the data into batches, resets the metrics at the start of
# each epoch, updates them after each batch and prints a line. The metrics are *running*
# means: after batch $k$ they average over batches $1..k$ of this epoch. We write that
# loop, and record the loss after each batch.
#
# To compare with `fit` we must feed the batches in the same order, so both take them in
# order (`fit(..., shuffle=False)`; by default `fit` reshuffles every epoch).

# %%
def my_fit(model, optimizer, loss_fn, x, y, batch_size=64, epochs=3):
    loss_mean = keras.metrics.Mean(name="loss")
    accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    batch_losses = []
    for epoch in range(epochs):
        loss_mean.reset_state()
        accuracy.reset_state()
        steps = 0
        for start in range(0, len(x), batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            loss, y_pred = train_step(model, optimizer, loss_fn, xb, yb)
            loss_mean.update_state(loss.item(), sample_weight=len(xb))
            accuracy.update_state(yb, y_pred)
            batch_losses.append(float(loss_mean.result()))
            steps += 1
        print(f"epoch {epoch + 1}/{epochs} - {steps} batches - loss: "
              f"{float(loss_mean.result()):.4f} - accuracy: {float(accuracy.result()):.4f}")
    return batch_losses


mine = build_model()
my_losses = my_fit(mine, keras.optimizers.Adam(0.01),
                   keras.losses.SparseCategoricalCrossentropy(), x_train, y_train)

# %% [markdown]
# And `fit` on a twin model, with a small callback that writes down the logs after each
# batch (the running loss the progress bar shows):

# %%
class BatchLosses(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.losses = []

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(logs["loss"])


twin = build_model()
twin.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
             metrics=["accuracy"])
recorder = BatchLosses()
history = twin.fit(x_train, y_train, batch_size=64, epochs=3, shuffle=False, verbose=2,
                   callbacks=[recorder])

fit_losses = np.array(recorder.losses)
gap = np.max(np.abs(np.array(my_losses) - fit_losses))
print(f"{len(my_losses)} batches; largest gap between the two loss curves: {gap:.2e}")
assert len(my_losses) == len(fit_losses) == 24
assert np.allclose(my_losses, fit_losses, rtol=1e-6)      # float rounding of the means only
assert all(np.array_equal(u.numpy(), v.numpy())           # and the weights: bit for bit
           for u, v in zip(mine.weights, twin.weights))

# %% [markdown]
# The two loops are the same computation: the weights agree bit for bit. The running
# losses differ only in the last digits of float32, because `fit` averages in float64
# and `keras.metrics.Mean` in float32. The picture shows both curves (they lie on top of
# each other) and their difference.

# %%
fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 4.6), sharex=True,
                                  gridspec_kw={"height_ratios": [3, 1]})
steps = np.arange(1, len(fit_losses) + 1)
top.plot(steps, fit_losses, "-", lw=3, alpha=0.5, label="model.fit")
top.plot(steps, my_losses, "k.", label="my loop")
for e in (8.5, 16.5):
    top.axvline(e, color="gray", lw=0.5)
top.set_ylabel("running loss")
top.set_title("The same 24 steps, written by hand and run by fit (epochs split by lines)")
top.legend()
bottom.plot(steps, np.array(my_losses) - fit_losses, "r.-")
bottom.set_ylabel("difference")
bottom.set_xlabel("batch")
fig.tight_layout()
fig.savefig(os.path.join(workdir, "two_loops.png"), dpi=110)
show(fig)

# %% [markdown]
# ## 3. A running metric, by hand
#
# A Keras metric keeps a *state* across batches: `update_state(y_true, y_pred)` adds a
# batch, `result()` reads the value over everything seen since the last
# `reset_state()`. For the accuracy, the state is two counts.
#
# ### Your turn: the accuracy metric
#
# Fill in `update_state` and `result` of `MyAccuracy`, for integer labels `y_true` of
# shape `(batch,)` and probabilities `y_pred` of shape `(batch, classes)` (a Tensor or
# an array; `np.asarray(y_pred)` gives the array). The predicted class is the index of
# the largest probability in each row.

# %% tags=["exercise"] exercise="accuracy_metric"
class MyAccuracy:
    def __init__(self):
        self.reset_state()

    def reset_state(self):
        self.correct = 0
        self.count = 0

    def update_state(self, y_true, y_pred):
        # add this batch's number of right answers to self.correct and its size to self.count
        raise NotImplementedError

    def result(self):
        # the accuracy over every batch since reset_state
        raise NotImplementedError


# %%
with exercise("accuracy_metric") as ex:
    probs = twin.predict(x_test[:150], verbose=0)
    labels = y_test[:150]
    metric, ref = ex.call(MyAccuracy), keras.metrics.SparseCategoricalAccuracy()
    for start in (0, 50, 100):                # three batches of 50
        ex.call(metric.update_state, labels[start:start + 50], probs[start:start + 50])
        ref.update_state(labels[start:start + 50], probs[start:start + 50])
    got = ex.call(metric.result)
    last_batch = np.mean(np.argmax(probs[100:], axis=1) == labels[100:])
    ex.expect(got is not None, "result() returned None: did it forget to `return`?")
    ex.expect(np.ndim(got) == 0,
              f"result() should be one number, but it has shape {np.shape(got)}: is the "
              "argmax over the classes (axis=-1 or axis=1) of each row?")
    ex.expect(not (np.isclose(got, last_batch) and not np.isclose(got, float(ref.result()))),
              "result() is the accuracy of the last batch only: it must count the right "
              "answers of every batch since reset_state (add to self.correct and "
              "self.count, do not overwrite them).")
    ex.expect_close(got, float(ref.result()), what="the accuracy over three batches",
                    rtol=1e-6, hint="right answers / examples, where the prediction is "
                    "argmax(y_pred, axis=-1) compared with y_true.")
    ex.call(metric.reset_state)
    ex.call(metric.update_state, labels[:10], probs[:10])
    ex.expect_close(ex.call(metric.result), np.mean(np.argmax(probs[:10], -1) == labels[:10]),
                    what="the accuracy after reset_state and one batch of 10", rtol=1e-6)

# %% [markdown]
# ## 4. Gradient clipping by global norm
#
# One bad batch can give a huge gradient and throw the weights far away. Clipping by
# global norm shrinks all gradients together when their joint length is too large:
#
# $$n = \sqrt{\textstyle\sum_i \lVert g_i \rVert^2}, \qquad
#   g_i \leftarrow g_i \cdot \frac{c}{\max(n, c)} .$$
#
# When $n \le c$ nothing changes; otherwise every $g_i$ is scaled by the same factor
# $c/n$, so the direction of the step is kept. Keras does it inside the optimizer with
# `SGD(global_clipnorm=c)`; in a custom loop you can do it between `tape.gradient` and
# `apply_gradients`.
#
# ### Your turn: clip by global norm
#
# Write `clip_by_global_norm(grads, clip)`: `grads` is a list of gradient Tensors (as
# `tape.gradient` returns them); return the list of clipped gradients (Tensors or NumPy
# arrays, each of the same shape as its gradient).

# %% tags=["exercise"] exercise="clip_global_norm"
def clip_by_global_norm(grads, clip):
    # 1. the global norm: the square root of the sum of the squares of ALL elements of all grads
    # 2. the factor clip / max(norm, clip)
    # 3. every gradient times that one factor
    raise NotImplementedError


# %%
with exercise("clip_global_norm") as ex:
    model = build_model()
    with keras.GradientTape() as tape:
        loss = keras.losses.SparseCategoricalCrossentropy()(y_train[:64], model(x_train[:64]))
    grads = tape.gradient(loss, model.trainable_weights)
    arrays = [g.numpy() for g in grads]
    norm = np.sqrt(sum(np.sum(a * a) for a in arrays))
    for clip in (0.25 * norm, 4.0 * norm):    # one that clips, one that must not
        got = ex.call(clip_by_global_norm, grads, clip)
        ex.expect(isinstance(got, (list, tuple)) and len(got) == len(grads),
                  f"return a list of {len(grads)} gradients, one per weight; got "
                  f"{type(got).__name__}.")
        got = [ex.expect_array(g, a.shape, what=f"clipped gradient {k}")
               for k, (g, a) in enumerate(zip(got, arrays))]
        expected = [a * clip / max(norm, clip) for a in arrays]
        if clip > norm:
            ex.expect(all(np.allclose(g, a, rtol=1e-5) for g, a in zip(got, arrays)),
                      "the gradients' global norm is below `clip`, so they must come back "
                      "unchanged: the factor is clip / max(norm, clip), never above 1.")
        per_tensor = [a * min(1.0, clip / np.sqrt(np.sum(a * a))) for a in arrays]
        ex.expect(clip > norm or not all(np.allclose(g, p, rtol=1e-5)
                                         for g, p in zip(got, per_tensor)),
                  "each gradient was clipped by its own norm: the norm must be taken over "
                  "all the gradients together, and one factor applied to all of them.")
        for k, (g, e) in enumerate(zip(got, expected)):
            ex.expect_close(g, e, what=f"clipped gradient {k}", rtol=1e-5,
                            hint="scale every gradient by clip / max(n, c), n the square root "
                                 "of the sum of squares over all gradients.")
    # and the optimizer agrees: one SGD step of rate 1 with global_clipnorm
    clip = 0.25 * norm
    weights = model.trainable_weights
    before = [w.numpy().copy() for w in weights]
    keras.optimizers.SGD(1.0, global_clipnorm=clip).apply_gradients(zip(grads, weights))
    mine = ex.call(clip_by_global_norm, grads, clip)
    for w, w0, g in zip(weights, before, mine):
        ex.expect_close(w0 - np.asarray(g), w, what=f"{w.name} after SGD(global_clipnorm)",
                        rtol=1e-5, atol=1e-7)

# %% [markdown]
# ## 5. More of the tape
#
# **`train_on_batch`** is one `train_step` on one batch, without the loop: the check of
# the first exercise compared your step with it. It returns the loss of that batch
# (and the metrics, when the model has some).

# %%
model = build_model()
model.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
first = [model.train_on_batch(x_train[:64], y_train[:64]) for _ in range(5)]
print("the loss of the same batch over five steps:", np.round(first, 4))
assert all(later < earlier for earlier, later in zip(first, first[1:]))

# %% [markdown]
# **`persistent=True`.** A tape frees its graph after one `gradient` call (the memory is
# needed for the next batch). To ask several questions of one recording, make it
# persistent, and `del` it when done.

# %%
x = keras.Tensor(np.array([0.5, -1.0, 2.0]))
with keras.GradientTape(persistent=True) as tape:
    tape.watch(x)
    square = ops.sum(x * x)
    cube = ops.sum(x * x * x)
d_square = tape.gradient(square, x)
d_cube = tape.gradient(cube, x)          # a second question to the same tape
del tape
print("d sum x^2 / dx =", d_square, "  d sum x^3 / dx =", d_cube)
assert np.allclose(d_square.numpy(), 2 * x.numpy()) and np.allclose(d_cube.numpy(), 3 * x.numpy() ** 2)

# %% [markdown]
# **`watch`.** Weights (trainable `Variable`s) are watched by themselves; to get a
# gradient with respect to anything else, such as the *input image*, watch it. The
# gradient of the true class's probability with respect to the 64 pixels says which
# pixels would change the answer most: a simple saliency map.

# %%
k = 3
image = keras.Tensor(x_test[k:k + 1])
with keras.GradientTape() as tape:
    tape.watch(image)
    p_true = twin(image)[0, int(y_test[k])]
saliency = tape.gradient(p_true, image).numpy().reshape(8, 8)
assert saliency.shape == (8, 8) and np.abs(saliency).max() > 0

fig, (left, right) = plt.subplots(1, 2, figsize=(5.4, 2.8))
left.imshow(x_test[k].reshape(8, 8), cmap="gray_r")
left.set_title(f"a test image: {y_test[k]}")
limit = np.abs(saliency).max()
shown = right.imshow(saliency, cmap="RdBu_r", vmin=-limit, vmax=limit)
right.set_title("d p(true class) / d pixel")
for ax in (left, right):
    ax.axis("off")
fig.colorbar(shown, ax=right, fraction=0.046)
fig.tight_layout()
fig.savefig(os.path.join(workdir, "saliency.png"), dpi=110)
show(fig)

# %% [markdown]
# **`stop_gradient`** passes the value on and cuts the tape: the walk treats it as a
# constant. In $z = x \cdot \mathrm{stop\_gradient}(x)$ the derivative is $x$, not $2x$.

# %%
x = keras.Tensor(np.array(3.0))
with keras.GradientTape() as tape:
    tape.watch(x)
    z = x * ops.stop_gradient(x)
dz = tape.gradient(z, x)
print("z =", z, "  dz/dx =", dz)
assert z.item() == 9.0 and dz.item() == 3.0

# %% [markdown]
# **Gradients of gradients.** While an outer tape records, the inner tape's backward
# walk is recorded too (each op's `backward` is written with ops), so the outer tape can
# differentiate the gradient. For $y = \tanh x$: $y' = 1 - \tanh^2 x$ and
# $y'' = -2 \tanh x \,(1 - \tanh^2 x)$.

# %%
x = keras.Tensor(np.array(0.7))
with keras.GradientTape() as outer:
    outer.watch(x)
    with keras.GradientTape() as inner:
        inner.watch(x)
        y = ops.tanh(x)
    dy = inner.gradient(y, x)
d2y = outer.gradient(dy, x)
t = np.tanh(0.7)
print(f"y' = {dy.item():.6f} (formula {1 - t * t:.6f}),  y'' = {d2y.item():.6f} "
      f"(formula {-2 * t * (1 - t * t):.6f})")
assert np.isclose(dy.item(), 1 - t * t, rtol=1e-12)
assert np.isclose(d2y.item(), -2 * t * (1 - t * t), rtol=1e-12)

# %% [markdown]
# ## Summary
#
# - `fit` is a loop around `train_step`: a tape around the forward pass and the loss,
#   `tape.gradient`, `optimizer.apply_gradients`, then the metrics. Written by hand, it
#   gives the same weights bit for bit (with the batches in the same order).
# - Metrics are running states: `reset_state` each epoch, `update_state` each batch,
#   `result` whenever you like.
# - A custom loop is the place for what `fit` does not do for you, such as clipping the
#   gradients by their global norm between `gradient` and `apply_gradients`.
# - The tape answers one question unless it is `persistent`; it watches weights by
#   itself and anything else on request; `stop_gradient` cuts it; nested tapes give
#   second derivatives.
#
# **Where to go next:** with the loop in your own hands you can change any of its
# pieces: the debugging tools of `minikeras.debug` (`LayerHealth`, `check_numerics`,
# `backward_steps`) attach to exactly this loop. Lesson 11 saves what you trained (and
# writes a callback, the hook `fit` calls after each epoch); lesson 12 writes the
# optimizers that `apply_gradients` runs.
