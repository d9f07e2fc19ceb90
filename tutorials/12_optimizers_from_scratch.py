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
# # Lesson 12: Optimizers from scratch
#
# The tape gives a gradient; the optimizer decides what step to take with it. This
# lesson writes the classic rules as a few lines of NumPy each, watches them walk down a
# long narrow valley, checks them number for number against `keras.optimizers`, then adds
# learning-rate schedules and compares SGD with Adam on the digits.
#
# **What you will learn**
#
# - the update rules of SGD, momentum, Nesterov momentum, RMSprop and Adam, in the form
#   Keras uses (where the learning rate and epsilon sit matters);
# - why momentum and per-coordinate scaling help in a narrow valley (a picture);
# - how `keras.optimizers.schedules` change the learning rate step by step, and what a
#   warm-up is for.
#
# **Prerequisites:** lesson 02 (a Keras model with `fit`) and lesson 10 (what
# `optimizer.apply_gradients` does inside a training loop) help; the maths is a gradient
# and a running average.
#
# **Time:** about 45 minutes.

# %%
import math
import os
import tempfile

import numpy as np
from matplotlib.figure import Figure

import minikeras as keras
from minikeras import layers
from exercises import exercise, optional, show

OUT = tempfile.mkdtemp()          # the pictures of this lesson go here
keras.utils.set_random_seed(0)

# %% [markdown]
# ## 1. A narrow valley
#
# Our test function is an elongated bowl, 50 times steeper across than along:
#
# $$f(x, y) = \tfrac12 (x^2 + 50\,y^2), \qquad \nabla f = (x,\ 50\,y).$$
#
# Its minimum is at $(0, 0)$. Plain gradient descent, $w \leftarrow w - \eta\,\nabla f(w)$,
# is stable only while $\eta < 2/50 = 0.04$ (the steep direction). At $\eta = 0.038$
# the steep coordinate $y$ is multiplied by $1 - 50\eta = -0.9$ at each step (it flips
# sign: a zig-zag) and the flat one $x$ by $1 - \eta = 0.962$: a crawl.

# %%
CURVATURE = np.array([1.0, 50.0])


def f(w):
    return 0.5 * np.sum(CURVATURE * w * w)


def grad_f(w):
    return CURVATURE * w


START = np.array([-4.5, 1.0])


def walk(step, n_steps=50, **hyper):
    """Run an update rule from START. ``step(w, g, state, **hyper)`` returns the new w
    and updates ``state`` (a dict: the rule's running averages) in place."""
    w, state, path = START.copy(), {}, [START.copy()]
    for t in range(1, n_steps + 1):
        state["t"] = t
        w = step(w, grad_f(w), state, **hyper)
        path.append(w.copy())
    return np.array(path)


def sgd(w, g, state, lr):
    return w - lr * g


sgd_path = walk(sgd, lr=0.038)
print("after 50 steps of SGD:", sgd_path[-1], "f =", f(sgd_path[-1]))
assert abs(sgd_path[-1][0] - START[0] * 0.962 ** 50) < 1e-12   # x shrinks by 0.962 a step
assert np.allclose(sgd_path[1:, 1] / sgd_path[:-1, 1], -0.9)       # y flips and shrinks by 0.9

# %% [markdown]
# ## 2. Momentum and Nesterov
#
# Momentum keeps a velocity $m$, a decaying sum of past steps, so that steps that agree
# add up (along the valley) and steps that alternate cancel (across it). Keras writes it
# with the learning rate *inside* the velocity:
#
# $$m \leftarrow \mu\, m - \eta\, g, \qquad w \leftarrow w + m.$$
#
# Nesterov's variant takes the step from where the velocity is about to carry the
# weights: $w \leftarrow w + (\mu\, m - \eta\, g)$ with the new $m$.

# %%
def momentum(w, g, state, lr, mu, nesterov=False):
    m = state.get("m", np.zeros_like(w))
    m = mu * m - lr * g
    state["m"] = m
    if nesterov:
        return w + (mu * m - lr * g)
    return w + m


momentum_path = walk(momentum, lr=0.02, mu=0.8)
nesterov_path = walk(momentum, lr=0.02, mu=0.8, nesterov=True)
for name, path in [("SGD", sgd_path), ("momentum", momentum_path), ("Nesterov", nesterov_path)]:
    print(f"{name:<9} f after 50 steps: {f(path[-1]):.2e}")
