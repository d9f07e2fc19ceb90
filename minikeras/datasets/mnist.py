"""MNIST handwritten digits: 60,000 training and 10,000 test grey images of 28×28 pixels,
labels 0-9 (``keras.datasets.mnist``).

Read from Keras's cache file ``mnist.npz`` (arrays ``x_train``, ``y_train``, ``x_test``,
``y_test``) in ``$KERAS_HOME/datasets/`` or ``~/.keras/datasets/``, downloaded from Keras's
address when missing (see :mod:`minikeras.datasets.cache`).

MNIST is by Yann LeCun and Corinna Cortes, derived from NIST data, under the Creative
Commons Attribution-Share Alike 3.0 license.
"""
from . import cache

ORIGIN = cache.KERAS_ORIGIN + "mnist.npz"
FILE_HASH = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(path="mnist.npz"):
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (60000, 28, 28) and
    (10000, 28, 28) with values 0..255, uint8 labels (60000,) and (10000,).

    ``path`` is the file name inside the Keras cache folder."""
    fpath = cache.get_file("mnist", path, ORIGIN, FILE_HASH)
    f = cache.load_npz("mnist", fpath, ("x_train", "y_train", "x_test", "y_test"), ORIGIN)
    return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
