"""The word-index options imdb and reuters share, with Keras's semantics.

Each review or newswire is a list of word ranks (1 = the most frequent word). Loading
shifts every rank by ``index_from`` and puts ``start_char`` in front, so that 0 (padding),
1 (start) and 2 (out of vocabulary) stay free; then sequences of ``maxlen`` words or more are
dropped (Keras keeps ``len < maxlen``, counting the start mark); then every index outside
``[skip_top, num_words)`` becomes ``oov_char`` (or is dropped when ``oov_char`` is None).
When ``num_words`` is None (or 0) it is the largest index present, so, exactly as in Keras,
that one largest index is itself outside the range and becomes ``oov_char``.
"""
import numpy as np

from . import cache


def shift(seqs, start_char, index_from):
    if start_char is not None:
        return [[start_char] + [int(w) + index_from for w in s] for s in seqs]
    return [[int(w) + index_from for w in s] for s in seqs]


def drop_long(seqs, labels, maxlen):
    keep = [i for i, s in enumerate(seqs) if len(s) < maxlen]
    return [seqs[i] for i in keep], labels[np.asarray(keep, dtype=np.intp)]


def limit_vocabulary(seqs, num_words, skip_top, oov_char):
    if not num_words:
        num_words = max((max(s) for s in seqs if s), default=0)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in s] for s in seqs]
    return [[w for w in s if skip_top <= w < num_words] for s in seqs]


def object_array(seqs):
    """A 1-D object array of lists (``np.array`` would make a 2-D array when all the lists
    happen to have the same length)."""
    out = np.empty(len(seqs), dtype=object)
    for i, s in enumerate(seqs):
        out[i] = s
    return out


def check_sequences(dataset, path, arrays, keys, origin):
    for k in keys:
        a = arrays[k]
        if a.ndim != 1 or not all(isinstance(s, (list, np.ndarray)) for s in a[:100]):
            raise cache.corrupt(dataset, path, f"{k!r} is not a 1-D array of word-index lists",
                                origin)
