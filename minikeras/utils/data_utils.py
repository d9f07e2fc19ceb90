"""Preparing data the Keras way: ``to_categorical``, ``normalize``, ``pad_sequences`` and
the ``PyDataset`` base class (also exported as ``Sequence``).

All three functions take NumPy arrays, nested lists or minikeras Tensors. The first two
return a NumPy array, or a Tensor when given a Tensor; ``pad_sequences`` always returns a
NumPy array.
"""
import numpy as np

from .. import backend
from ..tensor import Tensor


def _host_array(x):
    """``x`` as a NumPy array, and whether it came as a Tensor."""
    if isinstance(x, Tensor):
        return np.asarray(x.numpy()), True
    return np.asarray(x), False


# ------------------------------------------------------------------ to_categorical
def to_categorical(x, num_classes=None):
    """One-hot encode integer class labels: ``to_categorical([0, 2], 3)`` is
    ``[[1, 0, 0], [0, 0, 1]]`` (float32).

    The classes go on a new last axis, so labels of shape ``(n,)`` give ``(n, num_classes)``;
    a trailing axis of size 1 is replaced (``(n, 1)`` also gives ``(n, num_classes)``).
    ``num_classes=None`` (or 0) means ``max(x) + 1``.

    Labels must be whole numbers in ``[0, num_classes)``: float labels such as ``2.0`` are
    fine, ``2.5``, negative labels and labels ``>= num_classes`` raise a ``ValueError``
    (Keras truncates fractions, wraps negative labels and fails with an ``IndexError`` on
    labels that are too large). Keras returns float64 for NumPy input; minikeras returns
    float32, the dtype a model trains in.
    """
    labels, as_tensor = _host_array(x)
    if labels.dtype.kind not in "biuf":
        raise ValueError("to_categorical expects integer class labels, got an array of "
                         f"dtype {labels.dtype}.")
    if labels.dtype.kind == "f":
        not_whole = ~np.isfinite(labels) | (labels != np.round(labels))
        if np.any(not_whole):
            raise ValueError("to_categorical expects integer class labels, got "
                             f"{labels[not_whole][0]}.")
    labels = labels.astype("int64")
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    flat = labels.reshape(-1)
    if not num_classes:
        if flat.size == 0:
            raise ValueError("to_categorical received no labels and no `num_classes`: cannot "
                             "infer the number of classes.")
        num_classes = int(flat.max()) + 1
    if int(num_classes) != num_classes or num_classes < 0:
        raise ValueError(f"`num_classes` must be a positive integer, got {num_classes!r}.")
    num_classes = int(num_classes)
    out_of_range = (flat < 0) | (flat >= num_classes)
    if np.any(out_of_range):
        bad = flat[out_of_range][0]
        raise ValueError(f"to_categorical received the label {bad}, outside [0, "
                         f"{num_classes - 1}] for num_classes={num_classes}. Labels must be "
                         "integers from 0 to num_classes - 1.")
    one_hot = np.zeros((flat.size, num_classes), dtype="float32")
    one_hot[np.arange(flat.size), flat] = 1.0
    one_hot = one_hot.reshape(shape + (num_classes,))
    return Tensor(one_hot) if as_tensor else one_hot


# ------------------------------------------------------------------ normalize
def normalize(x, axis=-1, order=2):
    """``x`` divided by its ``order``-norm along ``axis`` (by default each row has unit L2
    norm). Slices whose norm is 0 are left as they are (zeros).

    ``order``: an integer >= 1 or ``numpy.inf``. ``axis=None`` normalizes by the norm of all
    the entries together (Keras, on a 2-D array, would use the matrix 2-norm, its largest
    singular value). Float input keeps its dtype; integer input becomes float32.
    """
    arr, as_tensor = _host_array(x)
    if not (order == np.inf or (isinstance(order, (int, np.integer)) and order >= 1)):
        raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order}")
    if arr.ndim == 0:
        raise ValueError("normalize needs an array with at least one axis, got a scalar.")
    if arr.dtype.kind != "f":
        arr = arr.astype(backend.floatx())
    if axis is None:
        norm = np.linalg.norm(arr.reshape(-1), ord=order)
        norm = np.asarray(norm if norm != 0 else 1, dtype=arr.dtype)
    else:
        norm = np.linalg.norm(arr, ord=order, axis=axis, keepdims=True)
        norm[norm == 0] = 1
    out = (arr / norm).astype(arr.dtype, copy=False)
    return Tensor(out) if as_tensor else out


