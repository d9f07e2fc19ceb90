"""keras.utils.check_gradients(model, x, y): a whole model's weights against finite
differences, in float64."""
import numpy as np
import pytest

import minikeras as keras
from minikeras import Function, layers, utils


class PlantedCubeWrongRule(Function):
    """y = x³.   dy/dx = 3x² (the backward below says 2x²)."""

    def forward(self, x):
        return x * x * x

    def backward(self, g):
        x = self.inputs[0]
        return g * x * x * 2.0


class Cube(layers.Layer):
    def call(self, x):
        return PlantedCubeWrongRule()(x)


def _data(shape, classes=None, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    y = rng.integers(0, classes, shape[0]) if classes else rng.standard_normal((shape[0], 2))
    return x, y


def test_a_dense_model_passes_and_its_gradient_is_the_closed_form():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2, name="lin")])
    x, y = _data((5, 3))
    report = utils.check_gradients(model, x, y, loss="mse")
    assert report.ok, report
    assert [r["name"] for r in report.rows] == [w.path for w in model.trainable_weights]
    assert [r["shape"] for r in report.rows] == [tuple(w.shape) for w in model.trainable_weights]
    # mse of a linear layer: dL/dW = 2/(n·units) · xᵀ(xW + b - y), dL/db = the column sums
    w = model.get_layer("lin").kernel.numpy().astype(np.float64)
    b = model.get_layer("lin").bias.numpy().astype(np.float64)
    r = x.astype(np.float64) @ w + b - y
    expected = [2 / r.size * x.astype(np.float64).T @ r, 2 / r.size * r.sum(0)]
    for row, e in zip(report.rows, expected):
        assert row["error"] < 1e-8
        assert row["analytic"] == pytest.approx(e[row["index"]], rel=1e-10, abs=1e-12)
        assert row["numeric"] == pytest.approx(e[row["index"]], rel=1e-6, abs=1e-9)
    assert "model sequential" in str(report) and "lin/kernel shape (3, 2)" in str(report)


def test_a_conv_model_with_a_compiled_loss_passes_and_is_left_as_it_was():
    model = keras.Sequential([keras.Input((6, 6, 1)), layers.Conv2D(2, 3, activation="tanh"),
                              layers.MaxPooling2D(), layers.Flatten(),
                              layers.Dense(3, kernel_regularizer="l2")])
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = _data((4, 6, 6, 1), classes=3)
    before = [w.data for w in model.weights]
    copies = [w.numpy().copy() for w in model.weights]
    report = utils.check_gradients(model, x, y)
    assert report.ok, report
    assert len(report.rows) == 4 and all(r["error"] < 1e-6 for r in report.rows)
    assert all(w.data is a for w, a in zip(model.weights, before))      # the very arrays back
    for w, c in zip(model.weights, copies):
        np.testing.assert_array_equal(w.numpy(), c)
        assert w.dtype == np.float32
    assert all(layer.dtype == "float32" for layer in model.layers)


def test_a_planted_wrong_rule_is_flagged_upstream_and_not_downstream():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(3, name="before"), Cube(),
                              layers.Dense(2, name="after")])
    x, y = _data((4, 3))
    report = utils.check_gradients(model, x, y, loss="mse")
    verdict = {r["name"]: r["ok"] for r in report.rows}
    assert verdict == {"before/kernel": False, "before/bias": False,
                       "after/kernel": True, "after/bias": True}
    assert not report and "FAILED" in str(report) and "MISMATCH" in str(report)
    with pytest.raises(AssertionError, match="before/kernel"):
        utils.check_gradients(model, x, y, loss="mse", raise_on_failure=True)


def test_large_weights_are_sampled():
    model = keras.Sequential([keras.Input((40,)), layers.Dense(30)])
    x, y = _data((2, 40))
    report = utils.check_model_gradients(model, x, np.zeros((2, 30)), loss="mse", max_checks=50)
    assert report.ok and report.rows[0]["shape"] == (40, 30)
    assert report.rows[0]["sampled"] == 50 and "(50 elements checked)" in str(report)
    assert "sampled" not in report.rows[1]


def test_bad_input_is_refused_with_what_to_do():
    model = keras.Sequential([layers.Dense(2)])
    x, y = _data((2, 3))
    with pytest.raises(ValueError, match=r"has not yet been built.*calling `build\(\)` or by "
                                         r"calling the model on a batch of data"):
        utils.check_gradients(model, x, y, loss="mse")
    model.build((None, 3))
    with pytest.raises(ValueError, match=r"no loss to differentiate. Pass loss=.*or compile"):
        utils.check_gradients(model, x, y)
    with pytest.raises(TypeError, match=r"one batch x and its targets y; got 1"):
        utils.check_gradients(model, x)
    with pytest.raises(TypeError, match=r"loss= is for a model"):
        utils.check_gradients(lambda a: keras.ops.sum(a), x, loss="mse")
    frozen = keras.Sequential([keras.Input((3,)), layers.Dense(2, trainable=False)])
    with pytest.raises(ValueError, match="has no trainable weight"):
        utils.check_gradients(frozen, x, y, loss="mse")
