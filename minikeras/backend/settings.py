"""Global settings of minikeras: which backend, the default float type, epsilon.

They are read once, at import, in the order Keras uses for ``KERAS_BACKEND``:

1. the environment variable ``MINIKERAS_BACKEND`` (and ``MINIKERAS_HOME`` for the
   folder of the config file);
2. the config file ``~/.minikeras/minikeras.json``, with the same fields as
   ``~/.keras/keras.json``::

       {"backend": "numpy", "floatx": "float32", "epsilon": 1e-07,
        "image_data_format": "channels_last"}

3. the defaults above.

``floatx``, ``epsilon`` and ``image_data_format`` may be changed at run time with
the ``set_*`` functions (they are exported as ``minikeras.config``); the backend
cannot, because the array module is chosen once, before any array exists.

One setting is minikeras's own, set at run time only: ``set_matmul("ours" | "cublas")``,
which matrix product the cuda backend runs (see :func:`set_matmul`).
"""
import json
import os

BACKENDS = ("numpy", "cuda")
FLOAT_TYPES = ("float16", "float32", "float64")
DATA_FORMATS = ("channels_last", "channels_first")
MATMULS = ("cublas", "ours")

_DEFAULTS = {
    "backend": "numpy",
    "floatx": "float32",
    "epsilon": 1e-7,
    "image_data_format": "channels_last",
}


def config_path():
    """Where the config file is looked for: ``$MINIKERAS_HOME/minikeras.json``."""
    home = os.environ.get("MINIKERAS_HOME") or os.path.join(os.path.expanduser("~"), ".minikeras")
    return os.path.join(home, "minikeras.json")


def _read_config_file(path):
    if not os.path.exists(path):
        return {}
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(f"minikeras: cannot read the config file {path}: {e}. "
                         f"Fix it or delete it to use the defaults {_DEFAULTS}.") from None
    if not isinstance(data, dict):
        raise ValueError(f"minikeras: the config file {path} must hold a JSON object such as "
                         f"{json.dumps(_DEFAULTS)}, got {type(data).__name__}.")
    return data


def _load():
    path = config_path()
    settings = dict(_DEFAULTS)
    from_file = _read_config_file(path)
    settings.update(from_file)
    source = path if "backend" in from_file else "the default"
    env = os.environ.get("MINIKERAS_BACKEND")
    if env:
        settings["backend"] = env
        source = "MINIKERAS_BACKEND"
    settings["backend"] = str(settings["backend"]).strip().lower()
    settings["backend_source"] = source
    _check("floatx", settings["floatx"], FLOAT_TYPES)
    _check("image_data_format", settings["image_data_format"], DATA_FORMATS)
    settings["epsilon"] = float(settings["epsilon"])
    return settings


def _check(what, value, choices):
    if value not in choices:
        raise ValueError(f"minikeras: unknown {what} {value!r}; expected one of {', '.join(choices)}.")


_settings = _load()
_settings["matmul"] = "cublas"


def backend():
    """The name of the array backend in use: ``"numpy"`` or ``"cuda"``."""
    return _settings["backend"]


def floatx():
    """The default float type as a string, ``"float32"`` unless configured."""
    return _settings["floatx"]


def set_floatx(value):
    """Set the default float type (``"float16"``, ``"float32"`` or ``"float64"``)."""
    value = str(value)
    _check("floatx", value, FLOAT_TYPES)
    _settings["floatx"] = value


def epsilon():
    """The fuzz factor used to avoid division by zero, 1e-7 unless configured."""
    return _settings["epsilon"]


def set_epsilon(value):
    """Set the fuzz factor returned by :func:`epsilon`."""
    _settings["epsilon"] = float(value)


def image_data_format():
    """``"channels_last"`` (NHWC, the default) or ``"channels_first"``."""
    return _settings["image_data_format"]


def set_image_data_format(value):
    """Set the image data format for layers whose ``data_format`` is None."""
    _check("image_data_format", value, DATA_FORMATS)
    _settings["image_data_format"] = value


def matmul():
    """Which matrix product the cuda backend runs: ``"cublas"`` (the default) or ``"ours"``."""
    return _settings["matmul"]


def set_matmul(value):
    """Choose the matrix product of the cuda backend (``ops.matmul``, forward and backward):
    ``"cublas"`` (the default) runs CuPy's ``matmul``, i.e. NVIDIA's cuBLAS; ``"ours"`` runs
    the tiled shared-memory kernel of ``minikeras/kernels/cuda/matmul.py``. The numpy backend
    accepts the setting and runs NumPy's ``matmul`` either way."""
    if not isinstance(value, str) or value not in MATMULS:
        raise ValueError(f"minikeras.config.set_matmul: unknown matmul {value!r}; expected "
                         "'cublas' (CuPy's matmul, i.e. cuBLAS: the default) or 'ours' (the "
                         "tiled kernel of minikeras/kernels/cuda/matmul.py).")
    _settings["matmul"] = value
