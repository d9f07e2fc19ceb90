"""Train a classifier on the bundled handwritten digits with the Keras API.

This is ordinary Keras code: replace the import with ``import keras`` and it runs on Keras 3.
Run::

    python examples/train_digits.py                 # prints the test accuracy
    python examples/train_digits.py --epochs 5 --plot curves.png
"""
import argparse

import numpy as np

import minikeras as keras
from minikeras import layers
from minikeras.datasets import digits


def build_model():
    return keras.Sequential([
        keras.Input(shape=(8, 8)),
        layers.Flatten(),
        layers.Rescaling(1.0 / 16),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(64, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default="digits_training.png",
                        help="where to save the training curves (needs matplotlib)")
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    print(f"digits: {len(x_train)} training and {len(x_test)} test images of 8x8 pixels")

    model = build_model()
    model.summary()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
                        validation_split=0.1)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test loss: {loss:.4f} - test accuracy: {accuracy:.4f}")
    _plot(history.history, args.plot)
    return accuracy


def _plot(history, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib is not installed: no plot; pip install matplotlib to get one)")
        return
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.5))
    epochs = np.arange(1, len(history["loss"]) + 1)
    a.plot(epochs, history["loss"], label="loss")
    a.plot(epochs, history["val_loss"], label="val_loss")
    a.set_xlabel("epoch")
    a.legend()
    b.plot(epochs, history["accuracy"], label="accuracy")
    b.plot(epochs, history["val_accuracy"], label="val_accuracy")
    b.set_xlabel("epoch")
    b.legend()
    fig.tight_layout()
    fig.savefig(path)
    print(f"training curves saved to {path}")


if __name__ == "__main__":
    main()
