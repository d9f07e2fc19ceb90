"""Train a small neural network on the bundled handwritten digits, from scratch.

Everything here is visible: the weights are minikeras Variables, the forward pass is a few
ops, GradientTape records it, ``tape.gradient`` runs the backward pass, and the update is
plain SGD with momentum written out. Run::

    python examples/digits_from_scratch.py            # 30 epochs, prints the test accuracy
    python examples/digits_from_scratch.py --epochs 5 --plot curves.png
"""
import argparse
import math

import numpy as np

import minikeras as keras
from minikeras import ops
from minikeras.datasets import digits


def glorot_uniform(rng, fan_in, fan_out):
    """Keras's default kernel initializer: U(-limit, limit), limit = sqrt(6 / (in + out))."""
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype("float32")


class MLP:
    """64 -> 64 (ReLU) -> 10 logits."""

    def __init__(self, rng, sizes=(64, 64, 10)):
        self.weights = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            self.weights.append(keras.Variable(glorot_uniform(rng, n_in, n_out), name=f"kernel_{i}"))
            self.weights.append(keras.Variable(np.zeros(n_out, "float32"), name=f"bias_{i}"))

    def __call__(self, x):
        w1, b1, w2, b2 = self.weights
        h = ops.relu(x @ w1 + b1)
        return h @ w2 + b2


def cross_entropy(logits, labels):
    """Mean of -log softmax(logits)[label], computed stably with log_softmax."""
    log_probs = ops.log_softmax(logits, axis=-1)
    picked = ops.take_along_axis(log_probs, ops.expand_dims(labels, -1), axis=-1)
    return -ops.mean(picked)


def accuracy(model, x, y):
    with keras.no_grad():
        return float(np.mean(np.argmax(model(x).numpy(), axis=-1) == y))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default="digits_training.png",
                        help="where to save the training curves (needs matplotlib)")
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    x_train = x_train.reshape(len(x_train), -1).astype("float32") / 16.0
    x_test = x_test.reshape(len(x_test), -1).astype("float32") / 16.0
    y_train, y_test = y_train.astype("int32"), y_test.astype("int32")
    print(f"digits: {len(x_train)} training and {len(x_test)} test images of 8x8 pixels")

    model = MLP(rng)
    velocity = [np.zeros_like(w.numpy()) for w in model.weights]
    steps = math.ceil(len(x_train) / args.batch_size)
    history = {"loss": [], "accuracy": [], "val_accuracy": []}
    for epoch in range(args.epochs):
        print(f"Epoch {epoch + 1}/{args.epochs}")
        bar = keras.utils.Progbar(steps, stateful_metrics=["loss", "accuracy"])
        order = rng.permutation(len(x_train))
        seen = correct = 0
        loss_sum = 0.0
        for step in range(steps):
            idx = order[step * args.batch_size:(step + 1) * args.batch_size]
            xb, yb = keras.Tensor(x_train[idx]), keras.Tensor(y_train[idx])
            with keras.GradientTape() as tape:
                logits = model(xb)
                loss = cross_entropy(logits, yb)
            grads = tape.gradient(loss, model.weights)
            with keras.no_grad():  # SGD with momentum: v = m·v - lr·g; w += v
                for w, g, v in zip(model.weights, grads, velocity):
                    v *= args.momentum
                    v -= args.lr * g.numpy()
                    w.assign_add(v)
            seen += len(idx)
            loss_sum += loss.item() * len(idx)
            correct += int(np.sum(np.argmax(logits.numpy(), -1) == y_train[idx]))
            bar.update(step + 1, [("accuracy", correct / seen), ("loss", loss_sum / seen)])
        history["loss"].append(loss_sum / seen)
        history["accuracy"].append(correct / seen)
        history["val_accuracy"].append(accuracy(model, keras.Tensor(x_test), y_test))

    test_acc = accuracy(model, keras.Tensor(x_test), y_test)
    print(f"test accuracy: {test_acc:.4f}")
    _plot(history, args.plot)
    return test_acc


def _plot(history, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib is not installed: no plot; pip install matplotlib to get one)")
        return
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.5))
    a.plot(history["loss"], label="training loss")
    a.set_xlabel("epoch")
    a.legend()
    b.plot(history["accuracy"], label="training accuracy")
    b.plot(history["val_accuracy"], label="test accuracy")
    b.set_xlabel("epoch")
    b.legend()
    fig.tight_layout()
    fig.savefig(path)
    print(f"training curves saved to {path}")


if __name__ == "__main__":
    main()
