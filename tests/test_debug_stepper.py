"""debug.step_backward: a pdb-like prompt over the real backward walk, fed commands on stdin."""
import io
import os
import subprocess
import sys

import numpy as np
import pytest

import minikeras as keras
from minikeras import debug, layers, ops

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rand(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def run(target, commands):
    """Feed ``commands`` (one per line) to a stepper; return it and what it printed."""
    out = io.StringIO()
    stepper = debug.step_backward(target, stdin=io.StringIO("\n".join(commands) + "\n"), stdout=out)
    return stepper, out.getvalue()


def small_model():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(4, activation="tanh", name="hidden"),
                              layers.Dense(2, name="out")], name="net")
    with keras.GradientTape() as tape:
        loss = ops.mean(model(rand((2, 3))) ** 2)   # the line the stepper shows
    return model, tape, loss


def test_next_shows_the_cards_in_the_order_of_the_walk():
    model, tape, loss = small_model()
    expected = [str(c) for c in debug.backward_steps(loss)]
    stepper, text = run(loss, ["n", "n", "n", "q"])
    assert text.startswith("Stepping back from #")
    for card in expected[:3]:
        assert card in text
    assert expected[3] not in text
    assert [c.index for c in stepper.cards] == [1, 2, 3] and stepper.card.op == "Add"


def test_continue_ends_with_the_gradients_of_tape_gradient_bit_for_bit():
    model, tape, loss = small_model()
    stepper, text = run(loss, ["c", "grads", "n", "q"])
    assert text.count("The walk is finished (7 steps)") == 2        # after c, and after n
    expected = tape.gradient(loss, model.trainable_weights)
    for w, g in zip(model.trainable_weights, expected):
        np.testing.assert_array_equal(stepper.gradient(w).numpy(), g.numpy(), err_msg=w.path)
        assert f"dL/d {w.path}: {g.shape} float32" in text


def test_break_stops_at_an_op_or_at_a_layer():
    model, tape, loss = small_model()
    stepper, text = run(loss, ["b hidden", "b", "c", "c", "clear hidden", "b Power", "c", "q"])
    assert "Breakpoint 1: hidden" in text and "Breakpoints: hidden" in text
    cards = stepper.cards
    # 'hidden' is one part of the path net/hidden: the walk stops at the two nodes of that
    # layer that follow, the Tanh (step 5) and the Add (step 6)
    stops = [line.replace("(backward) ", "") for line in text.splitlines() if "Breakpoint: " in line]
    assert stops == [f"Breakpoint: Tanh #{cards[4].node.seq} in net/hidden",
                     f"Breakpoint: Add #{cards[5].node.seq} in net/hidden"]
    assert "Cleared hidden." in text and "Breakpoint 1: Power" in text
    assert "The walk is finished (7 steps)" in text      # no Power after step 6


def test_break_at_a_layer_path_and_at_an_op_by_its_function_name():
    model, tape, loss = small_model()
    stepper, text = run(loss, ["b net/out", "c", "q"])
    assert stepper.card.node.layer == "net/out" and stepper.card.op == "Add"
    stepper, text = run(loss, ["b mat_mul", "c", "c", "q"])
    assert [c.op for c in stepper.cards if c.op == "MatMul"] == ["MatMul", "MatMul"]
    assert stepper.card.op == "MatMul" and stepper.card.node.layer == "net/hidden"


def test_where_shows_the_recording_line_with_its_neighbours():
    model, tape, loss = small_model()
    _, text = run(loss, ["n", "w", "q"])
    line = next(l for l in text.splitlines() if l.startswith("->"))
    assert "loss = ops.mean(model(rand((2, 3))) ** 2)" in line
    assert "test_debug_stepper.py:" in text and "in small_model  (Mean #" in text
    assert "with keras.GradientTape() as tape:" in text      # the line above it


def test_rule_upstream_grads_and_print():
    w = keras.Variable(rand((3, 2), 1), name="w")
    b = keras.Variable(np.zeros(2, np.float32), name="b")
    x = rand((4, 3), 2)
    with keras.GradientTape():
        loss = ops.sum(ops.matmul(x, w) + b)
    stepper, text = run(loss, ["n", "n", "rule", "upstream", "grads", "p b", "p w", "q"])
    add = stepper.card
    assert add.op == "Add"
    matmul = add.node.inputs[0].node
    assert "  dL/dx = unbroadcast(g, x)\n  dL/dy = unbroadcast(g, y)\n" in text
    assert f"  where x = #{matmul.seq} mat_mul, y = b\n" in text
    assert "dL/d output: (4, 2) float32\n" in text
    assert "-> dL/d b: (2,) float32\n[4., 4.]" in text
    assert "-> dL/d #%d mat_mul: (4, 2) float32" % matmul.seq in text
    assert "b: (2,) float32\n[0., 0.]\n  dL/d b so far: (2,) float32\n[4., 4.]" in text
    assert "w: (3, 2) float32" in text and "dL/d w so far: none yet" in text


def test_print_finds_a_computed_tensor_by_its_node_number():
    a = keras.Tensor([1.0, 2.0], requires_grad=True)
    y = ops.exp(a)
    loss = ops.sum(y)
    seq = y.node.seq
    _, text = run(loss, ["n", f"p {seq}", f"p #{seq} exp", "q"])
    assert text.count(f"#{seq} exp: (2,) float32\n[2.7183, 7.3891]") == 2
    assert text.count(f"dL/d #{seq} exp so far: (2,) float32\n[1., 1.]") == 2


