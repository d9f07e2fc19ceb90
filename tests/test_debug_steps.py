"""debug.backward_steps: the real walk, one node at a time, with a card per node."""
import numpy as np
import pytest

import minikeras as keras
from minikeras import debug, layers, ops


def rand(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _convnet():
    return keras.Sequential([keras.Input((6, 6, 1)), layers.Conv2D(3, 3, activation="relu"),
                             layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(4)]), rand((2, 6, 6, 1))


def _lstm():
    return keras.Sequential([keras.Input((5, 3)), layers.LSTM(4), layers.Dense(4)]), rand((2, 5, 3))


def _attention():
    inputs = keras.Input((4, 6))
    h = layers.MultiHeadAttention(num_heads=2, key_dim=3)(inputs, inputs)
    h = layers.LayerNormalization()(layers.Add()([h, inputs]))
    outputs = layers.Dense(4)(layers.GlobalAveragePooling1D()(h))
    return keras.Model(inputs, outputs), rand((2, 4, 6))


@pytest.mark.parametrize("build", [_convnet, _lstm, _attention], ids=["convnet", "lstm", "attention"])
def test_the_steps_end_with_the_gradients_of_tape_gradient_bit_for_bit(build):
    model, x = build()
    y = np.array([1, 3])
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with keras.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    steps = debug.backward_steps(loss)
    cards = list(steps)
    assert len(cards) == steps.total > 3
    assert [c.index for c in cards] == list(range(1, len(cards) + 1))
    assert cards[0].op == "SparseSoftmaxCrossEntropy"
    expected = tape.gradient(loss, model.trainable_weights)   # the graph is still there
    for w, g in zip(model.trainable_weights, expected):
        np.testing.assert_array_equal(steps.gradient(w).numpy(), g.numpy(), err_msg=w.path)
    assert set(steps.gradients) == {w.path for w in model.trainable_weights}


def test_a_card_shows_the_op_the_line_the_rule_and_the_gradients():
    w = keras.Variable(rand((3, 2), 1), name="w")
    b = keras.Variable(np.zeros(2, np.float32), name="b")
    x = rand((4, 3), 2)
    with keras.GradientTape():
        loss = ops.sum(ops.tanh(ops.matmul(x, w) + b))   # the line the cards name
    cards = list(debug.backward_steps(loss))
    assert [c.op for c in cards] == ["Sum", "Tanh", "Add", "MatMul"]
    add = cards[2]
    text = str(add)
    assert text.startswith("step 3 of 4: Add #")
    assert "test_debug_steps.py:" in text and "ops.sum(ops.tanh(ops.matmul(x, w) + b))" in text
    assert add.rule == "dL/dx = unbroadcast(g, x); dL/dy = unbroadcast(g, y)"   # its Rule: line
    assert "  rule:       dL/dx = unbroadcast(g, x)\n              dL/dy = unbroadcast(g, y)" in text
    assert add.inputs[1] == ("b", (2,), "float32")
    assert add.inputs[0][0].endswith("mat_mul") and add.inputs[0][0].startswith("#")
    assert add.broadcast == [("b", (4, 2), (2,))]
    assert "summed from (4, 2) back to (2,)" in text
    np.testing.assert_array_equal(add.grads[1][1].numpy(), add.upstream[0].numpy().sum(axis=0))
    assert "<b>step 3 of 4: Add" in add._repr_html_()
    assert repr(add).startswith("<BackwardStep 3 of 4: Add")


def test_a_tensor_used_twice_shows_its_sum_before_and_after():
    a = keras.Tensor([2.0, 3.0], requires_grad=True)
    y = ops.sum(a * a)          # Multiply hands a gradient to `a` twice
    cards = list(debug.backward_steps(y))
    mul = cards[1]
    assert mul.op == "Multiply" and len(mul.accumulated) == 1
    name, before, after = mul.accumulated[0]
    assert name == "leaf"       # a tensor with requires_grad and no name
    np.testing.assert_array_equal(before.numpy(), [2.0, 3.0])   # the first use: g * a
    np.testing.assert_array_equal(after.numpy(), [4.0, 6.0])    # both uses: 2a
    assert "used more than once" in str(mul)
    assert a.grad is None       # stepping adds nothing to .grad


def test_the_steps_pause_the_real_walk():
    """Code run between two steps records as usual, and the walk resumes where it was."""
    a = keras.Tensor([1.0, 2.0], requires_grad=True)
    steps = debug.backward_steps(ops.sum(ops.exp(a)))
    first = next(steps)
    assert first.op == "Sum" and not steps.done
    z = ops.sum(a * 3.0)        # recorded while the walk is paused
    assert z.node is not None
    rest = list(steps)
    assert [c.op for c in rest] == ["Exp"] and steps.done
    np.testing.assert_allclose(steps.gradient(a).numpy(), np.exp([1.0, 2.0]), rtol=1e-6)
    assert list(steps) == []


def test_bad_targets_say_what_to_do():
    with pytest.raises(ValueError, match="needs no gradient"):
        debug.backward_steps(ops.sum(keras.Tensor([1.0, 2.0])))
    with pytest.raises(TypeError, match="takes the Tensor"):
        debug.backward_steps(np.ones(3))
    a = keras.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"shape \(2,\); pass gradient="):
        debug.backward_steps(a * 2.0)
    y = ops.sum(a * a)
    y.backward()
    with pytest.raises(RuntimeError, match="already freed.*persistent=True.*retain_graph=True"):
        debug.backward_steps(y)
    steps = debug.backward_steps(ops.sum(a * 2.0))
    with pytest.raises(RuntimeError, match="not finished"):
        steps.gradient(a)


def test_nodes_know_the_path_of_the_layer_call_that_made_them():
    inner = keras.Sequential([keras.Input((3,)), layers.Dense(2, activation="tanh", name="hidden")],
                             name="block")
    model = keras.Sequential([keras.Input((3,)), inner, layers.Dense(1, name="head")], name="net")
    with keras.GradientTape() as tape:
        loss = ops.sum(model(rand((2, 3))))
    layer_of = [(n.name, n.layer) for n in tape.nodes]
    assert layer_of == [("MatMul", "net/block/hidden"), ("Add", "net/block/hidden"),
                        ("Tanh", "net/block/hidden"), ("MatMul", "net/head"),
                        ("Add", "net/head"), ("Sum", None)]
    cards = {c.op + str(c.node.seq): str(c) for c in debug.backward_steps(loss)}
    tanh = next(text for key, text in cards.items() if key.startswith("Tanh"))
    assert " in net/block/hidden at test_debug_steps.py:" in tanh.splitlines()[0]