assert f(momentum_path[-1]) < f(sgd_path[-1]) / 100
assert f(nesterov_path[-1]) < f(sgd_path[-1]) / 100

# %% [markdown]
# ## 3. RMSprop: a step size per coordinate
#
# Another cure for the valley: divide each coordinate's gradient by a running average of
# its own size. The steep coordinate gets a small step, the flat one a large step.
# Keras's RMSprop (epsilon *inside* the square root):
#
# $$v \leftarrow \rho\, v + (1 - \rho)\, g^2, \qquad
#   w \leftarrow w - \eta\, \frac{g}{\sqrt{v + \epsilon}}.$$

# %%
def rmsprop(w, g, state, lr, rho=0.9, epsilon=1e-7):
    v = state.get("v", np.zeros_like(w))
    v = rho * v + (1 - rho) * g * g
    state["v"] = v
    return w - lr * g / np.sqrt(v + epsilon)


rmsprop_path = walk(rmsprop, lr=0.2)
print(f"RMSprop   f after 50 steps: {f(rmsprop_path[-1]):.2e}")
assert f(rmsprop_path[-1]) < f(sgd_path[-1]) / 100
first_step = rmsprop_path[1] - rmsprop_path[0]
print("first RMSprop step:", first_step)
assert np.allclose(np.abs(first_step), 0.2 / math.sqrt(0.1), rtol=1e-5)  # same size in x and y

# %% [markdown]
# Look at the first step: $|g| / \sqrt{0.1\, g^2} = \sqrt{10}$ for *both* coordinates.
# RMSprop's steps depend on the sign and the consistency of the gradient, not on its
# size.
#
# ## 4. Adam
#
# Adam is momentum and RMSprop together. It keeps a running mean $m$ of the gradients and
# a running mean $v$ of their squares, both starting at 0. Because they start at 0 they
# are too small in the first steps, by the factors $1 - \beta_1^t$ and $1 - \beta_2^t$
# at step $t = 1, 2, 3, \dots$; Adam divides those out (the *bias correction*). Keras
# folds the correction into the learning rate and adds $\epsilon$ to the *uncorrected*
# $\sqrt{v}$ (PyTorch adds it to the corrected one, so the same $\epsilon$ weighs a
# little differently):
#
# $$m \leftarrow \beta_1 m + (1 - \beta_1)\, g, \qquad
#   v \leftarrow \beta_2 v + (1 - \beta_2)\, g^2,$$
# $$\alpha_t = \eta\, \frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t}, \qquad
#   w \leftarrow w - \alpha_t\, \frac{m}{\sqrt{v} + \epsilon}.$$
#
# ### Your turn: write Adam's update
#
# `adam_update` takes the weights `w`, the gradient `g`, the moments `m` and `v` of the
# previous step and the step number `t` (1 for the first update); it returns the new
# `(w, m, v)` as NumPy arrays. The check runs five steps of it on random weights and
# gradients next to `keras.optimizers.Adam` on a Variable holding the same weights.

