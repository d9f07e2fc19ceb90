"""debug.check_node_gradients: each node of a real model checked on its own, so exactly the
one wrong rule is flagged."""
import numpy as np
import pytest

import minikeras as keras
from minikeras import Function, debug, layers, ops


class StudentSquareWrongRule(Function):
    """y = x².   dy/dx = 2x (the backward below forgets the 2)."""

    def forward(self, x):
        return x * x

    def backward(self, g):
        return g * self.inputs[0]


class StudentSquare(Function):
    """y = x².   dy/dx = 2x."""

    def forward(self, x):
        return x * x

    def backward(self, g):
        return g * self.inputs[0] * 2.0


class StudentLayer(layers.Layer):
    def __init__(self, op, **kwargs):
        super().__init__(**kwargs)
        self.op = op

    def call(self, x):
        return self.op()(x)


@pytest.mark.parametrize("op, wrong", [(StudentSquareWrongRule, True), (StudentSquare, False)])
def test_exactly_the_planted_wrong_rule_is_flagged(op, wrong):
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="tanh"),
                              StudentLayer(op), layers.Dense(2)])
    x = np.random.default_rng(0).random((3, 4)).astype(np.float32)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with keras.GradientTape() as tape:
        loss = loss_fn(np.array([0, 1, 1]), model(x))
    report = debug.check_node_gradients(loss)
    ops_checked = [r["op"] for r in report.rows]
    assert ops_checked[0] == "SparseSoftmaxCrossEntropy" and ops_checked.count("MatMul") == 2
    assert op.__name__ in ops_checked and "Tanh" in ops_checked
    flagged = [r["op"] for r in report.failed]
    assert flagged == ([op.__name__] if wrong else [])
    assert report.ok is (not wrong)
    text = str(report)
    assert ("1 FAILED" in text and "WRONG" in text) if wrong else "WRONG" not in text
    row = next(r for r in report.rows if r["op"] == op.__name__)
    assert (row["error"] > 0.1) if wrong else (row["error"] < 1e-6)
    # the labels (integers) are not checked, and the graph is still there
    assert tape.gradient(loss, model.trainable_weights)[0] is not None


def test_a_freed_graph_and_a_constant_target_are_refused():
    a = keras.Tensor([1.0, 2.0], requires_grad=True)
    y = ops.sum(a * a)
    y.backward()
    with pytest.raises(RuntimeError, match="already freed.*persistent=True"):
        debug.check_node_gradients(y)
    with pytest.raises(ValueError, match="needs no gradient"):
        debug.check_node_gradients(ops.sum(keras.Tensor([1.0])))
