"""The UCI handwritten digits: 1,797 grey images of 8×8 pixels, labels 0-9, shipped inside
minikeras so that examples and tests need no network.

Source: E. Alpaydin and C. Kaynak, "Optical Recognition of Handwritten Digits", UCI Machine
Learning Repository, 1998, https://doi.org/10.24432/C50P49, licensed CC BY 4.0. The file
``data/digits.npz`` holds the copy that scikit-learn distributes (the UCI test set,
``sklearn.datasets.load_digits``): ``images`` (1797, 8, 8) uint8 with values 0..16 and
``labels`` (1797,) uint8. See ``data/README.md``.
"""
import os

import numpy as np

_PATH = os.path.join(os.path.dirname(__file__), "data", "digits.npz")


def load_data(test_split=0.2, seed=113):
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (n, 8, 8) with values 0..16
    and uint8 labels, shuffled with ``seed`` and split so that ``test_split`` of the
    samples are held out (360 of 1,797 with the default)."""
    if not 0.0 < test_split < 1.0:
        raise ValueError(f"digits.load_data: test_split must be between 0 and 1, got {test_split}.")
    with np.load(_PATH) as f:
        x, y = f["images"], f["labels"]
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order]
    n_train = int(len(x) * (1.0 - test_split))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])
