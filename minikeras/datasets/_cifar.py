"""What cifar10 and cifar100 share: finding the extracted batches in Keras's cache (or
extracting / downloading the archive) and reading one pickled batch.

Keras 3 keeps each CIFAR archive as ``<name>-target_archive`` and extracts it into
``<name>-target/``, so the batches lie in ``<name>-target/<name>/``; Keras before 3.6 (and
tf.keras) kept ``<name>.tar.gz`` and extracted it straight into the cache folder, so they lie
in ``<name>/``. Both layouts are read; a new download uses Keras 3's.

The batches are Python pickles written by the dataset's publisher (Alex Krizhevsky,
University of Toronto: https://www.cs.toronto.edu/~kriz/cifar.html); pickle is the format
they are distributed in and the one Keras reads. They are opened only inside the cache
folder, under the expected names, with :class:`cache.RestrictedUnpickler`.
"""
import os

import numpy as np

from ..backend.settings import image_data_format
from . import cache


def batches_dir(dataset, folder, origin, file_hash, required):
    """The folder holding the files ``required`` of the archive whose top folder is
    ``folder`` (``"cifar-10-batches-py"`` or ``"cifar-100-python"``)."""
    target = folder + "-target"
    for rel in (os.path.join(target, folder), folder):
        found = cache.find_cached(rel)
        if found and all(os.path.isfile(os.path.join(found, n)) for n in required):
            return found
    archive = cache.find_cached(target + "_archive") or cache.find_cached(folder + ".tar.gz")
    dest_hint = os.path.join(cache.cache_dir(), target, folder)
    if archive is None:
        where = os.path.join(cache.cache_dir(), target + "_archive")
        extra = (f" (or extract it so that {', '.join(required)} lie in {dest_hint})")
        try:
            base = cache.download_dir()
        except cache.DatasetUnavailableError as e:
            raise cache.DatasetUnavailableError(
                cache.missing_message(dataset, origin, where, e, extra)) from None
        archive = cache.download(dataset, origin, os.path.join(base, target + "_archive"),
                                 file_hash, extra)
    extracted = cache.extract_tar(dataset, archive,
                                  os.path.join(os.path.dirname(archive), target), origin)
    inner = os.path.join(extracted, folder)
    missing = [n for n in required if not os.path.isfile(os.path.join(inner, n))]
    if missing:
        raise cache.corrupt(dataset, archive, f"it has no {folder}/{missing[0]}", origin)
    return inner


def load_batch(dataset, path, label_key, allowed_names, origin):
    """``(data, labels)`` of one pickled batch: data uint8 (n, 3, 32, 32), labels a list."""
    d = cache.load_pickle(dataset, path, os.path.dirname(path), allowed_names, origin)
    if not isinstance(d, dict):
        raise cache.corrupt(dataset, path, f"it holds a {type(d).__name__}, not a dict", origin)
    d = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in d.items()}
    if "data" not in d or label_key not in d:
        raise cache.corrupt(dataset, path,
                            f"its keys are {sorted(d)}, expected 'data' and {label_key!r}",
                            origin)
    data, labels = d["data"], d[label_key]
    if (not isinstance(data, np.ndarray) or data.ndim != 2 or data.shape[1] != 3072
            or len(labels) != len(data)):
        raise cache.corrupt(dataset, path, "its 'data' is not an (n, 3072) array with one "
                            "label per row", origin)
    return data.reshape(len(data), 3, 32, 32), labels


def to_data_format(x):
    """Keras's order: channels last (n, 32, 32, 3) unless image_data_format() says
    channels_first (n, 3, 32, 32)."""
    if image_data_format() == "channels_last":
        return np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    return x
