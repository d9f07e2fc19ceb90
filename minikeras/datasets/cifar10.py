"""CIFAR-10: 50,000 training and 10,000 test colour images of 32×32 pixels, 10 classes
(``keras.datasets.cifar10``).

Read from Keras's cache: the batches ``data_batch_1`` … ``data_batch_5`` and ``test_batch`` in
``cifar-10-batches-py-target/cifar-10-batches-py/`` (Keras 3) or ``cifar-10-batches-py/``
(older Keras) inside ``$KERAS_HOME/datasets/`` or ``~/.keras/datasets/``. When neither is there
the archive ``cifar-10-batches-py-target_archive`` (or ``cifar-10-batches-py.tar.gz``) is
extracted, and when that is missing too it is downloaded from the publisher,
https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz, and its SHA-256 checked.

The batches are pickles, the format the publisher (Alex Krizhevsky, University of Toronto)
distributes; see :mod:`minikeras.datasets._cifar` for how they are read safely.

Labels: 0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog, 7 horse, 8 ship,
9 truck.
"""
import os

import numpy as np

from . import _cifar

FOLDER = "cifar-10-batches-py"
ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
FILE_HASH = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)
CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
               "ship", "truck")


def load_data():
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (50000, 32, 32, 3) and
    (10000, 32, 32, 3) (channels first, (n, 3, 32, 32), when
    ``minikeras.config.image_data_format()`` is ``"channels_first"``) and uint8 labels of
    shape **(50000, 1)** and (10000, 1), as Keras returns them."""
    folder = _cifar.batches_dir("cifar10", FOLDER, ORIGIN, FILE_HASH, BATCHES)
    parts = [_cifar.load_batch("cifar10", os.path.join(folder, name), "labels", BATCHES,
                               ORIGIN) for name in BATCHES]
    x_train = np.concatenate([x for x, _ in parts[:5]]).astype(np.uint8, copy=False)
    y_train = np.concatenate([np.asarray(y, dtype=np.uint8) for _, y in parts[:5]])
    x_test = parts[5][0].astype(np.uint8, copy=False)
    y_test = np.asarray(parts[5][1], dtype=np.uint8)
    return ((_cifar.to_data_format(x_train), y_train.reshape(-1, 1)),
            (_cifar.to_data_format(x_test), y_test.reshape(-1, 1)))
