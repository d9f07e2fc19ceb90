"""Real Keras 3 (a test dependency) as the reference, on its NumPy backend: no GPU framework
needed. ``from keras_reference import keras`` in a test module.

KERAS_BACKEND is set only while Keras is imported (Keras reads it once), so that the
subprocesses of later tests do not inherit it."""
import os

_previous_backend = os.environ.get("KERAS_BACKEND")
os.environ["KERAS_BACKEND"] = "numpy"
import keras  # noqa: E402

if _previous_backend is None:
    del os.environ["KERAS_BACKEND"]
else:
    os.environ["KERAS_BACKEND"] = _previous_backend

__all__ = ["keras"]
