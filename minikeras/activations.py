"""Activation functions by name (``keras.activations``).

Each activation is a plain function of a tensor, built from :mod:`minikeras.ops` (so its
gradient comes from the ops' backward methods). Layers take them by name::

    Dense(64, activation="relu")       # get("relu") is the function relu below
    Dense(10, activation="softmax")
    Dense(1)                           # activation=None means linear (the identity)

``get`` turns a name (or None, or a function) into the function; ``serialize`` turns a
function back into its name for a layer's config.

The defaults are Keras's, which sometimes differ from ``keras.ops``: ``gelu`` here is the
exact erf form (``approximate=False``), and ``relu`` takes ``negative_slope``, ``max_value``
and ``threshold``.
"""

from . import backend, naming, ops, registry
from .ops.core import convert_to_tensor

__all__ = ["relu", "leaky_relu", "relu6", "elu", "selu", "celu", "gelu", "sigmoid",
           "hard_sigmoid", "log_sigmoid", "softplus", "softsign", "silu", "swish", "hard_silu",
           "hard_swish", "mish", "tanh", "hard_tanh", "tanh_shrink", "soft_shrink",
           "hard_shrink", "squareplus", "exponential", "linear", "softmax", "log_softmax", "glu",
           "get", "serialize", "deserialize"]


def _float(x):
    """A float tensor (integer input becomes floatx, as in Keras)."""
    x = convert_to_tensor(x)
    return ops.cast(x, backend.floatx()) if x.dtype.kind in "iub" else x


# --------------------------------------------------------------------------- rectifiers
def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """The rectified linear unit, with Keras's options::

        f(x) = max_value                      for x >= max_value
        f(x) = x                              for threshold < x < max_value
        f(x) = negative_slope · (x - threshold)  otherwise

    With the defaults it is max(x, 0). ``max_value`` also clips the kept part at 0 from
    below (so a negative ``threshold`` has an effect only without ``max_value``).
    """
    x = _float(x)
    if max_value is None and threshold == 0:
        return ops.relu(x) if negative_slope == 0 else ops.leaky_relu(x, negative_slope)
    if threshold != 0:
        kept = x * ops.cast(ops.greater(x, threshold), x.dtype)   # x above the threshold, else 0
    elif max_value == 6:
        kept, max_value = ops.relu6(x), None
    else:
        kept = ops.relu(x)
    if max_value is not None:
        kept = ops.clip(kept, 0.0, float(max_value))
    if negative_slope != 0:
        kept = kept - negative_slope * ops.relu(threshold - x)
    return kept


def leaky_relu(x, negative_slope=0.2):
    """x for x > 0, negative_slope·x otherwise (the LeakyReLU *layer* defaults to 0.3)."""
    return ops.leaky_relu(_float(x), negative_slope=negative_slope)


def relu6(x):
    """min(max(x, 0), 6)."""
    return ops.relu6(_float(x))


def elu(x, alpha=1.0):
    """x for x > 0, alpha·(eˣ - 1) otherwise."""
    return ops.elu(_float(x), alpha=alpha)


def selu(x):
    """scale·elu(x, alpha) with the fixed constants alpha ≈ 1.6733, scale ≈ 1.0507 (use with
    the lecun_normal initializer)."""
    return ops.selu(_float(x))


def celu(x, alpha=1.0):
    """Continuously differentiable ELU: max(x, 0) + alpha·(e^(min(x, 0)/alpha) - 1)."""
    x = _float(x)
    return ops.relu(x) + alpha * ops.expm1(ops.minimum(x, 0.0) / alpha)


def gelu(x, approximate=False):
    """Gaussian error linear unit x·Φ(x); ``approximate=True`` uses the tanh formula."""
    return ops.gelu(_float(x), approximate=approximate)


# --------------------------------------------------------------------------- sigmoid family
def sigmoid(x):
    """1 / (1 + e⁻ˣ)."""
    return ops.sigmoid(_float(x))


def hard_sigmoid(x):
    """The piecewise-linear sigmoid relu6(x + 3) / 6."""
    return ops.hard_sigmoid(_float(x))


def log_sigmoid(x):
    """log(sigmoid(x)) = -softplus(-x), computed without overflow."""
    return -ops.softplus(-_float(x))


def softplus(x):
    """log(1 + eˣ)."""
    return ops.softplus(_float(x))


def softsign(x):
    """x / (1 + |x|)."""
    return ops.softsign(_float(x))


def silu(x):
    """x·sigmoid(x), also called swish."""
    return ops.silu(_float(x))


swish = silu


def hard_silu(x):
    """x·hard_sigmoid(x), also called hard_swish."""
    x = _float(x)
    return x * ops.hard_sigmoid(x)


hard_swish = hard_silu


def mish(x):
    """x·tanh(softplus(x))."""
    x = _float(x)
    return x * ops.tanh(ops.softplus(x))