# ------------------------------------------------------------------ pad_sequences
def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0):
    """Make a list of sequences of different lengths into one array ``(n, maxlen)``.

    ``maxlen`` defaults to the longest sequence. Shorter sequences are filled with
    ``value`` before (``padding="pre"``, the default) or after (``"post"``) their items;
    longer ones lose items at the start (``truncating="pre"``, the default) or the end
    (``"post"``). Items may themselves be arrays (all of the same shape, taken from the
    first non-empty sequence): the result is then ``(n, maxlen) + item_shape``.

    Example: ``pad_sequences([[1, 2, 3], [4]], maxlen=2)`` is ``[[2, 3], [0, 4]]``.

    Strings need ``dtype=object`` (or a NumPy string dtype) and a string ``value``.
    Where Keras fails (no sequences at all, ``maxlen=0``) this returns an empty array.
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    if truncating not in ("pre", "post"):
        raise ValueError(f'Truncating type "{truncating}" not understood')
    if padding not in ("pre", "post"):
        raise ValueError(f'Padding type "{padding}" not understood')
    lengths, item_shape = [], None
    for s in sequences:
        if isinstance(s, str):
            raise ValueError("`sequences` must be a list of sequences (lists or arrays of "
                             f"items); found the string {s!r}.")
        try:
            lengths.append(len(s))
        except TypeError:
            raise ValueError("`sequences` must be a list of iterables. Found non-iterable: "
                             f"{s}") from None
        if item_shape is None and len(s):
            item_shape = np.asarray(s).shape[1:]
    item_shape = item_shape or ()
    if maxlen is None:
        maxlen = max(lengths, default=0)
    elif maxlen < 0:
        raise ValueError(f"`maxlen` must be >= 0 or None, got {maxlen}.")
    is_str_dtype = dtype is not object and np.issubdtype(np.dtype(dtype), np.str_)
    if isinstance(value, str) and dtype is not object and not is_str_dtype:
        raise ValueError(f"`dtype` {dtype} is not compatible with `value`'s type: "
                         f"{type(value)}\nYou should set `dtype=object` for variable length "
                         "strings.")
    out = np.full((len(lengths), maxlen) + item_shape, value, dtype=dtype)
    for i, (s, n) in enumerate(zip(sequences, lengths)):
        keep = min(n, maxlen)
        if keep == 0:
            continue
        kept = s[n - keep:] if truncating == "pre" else s[:keep]
        kept = np.asarray(kept, dtype=dtype)
        if kept.shape[1:] != item_shape:
            raise ValueError(f"Shape of sample {kept.shape[1:]} of sequence at position {i} "
                             f"is different from expected shape {item_shape}")
        if padding == "post":
            out[i, :keep] = kept
        else:
            out[i, maxlen - keep:] = kept
    return out


# ------------------------------------------------------------------ PyDataset
class PyDataset:
    """The base class of a dataset that hands ``fit`` one batch at a time
    (``keras.utils.PyDataset``, formerly ``keras.utils.Sequence``).

    A subclass defines ``__len__`` (the number of batches in an epoch) and
    ``__getitem__(index)`` (batch ``index``: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``),
    and may define ``on_epoch_end`` (called after each epoch, e.g. to shuffle)::

        class Batches(keras.utils.PyDataset):
            def __init__(self, x, y, batch_size, **kwargs):
                super().__init__(**kwargs)
                self.x, self.y, self.batch_size = x, y, batch_size

            def __len__(self):
                return math.ceil(len(self.x) / self.batch_size)

            def __getitem__(self, index):
                part = slice(index * self.batch_size, (index + 1) * self.batch_size)
                return self.x[part], self.y[part]

        model.fit(Batches(x, y, 32), epochs=5)

    Instead of ``__len__`` a subclass may define the ``num_batches`` property (``None`` for
    an endless dataset, which then needs ``fit(..., steps_per_epoch=...)``).

    Note: ``workers``, ``use_multiprocessing`` and ``max_queue_size`` are accepted and kept
    for compatibility, but minikeras ignores them: batches are always produced one after the
    other in the training process, so the order of work stays easy to follow. Forgetting
    ``super().__init__()`` is harmless (the three then read as their defaults).
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    @property
    def workers(self):
        return getattr(self, "_workers", 1)

    @workers.setter
    def workers(self, value):
        self._workers = value

    @property
    def use_multiprocessing(self):
        return getattr(self, "_use_multiprocessing", False)

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = value

    @property
    def max_queue_size(self):
        return getattr(self, "_max_queue_size", 10)

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = value

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement `__getitem__(index)`, "
                                  "returning batch `index` as x, (x, y) or "
                                  "(x, y, sample_weight).")

    def __len__(self):
        if type(self).num_batches is not PyDataset.num_batches:
            n = self.num_batches
            if n is None:
                raise TypeError(f"{type(self).__name__} has no length (num_batches is None): "
                                "pass `steps_per_epoch` to fit().")
            return n
        raise NotImplementedError(f"{type(self).__name__} must implement `__len__` (the number "
                                  "of batches in an epoch) or the `num_batches` property.")

    @property
    def num_batches(self):
        """The number of batches in an epoch (``len(self)``), or ``None`` if endless."""
        return len(self)

    def on_epoch_begin(self):
        """Called before each epoch. Does nothing unless overridden."""

    def on_epoch_end(self):
        """Called after each epoch (e.g. to reshuffle). Does nothing unless overridden."""


Sequence = PyDataset  # the Keras 2 name, still exported by Keras 3
