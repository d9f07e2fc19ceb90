"""Train a classifier on the bundled handwritten digits with the Keras API.

This is ordinary Keras code: replace the import with ``import keras`` and it runs on Keras 3.
Run::

    python examples/train_digits.py                 # prints the test accuracy
    python examples/train_digits.py --epochs 5 --plot curves.png

It saves the training curves (loss and accuracy, training and validation) with
``keras.utils.plot_history``, to ``digits_history.png`` unless ``--plot`` says otherwise.
"""
import argparse

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
    parser.add_argument("--plot", default="digits_history.png",
                        help="where to save the training curves")
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
    keras.utils.plot_history(history, to_file=args.plot)
    print(f"training curves saved to {args.plot}")
    return accuracy


if __name__ == "__main__":
    main()
