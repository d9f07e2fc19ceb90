"""``minikeras.models``: Model (functional and subclassed) and Sequential."""
from .. import saving
from .model import Functional, Model  # noqa: F401
from .sequential import Sequential  # noqa: F401

__all__ = ["Functional", "Model", "Sequential", "clone_model", "load_model", "model_from_json",
           "save_model"]


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """``keras.models.load_model``: the model saved in a ``.keras`` file (see
    :func:`minikeras.saving.load_model`)."""
    return saving.load_model(filepath, custom_objects=custom_objects, compile=compile,
                       safe_mode=safe_mode)


def save_model(model, filepath, overwrite=True, zipped=None, **kwargs):
    """``keras.models.save_model``: ``model.save(filepath)``."""
    saving.save_model(model, filepath, overwrite=overwrite, zipped=zipped, **kwargs)


def model_from_json(json_string, custom_objects=None):
    """``keras.models.model_from_json``: a model from ``model.to_json()``."""
    return saving.model_from_json(json_string, custom_objects=custom_objects)


def clone_model(model, input_tensors=None, clone_function=None, **kwargs):
    """``keras.models.clone_model``: a new Sequential or functional model with the same
    architecture and new, freshly initialised weights (rebuilt from the model's config;
    see :mod:`minikeras.saving`). ``input_tensors``, ``clone_function`` and the other
    options of Keras are not supported yet."""
    if input_tensors is not None or clone_function is not None or kwargs:
        raise ValueError("clone_model: minikeras supports only clone_model(model) so far "
                         "(no input_tensors, clone_function or call_function).")
    if not isinstance(model, (Functional, Sequential)):
        raise ValueError("clone_model expects a Sequential or functional model; received "
                         f"{type(model).__name__}. Subclassed models are cloned with "
                         "type(model).from_config(model.get_config()).")
    return saving.model_from_dict(saving.serialize_model(model, include_compile=False),
                                  compile=False)
