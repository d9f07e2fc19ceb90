"""Train a small convnet on the bundled handwritten digits with the Keras API.

The classic course convnet (Keras's MNIST example), sized for 8x8 images: two 3x3
convolutions with ReLU, a max pooling, dropout, a hidden Dense layer, then a softmax over
the ten digits. It is
ordinary Keras code: replace the import with ``import keras`` and it runs on Keras 3.
Run::

    python examples/train_digits_convnet.py            # prints the test accuracy (about 0.985)
    python examples/train_digits_convnet.py --epochs 5
"""
import argparse

import minikeras as keras
from minikeras import layers
from minikeras.datasets import digits


def build_model():
    return keras.Sequential([
        keras.Input(shape=(8, 8, 1)),
        layers.Rescaling(1.0 / 16),                                  # pixels 0..16 -> 0..1
        layers.Conv2D(32, 3, padding="same", activation="relu"),     # (8, 8, 32)
        layers.Conv2D(64, 3, padding="same", activation="relu"),     # (8, 8, 64)
        layers.MaxPooling2D(2),                                      # (4, 4, 64)
        layers.Dropout(0.25),
        layers.Flatten(),                                            # 1024
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    x_train, x_test = x_train[..., None], x_test[..., None]   # (n, 8, 8) -> (n, 8, 8, 1)
    print(f"digits: {len(x_train)} training and {len(x_test)} test images of 8x8 pixels")

    model = build_model()
    model.summary()
    # Adam with a learning rate that falls from 2e-3 to 0 along a cosine over the run: big
    # steps first, small ones to settle (test accuracy 0.983-0.992 over 14 seeds).
    steps = args.epochs * -(-int(len(x_train) * 0.9) // args.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(2e-3, decay_steps=steps)
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
              validation_split=0.1)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test loss: {loss:.4f} - test accuracy: {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
