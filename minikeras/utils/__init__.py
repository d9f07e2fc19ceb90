"""``minikeras.utils``: tools for users and learners."""
from .gradient_check import (GradientCheckReport, check_gradients, check_layer_gradients,  # noqa: F401
                             check_model_gradients)
from ..callbacks.progbar import Progbar  # noqa: F401
from .data_utils import PyDataset, Sequence, normalize, pad_sequences, to_categorical  # noqa: F401
from ..random import set_random_seed  # noqa: F401
from ..models.data import pack_x_y_sample_weight, unpack_x_y_sample_weight  # noqa: F401
from .model_visualization import model_to_dot, plot_model  # noqa: F401
from .plots import plot_history  # noqa: F401
from ..saving import (CustomObjectScope, custom_object_scope, deserialize_keras_object,  # noqa: F401
                      get_custom_objects, get_registered_name, get_registered_object,
                      register_keras_serializable, serialize_keras_object)

__all__ = ["check_gradients", "check_layer_gradients", "GradientCheckReport", "Progbar", "set_random_seed"]
__all__ += ["model_to_dot", "plot_model", "plot_history", "check_model_gradients"]
__all__ += ["to_categorical", "normalize", "pad_sequences", "PyDataset", "Sequence"]
__all__ += ["pack_x_y_sample_weight", "unpack_x_y_sample_weight"]
__all__ += ["register_keras_serializable", "serialize_keras_object", "deserialize_keras_object",
            "custom_object_scope", "CustomObjectScope", "get_custom_objects",
            "get_registered_name", "get_registered_object"]
