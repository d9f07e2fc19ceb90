"""Reuters newswires labelled with 46 topics: 11,228 newswires, each a list of word
indices, split into training and test sets by ``test_split`` (``keras.datasets.reuters``).

Read from Keras's cache files ``reuters.npz`` (an object array ``x`` of lists and an integer
array ``y``) and ``reuters_word_index.json`` in ``$KERAS_HOME/datasets/`` or
``~/.keras/datasets/``, downloaded from Keras's address when missing (see
:mod:`minikeras.datasets.cache`). The object array needs pickle; like Keras, it is read with
an unpickler that rebuilds NumPy arrays and nothing else.

Data: the Reuters-21578 collection (David D. Lewis), as preprocessed for Keras.
"""
import numpy as np

from . import _sequences, cache
from .imdb import read_word_index

ORIGIN = cache.KERAS_ORIGIN + "reuters.npz"
FILE_HASH = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_ORIGIN = cache.KERAS_ORIGIN + "reuters_word_index.json"
WORD_INDEX_HASH = "4d44cc38712099c9e383dc6e5f11a921"

_LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas",
    "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs",
    "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2,
              seed=113, start_char=1, oov_char=2, index_from=3):
    """``(x_train, y_train), (x_test, y_test)``, Keras's Reuters arrays.

    All newswires are shuffled with ``np.random.RandomState(seed)`` (Keras's order), the
    word options applied as in :func:`minikeras.datasets.imdb.load_data`, and the first
    ``int(n * (1 - test_split))`` kept for training. ``x_*``: 1-D object arrays of lists of
    ints; ``y_*``: integer arrays of topics 0..45 (see :func:`get_label_names`)."""
    fpath = cache.get_file("reuters", path, ORIGIN, FILE_HASH)
    f = cache.load_npz("reuters", fpath, ("x", "y"), ORIGIN)
    _sequences.check_sequences("reuters", fpath, f, ("x",), ORIGIN)
    xs, labels = f["x"], f["y"]

    rng = np.random.RandomState(seed)
    order = np.arange(len(xs))
    rng.shuffle(order)
    xs, labels = xs[order], labels[order]

    xs = _sequences.shift(xs, start_char, index_from)
    if maxlen:
        xs, labels = _sequences.drop_long(xs, labels, maxlen)
        if not xs:
            raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, "
                             "no sequence was kept. Increase maxlen.")
    xs = _sequences.limit_vocabulary(xs, num_words, skip_top, oov_char)
    n = int(len(xs) * (1 - test_split))
    return ((_sequences.object_array(xs[:n]), np.array(labels[:n])),
            (_sequences.object_array(xs[n:]), np.array(labels[n:])))


def get_word_index(path="reuters_word_index.json"):
    """The dict word -> rank (1 = most frequent) of ``reuters_word_index.json``; in the
    arrays of :func:`load_data` word ``w`` is ``get_word_index()[w] + index_from``."""
    fpath = cache.get_file("reuters", path, WORD_INDEX_ORIGIN, WORD_INDEX_HASH)
    return read_word_index("reuters", fpath, WORD_INDEX_ORIGIN)


def get_label_names():
    """The 46 topic names, in label order (Keras's ``reuters.get_label_names()``)."""
    return _LABEL_NAMES
