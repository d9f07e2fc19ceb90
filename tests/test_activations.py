"""minikeras.activations: every function against an independent NumPy reference, Keras's
relu options and gelu default, gradients of the composed ones, get/serialize/deserialize."""
import json
import math

import numpy as np
import pytest

import minikeras
from minikeras import activations as A
from minikeras.tensor import Tensor
from minikeras.utils import check_gradients

_erf = np.vectorize(math.erf)
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_softplus(x):
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)


def np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


REFERENCES = {
    "relu": lambda x: np.maximum(x, 0),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
    "relu6": lambda x: np.clip(x, 0, 6),
    "elu": lambda x: np.where(x > 0, x, np.exp(x) - 1),
    "selu": lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * (np.exp(x) - 1)),
    "celu": lambda x: np.maximum(x, 0) + np.minimum(np.exp(x) - 1, 0),
    "gelu": lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2))),
    "sigmoid": np_sigmoid,
    "hard_sigmoid": lambda x: np.clip(x / 6 + 0.5, 0, 1),
    "log_sigmoid": lambda x: np.log(np_sigmoid(x)),
    "softplus": np_softplus,
    "softsign": lambda x: x / (1 + np.abs(x)),
    "silu": lambda x: x * np_sigmoid(x),
    "swish": lambda x: x * np_sigmoid(x),
    "hard_silu": lambda x: x * np.clip(x / 6 + 0.5, 0, 1),
    "hard_swish": lambda x: x * np.clip(x / 6 + 0.5, 0, 1),
    "mish": lambda x: x * np.tanh(np_softplus(x)),
    "tanh": np.tanh,
    "hard_tanh": lambda x: np.clip(x, -1, 1),
    "tanh_shrink": lambda x: x - np.tanh(x),
    "soft_shrink": lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0.0)),
    "hard_shrink": lambda x: np.where(np.abs(x) > 0.5, x, 0.0),
    "squareplus": lambda x: (x + np.sqrt(x * x + 4)) / 2,
    "exponential": np.exp,
    "linear": lambda x: x,
    "softmax": np_softmax,
    "log_softmax": lambda x: np.log(np_softmax(x)),
    "glu": lambda x: x[..., :3] * np_sigmoid(x[..., 3:]),
}


def test_every_name_has_a_reference():
    assert set(REFERENCES) == set(A._BY_NAME)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_against_numpy(name):
    x = np.random.default_rng(0).normal(scale=3.0, size=(4, 6))
    x[0, :] = [-6.5, -3.0, -0.5, 0.5, 3.0, 6.5]   # the corners of the piecewise ones
    fn = A.get(name)
    out = fn(Tensor(x))
    np.testing.assert_allclose(np.asarray(out), REFERENCES[name](x), rtol=1e-12, atol=1e-12)
    out32 = fn(Tensor(x.astype(np.float32)))
    assert out32.dtype == np.float32
    np.testing.assert_allclose(np.asarray(out32), REFERENCES[name](x), rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "softmax", "gelu", "mish"])
def test_accepts_arrays_lists_and_integers(name):
    fn = A.get(name)
    out = fn([[1, -2, 3]])
    assert isinstance(out, Tensor) and out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), REFERENCES[name](np.array([[1.0, -2.0, 3.0]])),
                               rtol=1e-6)


# --------------------------------------------------------------------------- options
def np_relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Keras's documented relu, as a piecewise definition (for threshold >= 0)."""
    out = np.where(x > threshold, x, negative_slope * (x - threshold))
    if max_value is not None:
        out = np.where(x >= max_value, max_value, out)
    return out


@pytest.mark.parametrize("kwargs", [
    {}, {"negative_slope": 0.1}, {"max_value": 6}, {"max_value": 2.5},
    {"threshold": 1.0}, {"negative_slope": 0.3, "max_value": 4.0},
    {"negative_slope": 0.2, "threshold": 0.5}, {"negative_slope": 0.1, "max_value": 3.0,
                                                "threshold": 1.0},
    {"negative_slope": 0.5, "max_value": 6},
])
def test_relu_options(kwargs):
    x = np.linspace(-8, 8, 161)
    np.testing.assert_allclose(A.relu(Tensor(x), **kwargs).numpy(), np_relu(x, **kwargs),
                               atol=1e-12)


def test_relu_negative_threshold_without_max_value_keeps_x():
    x = np.array([-3.0, -1.5, -0.5, 0.5])
    np.testing.assert_allclose(A.relu(Tensor(x), threshold=-1.0).numpy(), [0, 0, -0.5, 0.5])


def test_gelu_default_is_exact_and_approximate_is_tanh():
    x = np.linspace(-4, 4, 33)
    exact = 0.5 * x * (1 + _erf(x / np.sqrt(2)))
    tanh_form = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    np.testing.assert_allclose(A.gelu(Tensor(x)).numpy(), exact, atol=1e-12)
    np.testing.assert_allclose(A.gelu(Tensor(x), approximate=True).numpy(), tanh_form, atol=1e-12)
    assert np.abs(exact - tanh_form).max() > 1e-5     # the two really differ


