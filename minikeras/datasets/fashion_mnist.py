"""Fashion-MNIST: 60,000 training and 10,000 test grey images of 28×28 pixels of clothes,
10 classes (``keras.datasets.fashion_mnist``).

Read from Keras's cache folder ``fashion-mnist/`` inside ``$KERAS_HOME/datasets/`` or
``~/.keras/datasets/``: the four gzip-compressed IDX files
``train-labels-idx1-ubyte.gz``, ``train-images-idx3-ubyte.gz``,
``t10k-labels-idx1-ubyte.gz`` and ``t10k-images-idx3-ubyte.gz``, downloaded from Keras's
address when missing (see :mod:`minikeras.datasets.cache`).

Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt,
7 Sneaker, 8 Bag, 9 Ankle boot. Fashion-MNIST is by Zalando SE, under the MIT license.
"""
import gzip
import os
import zlib

import numpy as np

from . import cache

FOLDER = "fashion-mnist"
FILES = {  # name: SHA-256, as Keras lists them
    "train-labels-idx1-ubyte.gz":
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "train-images-idx3-ubyte.gz":
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "t10k-labels-idx1-ubyte.gz":
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    "t10k-images-idx3-ubyte.gz":
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
}
CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot")


def _read_idx(path, ndim, origin):
    """An IDX file of unsigned bytes: magic 0x0000 08 <ndim>, then ndim big-endian uint32
    sizes, then the data."""
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as e:
        raise cache.corrupt("fashion_mnist", path, f"not a gzip file: {e}", origin) from None
    head = 4 + 4 * ndim
    if len(raw) < head or raw[:4] != bytes((0, 0, 8, ndim)):
        raise cache.corrupt("fashion_mnist", path,
                            f"not an IDX file of {ndim}-dimensional unsigned bytes", origin)
    shape = tuple(int(s) for s in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    n = int(np.prod(shape))
    if len(raw) - head != n:
        raise cache.corrupt("fashion_mnist", path,
                            f"its header says {shape} but it holds {len(raw) - head} bytes",
                            origin)
    return np.frombuffer(raw, np.uint8, offset=head).reshape(shape).copy()


def load_data():
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (60000, 28, 28) and
    (10000, 28, 28) with values 0..255, uint8 labels (60000,) and (10000,)."""
    arrays = []
    for fname, file_hash in FILES.items():
        origin = cache.KERAS_ORIGIN + fname
        path = cache.get_file("fashion_mnist", fname, origin, file_hash,
                              cache_subdir=os.path.join("datasets", FOLDER))
        arrays.append(_read_idx(path, 1 if "labels" in fname else 3, origin))
    y_train, x_train, y_test, x_test = arrays
    for x, y, which in ((x_train, y_train, "train"), (x_test, y_test, "t10k")):
        if len(x) != len(y):
            raise cache.CorruptDatasetError(
                f"fashion_mnist: {which}-images holds {len(x)} images but {which}-labels "
                f"{len(y)} labels (in {cache.cache_dir()}/{FOLDER}); replace the damaged file.")
    return (x_train, y_train), (x_test, y_test)
