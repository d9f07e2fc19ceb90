"""The ``.keras`` file: a plain ZIP archive (stored, not compressed) of

1. ``metadata.json``: ``{"keras_version": ..., "date_saved": "%Y-%m-%d@%H:%M:%S"}``;
2. ``config.json``: the model as Keras's JSON, on one line;
3. ``model.weights.h5``: the weights in Keras's HDF5 layout;
4. ``assets/...``: files that layers with a ``save_assets(folder)`` method wrote, each under
   the layer's path in the weights file (``assets/layers/lookup/vocabulary.txt``).

Reading is defensive, because a file may come from anywhere: the archive must be a valid
ZIP whose members pass their CRC check, hold the members above, and no member may unpack
to more than :data:`MAX_MEMBER_BYTES` (or :data:`MAX_CONFIG_BYTES` for the JSON files),
whatever its header claims. Every failure is a ValueError that names the file.
"""
import datetime
import json
import os
import zipfile

from .files import atomic_path

KERAS_VERSION = "3.15.1"  # the Keras release whose format these files follow
CONFIG = "config.json"
METADATA = "metadata.json"
WEIGHTS = "model.weights.h5"
ASSETS = "assets"  # files a layer's save_assets wrote, under its path: assets/layers/...
MAX_MEMBER_BYTES = 4 * 2**30   # 4 GiB, the limit Keras itself applies
MAX_CONFIG_BYTES = 64 * 2**20  # a config is a few kB; 64 MiB is far beyond any model


def metadata():
    return {"keras_version": KERAS_VERSION,
            "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}


def write_archive(filepath, config, weights, overwrite=True, assets=None):
    """Write the three members to ``filepath`` atomically, and the files under the folder
    ``assets`` (what layers' ``save_assets`` wrote) as ``assets/...`` members."""
    with atomic_path(filepath, overwrite) as tmp:
        with zipfile.ZipFile(tmp, "w") as zf:  # ZIP_STORED, as Keras writes
            zf.writestr(METADATA, json.dumps(metadata()))
            zf.writestr(CONFIG, json.dumps(config))
            zf.writestr(WEIGHTS, weights)
            for root, _, files in sorted(os.walk(assets)) if assets else ():
                for name in sorted(files):
                    path = os.path.join(root, name)
                    member = os.path.relpath(path, assets).replace(os.sep, "/")
                    zf.write(path, f"{ASSETS}/{member}")


def extract_assets(filepath, folder):
    """Unpack the ``assets/...`` members of a ``.keras`` file into ``folder`` (a member
    whose name would land outside it is refused); returns how many there were."""
    count, root = 0, os.path.realpath(folder)
    with zipfile.ZipFile(os.fspath(filepath), "r") as zf:
        for info in zf.infolist():
            if not info.filename.startswith(ASSETS + "/") or info.is_dir():
                continue
            target = os.path.realpath(os.path.join(root, info.filename[len(ASSETS) + 1:]))
            if not target.startswith(root + os.sep):
                raise ValueError(f"{filepath}: the member {info.filename!r} would unpack "
                                 "outside the assets folder; refusing to read it.")
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(_read_member(zf, info, MAX_MEMBER_BYTES, filepath))
            count += 1
    return count


def _read_member(zf, info, limit, filepath):
    if info.file_size > limit:
        raise ValueError(f"{filepath}: the member {info.filename!r} would unpack to "
                         f"{info.file_size} bytes, more than the {limit} allowed; refusing "
                         "to read it.")
    with zf.open(info) as f:
        data = f.read(limit + 1)  # do not trust the header's size
    if len(data) > limit:
        raise ValueError(f"{filepath}: the member {info.filename!r} unpacks to more than the "
                         f"{limit} bytes allowed; refusing to read it.")
    return data


def read_archive(filepath):
    """``(config dict, metadata dict, weights bytes or None)`` of a ``.keras`` file."""
    filepath = os.fspath(filepath)
    try:
        with zipfile.ZipFile(filepath, "r") as zf:
            infos = {info.filename: info for info in zf.infolist()}
            if CONFIG not in infos:
                raise ValueError(f"{filepath} is not a Keras model archive: it has no "
                                 f"{CONFIG} (members: {sorted(infos)[:10]}).")
            raw_config = _read_member(zf, infos[CONFIG], MAX_CONFIG_BYTES, filepath)
            raw_meta = (_read_member(zf, infos[METADATA], MAX_CONFIG_BYTES, filepath)
                        if METADATA in infos else b"{}")
            weights = (_read_member(zf, infos[WEIGHTS], MAX_MEMBER_BYTES, filepath)
                       if WEIGHTS in infos else None)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as e:
        raise ValueError(f"{filepath} is not a valid `.keras` archive (a damaged or truncated "
                         f"ZIP file): {e}") from e
    except OSError as e:
        if isinstance(e, (FileNotFoundError, IsADirectoryError, PermissionError)):
            raise
        raise ValueError(f"{filepath} is not a valid `.keras` archive: {e}") from e
    if WEIGHTS not in infos and "model.weights.npz" in infos:
        raise ValueError(f"{filepath} holds its weights as model.weights.npz; minikeras reads "
                         "the HDF5 weights format (model.weights.h5) only.")
    try:
        config, meta = json.loads(raw_config), json.loads(raw_meta)
    except (ValueError, RecursionError) as e:  # also UnicodeDecodeError; absurd nesting
        raise ValueError(f"{filepath}: {CONFIG} or {METADATA} is not valid JSON: "
                         f"{type(e).__name__}: {e}") from e
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"{filepath}: {CONFIG} does not describe a Keras object (expected a "
                         "dict with 'class_name' and 'config').")
    return config, meta, weights