# --------------------------------------------------------------------------- tanh family
def tanh(x):
    """The hyperbolic tangent."""
    return ops.tanh(_float(x))


def hard_tanh(x):
    """tanh's piecewise-linear cousin: clip(x, -1, 1)."""
    return ops.clip(_float(x), -1.0, 1.0)


def tanh_shrink(x):
    """x - tanh(x)."""
    x = _float(x)
    return x - ops.tanh(x)


def soft_shrink(x, threshold=0.5):
    """x - threshold above threshold, x + threshold below -threshold, 0 in between."""
    x = _float(x)
    return ops.relu(x - threshold) - ops.relu(-x - threshold)


def hard_shrink(x, threshold=0.5):
    """x where |x| > threshold, 0 elsewhere."""
    x = _float(x)
    return x * ops.cast(ops.greater(ops.abs(x), threshold), x.dtype)


def squareplus(x, b=4):
    """(x + sqrt(x² + b)) / 2, a smooth relu made of square roots."""
    x = _float(x)
    return (x + ops.sqrt(x * x + float(b))) / 2.0


# --------------------------------------------------------------------------- others
def exponential(x):
    """eˣ."""
    return ops.exp(_float(x))


def linear(x):
    """The identity: returns x unchanged (what ``activation=None`` means)."""
    return x


def softmax(x, axis=-1):
    """eˣ / Σ eˣ along ``axis``: non-negative values that sum to 1."""
    return ops.softmax(_float(x), axis=axis)


def log_softmax(x, axis=-1):
    """log(softmax(x)) along ``axis``, computed stably."""
    return ops.log_softmax(_float(x), axis=axis)


def glu(x, axis=-1):
    """Gated linear unit: x is cut in two halves a, b along ``axis``; returns a·sigmoid(b)."""
    x = _float(x)
    if x.shape[axis] % 2:
        raise ValueError(f"glu: axis {axis} must have an even size to be cut in two halves, "
                         f"got a tensor of shape {x.shape}.")
    a, b = ops.split(x, 2, axis=axis)
    return a * ops.sigmoid(b)


# --------------------------------------------------------------------------- names
_FUNCTIONS = [relu, leaky_relu, relu6, elu, selu, celu, gelu, sigmoid, hard_sigmoid, log_sigmoid,
              softplus, softsign, silu, hard_silu, mish, tanh, hard_tanh, tanh_shrink,
              soft_shrink, hard_shrink, squareplus, exponential, linear, softmax, log_softmax,
              glu]
_BY_NAME = {fn.__name__: fn for fn in _FUNCTIONS}
_BY_NAME.update({"swish": silu, "hard_swish": hard_silu})


def _lookup(name, custom_objects=None):
    return naming.class_for("activation function", name, _BY_NAME, custom_objects)


def serialize(activation):
    """The name of a built-in activation (``silu`` for swish too), as Keras writes it in a
    layer's config. Another function becomes ``{"class_name": "function", "config": name,
    ...}``, which ``deserialize`` resolves through ``custom_objects``."""
    if activation is None:
        return None
    if getattr(activation, "__module__", None) == __name__ and activation in _FUNCTIONS:
        return activation.__name__
    if hasattr(activation, "get_config"):
        return naming.serialize("activation", type(activation).__module__, activation)
    name = getattr(activation, "__name__", None)
    if name is None or name == "<lambda>":
        raise ValueError(f"Cannot serialize the activation {activation!r}: give it a name "
                         "(def f(x): ...) so that it can be found again through custom_objects.")
    # as Keras writes any function: by its registered name ("package>name") if it has one
    return {"module": "builtins", "class_name": "function",
            "config": registry.get_registered_name(activation), "registered_name": "function"}


def deserialize(config, custom_objects=None):
    """The activation function for a name, or for a dict written by :func:`serialize`."""
    if isinstance(config, str):
        return _lookup(config, custom_objects)
    if isinstance(config, dict) and "class_name" in config:
        if config["class_name"] == "function":
            return _lookup(config["config"], custom_objects)
        cls = _lookup(config["class_name"], custom_objects)
        return cls.from_config(config.get("config") or {})
    raise ValueError(f"Cannot deserialize an activation from {config!r}: expected a name such "
                     "as 'relu' or a dict written by activations.serialize.")


def get(identifier):
    """The activation function for a layer argument: None gives :func:`linear`, a name the
    built-in function of that name, a dict goes through :func:`deserialize`, and a callable
    is returned as it is."""
    if identifier is None:
        return linear
    if isinstance(identifier, (str, dict)):
        fn = deserialize(identifier)
    else:
        fn = identifier
    if callable(fn):
        return fn
    raise ValueError(f"Could not interpret activation function identifier: {identifier!r} "
                     f"(of type {type(identifier).__name__}). Give a name such as 'relu', None "
                     "or a callable.")
