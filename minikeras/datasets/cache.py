"""Keras's dataset cache, shared by the loaders in this package.

The loaders read the files Keras itself keeps, in the place Keras keeps them:

* the cache folder is ``$KERAS_HOME/datasets/`` when ``KERAS_HOME`` is set, else
  ``~/.keras/datasets/``; when that folder cannot be created or written to, Keras (and this
  module) falls back to ``/tmp/.keras/datasets/`` for downloads, and a copy already there is
  used as well;
* the file names, archive layouts and download addresses are Keras's, so a cache filled by
  Keras is used as it is, and a cache filled here is used by Keras.

A file missing from the cache is downloaded from the address Keras uses (``urllib``, with a
timeout), into a temporary file beside its final place; its SHA-256 or MD5 is checked
against the value Keras lists, and only then is it moved into place (``os.replace``), so a
failed or interrupted download never leaves a half-written file under the real name. With
no network, :class:`DatasetUnavailableError` says which file to fetch from which address and
where to save it.

Files already in the cache are used as they are: their hashes are not checked at every load
(a hand-made or test cache holds files that differ from Keras's). A cached file that cannot
be read raises :class:`CorruptDatasetError`, which names the file and says to delete it.

Two of the formats need Python's pickle: the CIFAR batches (pickled dictionaries, the format
their publisher, the University of Toronto, distributes them in) and the ragged ``dtype=object``
arrays inside ``imdb.npz`` and ``reuters.npz``. Both are read with :class:`RestrictedUnpickler`,
which rebuilds NumPy arrays and nothing else (any other global in the stream is refused), and
:func:`load_pickle` only opens files inside the cache folder under the names it is given.
"""
import hashlib
import http.client
import io
import os
import pickle
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile

import numpy as np

#: Where Keras downloads mnist, fashion-mnist, imdb, reuters and boston_housing from.
KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

#: Seconds a download may wait for the server (per connection attempt and per read).
DOWNLOAD_TIMEOUT = 60


class DatasetUnavailableError(OSError):
    """A dataset file is neither in the cache nor downloadable (no network, server error)."""


class CorruptDatasetError(ValueError):
    """A dataset file is damaged: unreadable, not in the expected format, or a download whose
    hash differs from the one Keras lists."""


# ----------------------------------------------------------------------------- locations

def keras_home():
    """``$KERAS_HOME`` when set (and not empty), else ``~/.keras``, as Keras decides it."""
    home = os.environ.get("KERAS_HOME")
    if home:
        return os.path.expanduser(home)
    return os.path.join(os.path.expanduser("~"), ".keras")


def cache_dir(cache_subdir="datasets"):
    """The folder Keras keeps datasets in: ``<keras_home()>/datasets``."""
    return os.path.join(keras_home(), cache_subdir)


def _fallback_dir(cache_subdir="datasets"):
    tmp = "/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir()
    return os.path.join(tmp, ".keras", cache_subdir)


def _search_dirs(cache_subdir="datasets"):
    """The folders a cached copy may be in: the Keras cache, then Keras's /tmp fallback."""
    dirs = [cache_dir(cache_subdir)]
    fallback = _fallback_dir(cache_subdir)
    if os.path.realpath(fallback) != os.path.realpath(dirs[0]):
        dirs.append(fallback)
    return dirs


def download_dir(cache_subdir="datasets"):
    """The folder downloads go to: the Keras cache if it can be created and written, else the
    /tmp fallback (the rule Keras's ``get_file`` follows)."""
    for d in _search_dirs(cache_subdir):
        try:
            os.makedirs(d, exist_ok=True)
        except OSError:
            continue
        if os.access(d, os.W_OK):
            return d
    raise DatasetUnavailableError(
        f"Neither {cache_dir(cache_subdir)} nor {_fallback_dir(cache_subdir)} can be written to; "
        "set KERAS_HOME to a writable folder.")


def check_fname(dataset, fname):
    """Keras takes ``path=`` as a file name inside the cache folder, not as a path."""
    fname = os.fspath(fname)
    seps = [s for s in (os.sep, os.altsep, "/") if s]
    if not fname or fname in (".", "..") or any(s in fname for s in seps):
        raise ValueError(
            f"{dataset}: `path` is a file name inside {cache_dir()} (for example "
            f"'{dataset}.npz'), not a path; got {fname!r}. Set KERAS_HOME to use another "
            "cache folder.")
    return fname


def find_cached(name, cache_subdir="datasets"):
    """The path of ``name`` (a file or folder, relative to the cache folder) if a copy
    exists in the Keras cache or its /tmp fallback, else None."""
    for d in _search_dirs(cache_subdir):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    return None


