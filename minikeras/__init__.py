"""minikeras: the Keras 3 API on a deep-learning engine you can read.

``import minikeras as keras`` and the Keras code of a course runs here; every line that
runs, from ``model.fit`` down to the kernel, is in this package. Start reading at
``tensor.py`` (what a tensor is), ``autograd/`` (the tape) and ``ops/`` (the math), then
``layers/`` and ``models/`` (the Keras API on top).
"""
__version__ = "0.1.0"

from . import backend  # noqa: F401  (chooses numpy or cuda once, here)
from . import config, ops, random, utils  # noqa: F401
from .autograd import Function, GradientTape, enable_grad, no_grad  # noqa: F401
from .tensor import Tensor, Variable  # noqa: F401
from . import datasets  # noqa: F401,E402
from . import activations, constraints, initializers, regularizers  # noqa: F401,E402
from . import losses, metrics  # noqa: F401,E402
from . import optim as optimizers  # noqa: F401,E402
from . import callbacks, layers, models  # noqa: F401,E402
from .layers import Input, Layer  # noqa: F401,E402
from .models import Model, Sequential  # noqa: F401,E402
from . import saving  # noqa: F401,E402
from . import applications  # noqa: F401,E402
from . import debug  # noqa: F401,E402  (the teaching tools, on top of everything)

import sys as _sys  # noqa: E402

# A lambda stored in a file sees ``keras``, this package, as a global (saving/serialization.py).
saving.serialization.LAMBDA_GLOBALS["keras"] = _sys.modules[__name__]

# keras.layers.serialize and keras.layers.deserialize live in saving/, a floor above layers/
# (they need every class a config may name); Keras's names for them are bound here.
layers.serialize = saving.serialize_keras_object
layers.deserialize = saving.deserialize_keras_object
