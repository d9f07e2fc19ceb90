"""``minikeras.saving``: models and weights in Keras 3's own file formats, both ways.

* ``model.save("m.keras")`` / :func:`load_model`: the whole model (architecture, weights,
  compile arguments and optimizer state) in a ``.keras`` archive (``archive.py``) that
  real Keras 3 opens with ``keras.saving.load_model``, and that Keras 3 writes for us;
* ``model.save_weights("w.weights.h5")`` / ``model.load_weights``: the weights alone, in
  Keras's HDF5 layout (``weights_h5.py``);
* ``model.to_json()`` / ``keras.models.model_from_json``: the architecture alone
  (``model_config.py``, ``serialization.py``).

Safety: files are written beside their destination and renamed over it (``files.py``),
so an interrupted save leaves the previous file whole. Loading never unpickles and never
imports or runs code named by a file; a Python lambda stored in a file is refused unless
``safe_mode=False``. A damaged file, or weights that do not fit the model, is a
ValueError, and the model is left exactly as it was.
"""
import io
import json
import os
import tempfile
import warnings

from . import archive, legacy_h5, weights_h5
from .files import atomic_path
from .model_config import (compile_config, compile_from_config, deserialize_keras_object,  # noqa: F401
                           model_from_dict, sequential_from_config, serialize_keras_object,
                           serialize_model)
from ..registry import (CustomObjectScope, custom_object_scope, get_custom_objects,
                      get_registered_name, get_registered_object, register_keras_serializable)

__all__ = ["CustomObjectScope", "custom_object_scope", "deserialize_keras_object",
           "get_custom_objects", "get_registered_name", "get_registered_object",
           "load_model", "load_weights", "model_from_json", "register_keras_serializable",
           "save_model", "save_weights", "serialize_keras_object"]


def _path(filepath):
    return os.fspath(filepath)


def _require_built(model, what):
    if not model.built:
        raise ValueError(f"You are calling `{what}` on model '{model.name}', which has not "
                         "been built yet: call it on data, give it a keras.Input, or call "
                         "`model.build(input_shape)` first, so that its weights exist.")


def save_model(model, filepath, overwrite=True, zipped=None, **kwargs):
    """Save ``model`` to a ``.keras`` file (Keras 3's format), atomically."""
    if kwargs:
        raise ValueError(f"The following argument(s) are not supported: {list(kwargs)}")
    path = _path(filepath)
    if zipped is False:
        raise ValueError("minikeras writes `.keras` archives only (zipped=True).")
    if not path.endswith(".keras"):
        raise ValueError("Invalid filepath extension for saving. Please add the `.keras` "
                         f"extension to the filepath (the Keras 3 format). Received: "
                         f"filepath={path}")
    if not model.built:
        warnings.warn("You are saving a model that has not yet been built. It might not "
                      "contain any weights yet. Consider building the model first by calling "
                      "it on some data.", UserWarning, stacklevel=3)
    config = serialize_model(model)
    json.dumps(config)  # a value JSON cannot hold fails here, before anything is written
    with tempfile.TemporaryDirectory() as assets:
        for inner, obj in weights_h5.walk(model):  # layers that keep files: save_assets
            if hasattr(obj, "save_assets"):
                folder = os.path.join(assets, inner)
                os.makedirs(folder, exist_ok=True)
                obj.save_assets(folder)
        archive.write_archive(path, config, weights_h5.weights_bytes(model), overwrite,
                              assets=assets)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """The model saved in a ``.keras`` file by minikeras or by Keras 3.

    ``custom_objects`` maps class or function names to your own objects;
    ``compile=False`` skips the compile arguments and the optimizer state; with
    ``safe_mode=True`` (the default) a Python lambda in the file is refused.
    """
    path = _path(filepath)
    if not path.endswith(".keras"):
        raise ValueError("File format not supported: filepath="
                         f"{path}. minikeras reads the Keras 3 format (`.keras` files); for "
                         "weights alone use `model.load_weights(...)` with `.weights.h5`.")
    config, _, weights = archive.read_archive(path)
    try:
        model = model_from_dict(config, custom_objects, safe_mode, compile=compile)
    except (KeyError, TypeError, IndexError, AttributeError, RecursionError) as e:
        raise ValueError(f"{path}: config.json is not a model config that minikeras can "
                         f"rebuild ({type(e).__name__}: {e}).") from e
    if weights is not None:
        _load_weights_into(model, io.BytesIO(weights), skip_mismatch=False,
                           build_optimizer=compile)
    loaders = [(inner, obj) for inner, obj in weights_h5.walk(model)
               if hasattr(obj, "load_assets")]
    if loaders:
        with tempfile.TemporaryDirectory() as assets:
            archive.extract_assets(path, assets)
            for inner, obj in loaders:
                folder = os.path.join(assets, inner)
                os.makedirs(folder, exist_ok=True)
                obj.load_assets(folder)
    return model


