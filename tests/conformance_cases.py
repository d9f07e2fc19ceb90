"""Keras code written once for both libraries: each case is a function of ``L`` (the
library: ``minikeras``, or real ``keras``) that returns plain numbers. tests/
test_keras_conformance.py runs every case here in minikeras and in real Keras 3, and
compares: the cases that train in Keras on JAX (in a subprocess), the others in Keras on
its NumPy backend (in the test's process).

Each case seeds its own data, so both libraries see the same numbers."""
import copy

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


def _regression_data(seed, n=24, features=5):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype("float32")
    y = (x @ rng.standard_normal((features, 1)) + 0.1).astype("float32")
    kernel = rng.standard_normal((features, 1)).astype("float32")
    return x, y, [kernel, np.zeros(1, "float32")]


def custom_test_step(L):
    """"Customizing what happens in fit": a ``test_step(self, data)`` that updates
    ``self.metrics`` itself (the loss tracker by name, the compiled metrics with y and
    y_pred) and returns ``{m.name: m.result()}``."""
    x, y, weights = _regression_data(2)

    class CustomModel(L.Model):
        def test_step(self, data):
            x, y = data
            y_pred = self(x, training=False)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    inputs = L.Input((5,))
    model = CustomModel(inputs, L.layers.Dense(1)(inputs))
    model.set_weights(weights)
    model.compile(loss="mse", metrics=["mae"], run_eagerly=True)
    return {"evaluate": model.evaluate(x, y, batch_size=8, verbose=0),
            "names": [m.name == "loss" for m in model.metrics]}


