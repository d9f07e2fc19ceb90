"""IMDB movie reviews labelled by sentiment: 25,000 training and 25,000 test reviews, each a
list of word indices, labels 0 (negative) and 1 (positive) (``keras.datasets.imdb``).

Read from Keras's cache files ``imdb.npz`` (object arrays ``x_train``, ``x_test`` of lists,
integer arrays ``y_train``, ``y_test``) and ``imdb_word_index.json`` in
``$KERAS_HOME/datasets/`` or ``~/.keras/datasets/``, downloaded from Keras's address when
missing (see :mod:`minikeras.datasets.cache`). The object arrays need pickle; like Keras,
they are read with an unpickler that rebuilds NumPy arrays and nothing else.

Data: Andrew L. Maas et al., "Learning Word Vectors for Sentiment Analysis", ACL 2011,
https://ai.stanford.edu/~amaas/data/sentiment/.
"""
import json
import warnings

import numpy as np

from . import _sequences, cache

ORIGIN = cache.KERAS_ORIGIN + "imdb.npz"
FILE_HASH = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_ORIGIN = cache.KERAS_ORIGIN + "imdb_word_index.json"
WORD_INDEX_HASH = "bfafd718b763782e994055a2d397834f"


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113,
              start_char=1, oov_char=2, index_from=3, **kwargs):
    """``(x_train, y_train), (x_test, y_test)``, Keras's IMDB arrays.

    ``x_train``, ``x_test``: 1-D object arrays of lists of ints. Every list starts with
    ``start_char`` (unless None); word ``r`` (rank ``r`` in the word index) appears as
    ``r + index_from``; indices outside ``[skip_top, num_words)`` appear as ``oov_char`` (or
    are left out when ``oov_char`` is None). With ``maxlen``, reviews of ``maxlen`` or more
    entries are dropped. ``y_train``, ``y_test``: integer arrays of 0/1.

    The training and then the test reviews are shuffled with
    ``np.random.RandomState(seed)``, as Keras does, so the order matches Keras's.
    ``path`` is the file name inside the Keras cache folder."""
    if "nb_words" in kwargs:
        warnings.warn("The `nb_words` argument in `load_data` has been renamed `num_words`.",
                      stacklevel=2)
        num_words = kwargs.pop("nb_words")
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments: {kwargs}.")
    fpath = cache.get_file("imdb", path, ORIGIN, FILE_HASH)
    keys = ("x_train", "y_train", "x_test", "y_test")
    f = cache.load_npz("imdb", fpath, keys, ORIGIN)
    _sequences.check_sequences("imdb", fpath, f, ("x_train", "x_test"), ORIGIN)
    x_train, labels_train, x_test, labels_test = (f[k] for k in keys)

    rng = np.random.RandomState(seed)
    order = np.arange(len(x_train))
    rng.shuffle(order)
    x_train, labels_train = x_train[order], labels_train[order]
    order = np.arange(len(x_test))
    rng.shuffle(order)
    x_test, labels_test = x_test[order], labels_test[order]

    x_train = _sequences.shift(x_train, start_char, index_from)
    x_test = _sequences.shift(x_test, start_char, index_from)
    if maxlen:
        x_train, labels_train = _sequences.drop_long(x_train, labels_train, maxlen)
        x_test, labels_test = _sequences.drop_long(x_test, labels_test, maxlen)
        if not x_train or not x_test:
            raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, "
                             "no sequence was kept. Increase maxlen.")
    xs = _sequences.limit_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    n = len(x_train)
    return ((_sequences.object_array(xs[:n]), labels_train),
            (_sequences.object_array(xs[n:]), labels_test))


def get_word_index(path="imdb_word_index.json"):
    """The dict word -> rank (1 = most frequent) of ``imdb_word_index.json``. In the
    arrays of :func:`load_data` word ``w`` is ``get_word_index()[w] + index_from``."""
    fpath = cache.get_file("imdb", path, WORD_INDEX_ORIGIN, WORD_INDEX_HASH)
    return read_word_index("imdb", fpath, WORD_INDEX_ORIGIN)


def read_word_index(dataset, fpath, origin):
    try:
        with open(fpath, encoding="utf-8") as fh:
            index = json.load(fh)
    except (ValueError, UnicodeDecodeError) as e:
        raise cache.corrupt(dataset, fpath, f"not valid JSON: {e}", origin) from None
    if not isinstance(index, dict):
        raise cache.corrupt(dataset, fpath, "it does not hold a JSON object", origin)
    return index
