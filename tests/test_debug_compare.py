"""debug.compare: two runs diffed node by node, forward values then the backward walk."""
import numpy as np
import pytest

import minikeras as keras
from minikeras import debug, layers, ops
from minikeras.ops.math import Tanh


class WrongTanh(Tanh):
    """A student's tanh with one wrong rule: it forgets to square z."""

    def backward(self, g):
        return g * (1 - self.output())


def rand(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


X = rand((4, 3), 1)
W = keras.Variable(rand((3, 5), 2), name="w")
V = keras.Variable(rand((5, 2), 3), name="v")


def net(tanh=ops.tanh):
    return ops.mean(ops.matmul(tanh(ops.matmul(X, W)), V) ** 2)


def wrong_tanh(t):
    return WrongTanh()(t)


def test_a_wrong_rule_is_found_at_its_node():
    a, b = debug.record(net), debug.record(net, wrong_tanh)
    assert [n.op for n in a.nodes] == ["MatMul", "Tanh", "MatMul", "Power", "Mean"]
    report = debug.compare(a, b)
    assert not report.ok and report.kind == "backward" and report.index == 1
    assert (report.a.op, report.b.op) == ("Tanh", "WrongTanh")
    assert "the gradient it handed to input 1" in report.what
    # what arrived at the tanh agreed; what it handed on is where the two differ
    np.testing.assert_array_equal(a.nodes[1].upstream[0], b.nodes[1].upstream[0])
    ga, gb = a.nodes[1].grads[0], b.nodes[1].grads[0]
    z = a.nodes[1].outputs[0]
    np.testing.assert_allclose(ga, a.nodes[1].upstream[0] * (1 - z * z), rtol=1e-6)
    worst = tuple(int(i) for i in np.unravel_index(
        np.argmax(np.abs(ga.astype(float) - gb) - 1e-5 * np.abs(gb)), ga.shape))
    assert report.worst_index == list(worst)
    assert (report.value_a, report.value_b) == (ga[worst], gb[worst])
    text = str(report)
    assert text.startswith("compare: the backward of Tanh differs first at node 2 of 5")
    assert "b: WrongTanh #" in text and "test_debug_compare.py:" in text
    assert ("code:  a: return ops.mean(ops.matmul(tanh(ops.matmul(X, W)), V) ** 2)\n"
            "         b: return WrongTanh()(t)") in text
    assert f"worst: at {list(worst)}: a = {float(ga[worst]):.9g}, b = {float(gb[worst]):.9g}" in text


def test_the_same_run_twice_agrees_exactly():
    report = debug.compare(debug.record(net), debug.record(net), rtol=0, atol=0)
    assert report.ok and report.kind == "agree"
    assert str(report) == ("compare: the two runs agree: 5 nodes, forward values and gradients "
                           "within rtol=0, atol=0. Largest |a - b|: 0.")


def _model():
    return keras.Sequential([keras.Input((3,)), layers.Dense(8, activation="tanh", name="hidden"),
                             layers.Dense(3, name="out")], name="net")


def _float32_and_float64():
    """One model run in float32, then again with its weights in float64 (floatx float64)."""
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    y, x = np.array([0, 2, 1, 1]), rand((4, 3), 5)
    model32 = _model()
    a = debug.record(lambda: loss_fn(y, model32(x)))
    previous = keras.config.floatx()
    keras.config.set_floatx("float64")
    try:
        model64 = _model()
        model64.set_weights([w.astype(np.float64) for w in model32.get_weights()])
        loss64 = keras.losses.SparseCategoricalCrossentropy(from_logits=True)   # float64 too
        b = debug.record(lambda: loss64(y, model64(x.astype(np.float64))))
    finally:
        keras.config.set_floatx(previous)
    return a, b


def _largest_difference(a, b):
    biggest = 0.0
    for x, y in zip(a.nodes, b.nodes):
        for u, v in zip(x.outputs + x.upstream + x.grads, y.outputs + y.upstream + y.grads):
            if u is not None:
                biggest = max(biggest, float(np.max(np.abs(u.astype(np.float64) - v))))
    return biggest


def test_float32_against_float64_agrees_loosely_and_differs_tightly():
    a, b = _float32_and_float64()
    assert a.nodes[0].outputs[0].dtype == np.float32 and b.nodes[0].outputs[0].dtype == np.float64
    loose = debug.compare(a, b, rtol=1e-3, atol=1e-5)
    assert loose.ok, str(loose)
    assert f"Largest |a - b|: {_largest_difference(a, b):.3g}" in str(loose)
    tight = debug.compare(a, b, rtol=1e-12, atol=0)
    assert not tight.ok and tight.kind == "forward" and tight.index == 0   # the first matmul
    u, v = a.nodes[0].outputs[0], b.nodes[0].outputs[0]
    assert tight.value_a == u[tuple(tight.worst_index)] and tight.value_b == v[tuple(tight.worst_index)]
    assert tight.a.layer == tight.b.layer == "net/hidden" and "MatMul #" in str(tight)
    assert "code:  a: a = debug.record(lambda: loss_fn(y, model32(x)))" in str(tight)


def test_graphs_of_different_shape_are_named_where_they_part():
    report = debug.compare(debug.record(net), debug.record(net, ops.sigmoid))
    assert report.kind == "structure" and report.index == 1
    text = str(report)
    assert text.startswith("compare: the two graphs differ at node 2 (in recording order); "
                           "the nodes before it pair.")
    assert "a: Tanh #" in text and "b: Sigmoid #" in text and "inputs (4, 5), outputs [(4, 5)]" in text
    assert "the same ops in the same order" in text

    shorter = debug.record(lambda: ops.mean(ops.matmul(ops.tanh(ops.matmul(X, W)), V)))
    report = debug.compare(debug.record(net), shorter)
    assert report.kind == "structure" and "a: Power #" in str(report) and "b: Mean #" in str(report)

    longer = debug.record(lambda: net() * 2.0)
    report = debug.compare(debug.record(net), longer)
    assert str(report).startswith("compare: the two graphs differ in size: a has 5 nodes, b has 6; "
                                  "the first 5 pair, and b goes on with Multiply #")


def test_targets_can_be_compared_directly_and_their_graphs_are_kept():
    with keras.GradientTape(persistent=True) as tape_a:
        loss_a = net()
    with keras.GradientTape(persistent=True) as tape_b:
        loss_b = net(wrong_tanh)
    report = debug.compare(loss_a, loss_b)
    assert report.kind == "backward" and report.b.op == "WrongTanh"
    recorded = debug.record(net)
    np.testing.assert_array_equal(tape_a.gradient(loss_a, W).numpy(), recorded.nodes[0].grads[1])
    assert tape_b.gradient(loss_b, W) is not None


def test_a_recording_saved_and_loaded_compares_as_it_was(tmp_path):
    a, b = debug.record(net), debug.record(net, wrong_tanh)
    a.save(tmp_path / "a.npz")
    b.save(tmp_path / "b.npz")
    a2, b2 = debug.load_recording(tmp_path / "a.npz"), debug.load_recording(tmp_path / "b.npz")
    assert debug.compare(a, a2, rtol=0, atol=0).ok
    assert str(debug.compare(a2, b2)) == str(debug.compare(a, b))
    assert repr(a2) == repr(a) == f"<Recording of 5 nodes, back from {a.target_name}>"
    np.savez(tmp_path / "other.npz", x=np.ones(2))
    with pytest.raises(ValueError, match="other.npz is not a recording written by Recording.save"):
        debug.load_recording(tmp_path / "other.npz")


def test_nan_on_both_sides_agrees_and_on_one_side_is_reported():
    def run(shift):
        a = keras.Tensor(np.array([-1.0, 2.0, 3.0], np.float32), requires_grad=True)
        with np.errstate(invalid="ignore"):
            return ops.sum(ops.log(a + shift))      # log(-1) = nan
    assert debug.compare(debug.record(run, 0.0), debug.record(run, 0.0)).ok
    report = debug.compare(debug.record(run, 0.0), debug.record(run, 2.0), rtol=10.0)
    assert report.kind == "forward" and report.a.op == "Log" and report.worst_index == [0]
    assert np.isnan(report.value_a) and report.value_b == pytest.approx(0.0)


def test_bad_input_says_what_to_do():
    a = debug.record(net)
    with pytest.raises(TypeError, match=r"compare\(\) takes recordings .* got ndarray"):
        debug.compare(np.ones(3), a)
    with pytest.raises(ValueError, match="rtol and atol must be >= 0, got rtol=-1"):
        debug.compare(a, a, rtol=-1)
    with pytest.raises(TypeError, match="record\\(\\) takes a function that returns the loss, got Tensor"):
        debug.record(net())
    with pytest.raises(TypeError, match="fn returned float; it should return the Tensor"):
        debug.record(lambda: 3.0)
    with pytest.raises(ValueError, match="needs no gradient"):
        debug.record(lambda: ops.sum(keras.Tensor([1.0, 2.0])))


class MyRelu(ops.nn.Relu):
    """A student's ReLU written over the reference: the rule lets every gradient through."""

    def backward(self, g):
        return g


def test_a_student_op_runs_its_own_rule_even_where_the_reference_has_an_array_twin():
    def run(relu):
        return ops.sum(relu(ops.matmul(X, W)) * 2.0)
    reference, student = debug.record(run, ops.relu), debug.record(run, lambda t: MyRelu()(t))
    report = debug.compare(reference, student)
    assert report.kind == "backward" and (report.a.op, report.b.op) == ("Relu", "MyRelu")
    # readable=False walks as training does (array twins where an op has one): same numbers
    assert debug.compare(debug.record(run, ops.relu, readable=False), reference, rtol=1e-6).ok
