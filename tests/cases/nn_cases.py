"""Cases for minikeras/ops/nn.py (activations, softmax, one_hot) and the Dropout Function of
minikeras/random.py. The references are written independently, in plain NumPy (erf with
``math.erf`` element by element); activations with kinks are drawn away from them."""
import math

import numpy as np
from hypothesis import strategies as st

from minikeras import ops
from minikeras import random as mk_random

from . import Case, axis_for, shapes, values

_erf = np.vectorize(math.erf, otypes=[np.float64])
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _unary(low=-3.0, high=3.0, avoid=None, min_dims=0):
    def draw(d):
        return [values(d, d(shapes(min_dims=min_dims)), low, high, avoid)]
    return draw


def _with_axis(allow_tuple=False):
    def draw(d):
        shape = d(shapes(min_dims=1))
        return [values(d, shape), axis_for(d, len(shape), allow_none=False,
                                           allow_tuple=allow_tuple)]
    return draw


def _axis(axis):
    """The axis argument as Python ints: the gradient checker hands every input over as a
    Tensor, the forward test as drawn."""
    if hasattr(axis, "numpy"):
        axis = axis.numpy().tolist()
    return tuple(axis) if isinstance(axis, (list, tuple)) else int(axis)


def _softmax_ref(a, axis):
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax_ref(a, axis):
    m = np.max(a, axis=axis, keepdims=True)
    return a - m - np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True))


def _labels(d):
    """Integer labels (some outside [0, num_classes), which give rows of zeros), the number
    of classes and an axis for the new one-hot axis."""
    shape = d(shapes(max_dims=2))
    n = d(st.integers(1, 4))
    seed = d(st.integers(0, 2**32 - 1))
    labels = np.random.default_rng(seed).integers(-1, n + 1, size=shape).astype(np.int32)
    axis = d(st.integers(-len(shape) - 1, len(shape)))
    return [labels, n, axis]


def _one_hot_ref(labels, n, axis):
    hot = (labels[..., None] == np.arange(n)).astype(np.float32)
    return np.moveaxis(hot, -1, axis)


def _lowbias32(x):
    x ^= x >> 16
    x = x * 0x7FEB352D % 2**32
    x ^= x >> 15
    x = x * 0x846CA68B % 2**32
    return x ^ (x >> 16)


def _dropout_ref(a):
    """The documented draw (kernels/cpu/dropout.py), redone in plain Python: the two keys
    of the pair (7, 0), each flat index hashed by two keyed rounds of lowbias32 and kept
    where the number is below 0.6 · 2³², kept values divided by 1 - rate = 0.6."""
    keys = []
    for key in (0x243F6A88, 0x85A308D3):
        for word in (7, 0, 0, 0):               # the 32-bit halves of seed 7 and step 0
            key = _lowbias32(key ^ word)
        keys.append(key)
    numbers = [_lowbias32(_lowbias32(i ^ keys[0]) ^ keys[1]) for i in range(np.size(a))]
    kept = (np.array(numbers, dtype=np.int64) < int(0.6 * 2**32)).reshape(np.shape(a))
    return np.where(kept, a / 0.6, 0.0)


CASES = [
    Case("relu", lambda a: ops.relu(a), lambda a: np.where(a > 0, a, 0.0),
         _unary(avoid=0.0), ("Relu",)),
    Case("relu6", lambda a: ops.relu6(a), lambda a: np.minimum(np.maximum(a, 0.0), 6.0),
         _unary(-2.0, 8.0, avoid=[0.0, 6.0]), ("Relu6",)),
    Case("leaky_relu", lambda a: ops.leaky_relu(a), lambda a: np.where(a > 0, a, 0.2 * a),
         _unary(avoid=0.0), ("LeakyRelu",)),
    Case("leaky_relu_slope", lambda a: ops.leaky_relu(a, negative_slope=0.01),
         lambda a: np.where(a > 0, a, 0.01 * a), _unary(avoid=0.0), ("LeakyRelu",), ops=()),
    Case("elu", lambda a: ops.elu(a, alpha=1.5), lambda a: np.where(a > 0, a, 1.5 * np.expm1(a)),
         _unary(avoid=0.0), ("Elu",), second=True),
    Case("selu", lambda a: ops.selu(a),
         lambda a: _SELU_SCALE * np.where(a > 0, a, _SELU_ALPHA * np.expm1(a)),
         _unary(avoid=0.0), ("Selu",), second=True),
    Case("gelu", lambda a: ops.gelu(a),
         lambda a: 0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a ** 3))),
         _unary(), ("Gelu",), second=True),
    Case("gelu_exact", lambda a: ops.gelu(a, approximate=False),
         lambda a: 0.5 * a * (1 + _erf(a / math.sqrt(2))), _unary(), ("Gelu", "Erf"), ops=(),
         second=True),
    Case("erf", lambda a: ops.erf(a), _erf, _unary(-7.0, 7.0), ("Erf",), second=True),
    Case("sigmoid", lambda a: ops.sigmoid(a), lambda a: 0.5 * (1 + np.tanh(a / 2)),
         _unary(-6.0, 6.0), ("Sigmoid",), second=True),
    Case("sigmoid_large", lambda a: ops.sigmoid(a), lambda a: 0.5 * (1 + np.tanh(a / 2)),
         _unary(-800.0, 800.0), ("Sigmoid",), ops=(), grad=False),
    Case("hard_sigmoid", lambda a: ops.hard_sigmoid(a),
         lambda a: np.minimum(np.maximum(a + 3, 0.0), 6.0) / 6,
         _unary(-5.0, 5.0, avoid=[-3.0, 3.0]), ("HardSigmoid",)),
    Case("softplus", lambda a: ops.softplus(a), lambda a: np.logaddexp(0.0, a),
         _unary(-6.0, 6.0), ("Softplus",), second=True),
    Case("softplus_large", lambda a: ops.softplus(a), lambda a: np.logaddexp(0.0, a),
         _unary(-800.0, 800.0), ("Softplus",), ops=(), grad=False),
    Case("softsign", lambda a: ops.softsign(a), lambda a: a / (1 + np.abs(a)),
         _unary(avoid=0.0), ("Softsign",), second=True),
    Case("silu", lambda a: ops.silu(a), lambda a: a / (1 + np.exp(-a)), _unary(), ("Silu",),
         ops=("silu", "swish"), second=True),
    Case("softmax", lambda a, axis: ops.softmax(a, axis=_axis(axis)), _softmax_ref, _with_axis(),
         ("Softmax",), second=True),
    Case("softmax_axes", lambda a, axis: ops.softmax(a, axis=_axis(axis)), _softmax_ref,
         _with_axis(allow_tuple=True), ("Softmax",), ops=()),
    Case("log_softmax", lambda a, axis: ops.log_softmax(a, axis=_axis(axis)), _log_softmax_ref,
         _with_axis(allow_tuple=True), ("LogSoftmax",), second=True),
    Case("log_softmax_large", lambda a: ops.log_softmax(a), lambda a: _log_softmax_ref(a, -1),
         _unary(-900.0, 900.0, min_dims=1), ("LogSoftmax",), ops=(), grad=False),
    Case("one_hot", lambda x, n, axis: ops.one_hot(x, _axis(n), axis=_axis(axis)),
         _one_hot_ref, _labels, ("OneHot",), grad=False),
    Case("dropout", lambda a: mk_random.dropout(a, 0.4, seed=7), _dropout_ref, _unary(),
         ("Dropout",), ops=(), notes="minikeras.random.dropout with a fixed int seed: the "
         "same mask on every call, so finite differences see one smooth function"),
]