# %% tags=["exercise"] exercise="adam_update"
def adam_update(w, g, m, v, t, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    # 1. the new m and v (running means of g and of g * g);
    # 2. alpha = lr * sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t);
    # 3. the new w = w - alpha * m / (sqrt(v) + epsilon).
    # return w, m, v
    raise NotImplementedError


# %% [markdown]
# A detail the check takes care of: a Keras optimizer keeps its learning rate in a
# float32 Variable, so `learning_rate=0.001` is used as `float(np.float32(0.001))`
# $= 0.0010000000474974513$. With that number and float64 weights, your NumPy and the
# library agree to the last bit.

# %%
def keras_steps(optimizer, w0, gradients):
    """The weights after each update of a Keras optimizer that starts from w0."""
    w = keras.Variable(w0.copy(), dtype="float64")
    after = []
    for g in gradients:
        optimizer.apply_gradients([(keras.Tensor(g), w)])
        after.append(w.numpy().copy())
    return after


LR32 = float(np.float32(0.001))     # the learning rate as the optimizer stores it

with exercise("adam_update") as ex:
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(3, 2))
    gradients = [rng.normal(size=(3, 2)) * 1e-3 for _ in range(5)]
    expected = keras_steps(keras.optimizers.Adam(learning_rate=0.001), w0, gradients)
    w, m, v = w0.copy(), np.zeros_like(w0), np.zeros_like(w0)
    for t, g in enumerate(gradients, start=1):
        result = ex.call(adam_update, w, g, m, v, t, lr=LR32)
        ex.expect(isinstance(result, tuple) and len(result) == 3,
                  f"adam_update should return the tuple (w, m, v), but it returned "
                  f"{type(result).__name__}.")
        w_before = w
        w, m, v = (ex.expect_array(a, (3, 2), what=name) for a, name in zip(result, "wmv"))
        if np.allclose(w, expected[t - 1], rtol=1e-9, atol=0):
            continue
        # Not equal: look for the usual slips and name the one that fits.
        m_t = sum(0.1 * 0.9 ** (t - k) * gradients[k - 1] for k in range(1, t + 1))
        v_t = sum(0.001 * 0.999 ** (t - k) * gradients[k - 1] ** 2 for k in range(1, t + 1))
        ex.expect(np.allclose(m, m_t, rtol=1e-9),
                  f"at step {t} your m is not the running mean of the gradients: "
                  "m = beta_1 * m + (1 - beta_1) * g, from the m of the step before.")
        ex.expect(np.allclose(v, v_t, rtol=1e-9),
                  f"at step {t} your v is not the running mean of g * g: "
                  "v = beta_2 * v + (1 - beta_2) * g * g (the square of g, not of m).")
        corrected = w_before - LR32 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t))
                                                             + 1e-7)
        ex.expect(not np.allclose(w, corrected, rtol=1e-9, atol=0),
                  f"your step is PyTorch's form: epsilon added to the bias-corrected "
                  f"sqrt(v_hat). Keras adds it to sqrt(v) itself and corrects through "
                  f"alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t); with gradients "
                  f"of 1e-3 that moves the weights by {np.abs(w - expected[t - 1]).max():.1e}.")
        alpha_t = LR32 * math.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
        inside = w_before - alpha_t * m / np.sqrt(v + 1e-7)
        ex.expect(not np.allclose(w, inside, rtol=1e-9, atol=0),
                  "your epsilon is inside the square root, sqrt(v + epsilon), as in RMSprop; "
                  "Adam (Keras's form) adds it outside: sqrt(v) + epsilon.")
        ex.fail(f"m and v are right, but after step {t} your weights differ from "
                f"keras.optimizers.Adam's by up to {np.abs(w - expected[t - 1]).max():.2g}"
                + (f" ({'steps 1 to ' if t > 2 else 'step '}{t - 1} matched). Is the bias correction using the "
                   "step count t (1, 2, 3, ...) and not a fixed number?" if t > 1 else
                   ". Check alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t) and the "
                   "step w - alpha * m / (sqrt(v) + epsilon)."))

# %% [markdown]
# Adam on the valley, with a large learning rate for this toy problem:

# %%
def adam(w, g, state, lr):
    m, v = state.get("m", np.zeros_like(w)), state.get("v", np.zeros_like(w))
    w, state["m"], state["v"] = adam_update(w, g, m, v, state["t"], lr=lr)
    return w


adam_path = walk(adam, lr=0.3)
print(f"Adam      f after 50 steps: {f(adam_path[-1]):.2e}")
assert f(adam_path[-1]) < f(sgd_path[-1])

# %% [markdown]
# ## 5. The five walks
#
# The contour lines are the valley; each path starts at the black dot.

# %%
paths = {"SGD (lr 0.038)": sgd_path, "momentum (lr 0.02, μ 0.8)": momentum_path,
         "Nesterov (lr 0.02, μ 0.8)": nesterov_path, "RMSprop (lr 0.2)": rmsprop_path,
         "Adam (lr 0.3)": adam_path}
fig = Figure(figsize=(10, 4.2))
contour, curves = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1]})
X, Y = np.meshgrid(np.linspace(-5, 1.5, 200), np.linspace(-1.3, 1.3, 200))
contour.contour(X, Y, 0.5 * (X ** 2 + 50 * Y ** 2), levels=np.geomspace(0.01, 60, 14),
                colors="lightgray", linewidths=0.8)
for name, path in paths.items():
    contour.plot(path[:, 0], path[:, 1], marker=".", markersize=3, linewidth=1, label=name)
    curves.semilogy([f(w) for w in path], label=name)
contour.plot(*START, "ko"), contour.plot(0, 0, "k*", markersize=10)
contour.set_title("50 steps on f(x, y) = ½(x² + 50y²)"), contour.legend(fontsize=7)
curves.set_title("f along the way"), curves.set_xlabel("step"), curves.grid(alpha=0.3)
fig.tight_layout()
fig.savefig(os.path.join(OUT, "trajectories.png"), dpi=100)
show(fig)