def _load_weights_into(model, source, skip_mismatch, build_optimizer):
    optimizer = getattr(model, "optimizer", None)
    if (build_optimizer and optimizer is not None and not optimizer.built
            and weights_h5.optimizer_variable_count(source) > len(optimizer.variables)):
        optimizer.build(model.trainable_weights)  # slots to receive the saved state
    weights_h5.read_weights(model, source, skip_mismatch=skip_mismatch,
                            skip_optimizer=not build_optimizer)


def save_weights(model, filepath, overwrite=True, max_shard_size=None):
    """Write the weights of ``model`` to ``filepath`` (``*.weights.h5``), atomically."""
    path = _path(filepath)
    if max_shard_size is not None:
        raise ValueError("Sharded weights (max_shard_size) are not supported by minikeras.")
    if not path.endswith(".weights.h5"):
        raise ValueError(f"The filename must end in `.weights.h5`. Received: filepath={path}")
    _require_built(model, "save_weights")
    with atomic_path(path, overwrite) as tmp:
        weights_h5.write_weights(model, tmp)


def load_weights(model, filepath, skip_mismatch=False, **kwargs):
    """Load weights saved by ``save_weights`` (``.weights.h5``) or inside a ``.keras``
    file, by Keras 3 or minikeras, into ``model``: all of them or, on any misfit, none."""
    if kwargs:
        raise ValueError(f"Invalid keyword arguments: {kwargs}")
    path = _path(filepath)
    if path.endswith(".keras"):
        _, _, weights = archive.read_archive(path)
        if weights is None:
            raise ValueError(f"{path} holds no model.weights.h5.")
        source = io.BytesIO(weights)
    elif path.endswith(".weights.h5"):
        if not os.path.exists(path):
            raise FileNotFoundError(f"No such file: {path}")
        source = path
    elif path.endswith(".h5") or path.endswith(".hdf5"):
        return _load_legacy_h5(model, path, skip_mismatch)
    else:
        raise ValueError("File format not supported: filepath="
                         f"{path}. minikeras reads `.weights.h5`, `.keras` and Keras 2's "
                         "`.h5` files.")
    weights_h5.read_weights(model, source, skip_mismatch=skip_mismatch)


def _load_legacy_h5(model, path, skip_mismatch):
    """A ``.h5`` file: Keras 2's layout (``legacy_h5.py``), or Keras 3's under another name."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such file: {path}")
    h5py = weights_h5._h5py()
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise ValueError(f"{path} is not a readable HDF5 file ({e}).") from None
    with f:
        if legacy_h5.is_legacy_file(f):
            return legacy_h5.read_legacy_weights(model, f, path, skip_mismatch)
    weights_h5.read_weights(model, path, skip_mismatch=skip_mismatch)


def model_from_json(json_string, custom_objects=None, safe_mode=True):
    """A new model (fresh weights; compiled when the JSON has a ``compile_config``, as in
    Keras) from ``model.to_json()``'s string."""
    try:
        config = json.loads(json_string)
    except ValueError as e:
        raise ValueError(f"model_from_json: the string is not valid JSON: {e}") from e
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError("model_from_json: the JSON does not describe a Keras model (expected "
                         "a dict with 'class_name' and 'config').")
    return model_from_dict(config, custom_objects, safe_mode, compile=True)


def to_json(model, **kwargs):
    """The architecture of ``model`` as Keras's JSON string."""
    return json.dumps(serialize_model(model), **kwargs)
