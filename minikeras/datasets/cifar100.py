"""CIFAR-100: 50,000 training and 10,000 test colour images of 32×32 pixels, labelled with
100 fine classes grouped into 20 coarse ones (``keras.datasets.cifar100``).

Read from Keras's cache: the files ``train`` and ``test`` in
``cifar-100-python-target/cifar-100-python/`` (Keras 3) or ``cifar-100-python/`` (older
Keras) inside ``$KERAS_HOME/datasets/`` or ``~/.keras/datasets/``. When neither is there the
archive ``cifar-100-python-target_archive`` (or ``cifar-100-python.tar.gz``) is extracted, and
when that is missing too it is downloaded from the publisher,
https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz, and its SHA-256 checked.

The files are pickles, the format the publisher (Alex Krizhevsky, University of Toronto)
distributes; see :mod:`minikeras.datasets._cifar` for how they are read safely.
"""
import os

import numpy as np

from . import _cifar

FOLDER = "cifar-100-python"
ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
FILE_HASH = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"
FILES = ("train", "test")


def load_data(label_mode="fine"):
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (50000, 32, 32, 3) and
    (10000, 32, 32, 3) (channels first when ``image_data_format()`` says so) and integer
    labels of shape (50000, 1) and (10000, 1): 0..99 with ``label_mode="fine"``, 0..19 with
    ``"coarse"``. (Keras builds these labels from Python lists, so their dtype is NumPy's
    default integer, int64 on Linux and macOS.)"""
    if label_mode not in ("fine", "coarse"):
        raise ValueError('`label_mode` must be one of `"fine"`, `"coarse"`. '
                         f"Received: label_mode={label_mode}.")
    folder = _cifar.batches_dir("cifar100", FOLDER, ORIGIN, FILE_HASH, FILES)
    out = []
    for name in FILES:
        x, y = _cifar.load_batch("cifar100", os.path.join(folder, name),
                                 label_mode + "_labels", FILES, ORIGIN)
        y = np.reshape(np.asarray(y), (len(y), 1))
        out.append((_cifar.to_data_format(x.astype(np.uint8, copy=False)), y))
    return out[0], out[1]