def in_cache(path, cache_subdir="datasets"):
    """Whether ``path`` (after resolving links) lies inside one of the cache folders."""
    real = os.path.realpath(path)
    for d in _search_dirs(cache_subdir):
        root = os.path.realpath(d)
        try:
            if os.path.commonpath([real, root]) == root and real != root:
                return True
        except ValueError:  # different drives
            continue
    return False


# ----------------------------------------------------------------------------- hashes

def hash_file(path, algorithm="sha256", chunk_size=1 << 20):
    """The hex digest of a file, ``"sha256"`` or ``"md5"``."""
    h = hashlib.sha256() if algorithm == "sha256" else hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            h.update(chunk)
    return h.hexdigest()


def hash_algorithm(file_hash):
    """Keras's ``hash_algorithm="auto"``: a 64-character hash is SHA-256, otherwise MD5."""
    return "sha256" if len(file_hash) == 64 else "md5"


# ----------------------------------------------------------------------------- download

def _download(url, dest, timeout):
    """Write the body of ``url`` to the file ``dest``. Raises OSError (URLError, HTTPError,
    timeouts, refused connections) when the download fails. Tests replace this function."""
    with urllib.request.urlopen(url, timeout=timeout) as response, open(dest, "wb") as f:
        shutil.copyfileobj(response, f, 1 << 20)


def missing_message(dataset, url, target, reason=None, extra=""):
    msg = (f"{dataset}: no network and no cached copy. Download {url} and save it as {target}"
           f"{extra}.")
    if reason is not None:
        msg += f" (The download failed: {reason}.)"
    return msg


def download(dataset, url, target, file_hash=None, extra=""):
    """Download ``url`` to the path ``target``: into a temporary file in the same folder,
    check ``file_hash`` (SHA-256 or MD5, as Keras lists it), then ``os.replace`` it into
    place. Raises DatasetUnavailableError when the download fails and CorruptDatasetError
    when the hash differs; in both cases nothing is left behind."""
    folder = os.path.dirname(target)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(target) + ".",
                               suffix=".part")
    os.close(fd)
    try:
        print(f"Downloading data from {url}")
        sys.stdout.flush()
        try:
            _download(url, tmp, DOWNLOAD_TIMEOUT)
        except (OSError, http.client.HTTPException) as e:
            raise DatasetUnavailableError(
                missing_message(dataset, url, target, _describe(e), extra)) from e
        if file_hash is not None:
            algo = hash_algorithm(file_hash)
            got = hash_file(tmp, algo)
            if got != file_hash.lower():
                raise CorruptDatasetError(
                    f"{dataset}: the file downloaded from {url} is incomplete or corrupted: its "
                    f"{algo} is {got}, Keras lists {file_hash}. Nothing was saved; try again, "
                    f"or download it by hand and save it as {target}.")
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; a cache file is readable by all
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return target


def _describe(e):
    if isinstance(e, urllib.error.HTTPError):
        return f"HTTP {e.code} {e.reason}"
    if isinstance(e, urllib.error.URLError):
        return str(e.reason)
    return f"{type(e).__name__}: {e}"


def get_file(dataset, fname, origin, file_hash=None, cache_subdir="datasets"):
    """The path of the cached file ``fname``, downloading it from ``origin`` first when no
    copy is cached (Keras's ``get_file`` for a single file)."""
    fname = check_fname(dataset, fname)
    found = find_cached(fname, cache_subdir)
    if found is not None:
        if not os.path.isfile(found):
            raise CorruptDatasetError(f"{dataset}: {found} should be a file; remove it.")
        return found
    target = os.path.join(cache_dir(cache_subdir), fname)
    try:
        folder = download_dir(cache_subdir)
    except DatasetUnavailableError as e:
        raise DatasetUnavailableError(missing_message(dataset, origin, target, e)) from None
    return download(dataset, origin, os.path.join(folder, fname), file_hash)


def corrupt(dataset, path, reason, origin=None):
    """The error for a cached file that cannot be read."""
    again = f" (from {origin})" if origin else ""
    return CorruptDatasetError(
        f"{dataset}: the cached file {path} is damaged or not in the format Keras uses "
        f"({reason}). Delete it so that it is downloaded again{again}, or replace it with a "
        "good copy.")


# ----------------------------------------------------------------------------- safe reading

