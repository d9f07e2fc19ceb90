"""The Numba loops behind relu and relu_grad (kernels/cpu/activations.py) give the same bits
as their NumPy formulas, np.maximum(x, 0) and g * (x > 0), special values included, and step
aside for arrays they do not fit. The other activation twins (sigmoid, tanh, erf, gelu, the
masks) against references of their own, and the ops' gradient twins against their readable
rules, bit for bit."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from minikeras import GradientTape, ops
from minikeras.autograd import readable_backward
from minikeras.kernels.cpu import activations
from minikeras.tensor import Tensor, Variable

SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, -1e-45]


def _floats(dtype):
    return arrays(dtype, array_shapes(min_dims=1, max_dims=3, max_side=9),
                  elements=st.one_of(st.sampled_from(SPECIAL),
                                     st.floats(-1024.0, 1024.0, width=32)))


def _same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes() or np.array_equal(a, b, equal_nan=True) and \
        (np.signbit(a) == np.signbit(b)).all(), (a, b)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([np.float32, np.float64]).flatmap(_floats))
def test_relu_loop_gives_the_bits_of_np_maximum(x):
    _same_bits(activations.relu(x), np.maximum(x, 0))


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([np.float32, np.float64]).flatmap(
    lambda dt: st.tuples(_floats(dt), st.integers(0, 2**32 - 1))))
def test_relu_grad_loop_gives_the_bits_of_the_mask_product(case):
    x, seed = case
    g = np.random.default_rng(seed).standard_normal(x.shape).astype(x.dtype)
    _same_bits(activations.relu_grad(g, x), g * (x > 0))


def test_arrays_the_loops_do_not_fit_take_the_formula():
    x = np.arange(-6.0, 6.0).reshape(3, 4)
    strided = x[:, ::2]                                   # not contiguous
    np.testing.assert_array_equal(activations.relu(strided), np.maximum(strided, 0))
    ints = np.arange(-3, 3)
    out = activations.relu(ints)
    assert out.dtype == ints.dtype and out.tolist() == [0, 0, 0, 0, 1, 2]
    half = x.astype(np.float16)
    assert activations.relu(half).dtype == np.float16


# --------------------------------------------------------------------------- the other twins
# The CPU twins of the CUDA activation kernels: their forward against references built
# from Python's math module, one element at a time, and each gradient against central
# finite differences of its forward, in float64.
_vec = np.vectorize


def _sigmoid_reference(v):
    return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))


FORWARD_REFERENCES = {
    "relu6": (lambda x: activations.relu6(x), _vec(lambda v: min(max(v, 0.0), 6.0))),
    "hard_sigmoid": (lambda x: activations.hard_sigmoid(x),
                     _vec(lambda v: min(max(v / 6 + 0.5, 0.0), 1.0))),
    "leaky_relu": (lambda x: activations.leaky_relu(x, 0.3),
                   _vec(lambda v: v if v > 0 else 0.3 * v)),
    "sigmoid": (activations.sigmoid, _vec(_sigmoid_reference)),
    "tanh": (activations.tanh, _vec(math.tanh)),
    "erf": (activations.erf, _vec(math.erf)),
    "gelu_erf": (lambda x: activations.gelu(x, False),
                 _vec(lambda v: 0.5 * v * (1 + math.erf(v / math.sqrt(2))))),
    "gelu_tanh": (lambda x: activations.gelu(x, True), _vec(
        lambda v: 0.5 * v * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v ** 3))))),
}

# gradient twin -> (its forward, whether it takes the output y rather than x)
GRADIENTS = {
    "relu6": (lambda g, x, y: activations.relu6_grad(g, x), activations.relu6),
    "hard_sigmoid": (lambda g, x, y: activations.hard_sigmoid_grad(g, x), activations.hard_sigmoid),
    "leaky_relu": (lambda g, x, y: activations.leaky_relu_grad(g, x, 0.3),
                   lambda x: activations.leaky_relu(x, 0.3)),
    "sigmoid": (lambda g, x, y: activations.sigmoid_grad(g, y), activations.sigmoid),
    "tanh": (lambda g, x, y: activations.tanh_grad(g, y), activations.tanh),
    "gelu_erf": (lambda g, x, y: activations.gelu_grad(g, x, False),
                 lambda x: activations.gelu(x, False)),
    "gelu_tanh": (lambda g, x, y: activations.gelu_grad(g, x, True),
                  lambda x: activations.gelu(x, True)),
}


@pytest.mark.parametrize("name", sorted(FORWARD_REFERENCES))
@settings(max_examples=10, deadline=None)
@given(x=arrays(np.float64, array_shapes(min_dims=1, max_dims=2, max_side=7),
                elements=st.one_of(st.sampled_from([0.0, -0.0, 3.0, -3.0, 6.0]),
                                   st.floats(-12.0, 12.0))))
def test_activation_twin_matches_a_math_module_reference(name, x):
    twin, reference = FORWARD_REFERENCES[name]
    # (absolute tolerances: 1 + erf(x/√2) cancels for negative x, in any implementation)
    np.testing.assert_allclose(twin(x), reference(x), rtol=1e-13, atol=1e-14)
    x32 = x.astype(np.float32)
    out = twin(x32)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, reference(x32.astype(np.float64)), rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("name", sorted(GRADIENTS))
def test_activation_gradient_twin_matches_finite_differences(name):
    grad, forward = GRADIENTS[name]
    rng = np.random.default_rng(len(name))
    x = rng.uniform(-8, 8, size=200)
    x = x[np.min(np.abs(x[:, None] - np.array([0.0, 3.0, -3.0, 6.0])), axis=1) > 1e-3]  # no kink
    g = rng.standard_normal(x.shape)
    h = 1e-6
    numeric = g * (forward(x + h) - forward(x - h)) / (2 * h)
    np.testing.assert_allclose(grad(g, x, forward(x)), numeric, rtol=1e-6, atol=1e-8)


OPS_WITH_TWINS = {
    "relu6": ops.relu6, "hard_sigmoid": ops.hard_sigmoid,
    "leaky_relu": lambda t: ops.leaky_relu(t, 0.3), "sigmoid": ops.sigmoid, "tanh": ops.tanh,
    "gelu_tanh": lambda t: ops.gelu(t, approximate=True),
    "gelu_erf": lambda t: ops.gelu(t, approximate=False),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(OPS_WITH_TWINS))
def test_op_gradient_twin_gives_the_bits_of_the_readable_rule(name, dtype):
    """The op's backward_arrays (a kernel of the table) and its backward written with ops
    compute the same formula in the same order: the same bits, special values included."""
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(40) * 5).astype(dtype)
    x[:9] = [0.0, -0.0, 3.0, -3.0, 6.0, np.nan, np.inf, -np.inf, 1e-30]
    g = rng.standard_normal(40).astype(dtype)
    grads = []
    for readable in (False, True):
        t = Variable(x)
        with GradientTape() as tape, np.errstate(invalid="ignore", over="ignore"):
            loss = ops.sum(OPS_WITH_TWINS[name](t) * Tensor(g))
            if readable:
                with readable_backward():
                    grads.append(tape.gradient(loss, [t])[0].numpy())
            else:
                grads.append(tape.gradient(loss, [t])[0].numpy())
    _same_bits(*grads)
