"""Keras 3 itself as the oracle: the same Keras code builds a layer in minikeras and in real
Keras (NumPy backend), the weights are copied from minikeras to Keras with
``set_weights(get_weights())``, and both must compute the same outputs.

This checks what no hand-written reference can: that our weights have exactly Keras's
shapes, order and names, and that our arithmetic (padding, gate order, masking rules,
statistics) is Keras's. Every case is one line of Keras code written once for both
libraries: ``make(L)`` gets the library module (``minikeras`` or ``keras``).
"""
import os

import numpy as np
import pytest

os.environ["KERAS_BACKEND"] = "numpy"  # before keras is imported; real Keras, no GPU framework
import keras  # noqa: E402  (the reference, a test dependency)

import minikeras  # noqa: E402

RNG = np.random.default_rng(0)


def _floats(*shape, low=-1.0, high=1.0):
    return RNG.uniform(low, high, size=shape).astype(np.float32)


def _ids(*shape, high=7, zeros_at_end=True):
    x = RNG.integers(1, high, size=shape).astype(np.int32)
    if zeros_at_end and len(shape) == 2 and shape[1] > 2:
        x[0, -2:] = 0  # padding at the end of the first sequence
        x[-1, -1:] = 0
    return x


def _suffixes(variables):
    """Weight paths without the layer's own (auto-numbered) name: ``kernel``,
    ``lstm_cell/kernel``, ``forward_lstm/lstm_cell/bias``, ..."""
    return [v.path.split("/", 1)[1] if "/" in v.path else v.path for v in variables]


def _as_numpy(out):
    if isinstance(out, (list, tuple)):
        return [_as_numpy(o) for o in out]
    return np.asarray(out.numpy() if hasattr(out, "numpy") else out)


def compare(make, inputs, call_kwargs=None, training=False, rtol=1e-5, atol=1e-5,
            check_paths=True):
    """Build ``make(L)`` in both libraries on ``inputs``, copy the weights minikeras ->
    Keras, and compare the outputs (and weight shapes, order and paths)."""
    call_kwargs = call_kwargs or {}
    ours = make(minikeras)
    theirs = make(keras)
    out_ours = ours(inputs, training=training, **call_kwargs)
    out_theirs = theirs(inputs, training=training, **call_kwargs)
    w_ours = ours.get_weights()
    assert [w.shape for w in w_ours] == [tuple(w.shape) for w in theirs.get_weights()], (
        "weight shapes or order differ from Keras's")
    if check_paths:
        assert _suffixes(ours.weights) == _suffixes(theirs.weights)
    theirs.set_weights(w_ours)
    out_theirs = theirs(inputs, training=training, **call_kwargs)
    a, b = _as_numpy(out_ours), _as_numpy(out_theirs)
    if isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol)
    else:
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    return ours, theirs


# --------------------------------------------------------------------------- core layers
CORE = {
    "dense": (lambda L: L.layers.Dense(3, activation="tanh"), lambda: _floats(2, 4)),
    "dense_3d": (lambda L: L.layers.Dense(2), lambda: _floats(2, 3, 4)),
    "embedding": (lambda L: L.layers.Embedding(7, 3), lambda: _ids(2, 5)),
    "prelu": (lambda L: L.layers.PReLU(), lambda: _floats(2, 3)),
}


@pytest.mark.parametrize("name", sorted(CORE))
def test_core_layers_match_keras(name):
    make, data = CORE[name]
    compare(make, data())


def test_the_oracle_notices_a_difference():
    """A different layer in Keras gives different outputs: the comparison can fail."""
    x = _floats(2, 4)
    with pytest.raises(AssertionError):
        compare(lambda L: L.layers.Dense(3, activation="tanh" if L is minikeras else "relu"),
                x)
