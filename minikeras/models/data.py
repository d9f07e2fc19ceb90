"""Turning what ``fit`` receives (arrays, lists or dicts of arrays, generators, PyDataset
objects) into batches of ``(x, y, sample_weight)``."""
import math
import warnings

import numpy as np

from ..layers.structure import flatten, map_structure


def _num_samples(structure, what):
    sizes = [len(a) for a in flatten(structure) if a is not None]
    return sizes


def check_arrays(x, y, sample_weight):
    """The number of samples, after checking that x, y and sample_weight agree on it."""
    xs = _num_samples(x, "x")
    ys = _num_samples(y, "y") if y is not None else []
    ws = _num_samples(sample_weight, "sample_weight") if sample_weight is not None else []
    sizes = set(xs + ys + ws)
    if len(sizes) > 1:
        msg = "Data cardinality is ambiguous. Make sure all arrays contain the same number of samples."
        msg += "\n'x' sizes: " + ", ".join(map(str, xs))
        if ys:
            msg += "\n'y' sizes: " + ", ".join(map(str, ys))
        if ws:
            msg += "\n'sample_weight' sizes: " + ", ".join(map(str, ws))
        raise ValueError(msg)
    n = sizes.pop() if sizes else 0
    if n == 0:
        raise ValueError("Expected input data to be non-empty.")
    return n


def as_arrays(structure, what="x"):
    """Lists, tensors and array-likes as NumPy arrays (lists of arrays stay lists). Arrays
    of strings or Python objects are refused here, naming the input (``what``), rather
    than deep inside an op."""
    def convert(a, name):
        if a is None:
            return None
        if hasattr(a, "numpy") and not isinstance(a, np.ndarray):
            return a.numpy()
        a = np.asarray(a)
        if a.dtype.kind in "USOV":
            kind = {"U": "strings", "S": "bytes", "O": "Python objects", "V": "records"}
            raise ValueError(f"Invalid dtype: {name} holds {kind[a.dtype.kind]} (dtype "
                             f"{a.dtype}), but a model takes numbers. Convert it first: "
                             "numbers stored as text with .astype('float32'), words with "
                             "a vocabulary (a lookup from each word to an integer index).")
        return a
    if isinstance(structure, (list, tuple)) and structure and all(
            hasattr(s, "shape") and not np.isscalar(s) for s in structure):
        return [convert(s, f"{what}[{i}]") for i, s in enumerate(structure)]
    if isinstance(structure, list):
        warnings.warn(f"{what} is a Python list of numbers: minikeras makes it an array, but "
                      "Keras 3 refuses it (\"Unrecognized data type\"). Pass np.array(...) "
                      "so that the code runs in both.", UserWarning, stacklevel=3)
    if isinstance(structure, dict):
        return {k: convert(v, f"{what}[{k!r}]") for k, v in structure.items()}
    return convert(structure, what)


def take(structure, index):
    return map_structure(lambda a: None if a is None else a[index], structure)


def split_validation(x, y, sample_weight, validation_split):
    """The last ``validation_split`` of the samples, taken before any shuffling, as Keras."""
    if not 0.0 < validation_split < 1.0:
        raise ValueError(f"`validation_split` must be between 0 and 1, got {validation_split}.")
    n = check_arrays(x, y, sample_weight)
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(f"Training data contains {n} samples, which is not sufficient to split "
                         f"it into a validation and training set as specified by "
                         f"`validation_split={validation_split}`.")
    train = slice(0, split_at)
    val = slice(split_at, n)
    return ((take(x, train), take(y, train), take(sample_weight, train)),
            (take(x, val), take(y, val), take(sample_weight, val)))