# What a pickled NumPy array needs and nothing more. ``numpy.core`` is how files written by
# NumPy 1.x (the real imdb/reuters/CIFAR files) spell it, ``numpy._core`` NumPy 2.x.
# ``_codecs.encode`` is how Python 3's pickle protocol 2 writes a bytes object.
_SAFE_GLOBALS = frozenset({
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("_codecs", "encode"),
})


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds NumPy arrays, lists, dicts, strings and numbers, and refuses
    every other global (so a tampered file cannot run code while it is read)."""

    def find_class(self, module, name):
        if (module, name) in _SAFE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"refusing to unpickle the global {module}.{name}: a dataset file holds only "
            "arrays, lists, numbers and strings")


def load_pickle(dataset, path, expected_dir, allowed_names, origin=None):
    """Unpickle one file of a dataset (``encoding="bytes"``, the way CIFAR's Python 2
    pickles are read) with :class:`RestrictedUnpickler`. ``path`` must be one of
    ``allowed_names`` inside ``expected_dir``, and that folder inside the Keras cache."""
    real = os.path.realpath(path)
    folder = os.path.realpath(expected_dir)
    if (os.path.basename(path) not in allowed_names or os.path.dirname(real) != folder
            or not in_cache(real)):
        raise ValueError(
            f"{dataset}: refusing to unpickle {path}: only the files "
            f"{sorted(allowed_names)} in {expected_dir} (inside the Keras cache "
            f"{cache_dir()}) are read.")
    try:
        with open(real, "rb") as f:
            return RestrictedUnpickler(f, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError) as e:
        raise corrupt(dataset, path, f"{type(e).__name__}: {e}", origin) from None


def _read_npy(fp):
    """One ``.npy`` stream: numeric arrays without pickle, object arrays through the
    restricted unpickler."""
    major, _minor = np.lib.format.read_magic(fp)
    if major == 1:
        shape, _fortran, dtype = np.lib.format.read_array_header_1_0(fp)
    elif major in (2, 3):  # 3.0 differs from 2.0 only in the header's text encoding
        shape, _fortran, dtype = np.lib.format.read_array_header_2_0(fp)
    else:
        raise ValueError(f"unsupported .npy format version {major}")
    if not dtype.hasobject:
        fp.seek(0)
        return np.lib.format.read_array(fp, allow_pickle=False)
    arr = RestrictedUnpickler(fp, encoding="latin1").load()  # latin1: NumPy's rule for Py2 files
    if not isinstance(arr, np.ndarray) or arr.shape != tuple(shape):
        raise ValueError(f"the pickled array does not match its header (shape {shape})")
    return arr


def load_npz(dataset, path, keys, origin=None):
    """The arrays ``keys`` of the ``.npz`` file ``path``, as a dict. Object arrays (the
    ragged sequences of imdb and reuters) are unpickled with :class:`RestrictedUnpickler`,
    numeric ones without pickle. A missing key or an unreadable file is a
    CorruptDatasetError."""
    out = {}
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            for key in keys:
                member = key + ".npy"
                if member not in names:
                    raise KeyError(f"it has no array {key!r}; it holds "
                                   f"{sorted(n[:-4] for n in names if n.endswith('.npy'))}")
                with zf.open(member) as raw:
                    out[key] = _read_npy(io.BytesIO(raw.read()))
    except KeyError as e:
        raise corrupt(dataset, path, e.args[0], origin) from None
    except (zipfile.BadZipFile, pickle.UnpicklingError, EOFError, ValueError, TypeError,
            AttributeError, IndexError, OSError) as e:
        raise corrupt(dataset, path, f"{type(e).__name__}: {e}", origin) from None
    return out


def extract_tar(dataset, archive, dest, origin=None):
    """Extract the tar archive ``archive`` into the folder ``dest``: regular files and
    folders only, every one inside ``dest`` (links, devices and paths that climb out are
    skipped). Extracts into a temporary folder beside ``dest`` first, then moves the files
    in, so an interrupted extraction leaves no partial file under a real name."""
    parent = os.path.dirname(dest)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=parent, prefix="." + os.path.basename(dest) + ".")
    try:
        try:
            with tarfile.open(archive, "r:*") as tf:
                members = [m for m in tf.getmembers() if _safe_member(m)]
                kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                tf.extractall(tmp, members=members, **kwargs)
        except (tarfile.TarError, EOFError, OSError, ValueError) as e:
            raise corrupt(dataset, archive, f"cannot extract it: {type(e).__name__}: {e}",
                          origin) from None
        for root, _dirs, files in os.walk(tmp):
            rel = os.path.relpath(root, tmp)
            out = os.path.normpath(os.path.join(dest, rel))
            os.makedirs(out, exist_ok=True)
            for name in files:
                os.replace(os.path.join(root, name), os.path.join(out, name))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def _safe_member(m):
    if not (m.isfile() or m.isdir()):
        return False
    name = m.name.replace("\\", "/")
    if name.startswith("/") or os.path.isabs(name):
        return False
    return ".." not in name.split("/")