# %% [markdown]
# SGD zig-zags across the valley (its steps there are almost too big) and crawls along
# it. Momentum swings across and back a few times, but its velocity builds up along the
# valley; Nesterov's look-ahead damps the swinging. RMSprop heads straight for the
# minimum: every coordinate gets a step of about the same size. Adam starts like
# RMSprop, but its momentum ($\beta_1 = 0.9$) carries it past the minimum and it circles
# back: on this toy problem its default momentum is too much for a learning rate of 0.3.
# Near the minimum the adaptive rules cannot settle exactly, their steps stay near the
# learning rate; that is what the schedules of section 7 are for.
#
# ## 6. The same rules inside `keras.optimizers`
#
# Each rule above is one of the library's (`minikeras/optim/rules.py`, each beside its
# formula). Run both on the same weights and gradients and compare after each step:

# %%
rng = np.random.default_rng(1)
w0 = rng.normal(size=(4, 3))
gradients = [rng.normal(size=(4, 3)) for _ in range(6)]


def numpy_steps(step, w0, gradients, **hyper):
    w, state, after = w0.copy(), {}, []
    for t, g in enumerate(gradients, start=1):
        state["t"] = t
        w = step(w, g, state, **hyper)
        after.append(w)
    return after


lr = float(np.float32(0.1))          # as the optimizer stores it
pairs = {
    "SGD": (keras.optimizers.SGD(0.1), numpy_steps(sgd, w0, gradients, lr=lr)),
    "SGD(momentum=0.9)": (keras.optimizers.SGD(0.1, momentum=0.9),
                          numpy_steps(momentum, w0, gradients, lr=lr, mu=0.9)),
    "SGD(momentum=0.9, nesterov=True)": (
        keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
        numpy_steps(momentum, w0, gradients, lr=lr, mu=0.9, nesterov=True)),
    "RMSprop": (keras.optimizers.RMSprop(0.1), numpy_steps(rmsprop, w0, gradients, lr=lr)),
    "Adam": (keras.optimizers.Adam(0.1), numpy_steps(adam, w0, gradients, lr=lr)),
}
for name, (optimizer, ours) in pairs.items():
    theirs = keras_steps(optimizer, w0, gradients)
    worst = max(np.abs(a - b).max() for a, b in zip(ours, theirs))
    print(f"{name:<34} largest difference over {len(gradients)} steps: {worst:.1e}")
    assert worst < 1e-12, name

# %% [markdown]
# Equal to rounding (most of them bit for bit). Two conventions to remember when you
# read a paper or port a model from PyTorch: Keras's momentum puts the learning rate
# inside the velocity (PyTorch's does not: the two agree only while the learning rate is
# constant), and Keras's Adam adds $\epsilon$ before the bias correction. Here is how
# much the epsilon placement matters when the gradients are tiny:

