"""Bad input to the debugging tools: each error says what came and what to do, and none
leaves the model or the tape changed."""
import os
import shutil
import warnings

import numpy as np
import pytest

import minikeras as keras
from minikeras import debug, layers, ops

# every tool that reads the tape behind a target, called with nothing else
TOOLS = {
    "backward_steps": debug.backward_steps,
    "check_node_gradients": debug.check_node_gradients,
    "print_tape": debug.print_tape,
    "tape_to_dot": debug.tape_to_dot,
    "plot_tape": lambda t: debug.plot_tape(t, to_file=os.devnull + ".dot"),  # never written
    "backprop_player": lambda t: debug.backprop_player(t, to_file=os.devnull + ".html"),
}


def _model_and_tape():
    """A small model, a persistent tape around its loss, and the gradient and weights as
    they were before any tool ran."""
    model = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(4, activation="tanh"),
                              layers.Dense(1)])
    x = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    tape = keras.GradientTape(persistent=True)
    with tape:
        loss = ops.mean(ops.square(model(x)))
    grads = [np.array(g.data) for g in tape.gradient(loss, model.trainable_weights)]
    weights = [np.array(w.data) for w in model.trainable_weights]
    return model, tape, loss, grads, weights


def _unchanged(model, tape, loss, grads, weights):
    again = tape.gradient(loss, model.trainable_weights)
    for g, before in zip(again, grads):
        np.testing.assert_array_equal(np.asarray(g.data), before)
    for w, before in zip(model.trainable_weights, weights):
        np.testing.assert_array_equal(np.asarray(w.data), before)
        assert w.grad is None


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_a_target_that_is_not_a_tensor_says_what_came(name):
    model, tape, loss, grads, weights = _model_and_tape()
    for wrong, kind in (([loss], "list"), (np.ones(()), "ndarray"), (3.0, "float")):
        with pytest.raises(TypeError, match=rf"^{name}\(\) takes the Tensor to differentiate "
                                            rf"\(the loss, usually\), got {kind}\. Pass"):
            TOOLS[name](wrong)
    _unchanged(model, tape, loss, grads, weights)


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_a_target_that_needs_no_gradient_says_how_to_make_one(name):
    model, tape, loss, grads, weights = _model_and_tape()
    with keras.no_grad():
        frozen = ops.mean(ops.square(model(np.ones((1, 3), np.float32))))
    data = ops.sum(keras.Tensor([1.0, 2.0]))
    for target in (frozen, data, model.trainable_weights[0]):
        with pytest.raises(ValueError, match=rf"^{name}\(\): the target needs no gradient: no "
                                             r"recorded op made it .* requires_grad=True"):
            TOOLS[name](target)
    _unchanged(model, tape, loss, grads, weights)


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_a_freed_graph_names_persistent_and_retain_graph(name):
    model, tape, loss, grads, weights = _model_and_tape()
    with keras.GradientTape() as once:
        used = ops.sum(model(np.ones((1, 3), np.float32)))
    once.gradient(used, model.trainable_weights)      # frees the graph behind `used`
    with pytest.raises(RuntimeError, match=rf"^{name}\(\): the graph behind .* was already "
                                           r"freed .* GradientTape\(persistent=True\) or "
                                           r"backward\(retain_graph=True\)\.$"):
        TOOLS[name](used)
    _unchanged(model, tape, loss, grads, weights)


def test_a_graph_freed_below_the_target_is_found_too():
    a = keras.Tensor([1.0, 2.0], requires_grad=True)
    shared = ops.exp(a)
    ops.sum(shared).backward()                       # frees the Exp node
    later = ops.sum(shared * 2.0)                    # recorded after: its own nodes are fine
    for name, tool in TOOLS.items():
        with pytest.raises(RuntimeError, match=rf"^{name}\(\): the graph behind Exp at "
                                               r"test_debug_bad_input.py:\d+ was already freed"):
            tool(later)


def test_a_bad_file_name_is_refused_and_nothing_is_written(tmp_path):
    model, tape, loss, grads, weights = _model_and_tape()
    with pytest.raises(ValueError, match=r"to_file must end in .svg, .png, .pdf or .dot; got "
                                         r"'.*tape.txt'"):
        debug.plot_tape(loss, to_file=str(tmp_path / "tape.txt"))
    assert os.listdir(tmp_path) == []
    _unchanged(model, tape, loss, grads, weights)


def test_plotting_without_graphviz_writes_the_dot_text_and_changes_nothing(tmp_path,
                                                                         monkeypatch):
    model, tape, loss, grads, weights = _model_and_tape()
    monkeypatch.setattr(shutil, "which", lambda name: None)      # no program is found
    with pytest.raises(RuntimeError, match=r"`dot` program was not found.*written to .*tape\.dot"
                                           r".*apt-get install graphviz"):
        debug.plot_tape(loss, to_file=str(tmp_path / "tape.svg"))
    assert sorted(os.listdir(tmp_path)) == ["tape.dot"]
    assert (tmp_path / "tape.dot").read_text() == debug.tape_to_dot(loss)
    _unchanged(model, tape, loss, grads, weights)


def test_check_numerics_around_integer_ops_neither_crashes_nor_false_alarms():
    x = keras.Tensor(np.array([1.0, -2.0, 3.0], np.float32), requires_grad=True)
    labels = keras.Tensor(np.array([0, 1, 2]))
    zero = keras.Tensor(np.array([0, 0, 0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")               # no warning either: floats ran
        with debug.check_numerics():
            counts = labels * 2 + zero                # integers only
            picked = ops.argmax(x)                    # a float op with an integer output
            mask = ops.cast(x > 0.0, "float32")       # a boolean turned float
            loss = ops.sum(x * labels + mask * x) + ops.cast(picked, "float32")
            loss.backward()
    np.testing.assert_array_equal(np.asarray(counts.data), [0, 2, 4])
    np.testing.assert_array_equal(np.asarray(x.grad.data), np.array([0, 1, 2]) + (
        np.array([1.0, -2.0, 3.0]) > 0))
