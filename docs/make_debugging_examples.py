"""What each debugging tool shows on the README's digits model, and the pictures of
docs/debugging.md (docs/images/). Run from the repository root:

    python docs/make_debugging_examples.py            # print the outputs
    python docs/make_debugging_examples.py --write    # and put them into docs/debugging.md

Each output is a part headed ``## name``; with ``--write``, the text block that follows
``<!-- output: name -->`` in docs/debugging.md is replaced by that part."""
import io
import os
import re
import sys

import numpy as np

import minikeras as keras
from minikeras import debug, layers, ops
from minikeras.datasets import digits

DOC = "docs/debugging.md"


class Tee(io.StringIO):
    """Standard output, kept as well as printed."""

    def write(self, text):
        sys.__stdout__.write(text)
        return super().write(text)


sys.stdout = captured = Tee()
keras.utils.set_random_seed(0)
(x_train, y_train), _ = digits.load_data()
model = keras.Sequential([
    keras.Input(shape=(8, 8)),
    layers.Flatten(),
    layers.Rescaling(1 / 16),
    layers.Dense(16, activation="relu"),
    layers.Dense(10, activation="softmax"),
])
loss_fn = keras.losses.SparseCategoricalCrossentropy()
x, y = x_train[:4].astype("float32"), y_train[:4]

print("## backward_steps\n")
with keras.GradientTape() as tape:
    loss = loss_fn(y, model(x, training=True))
steps = debug.backward_steps(loss)
for step in steps:
    if step.op in ("Add", "Relu"):
        print(step, "\n")
print(f"({steps.total} steps in all)\n")

print("## step_backward\n")


class Typed(io.StringIO):
    """Commands read as if typed at the prompt: each one is echoed after it."""

    def readline(self):
        line = super().readline()
        sys.stdout.write(line)
        return line


commands = "b dense_1\nc\nc\nrule\nw\np dense_1/bias\nl\nfoo\nq\n"
debug.step_backward(loss, stdin=Typed(commands))

print("\n## compare\n")


class MyRelu(ops.nn.Relu):
    """A student's ReLU: its rule lets the gradient through everywhere."""

    def backward(self, g):
        return g


student = keras.Sequential([keras.Input(shape=(8, 8)), layers.Flatten(), layers.Rescaling(1 / 16),
                            layers.Dense(16, activation=lambda t: MyRelu()(t)),
                            layers.Dense(10, activation="softmax")])
student.set_weights(model.get_weights())
reference = debug.record(lambda: loss_fn(y, model(x)))
print(debug.compare(reference, debug.record(lambda: loss_fn(y, student(x)))), "\n")

print("## compare in float64\n")

keras.config.set_floatx("float64")
model64 = keras.Sequential([keras.Input(shape=(8, 8)), layers.Flatten(), layers.Rescaling(1 / 16),
                            layers.Dense(16, activation="relu"),
                            layers.Dense(10, activation="softmax")])
model64.set_weights([w.astype("float64") for w in model.get_weights()])
loss64 = keras.losses.SparseCategoricalCrossentropy()
in64 = debug.record(lambda: loss64(y, model64(x.astype("float64"))))
keras.config.set_floatx("float32")
print(debug.compare(reference, in64, rtol=1e-4, atol=1e-6), "\n")
print(debug.compare(reference, in64, rtol=1e-9, atol=0), "\n")

print("## check_node_gradients\n")
print(debug.check_node_gradients(loss), "\n")

print("## print_tape\n")
debug.print_tape(loss)

print("\n## check_numerics\n")
a = keras.Tensor(np.array([1.0, 4.0, 0.0], np.float32), requires_grad=True)
try:
    with debug.check_numerics():
        ops.sum(ops.sqrt(a) * 3.0).backward()
except debug.NumericsError as e:
    print(e)

IMAGES = "docs/images/"   # the pictures docs/debugging.md shows (run from the repository root)

print("\n## plot_tape, layer calls as boxes\n")
print(debug.plot_tape(loss, to_file=IMAGES + "tape.svg"))

print("\n## plot_model\n")
print(keras.utils.plot_model(model, to_file=IMAGES + "model.png", show_shapes=True,
                             show_layer_names=True, show_layer_activations=True, dpi=72))

print("\n## check_gradients(model, x, y)\n")
print(keras.utils.check_gradients(model, x, y, loss=loss_fn))

print("\n## LayerHealth\n")
keras.utils.set_random_seed(0)
trained = keras.Sequential([
    keras.Input(shape=(8, 8)),
    layers.Flatten(),
    layers.Rescaling(1 / 16),
    layers.Dense(16, activation="relu"),
    layers.Dense(10, activation="softmax"),
])
trained.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
health = debug.LayerHealth(every=5, verbose=0)
history = trained.fit(x_train, y_train, epochs=10, batch_size=32, validation_split=0.1,
                      verbose=0, callbacks=[health])
print(health.table())
debug.plot_layer_health(health, to_file=IMAGES + "layer_health.png")
keras.utils.plot_history(history, to_file=IMAGES + "digits_history.png")
print("\n## trace\n")
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.train_on_batch(x, y)          # the first step builds the optimizer: trace the second
with debug.trace() as t:
    model.train_on_batch(x, y)
lines = str(t).splitlines()
walk = next(i for i, line in enumerate(lines) if "(the walk over the tape" in line)
update = next(i for i, line in enumerate(lines) if "Adam.apply" in line)
print("\n".join(lines[:21] + ["..."] + lines[walk:walk + 3] + ["..."]
                + lines[update - 14:update + 3] + ["..."]), "\n")
print(t.table(limit=6))


def write_outputs(path, text):
    """Replace each marked text block of ``path`` with the part of ``text`` it names."""
    parts = dict(re.findall(r"^## (.+?)\n(.*?)(?=^## |\Z)", text, re.S | re.M))
    doc = open(path).read()

    def block(m):
        name = m.group(1)
        if name not in parts:
            raise SystemExit(f"{path}: no output named {name!r}; there are {sorted(parts)}")
        lines = [line.rstrip() for line in parts[name].strip().splitlines()]
        return f"<!-- output: {name} -->\n```text\n" + "\n".join(lines) + "\n```"

    new = re.sub(r"<!-- output: (.+?) -->\n```text\n.*?```", block, doc, flags=re.S)
    with open(path + ".tmp", "w") as f:
        f.write(new)
    os.replace(path + ".tmp", path)


sys.stdout = sys.__stdout__
if "--write" in sys.argv:
    write_outputs(DOC, captured.getvalue())
