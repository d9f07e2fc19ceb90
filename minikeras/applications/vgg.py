"""VGG16 and VGG19 (Simonyan & Zisserman, 2014), as ``keras.applications`` builds them.

Five blocks of 3×3 convolutions ("same" padding, ReLU), each block ending in a 2×2 max
pooling that halves the image: 64, 128, 256, 512 and 512 filters, with 2, 2, 3, 3, 3
convolutions per block (VGG16) or 2, 2, 4, 4, 4 (VGG19). With ``include_top``, the classifier
follows: Flatten, two Dense(4096, relu) and Dense(classes). The layer names are Keras's
(``block1_conv1`` … ``block5_pool``, ``flatten``, ``fc1``, ``fc2``, ``predictions``), so the
same weights files fit both libraries.

``weights="imagenet"`` reads Keras's pretrained file (Keras 2's HDF5 layout, from Keras's
address into ``~/.keras/models/``, see ``saving/legacy_h5.py``); ``weights=None`` keeps the
random initial weights; a path loads that file.
"""
import numpy as np

from .. import layers
from ..datasets import cache
from ..layers.input_layer import Input
from ..models import Model

_ORIGIN = "https://storage.googleapis.com/tensorflow/keras-applications/"
#: (file name, MD5 that Keras lists) of the pretrained weights, with and without the top.
WEIGHTS = {
    ("vgg16", True): ("vgg16_weights_tf_dim_ordering_tf_kernels.h5",
                      "64373286793e3c8b2b4e3219cbf3544b"),
    ("vgg16", False): ("vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
                       "6d6bbae143d832006294945121d1f1fc"),
    ("vgg19", True): ("vgg19_weights_tf_dim_ordering_tf_kernels.h5",
                      "cbe5617147190e668d6c5d5026f83318"),
    ("vgg19", False): ("vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
                       "253f8cb515780f3b799900260a226db6"),
}
BLOCKS = {"vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4)}
FILTERS = (64, 128, 256, 512, 512)


def build(kind, include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
          pooling=None, classes=1000, classifier_activation="softmax", name=None):
    title = kind.upper()
    if not (weights in ("imagenet", None) or isinstance(weights, str)):
        raise ValueError(f"{title}: the `weights` argument should be either `None` (random "
                         "initialization), 'imagenet' (pre-training on ImageNet), or the path "
                         f"to the weights file to be loaded. Received: weights={weights!r}")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(f"{title}: if using `weights='imagenet'` with `include_top=True`, "
                         f"`classes` should be 1000. Received classes={classes}")
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"{title}: pooling must be None, 'avg' or 'max'; got {pooling!r}.")
    if input_shape is None:
        input_shape = (224, 224, 3) if include_top else (None, None, 3)
    elif include_top and weights == "imagenet" and tuple(input_shape) != (224, 224, 3):
        raise ValueError(f"{title}: when setting `include_top=True` and loading `imagenet` "
                         "weights, `input_shape` should be (224, 224, 3). Received "
                         f"input_shape={tuple(input_shape)}")
    inputs = Input(shape=input_shape) if input_tensor is None else input_tensor
    x = inputs
    for block, (convs, filters) in enumerate(zip(BLOCKS[kind], FILTERS), start=1):
        for i in range(1, convs + 1):
            x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same",
                              name=f"block{block}_conv{i}")(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D()(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D()(x)
    model = Model(inputs, x, name=name or kind)
    if weights == "imagenet":
        fname, md5 = WEIGHTS[(kind, bool(include_top))]
        model.load_weights(cache.get_file(title, fname, _ORIGIN + kind + "/" + fname, md5,
                                          cache_subdir="models"))
    elif weights is not None:
        model.load_weights(weights)
    return model


def preprocess_input(x, data_format=None):
    """Keras's "caffe" preprocessing of RGB images with values 0-255: to BGR, then each channel
    less its ImageNet mean (103.939, 116.779, 123.68 for B, G, R); no scaling."""
    x = np.array(x, dtype="float32")
    if data_format == "channels_first":
        x = x[..., ::-1, :, :] if x.ndim == 4 else x[::-1]
        mean = np.array([103.939, 116.779, 123.68], "float32").reshape(3, 1, 1)
    else:
        x = x[..., ::-1]
        mean = np.array([103.939, 116.779, 123.68], "float32")
    return x - mean
