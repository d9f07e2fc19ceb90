"""The dropout keep-mask from a counter-based random generator: each element's random
number is a hash of (seed, step, the element's index), and nothing else.

A generator with a state (NumPy's PCG64, Mersenne Twister) produces its numbers one after
another, so on a GPU every thread would need its own state, carried from one launch to the
next. A counter-based generator has no state: number i of the stream (seed, step) is
``hash(i)`` under a key made from seed and step, so any thread computes any element's number
directly, and the same seed and step give the same mask on every device (the CUDA kernel in
``kernels/cuda/dropout.py`` runs this very hash; a test checks the masks bit for bit).

The hash is ``mix32`` below, the "lowbias32" integer mixer found by Chris Wellons's
hash-prospector search: xor-shift, multiply, xor-shift, multiply, xor-shift, on 32-bit words.
Every step is invertible, so ``mix32`` is a permutation of the 32-bit integers, and flipping
one input bit flips each output bit with probability very close to one half. The element's
number is two keyed rounds, ``mix32(mix32(i ^ key_0) ^ key_1)``, with the two 32-bit keys made
from seed and step by :func:`stream_keys`; an element is kept when its number is below
``keep_prob · 2³²``. Why two rounds: with one, ``mix32(i ^ key)``, the streams of two keys
would be the same numbers in another order (element i of one is element i ^ key ^ key' of
the other); the second key breaks that tie. (Within one mask no two elements get the same
number, since each round is one-to-one: for masks far smaller than 2³² elements that is
indistinguishable from independent draws.)

Arithmetic: ``mix32`` cuts every product back to 32 bits (``& MASK32``), so it gives the
same words for Python ints (the keys, computed once per mask), for NumPy ``uint32`` arrays
(the elements: there the product already wraps at 32 bits) and, in the CUDA kernel, for
``uint64`` words below 2³², where no product ever overflows.
"""
import math

import numpy as np

__all__ = ["dropout_mask"]

MASK32 = 0xFFFFFFFF
MUL_1 = 0x7FEB352D
MUL_2 = 0x846CA68B
#: Where the two key chains start (the first hexadecimal digits of π's fraction).
KEY_STARTS = (0x243F6A88, 0x85A308D3)
#: The most elements one mask may have: its indices are 32-bit words.
MAX_ELEMENTS = 2**32
#: Elements hashed at a time: the temporaries of one chunk (64 KiB each) stay in the cache.
CHUNK = 2**14


def mix32(x):
    """The lowbias32 mixer of 32-bit words: a Python int or a NumPy ``uint32`` array."""
    x = x ^ (x >> 16)
    x = (x * MUL_1) & MASK32
    x = x ^ (x >> 15)
    x = (x * MUL_2) & MASK32
    return x ^ (x >> 16)


def stream_keys(seed, step):
    """The two 32-bit keys (Python ints) of the stream (seed, step): the four 32-bit halves
    of seed and step (each taken modulo 2⁶⁴) hashed one after another into a chain, once
    from each of two starting words."""
    seed, step = int(seed) % 2**64, int(step) % 2**64
    words = (seed & MASK32, seed >> 32, step & MASK32, step >> 32)
    keys = []
    for key in KEY_STARTS:
        for w in words:
            key = mix32(key ^ w)
        keys.append(key)
    return keys[0], keys[1]


def keep_threshold(keep_prob):
    """The integer below which a 32-bit number keeps its element: keep_prob · 2³²."""
    return min(max(int(float(keep_prob) * 2**32), 0), 2**32)


def check_size(n):
    if n > MAX_ELEMENTS:
        raise ValueError(f"dropout_mask: a mask has at most 2**32 elements (its indices are "
                         f"32-bit words); got {n}.")


def dropout_mask(shape, keep_prob, seed, step):
    """A boolean array of ``shape``: True (keep) with probability ``keep_prob``, element by
    element, from the stream (seed, step). The element with flat (C-order) index i is kept
    when ``mix32(mix32(i ^ key_0) ^ key_1) < keep_prob · 2³²``."""
    n = math.prod(shape)
    check_size(n)
    key_0, key_1 = (np.uint32(k) for k in stream_keys(seed, step))
    threshold = keep_threshold(keep_prob)
    kept = np.empty(n, dtype=bool)
    for start in range(0, n, CHUNK):      # the formula, one cache-sized chunk at a time
        index = np.arange(start, min(start + CHUNK, n), dtype=np.uint32)
        kept[start:start + index.size] = mix32(mix32(index ^ key_0) ^ key_1) < threshold
    return kept.reshape(shape)