def test_list_shows_the_nodes_still_to_come():
    model, tape, loss = small_model()
    stepper, text = run(loss, ["l", "n", "n", "n", "n", "n", "l", "c", "l", "q"])
    listings = text.split("(backward) ")
    first, later = listings[1], listings[7]
    assert first.count("  #") == 7 and "Mean in" not in first and "Mean at" in first
    assert later.count("  #") == 2 and "Add in net/hidden at" in later
    assert "MatMul in net/hidden at" in later
    assert "No nodes left." in listings[9]


def test_unknown_commands_names_and_breakpoints_say_what_to_do():
    model, tape, loss = small_model()
    _, text = run(loss, ["w", "rule", "upstream", "grads", "frobnicate 3", "n", "p nothing",
                         "b Dens", "clear Dens", "q"])
    assert text.count("*** no step yet: type 'next' (n)") == 4
    assert "*** unknown command 'frobnicate': type 'help' for the commands." in text
    assert "*** no tensor named 'nothing' in this graph. Names here: #" in text
    assert ("*** no node of this graph has the op or layer 'Dens'. Ops here: Add, MatMul, Mean, "
            "Power, Tanh. Layers: net/hidden, net/out.") in text
    assert "*** no breakpoint 'Dens'; the breakpoints are: none." in text


def test_help_lists_the_commands_and_explains_one():
    model, tape, loss = small_model()
    _, text = run(loss, ["help", "help break", "q"])
    for name in ("next", "continue", "break", "where", "rule", "upstream", "grads", "print",
                 "list", "quit"):
        assert name in text.split("help <topic>")[1]
    assert "b(reak) OP_OR_LAYER: stop at each node whose op" in text


def test_the_end_of_the_input_leaves_the_stepper():
    model, tape, loss = small_model()
    stepper = debug.step_backward(loss, stdin=io.StringIO("n\n"), stdout=io.StringIO())
    assert len(stepper.cards) == 1 and not stepper.steps.done
    assert repr(stepper).startswith("<Stepper over 7 nodes, after step 1, Mean")


def test_in_a_notebook_next_returns_the_card():
    model, tape, loss = small_model()
    stepper = debug.step_backward(loss, interactive=False)
    card = stepper.next()
    assert isinstance(card, debug.BackwardStep) and card.index == 1
    assert "<b>step 1 of 7: Mean" in card._repr_html_()
    stepper.breakpoints.append("Tanh")
    assert stepper.cont().op == "Tanh"
    assert stepper.cont() is None and stepper.next() is None and stepper.steps.done
    expected = tape.gradient(loss, model.trainable_weights)
    for w, g in zip(model.trainable_weights, expected):
        np.testing.assert_array_equal(stepper.gradient(w).numpy(), g.numpy())


def test_a_tensor_backward_graph_ends_with_what_backward_gives():
    a = keras.Tensor(rand((3,), 4), requires_grad=True)
    loss = ops.sum(ops.tanh(a) * a)
    stepper, _ = run(loss, ["c", "q"])
    got = stepper.gradient(a).numpy()
    loss.backward()
    np.testing.assert_array_equal(got, a.grad.numpy())


def _convnet():
    return keras.Sequential([keras.Input((6, 6, 2)), layers.Conv2D(3, 3, activation="relu"),
                             layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(4)]), rand((2, 6, 6, 2))


def _lstm():
    return keras.Sequential([keras.Input((5, 3)), layers.LSTM(4, return_sequences=True),
                             layers.GlobalAveragePooling1D(), layers.Dense(4)]), rand((2, 5, 3))


def _attention():
    inputs = keras.Input((4, 6))
    h = layers.MultiHeadAttention(num_heads=2, key_dim=3)(inputs, inputs)
    outputs = layers.Dense(4)(layers.Flatten()(layers.Add()([h, inputs])))
    return keras.Model(inputs, outputs), rand((2, 4, 6))


@pytest.mark.parametrize("build", [_convnet, _lstm, _attention], ids=["convnet", "lstm", "attention"])
def test_after_continue_the_gradients_equal_tape_gradient_bit_for_bit(build):
    model, x = build()
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with keras.GradientTape() as tape:
        loss = loss_fn(np.array([1, 3]), model(x, training=True))
    stepper, text = run(loss, ["n", "n", "c", "q"])
    assert f"The walk is finished ({stepper.steps.total} steps)" in text
    expected = tape.gradient(loss, model.trainable_weights)     # the graph is kept
    assert len(expected) >= 4
    for w, g in zip(model.trainable_weights, expected):
        np.testing.assert_array_equal(stepper.gradient(w).numpy(), g.numpy(), err_msg=w.path)


def test_inside_pdb_the_stepper_reads_the_same_terminal(tmp_path):
    script = ("import numpy as np\nimport minikeras as keras\nfrom minikeras import debug, ops\n"
              "a = keras.Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)\n"
              "loss = ops.sum(ops.exp(a) * a)\nbreakpoint()\nprint('done')\n")
    commands = "!debug.step_backward(loss)\nn\nw\nq\np 'back in pdb'\nc\n"
    env = dict(os.environ, PYTHONPATH=ROOT, PYTHONBREAKPOINT="pdb.set_trace")
    (tmp_path / "train.py").write_text(script)
    out = subprocess.run([sys.executable, str(tmp_path / "train.py")], input=commands, capture_output=True,
                         text=True, env=env, timeout=120).stdout
    assert "(Pdb) Stepping back from #" in out
    assert "(backward) step 1 of 3: Sum #" in out
    assert "->    5  loss = ops.sum(ops.exp(a) * a)" in out
    assert "'back in pdb'" in out and out.rstrip().endswith("done")
