"""Print what each debugging tool shows on the README's digits model; docs/debugging.md
quotes this output. Run from the repository root: python docs/make_debugging_examples.py"""
import io
import sys

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
