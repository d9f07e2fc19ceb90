"""Boston housing prices: 506 suburbs of Boston in the 1970s, 13 attributes each, target the
median house value in k$ (``keras.datasets.boston_housing``).

Read from Keras's cache file ``boston_housing.npz`` (arrays ``x`` (506, 13) and ``y``
(506,)) in ``$KERAS_HOME/datasets/`` or ``~/.keras/datasets/``, downloaded from Keras's
address when missing (see :mod:`minikeras.datasets.cache`).

Data: StatLib, Carnegie Mellon University (http://lib.stat.cmu.edu/datasets/boston).
Keras's warning applies: one attribute, "B", encodes an assumption about racial
self-segregation, so this data set is best used to discuss ethics in machine learning.
"""
import numpy as np

from . import cache

ORIGIN = cache.KERAS_ORIGIN + "boston_housing.npz"
FILE_HASH = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """``(x_train, y_train), (x_test, y_test)``: float64 attributes (n, 13) and float64
    prices (n,); the rows are shuffled with ``np.random.RandomState(seed)`` (Keras's order)
    and the first ``int(506 * (1 - test_split))`` (404 by default) kept for training."""
    if not 0 <= test_split < 1:
        raise ValueError(f"boston_housing.load_data: test_split must be in [0, 1), got "
                         f"{test_split}.")
    fpath = cache.get_file("boston_housing", path, ORIGIN, FILE_HASH)
    f = cache.load_npz("boston_housing", fpath, ("x", "y"), ORIGIN)
    x, y = f["x"], f["y"]
    if len(x) != len(y):
        raise cache.corrupt("boston_housing", fpath,
                            f"'x' has {len(x)} rows but 'y' {len(y)}", ORIGIN)
    rng = np.random.RandomState(seed)
    order = np.arange(len(x))
    rng.shuffle(order)
    x, y = x[order], y[order]
    n = int(len(x) * (1 - test_split))
    return (x[:n], y[:n]), (x[n:], y[n:])