def custom_test_step_own_trackers(L):
    """The lower-level form: the model keeps its own metric objects, lists them in a
    ``metrics`` property (so they are reset at each ``evaluate``) and weighs the batch with
    ``unpack_x_y_sample_weight``'s sample weights."""
    x, y, weights = _regression_data(3)
    w = np.linspace(0.5, 2.0, len(x)).astype("float32")

    class CustomModel(L.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = L.metrics.Mean(name="loss")
            self.mae_metric = L.metrics.MeanAbsoluteError(name="mae")
            self.loss_fn = L.losses.MeanSquaredError()

        def test_step(self, data):
            x, y, sample_weight = L.utils.unpack_x_y_sample_weight(data)
            y_pred = self(x, training=False)
            self.loss_tracker.update_state(self.loss_fn(y, y_pred, sample_weight=sample_weight))
            self.mae_metric.update_state(y, y_pred, sample_weight=sample_weight)
            return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

        @property
        def metrics(self):
            return [self.loss_tracker, self.mae_metric]

    inputs = L.Input((5,))
    model = CustomModel(inputs, L.layers.Dense(1)(inputs))
    model.set_weights(weights)
    model.compile(run_eagerly=True)
    first = model.evaluate(x, y, sample_weight=w, batch_size=8, verbose=0, return_dict=True)
    again = model.evaluate(x[:8], y[:8], sample_weight=w[:8], verbose=0, return_dict=True)
    return {"first": [first["loss"], first["mae"]], "again": [again["loss"], again["mae"]]}


def custom_predict_step(L):
    """``predict_step(self, data)``: ``predict`` hands each batch as ``(x,)``."""
    x, _, weights = _regression_data(4, n=10)

    class Doubled(L.Model):
        def predict_step(self, data):
            x, _, _ = L.utils.unpack_x_y_sample_weight(data)
            return 2.0 * self(x, training=False)

    inputs = L.Input((5,))
    model = Doubled(inputs, L.layers.Dense(1)(inputs))
    model.set_weights(weights)
    return {"predict": model.predict(x, batch_size=4, verbose=0).ravel().tolist(),
            "call": model(x).numpy().ravel().tolist() if hasattr(model(x), "numpy")
            else np.asarray(model(x)).ravel().tolist()}


def data_tuples(L):
    """``unpack_x_y_sample_weight`` and ``pack_x_y_sample_weight`` on every form."""
    x, y, w = np.ones(2), np.zeros(2), np.full(2, 3.0)
    u = L.utils.unpack_x_y_sample_weight
    forms = [u(x), u((x,)), u((x, y)), u((x, y, w)), u([x, y])]
    nones = [[part is None for part in form] for form in forms]
    packed = [len(p) if isinstance(p, tuple) else -1 for p in
              (L.utils.pack_x_y_sample_weight(x, y), L.utils.pack_x_y_sample_weight(x, y, w))]
    return {"nones": [float(b) for row in nones for b in row], "packed": packed}


def metrics_property(L):
    """``model.metrics``: empty before compile; the loss tracker and the compiled metrics
    (as one ``compile_metrics``) after."""
    inputs = L.Input((3,))
    model = L.Model(inputs, L.layers.Dense(1)(inputs))
    before = [m.name for m in model.metrics]
    model.compile(loss="mse", metrics=["mae"])
    after = [m.name for m in model.metrics]
    plain = L.Model(inputs, L.layers.Dense(1)(inputs))
    plain.compile(loss="mse")
    return {"before": before, "after": after, "loss_only": [m.name for m in plain.metrics]}


def model_configs(L):
    """``get_config``/``from_config`` of Sequential and functional models, and
    ``layers.serialize``/``deserialize``, in Keras's format. (Keras's ``from_config`` pops
    keys from the dict it gets: each gets a copy.)"""
    model = L.Sequential([L.Input((3,)), L.layers.Dense(2, activation="relu"), L.layers.Dense(1)])
    config = model.get_config()
    again = L.Sequential.from_config(copy.deepcopy(config))
    inputs = L.Input((4,), name="x")
    both = L.layers.Concatenate(name="cat")([L.layers.Dense(3, name="a")(inputs),
                                              L.layers.Dense(2, name="b")(inputs)])
    functional = L.Model(inputs, both, name="fm")
    f_config = functional.get_config()
    f_again = L.Model.from_config(copy.deepcopy(f_config))
    written = L.layers.serialize(L.layers.Dense(3, activation="relu", name="d"))
    read = L.layers.deserialize(copy.deepcopy(written))
    return {"sequential_keys": sorted(config),
            "sequential_layers": [d["class_name"] for d in config["layers"]],
            "sequential_rebuilt": [type(again).__name__, again.count_params(),
                                   len(again.layers)],
            "functional_keys": sorted(f_config), "input_layers": f_config["input_layers"],
            "output_layers": f_config["output_layers"],
            "functional_rebuilt": [type(f_again).__name__, f_again.count_params(), f_again.name,
                                   f_again.output.shape[-1]],
            "serialized": sorted(written) + [written["module"], written["class_name"],
                                             str(written["registered_name"])],
            "deserialized": [type(read).__name__, read.units, read.name,
                             read.get_config()["activation"]]}


def registered_names(L):
    """Objects registered with ``register_keras_serializable(package=...)`` are written as
    ``package>name`` (functions, classes, in layer and compile configs), and found again by
    ``clone_model`` and ``load_model`` without ``custom_objects``."""
    package = f"Conformance{L.__name__}"

    @L.saving.register_keras_serializable(package=package)
    def doubled_tanh(x):
        return 2.0 * L.ops.tanh(x)

    @L.saving.register_keras_serializable(package=package)
    class Threes(L.initializers.Initializer):
        def __call__(self, shape, dtype=None):
            return L.ops.ones(shape, dtype=dtype) * 3.0

        def get_config(self):
            return {}

    @L.saving.register_keras_serializable(package=package, name="half_mse")
    def half_mse(y_true, y_pred):
        return 0.5 * L.ops.mean(L.ops.square(y_true - y_pred), axis=-1)

    model = L.Sequential([L.Input((3,)), L.layers.Dense(2, activation=doubled_tanh,
                                                        kernel_initializer=Threes())])
    model.compile(optimizer="sgd", loss=half_mse)
    written = L.saving.serialize_keras_object(model)
    dense = written["config"]["layers"][1]["config"]
    keys = ("class_name", "config", "registered_name")
    clone = L.models.clone_model(model)
    x = np.full((1, 3), 0.1, "float32")
    return {"activation": [str(dense["activation"][k]).replace(package, "P") for k in keys],
            "initializer": [str(dense["kernel_initializer"][k]).replace(package, "P")
                            for k in keys],
            "loss": [str(written["compile_config"]["loss"][k]).replace(package, "P")
                     for k in keys],
            "clone": np.asarray(clone(x)).tolist() if not hasattr(clone(x), "numpy")
            else clone(x).numpy().tolist()}


def _two_outputs(L, seed):
    rng = np.random.default_rng(seed)
    inputs = L.Input((3,), name="x")
    model = L.Model(inputs, [L.layers.Dense(2, name="a")(inputs),
                             L.layers.Dense(1, name="b")(inputs)])
    model.set_weights([rng.standard_normal(w.shape).astype("float32")
                       for w in model.get_weights()])
    x = rng.standard_normal((12, 3)).astype("float32")
    return model, x, [rng.standard_normal((12, 2)).astype("float32"),
                      rng.standard_normal((12, 1)).astype("float32")]


def multi_output_evaluate(L):
    """A model with two outputs reports each output's loss (``a_loss``, ``b_loss``,
    unweighted) beside ``loss`` (the weighted sum), in ``evaluate``'s dict and its list."""
    model, x, ys = _two_outputs(L, 5)
    model.compile(loss=["mse", "mae"], loss_weights=[1.0, 0.5], metrics=[["mae"], ["mse"]])
    logs = model.evaluate(x, ys, batch_size=5, verbose=0, return_dict=True)
    return {"keys": sorted(logs), "values": [logs[k] for k in sorted(logs)],
            "list": model.evaluate(x, ys, batch_size=5, verbose=0)}


def multi_output_fit(L):
    """The per-output losses in ``fit``'s history, with validation."""
    model, x, ys = _two_outputs(L, 6)
    model.compile(optimizer=L.optimizers.SGD(0.1), loss=["mse", "mae"], loss_weights=[1.0, 0.5],
                  run_eagerly=True)
    history = model.fit(x, ys, epochs=2, batch_size=4, shuffle=False, verbose=0,
                        validation_data=(x[:4], [ys[0][:4], ys[1][:4]]))
    return {key: history.history[key] for key in sorted(history.history)}


def metrics_accumulate(L):
    """A metric averages over every element seen since ``reset_state``, weighted by count:
    two calls with 4 and 2 samples give the mean over the 6, not the mean of two means."""
    rng = np.random.default_rng(7)
    first = (rng.integers(0, 2, (4, 1)).astype("float32"), rng.uniform(size=(4, 1)).astype("float32"))
    second = (rng.integers(0, 2, (2, 1)).astype("float32"), rng.uniform(size=(2, 1)).astype("float32"))
    labels = (rng.integers(0, 3, 4), rng.integers(0, 3, 2))
    scores = (rng.uniform(size=(4, 3)).astype("float32"), rng.uniform(size=(2, 3)).astype("float32"))
    results = {}
    for name in ["BinaryAccuracy", "Accuracy", "MeanSquaredError", "MeanAbsoluteError",
                 "BinaryCrossentropy", "Hinge", "MeanAbsolutePercentageError"]:
        metric = getattr(L.metrics, name)()
        metric.update_state(*first)
        metric.update_state(*second)
        results[name] = float(np.asarray(metric.result()))
        metric.reset_state()
        metric.update_state(*second)
        results[name + " after reset"] = float(np.asarray(metric.result()))
    for name in ["SparseCategoricalAccuracy", "SparseCategoricalCrossentropy",
                 "SparseTopKCategoricalAccuracy"]:
        metric = getattr(L.metrics, name)()
        for y, p in zip(labels, scores):
            metric.update_state(y, p)
        results[name] = float(np.asarray(metric.result()))
    weighted = L.metrics.MeanSquaredError()
    weighted.update_state(*first, sample_weight=np.array([1.0, 2.0, 0.0, 1.0], "float32"))
    weighted.update_state(*second, sample_weight=np.array([3.0, 1.0], "float32"))
    results["weighted MeanSquaredError"] = float(np.asarray(weighted.result()))
    return results


# Cases that train run in Keras on JAX (its NumPy backend cannot train; and its steps there
# take the state as an argument, so the custom-step cases run on Keras's NumPy backend).
TRAINING_CASES = [own_loss_subclassed, own_loss_endpoint_layer, multi_output_fit]
CASES = [custom_test_step, custom_test_step_own_trackers, custom_predict_step, data_tuples,
         metrics_property, model_configs, registered_names, multi_output_evaluate,
         metrics_accumulate]


def to_plain(value):
    """Numbers, strings, lists and dicts only (what JSON carries)."""
    if isinstance(value, str):
        return value
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
    json.dump({case.__name__: to_plain(case(keras)) for case in TRAINING_CASES}, sys.stdout)
