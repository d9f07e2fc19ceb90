"""Keras code written once for both libraries: each case is a function of ``L`` (the
library: ``minikeras``, or real ``keras``) that returns plain numbers. tests/
test_keras_conformance.py runs every case here in minikeras, and in real Keras 3 (JAX
backend, in a subprocess: Keras's NumPy backend cannot train), and compares.

Each case seeds its own data, so both libraries see the same numbers."""
import numpy as np


def own_loss_subclassed(L):
    """A subclassed model adds its own loss in ``call``; compiled without ``loss=``."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((12, 3)).astype("float32")

    class Regularised(L.Model):
        def __init__(self):
            super().__init__()
            self.dense = L.layers.Dense(2)

        def call(self, inputs):
            out = self.dense(inputs)
            self.add_loss(L.ops.mean(L.ops.square(out - 1.0)))
            return out

    model = Regularised()
    model(x[:1])
    model.set_weights([rng.standard_normal((3, 2)).astype("float32"), np.zeros(2, "float32")])
    model.compile(optimizer=L.optimizers.SGD(0.1), run_eagerly=True)
    history = model.fit(x, epochs=3, batch_size=4, shuffle=False, verbose=0)
    return {"loss": history.history["loss"], "evaluate": model.evaluate(x, verbose=0)}


def own_loss_endpoint_layer(L):
    """The "endpoint layer" pattern: a layer gets the targets as an input and adds the loss;
    the functional model is compiled without ``loss=``."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((16, 3)).astype("float32")
    t = (x[:, :1] > 0).astype("float32")

    class LogisticEndpoint(L.layers.Layer):
        def call(self, logits, targets):
            self.add_loss(L.ops.mean(L.losses.binary_crossentropy(targets, logits,
                                                                  from_logits=True)))
            return L.ops.sigmoid(logits)

    inputs, targets = L.Input((3,)), L.Input((1,))
    outputs = LogisticEndpoint()(L.layers.Dense(1)(inputs), targets)
    model = L.Model([inputs, targets], outputs)
    model.set_weights([rng.standard_normal((3, 1)).astype("float32"), np.zeros(1, "float32")])
    model.compile(optimizer=L.optimizers.SGD(0.5), run_eagerly=True)
    history = model.fit([x, t], epochs=3, batch_size=8, shuffle=False, verbose=0)
    return {"loss": history.history["loss"]}


CASES = [own_loss_subclassed, own_loss_endpoint_layer]


def to_plain(value):
    """Numbers, lists and dicts only (what JSON carries)."""
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    return float(np.asarray(value))


if __name__ == "__main__":  # run by the test in a fresh process, with real Keras on JAX
    import json
    import os
    import sys
    os.environ["KERAS_BACKEND"] = "jax"
    import keras
    json.dump({case.__name__: to_plain(case(keras)) for case in CASES}, sys.stdout)
