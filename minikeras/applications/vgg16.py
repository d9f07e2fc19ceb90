"""``keras.applications.vgg16``: ``VGG16`` and its ``preprocess_input`` (see ``vgg.py``)."""
from .vgg import build, preprocess_input  # noqa: F401


def VGG16(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
          pooling=None, classes=1000, classifier_activation="softmax", name="vgg16"):
    """The VGG16 network (see ``vgg.py``); ``weights``: "imagenet", None or a path."""
    return build("vgg16", include_top, weights, input_tensor, input_shape, pooling, classes,
                 classifier_activation, name)