def test_other_options():
    x = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(A.leaky_relu(Tensor(x), negative_slope=0.3).numpy(),
                               np.where(x > 0, x, 0.3 * x))
    np.testing.assert_allclose(A.elu(Tensor(x), alpha=2.0).numpy(),
                               np.where(x > 0, x, 2.0 * np.expm1(x)))
    np.testing.assert_allclose(A.celu(Tensor(x), alpha=2.0).numpy(),
                               np.maximum(x, 0) + np.minimum(2.0 * np.expm1(x / 2.0), 0))
    np.testing.assert_allclose(A.soft_shrink(Tensor(x), threshold=1.0).numpy(),
                               np.sign(x) * np.maximum(np.abs(x) - 1.0, 0))
    np.testing.assert_allclose(A.hard_shrink(Tensor(x), threshold=1.0).numpy(),
                               np.where(np.abs(x) > 1.0, x, 0))
    np.testing.assert_allclose(A.squareplus(Tensor(x), b=1).numpy(), (x + np.sqrt(x * x + 1)) / 2)
    m = np.random.default_rng(1).normal(size=(3, 4, 5))
    np.testing.assert_allclose(A.softmax(Tensor(m), axis=1).numpy(), np_softmax(m, axis=1))
    np.testing.assert_allclose(A.log_softmax(Tensor(m), axis=0).numpy(),
                               np.log(np_softmax(m, axis=0)))
    g = np.random.default_rng(2).normal(size=(4, 6, 3))
    np.testing.assert_allclose(A.glu(Tensor(g), axis=1).numpy(),
                               g[:, :3] * np_sigmoid(g[:, 3:]))
    with pytest.raises(ValueError, match="even size"):
        A.glu(Tensor(np.ones((2, 5))))


def test_linear_returns_its_input():
    t = Tensor([1.0, 2.0])
    assert A.linear(t) is t


def test_softmax_sums_to_one_and_is_stable():
    x = Tensor(np.array([[1000.0, 1001.0, 999.0], [-1000.0, 0.0, 1000.0]]))
    out = A.softmax(x).numpy()
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out.sum(axis=-1), 1.0)


# --------------------------------------------------------------------------- gradients
GRADIENT_CASES = [
    ("relu options", lambda x: A.relu(x, negative_slope=0.1, max_value=2.0, threshold=0.5)),
    ("relu max 6", lambda x: A.relu(x, negative_slope=0.2, max_value=6)),
    ("celu", lambda x: A.celu(x, alpha=1.5)),
    ("log_sigmoid", A.log_sigmoid),
    ("hard_silu", A.hard_silu),
    ("mish", A.mish),
    ("hard_tanh", A.hard_tanh),
    ("tanh_shrink", A.tanh_shrink),
    ("soft_shrink", A.soft_shrink),
    ("hard_shrink", A.hard_shrink),
    ("squareplus", A.squareplus),
    ("glu", A.glu),
    ("gelu", A.gelu),
    ("softmax", A.softmax),
]


@pytest.mark.parametrize("name, fn", GRADIENT_CASES, ids=[c[0] for c in GRADIENT_CASES])
def test_gradients(name, fn):
    rng = np.random.default_rng(3)
    x = rng.uniform(-4, 4, size=(3, 8))
    # stay away from the kinks of the piecewise functions, where finite differences lie
    kinks = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0, 6.0])
    near = np.abs(x[..., None] - kinks).min(axis=-1) < 1e-3
    x[near] += 0.01
    report = check_gradients(fn, x)
    assert report.ok, str(report)


# --------------------------------------------------------------------------- names
def test_get_none_is_linear_and_callables_pass_through():
    assert A.get(None) is A.linear

    def custom(x):
        return x * 2
    assert A.get(custom) is custom
    assert A.get(minikeras.ops.relu) is minikeras.ops.relu


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_get_by_name_and_serialize(name):
    fn = A.get(name)
    assert callable(fn)
    canonical = {"swish": "silu", "hard_swish": "hard_silu"}.get(name, name)
    assert A.serialize(fn) == canonical
    assert A.deserialize(A.serialize(fn)) is fn


def test_aliases_are_the_same_functions():
    assert A.get("swish") is A.silu is A.swish
    assert A.get("hard_swish") is A.hard_silu


def test_get_unknown_lists_valid_names():
    with pytest.raises(ValueError, match="Unknown activation function 'rleu'.*Did you mean "
                                         "'relu'.*Valid names:.*sigmoid.*softmax"):
        A.get("rleu")
    with pytest.raises(ValueError, match="Could not interpret activation function identifier"):
        A.get(3)
    with pytest.raises(ValueError, match="Cannot deserialize"):
        A.deserialize(3)


def test_custom_function_round_trip():
    def scaled_tanh(x):
        return 2.0 * minikeras.ops.tanh(x)
    config = A.serialize(scaled_tanh)
    assert config["class_name"] == "function" and config["config"] == "scaled_tanh"
    json.dumps(config)
    assert A.deserialize(config, custom_objects={"scaled_tanh": scaled_tanh}) is scaled_tanh
    with pytest.raises(ValueError, match="Unknown activation function 'scaled_tanh'"):
        A.deserialize(config)
    with pytest.raises(ValueError, match="give it a name"):
        A.serialize(lambda x: x)


def test_dict_identifier():
    assert A.get({"class_name": "function", "config": "relu", "module": "builtins",
                  "registered_name": "relu"}) is A.relu
    assert A.serialize(None) is None