def class_weights_to_sample_weights(y, class_weight):
    """Per-sample weights from a ``{class: weight}`` dict, for integer or one-hot labels."""
    y = np.asarray(y)
    labels = y.argmax(axis=-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(len(y), -1)[:, 0]
    labels = labels.astype(int)
    # a class left out of class_weight weighs 1, as in Keras 3
    return np.array([class_weight.get(int(c), 1.0) for c in labels], dtype="float32")


class ArrayBatches:
    """Batches of in-memory arrays, reshuffled every epoch when ``shuffle``."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False, seed=None):
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.n = check_arrays(x, y, sample_weight)
        self.batch_size = batch_size
        self.shuffle = shuffle
        # Without a seed, the shuffling seed comes from NumPy's global generator, which
        # keras.utils.set_random_seed seeds: fit is then reproducible, as in Keras.
        if seed is None:
            seed = int(np.random.randint(0, 2**31 - 1))
        self.rng = np.random.default_rng(seed)

    @property
    def steps(self):
        return math.ceil(self.n / self.batch_size)

    def epoch(self):
        if self.shuffle == "batch":
            starts = self.rng.permutation(self.steps) * self.batch_size
            order = np.concatenate([np.arange(s, min(s + self.batch_size, self.n)) for s in starts])
        elif self.shuffle:
            order = self.rng.permutation(self.n)
        else:
            order = None
        for step in range(self.steps):
            if order is None:
                index = slice(step * self.batch_size, (step + 1) * self.batch_size)
            else:
                index = order[step * self.batch_size:(step + 1) * self.batch_size]
            yield (take(self.x, index), take(self.y, index), take(self.sample_weight, index))


def unpack_x_y_sample_weight(data):
    """``(x, y, sample_weight)`` from the data a ``train_step`` gets: ``x``, ``(x,)``,
    ``(x, y)`` or ``(x, y, sample_weight)`` (a list counts as a tuple), with None for what
    is missing (``keras.utils.unpack_x_y_sample_weight``)."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError("Data is expected to be in format `x`, `(x,)`, `(x, y)`, or "
                     f"`(x, y, sample_weight)`, found a tuple of {len(data)} elements.")


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The data tuple ``fit`` hands to ``train_step``: ``(x,)``, ``(x, y)`` or
    ``(x, y, sample_weight)`` (``keras.utils.pack_x_y_sample_weight`` returns a lone ``x``
    as it is)."""
    if y is None and sample_weight is None:
        return (x,)
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


class GeneratorBatches:
    """Batches from a Python generator/iterator or a ``PyDataset``-like object (with
    ``__len__`` and ``__getitem__``)."""

    def __init__(self, source, steps=None):
        self.source = source
        self.exhausted = False  # an iterator ran out before an epoch had its steps
        if hasattr(source, "__getitem__") and hasattr(source, "__len__"):
            self.kind = "sequence"
            self.steps = steps or len(source)
        elif not hasattr(source, "__next__"):  # re-iterable (a DataLoader): anew each epoch
            self.kind = "iterable"
            self.steps = steps or (len(source) if hasattr(source, "__len__") else None)
        else:
            self.kind = "iterator"
            self.iterator = iter(source)
            self.steps = steps

    def epoch(self):
        if self.kind == "sequence":
            if hasattr(self.source, "on_epoch_begin"):
                self.source.on_epoch_begin()
            for i in range(self.steps):
                yield unpack_x_y_sample_weight(self.source[i])
            if hasattr(self.source, "on_epoch_end"):
                self.source.on_epoch_end()
            return
        if self.kind == "iterable":
            self.iterator = iter(self.source)
        count = 0
        while self.steps is None or count < self.steps:
            try:
                batch = next(self.iterator)
            except StopIteration:
                if self.kind == "iterator" and (self.steps is not None or count == 0):
                    self.exhausted = True
                    warnings.warn(RAN_OUT, UserWarning, stacklevel=3)
                return
            count += 1
            yield unpack_x_y_sample_weight(batch)


# Keras's words when the data gives fewer batches than steps_per_epoch asks for
RAN_OUT = ("Your input ran out of data; interrupting training. Make sure that your dataset or "
           "generator can generate at least `steps_per_epoch * epochs` batches. You may need "
           "to use the `.repeat()` function when building your dataset.")


def is_generator_like(x):
    return (not isinstance(x, (np.ndarray, list, tuple, dict)) and not hasattr(x, "shape")
            and (hasattr(x, "__next__") or hasattr(x, "__iter__") or
                 (hasattr(x, "__getitem__") and hasattr(x, "__len__"))))