# %%
def adam_pytorch_form(w, g, m, v, t, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g * g
    m_hat, v_hat = m / (1 - beta_1 ** t), v / (1 - beta_2 ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + epsilon), m, v


for scale in [1.0, 1e-6]:
    g = np.full(3, scale)
    zero = np.zeros(3)
    step_keras = adam_update(zero, g, zero, zero, 1, lr=1.0)[0][0]
    step_torch = adam_pytorch_form(zero, g, zero, zero, 1, lr=1.0)[0][0]
    print(f"gradient {scale:g}: first step {step_keras:.4f} (Keras's form), "
          f"{step_torch:.4f} (PyTorch's form)")
assert abs(adam_update(zero, g, zero, zero, 1, lr=1.0)[0][0]
           - adam_pytorch_form(zero, g, zero, zero, 1, lr=1.0)[0][0]) > 0.1

# %% [markdown]
# ## 7. Learning-rate schedules
#
# A schedule is a function of the optimizer's step counter (`optimizer.iterations`, 0
# during the first update): pass it as `learning_rate` and the optimizer calls it at
# every update. `keras.optimizers.schedules` has the usual shapes:

# %%
schedules = keras.optimizers.schedules
steps = np.arange(0, 1001)
shapes = {
    "ExponentialDecay(0.1, 200, 0.5)": schedules.ExponentialDecay(0.1, decay_steps=200,
                                                                  decay_rate=0.5),
    "… staircase=True": schedules.ExponentialDecay(0.1, 200, 0.5, staircase=True),
    "PiecewiseConstantDecay": schedules.PiecewiseConstantDecay([300, 600],
                                                               [0.1, 0.03, 0.01]),
    "CosineDecay(0.1, 1000)": schedules.CosineDecay(0.1, decay_steps=1000),
    "CosineDecay, 100 steps of warm-up": schedules.CosineDecay(
        0.0, decay_steps=900, warmup_target=0.1, warmup_steps=100),
}
fig = Figure(figsize=(7, 3.6))
ax = fig.subplots()
for name, schedule in shapes.items():
    ax.plot(steps, [float(schedule(int(s))) for s in steps], label=name)
ax.set_xlabel("optimizer step"), ax.set_ylabel("learning rate"), ax.legend(fontsize=8)
ax.grid(alpha=0.3)
fig.tight_layout()
fig.savefig(os.path.join(OUT, "schedules.png"), dpi=100)
show(fig)
exponential = shapes["ExponentialDecay(0.1, 200, 0.5)"]
assert abs(float(exponential(400)) - 0.1 * 0.5 ** 2) < 1e-8      # halves every 200 steps
assert float(shapes["CosineDecay(0.1, 1000)"](1000)) == 0.0

# %% [markdown]
# The optimizer really uses it: its `learning_rate` is the schedule's value at its own
# step counter.

# %%
sgd_scheduled = keras.optimizers.SGD(learning_rate=exponential)
w = keras.Variable(np.ones(2, dtype="float32"))
for _ in range(400):
    sgd_scheduled.apply_gradients([(keras.Tensor(np.zeros(2, dtype="float32")), w)])
print("after 400 updates:", int(sgd_scheduled.iterations.numpy()), "iterations, lr =",
      float(sgd_scheduled.learning_rate))
assert float(sgd_scheduled.learning_rate) == float(exponential(400))

# %% [markdown]
# **Why warm up?** In its first steps Adam's $v$ rests on one or two gradients, and in a
# fresh network those gradients are large and not yet typical; a full-size learning rate
# then throws the weights far. Starting from a small rate and raising it linearly over
# the first few hundred steps (then decaying, often with a cosine) is the usual recipe
# for transformers and large batches.
#
# ### Your turn: a cosine schedule with warm-up
#
# Write `warmup_cosine(step, peak, warmup_steps, decay_steps, alpha=0.0)` for a whole
# number `step`:
#
# - while `step < warmup_steps`: $\text{peak} \cdot \text{step} / \text{warmup\_steps}$
#   (a line from 0 up to the peak);
# - then, with $s = \min(\text{step} - \text{warmup\_steps},\ \text{decay\_steps})$:
#   $\text{peak} \cdot \big((1 - \alpha) \cdot \tfrac12 (1 + \cos(\pi\, s /
#   \text{decay\_steps})) + \alpha\big)$, from the peak down to $\alpha \cdot$ peak, where
#   it stays.
#
# The check compares it, step by step, with
# `CosineDecay(0.0, decay_steps, alpha, warmup_target=peak, warmup_steps=warmup_steps)`.

# %% tags=["exercise"] exercise="warmup_cosine"
def warmup_cosine(step, peak, warmup_steps, decay_steps, alpha=0.0):
    # if step < warmup_steps: return the warm-up line;
    # otherwise s = min(step - warmup_steps, decay_steps) and return the cosine formula.
    raise NotImplementedError


# %%
with exercise("warmup_cosine") as ex:
    for peak, warmup, decay, alpha in [(0.1, 50, 200, 0.0), (2e-3, 10, 90, 0.1)]:
        reference = schedules.CosineDecay(0.0, decay_steps=decay, alpha=alpha,
                                          warmup_target=peak, warmup_steps=warmup)
        for step in range(0, warmup + decay + 40):
            got = ex.call(warmup_cosine, step, peak, warmup, decay, alpha)
            want = float(reference(step))
            got = float(ex.expect_array(got, (), what=f"warmup_cosine(step={step})"))
            if math.isclose(got, want, rel_tol=1e-5, abs_tol=1e-6 * peak):  # float32
                continue
            phase = ("during the warm-up (the line from 0 to the peak: peak * step / "
                     "warmup_steps)" if step < warmup else
                     "during the decay (is the cosine's step counted from the end of the "
                     "warm-up, s = step - warmup_steps, and is the floor there: "
                     "peak * ((1 - alpha) * cosine + alpha)?)" if step <= warmup + decay else
                     "after the decay has ended (the rate should stay at alpha * peak: "
                     "clamp s at decay_steps)")
            ex.fail(f"with peak={peak}, warmup_steps={warmup}, decay_steps={decay}, "
                    f"alpha={alpha}: at step {step} you give {got:.6g}, the library "
                    f"{want:.6g}. That is {phase}.")

# %% [markdown]
# ## 8. SGD against Adam on the digits
#
# Finally, a real network: the digits, a small MLP, the same seed and 15 epochs with each
# optimizer. `keras.utils.plot_history` draws the curves of one run (training and
# validation); the figure after it puts the three validation curves side by side.

# %%
(x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
x_train = (x_train.reshape(-1, 64) / 16.0).astype("float32")
x_test = (x_test.reshape(-1, 64) / 16.0).astype("float32")


def train(optimizer):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), layers.Dense(64, activation="relu"),
                              layers.Dense(10)])
    model.compile(optimizer=optimizer, metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model.fit(x_train, y_train, epochs=15, batch_size=32,
                     validation_data=(x_test, y_test), verbose=0)


runs = {"SGD(0.01)": train(keras.optimizers.SGD(0.01)),
        "SGD(0.01, momentum=0.9)": train(keras.optimizers.SGD(0.01, momentum=0.9)),
        "Adam(0.001)": train(keras.optimizers.Adam(0.001))}
for name, history in runs.items():
    print(f"{name:<25} validation accuracy after 15 epochs: "
          f"{history.history['val_accuracy'][-1]:.3f}")
assert runs["Adam(0.001)"].history["val_accuracy"][-1] > 0.9
final = {name: history.history["val_accuracy"][-1] for name, history in runs.items()}
assert final["SGD(0.01)"] + 0.03 < min(final["Adam(0.001)"], final["SGD(0.01, momentum=0.9)"])
keras.utils.plot_history(runs["Adam(0.001)"], to_file=os.path.join(OUT, "adam_history.png"))

# %%
fig = Figure(figsize=(6, 3.5))
ax = fig.subplots()
for name, history in runs.items():
    ax.plot(range(1, 16), history.history["val_accuracy"], marker="o", markersize=3,
            label=name)
ax.set_xlabel("epoch"), ax.set_ylabel("validation accuracy"), ax.legend()
ax.grid(alpha=0.3)
fig.tight_layout()
fig.savefig(os.path.join(OUT, "sgd_vs_adam.png"), dpi=100)
show(fig)

# %% [markdown]
# With these learning rates Adam and SGD with momentum get there in a few epochs, while
# plain SGD is still climbing after 15. That is not a ranking of the optimizers: plain
# SGD's learning rate can be tuned up, and well-tuned SGD with momentum often generalises
# as well as Adam. Adam is the usual first choice because its steps have the size of the
# learning rate whatever the scale of the gradients, so its default rarely needs tuning.
#
# ## Summary
#
# | rule | state per weight | update (Keras's form) |
# |---|---|---|
# | SGD | none | $w \leftarrow w - \eta g$ |
# | momentum | $m$ | $m \leftarrow \mu m - \eta g;\ w \leftarrow w + m$ |
# | Nesterov | $m$ | the same $m$; $w \leftarrow w + \mu m - \eta g$ |
# | RMSprop | $v$ | $v \leftarrow \rho v + (1-\rho) g^2;\ w \leftarrow w - \eta g / \sqrt{v + \epsilon}$ |
# | Adam | $m, v$ | $\alpha_t = \eta \sqrt{1-\beta_2^t}/(1-\beta_1^t);\ w \leftarrow w - \alpha_t m / (\sqrt v + \epsilon)$ |
#
# A schedule is a function of the step counter passed as `learning_rate`; warm-up then
# cosine decay is the common recipe. The library's rules are in
# `minikeras/optim/rules.py`, the schedules in `minikeras/schedules.py`: each a few
# lines beside its formula, and now you can read them.
#
# **Where to go next:** lesson 05 shows the tools to use when training goes wrong (an
# exploding loss is often a learning rate too large for the rule); lesson 10 writes the
# training loop that calls `apply_gradients`; the other rules in `rules.py` (AdamW's
# decoupled weight decay, Nadam, Lion) are each one step from the ones written here.
