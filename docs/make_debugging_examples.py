"""Print what each debugging tool shows on the README's digits model; docs/debugging.md
quotes this output. Run from the repository root: python docs/make_debugging_examples.py"""
import numpy as np

import minikeras as keras
from minikeras import debug, layers, ops
from minikeras.datasets import digits

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
