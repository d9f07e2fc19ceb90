"""``keras.applications``: ready-made architectures under Keras's names, with Keras's layer
names, so that Keras's pretrained weights files load into them.

* ``vgg.py``: ``VGG16`` and ``VGG19`` (``keras.applications.vgg16`` / ``vgg19`` hold each
  with its ``preprocess_input``).

The other architectures of Keras (ResNet, MobileNet, EfficientNet...) are not here.
"""
from . import vgg16, vgg19
from .vgg16 import VGG16
from .vgg19 import VGG19

__all__ = ["VGG16", "VGG19", "vgg16", "vgg19"]
