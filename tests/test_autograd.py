"""The tape: recording, the backward walk, GradientTape, no_grad, hooks, freeing, errors."""
import gc
import weakref

import numpy as np
import pytest

import minikeras as mk
from minikeras import ops
from minikeras.autograd import state
from minikeras.ops.nn import Relu
from minikeras.tensor import Tensor


def leaf(values, dtype="float64"):
    return Tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# ------------------------------------------------------------------ backward() and .grad
def test_backward_fills_grad_of_leaves():
    x = leaf([1.0, 2.0, 3.0])
    w = leaf([0.5, -1.0, 2.0])
    loss = ops.sum(x * w + x)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.5, 0.0, 3.0])
    np.testing.assert_allclose(w.grad.numpy(), [1.0, 2.0, 3.0])


def test_gradients_accumulate_until_zero_grad():
    x = leaf([1.0, 2.0])
    ops.sum(x * x).backward()
    ops.sum(x * x).backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])  # 2 × 2x
    x.zero_grad()
    assert x.grad is None
    ops.sum(3 * x).backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_tensor_used_twice_gets_summed_gradient():
    x = leaf(2.0)
    y = x * x * x  # x appears three times on the graph
    y.backward()
    assert y.item() == 8.0
    np.testing.assert_allclose(x.grad.numpy(), 12.0)


def test_broadcast_gradient_is_summed_back_to_input_shape():
    x = leaf(np.ones((4, 3)))
    b = leaf(np.array([1.0, 2.0, 3.0]))
    ops.sum(x * b).backward()
    assert b.grad.shape == (3,)
    np.testing.assert_allclose(b.grad.numpy(), [4.0, 4.0, 4.0])
    c = leaf(np.ones((4, 1)))
    ops.sum(x + c).backward()
    np.testing.assert_allclose(c.grad.numpy(), np.full((4, 1), 3.0))


def test_deep_graph_does_not_hit_the_recursion_limit():
    import sys
    x = leaf(1.0)
    y = x
    depth = sys.getrecursionlimit() * 3
    for _ in range(depth):
        y = y * 1.0 + 0.0
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 1.0)


def test_backward_on_non_scalar_needs_a_gradient():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2
    with pytest.raises(RuntimeError, match=r"shape \(3,\) needs gradient=.*ops.sum\(y\).backward\(\)"):
        y.backward()
    y.backward(np.ones(3))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_backward_gradient_of_wrong_shape():
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(ValueError, match=r"gradient of shape \(3,\) for a tensor of shape \(2,\)"):
        y.backward(np.ones(3))


def test_backward_twice_on_freed_graph_says_how_to_keep_it():
    x = leaf([1.0, 2.0])
    y = ops.sum(ops.exp(x))
    y.backward()
    with pytest.raises(RuntimeError, match="already freed.*retain_graph=True.*persistent=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = ops.sum(ops.exp(x))
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([1.0, 2.0]))


def test_backward_without_requires_grad_explains():
    y = Tensor([1.0, 2.0]) * 2
    with pytest.raises(RuntimeError, match="does not require gradients"):
        ops.sum(y).backward()


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="floating-point.*int32"):
        Tensor([1, 2, 3], requires_grad=True)


# ------------------------------------------------------------------ no_grad
def test_no_grad_records_nothing():
    x = leaf([1.0, 2.0])
    with mk.GradientTape() as tape:
        with mk.no_grad():
            y = ops.exp(x) * 2
    assert y.node is None and not y.requires_grad
    assert tape.nodes == []
    assert mk.autograd.is_grad_enabled()


def test_no_grad_as_decorator_and_enable_grad():
    x = leaf([1.0])

    @mk.no_grad()
    def f(t):
        with mk.enable_grad():
            inner = t * 2
        return t * 3, inner

    outer, inner = f(x)
    assert outer.node is None
    assert inner.node is not None


# ------------------------------------------------------------------ GradientTape
def test_tape_gradient_single_list_and_dict_sources():
    a, b = mk.Variable(np.array([1.0, 2.0])), mk.Variable(np.array(3.0))
    with mk.GradientTape(persistent=True) as tape:
        y = ops.sum(a * a) * b
    ga = tape.gradient(y, a)
    np.testing.assert_allclose(ga.numpy(), [6.0, 12.0])
    gl = tape.gradient(y, [a, b])
    assert isinstance(gl, list) and len(gl) == 2
    np.testing.assert_allclose(gl[1].numpy(), 5.0)
    gd = tape.gradient(y, {"a": a, "b": b})
    assert set(gd) == {"a", "b"}
    np.testing.assert_allclose(gd["b"].numpy(), 5.0)
    gt = tape.gradient(y, (a, b))
    assert isinstance(gt, tuple)


def test_tape_needs_watch_for_plain_tensors():
    x = Tensor(np.array([1.0, 2.0]))
    with mk.GradientTape() as tape:
        y = ops.sum(x * x)
    assert tape.gradient(y, x) is None  # not watched: not on the tape
    with mk.GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(x * x)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [2.0, 4.0])
    assert not x.requires_grad  # watching ends with the tape's block


def test_unconnected_source_returns_none_or_zeros():
    a, b = mk.Variable(np.array([1.0, 2.0])), mk.Variable(np.array([5.0]))
    with mk.GradientTape(persistent=True) as tape:
        y = ops.sum(a * 2)
    assert tape.gradient(y, b) is None
    z = tape.gradient(y, b, unconnected_gradients="zero")
    np.testing.assert_array_equal(z.numpy(), [0.0])
    with pytest.raises(ValueError, match="unconnected_gradients must be 'none' or 'zero'"):
        tape.gradient(y, b, unconnected_gradients="bogus")


def test_non_scalar_target_is_summed_and_output_gradients():
    x = mk.Variable(np.array([1.0, 2.0, 3.0]))
    with mk.GradientTape(persistent=True) as tape:
        y = x * x
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [2.0, 4.0, 6.0])
    g = tape.gradient(y, x, output_gradients=np.array([1.0, 0.0, -1.0]))
    np.testing.assert_allclose(g.numpy(), [2.0, 0.0, -6.0])


def test_gradient_with_respect_to_an_intermediate_tensor():
    x = mk.Variable(np.array([1.0, 2.0]))
    with mk.GradientTape() as tape:
        h = x * 3
        y = ops.sum(h * h)
    gh, gx = tape.gradient(y, [h, x])
    np.testing.assert_allclose(gh.numpy(), 2 * np.array([3.0, 6.0]))
    np.testing.assert_allclose(gx.numpy(), 6 * np.array([3.0, 6.0]))


def test_non_persistent_tape_computes_once():
    x = mk.Variable(np.array([1.0]))
    with mk.GradientTape() as tape:
        y = ops.sum(x * x)
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="only once.*persistent=True"):
        tape.gradient(y, x)


def test_persistent_tape_computes_several_times():
    x = mk.Variable(np.array([1.0, -1.0]))
    with mk.GradientTape(persistent=True) as tape:
        y = ops.sum(ops.exp(x))
        z = ops.sum(x * x)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), np.exp([1.0, -1.0]))
    np.testing.assert_allclose(tape.gradient(z, x).numpy(), [2.0, -2.0])
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), np.exp([1.0, -1.0]))
    assert len(tape.nodes) == 4


def test_gradient_of_integer_source_is_an_error():
    i = Tensor([1, 2])
    x = mk.Variable(np.array([1.0]))
    with mk.GradientTape() as tape:
        y = ops.sum(x * 2)
    with pytest.raises(TypeError, match="integer dtype int32"):
        tape.gradient(y, [x, i])


def test_watch_rejects_integer_and_non_tensors():
    with mk.GradientTape() as tape:
        with pytest.raises(TypeError, match="floating-point"):
            tape.watch(Tensor([1, 2]))
        with pytest.raises(TypeError, match="takes a Tensor"):
            tape.watch([1.0, 2.0])


def test_tape_records_nodes_with_op_inputs_outputs_and_source_line():
    x = mk.Variable(np.array([1.0, 2.0]), name="x")
    with mk.GradientTape() as tape:
        h = ops.tanh(x)  # the line recorded for this node
        y = ops.sum(h)
    names = [n.name for n in tape.nodes]
    assert names == ["Tanh", "Sum"]
    node = tape.nodes[0]
    assert node.inputs[0] is x
    assert node.output() is h
    assert node.where[0] == __file__
    assert "ops.tanh(x)" in node.source_line()
    assert node.seq < tape.nodes[1].seq
    assert "Tanh" in repr(node) and "test_autograd.py" in repr(node)
    assert "made by Sum at test_autograd.py" in repr(y)


def test_tape_lets_go_of_its_nodes_after_gradient():
    x = mk.Variable(np.ones((3, 3)))
    with mk.GradientTape() as tape:
        h = ops.exp(x)
        y = ops.sum(h * h)
    refs = [weakref.ref(n) for n in tape.nodes]
    h_ref = weakref.ref(h)
    del h
    tape.gradient(y, x)
    gc.disable()  # only reference counting may free them: no cycles allowed
    try:
        alive = [r() for r in refs if r() is not None]
        # Only the node that made `y` lives on (y still points at it), with its inputs dropped.
        assert [n.name for n in alive] == ["Sum"]
        assert alive[0].freed
        assert h_ref() is None
        assert tape.nodes == []
    finally:
        gc.enable()


def test_nodes_die_with_their_outputs_without_gc():
    gc.disable()
    try:
        x = mk.Variable(np.ones(4))
        y = ops.sum(ops.exp(x) * 2)
        ref = weakref.ref(y.node)
        del y
        assert ref() is None
    finally:
        gc.enable()


def test_nested_tapes_give_second_derivatives():
    x = mk.Variable(np.array([0.3, -1.2]))
    with mk.GradientTape() as outer:
        with mk.GradientTape() as inner:
            y = ops.sum(ops.sin(x) * x)
        dy = inner.gradient(y, x)  # recorded by `outer`
    d2y = outer.gradient(dy, x)
    xv = x.numpy()
    np.testing.assert_allclose(dy.numpy(), np.cos(xv) * xv + np.sin(xv))
    np.testing.assert_allclose(d2y.numpy(), -np.sin(xv) * xv + 2 * np.cos(xv))


def test_backward_create_graph_gives_second_derivative():
    x = leaf([2.0])
    y = ops.sum(x ** 3)
    y.backward(create_graph=True)
    g = x.grad
    x.zero_grad()
    ops.sum(g).backward()
    np.testing.assert_allclose(x.grad.numpy(), [12.0])  # d²(x³)/dx² = 6x


def test_stop_recording():
    x = mk.Variable(np.array([1.0]))
    with mk.GradientTape() as tape:
        with tape.stop_recording():
            y = x * 2
    assert y.node is None and tape.nodes == []


def test_stop_gradient_cuts_the_graph():
    x = leaf([3.0])
    y = ops.sum(ops.stop_gradient(x) * x)  # d/dx (c·x) with c = x held constant
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0])


# ------------------------------------------------------------------ hooks
def test_hook_sees_and_replaces_gradient():
    x = leaf([1.0, -2.0])
    seen = []
    h = x * 3
    handle = h.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 0.5)
    ops.sum(h * h).backward()
    np.testing.assert_allclose(seen[0], [6.0, -12.0])
    np.testing.assert_allclose(x.grad.numpy(), 3 * 0.5 * np.array([6.0, -12.0]))
    handle.remove()
    x.zero_grad()
    ops.sum(x * 3 * 1.0).backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_hook_on_leaf():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g * 10)
    ops.sum(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), [10.0, 10.0])


def test_hook_needs_requires_grad():
    with pytest.raises(RuntimeError, match="requires gradients"):
        Tensor([1.0]).register_hook(lambda g: g)


def test_step_callback_visits_nodes_newest_first():
    from minikeras.autograd import backward_walk
    x = leaf([1.0, 2.0])
    y = ops.sum(ops.exp(x * 2))
    visited = []
    backward_walk([y], [Tensor(np.array(1.0))],
                  step=lambda node, gout, gin: visited.append(node.name))
    assert visited == ["Sum", "Exp", "Multiply"]


def test_source_capture_can_be_switched_off():
    x = leaf([1.0])
    state.record_source = False
    try:
        y = x * 2
    finally:
        state.record_source = True
    assert y.node.where is None and y.node.location() == "?"


def test_tape_walks_only_what_it_recorded():
    x = mk.Variable(np.array([2.0]))
    h = x * 3  # computed before the tape: a constant for it, as in TensorFlow
    with mk.GradientTape(persistent=True) as tape:
        y = ops.sum(h * x)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [6.0])  # d(h·x)/dx with h fixed
    y2 = ops.sum(h * x)
    y2.backward()  # backward() follows the whole graph
    np.testing.assert_allclose(x.grad.numpy(), [12.0])


def test_each_node_names_the_first_line_of_user_code_above_it():
    """Inside a model an op's line is the line that called the model, unless user code sits
    in between (a layer of one's own): then it is that code's line."""
    import inspect

    import minikeras as keras
    from minikeras import layers, ops

    class Mine(layers.Layer):
        def call(self, x):
            return ops.tanh(x) * 2.0                      # the line of Mine's nodes

    model = keras.Sequential([keras.Input((3,)), layers.Dense(2), Mine()])
    here = inspect.currentframe().f_lineno
    with keras.GradientTape() as tape:
        model(np.ones((1, 3), np.float32))                # the line of Dense's nodes
    call_line = here + 2
    mine_line = inspect.getsourcelines(Mine.call)[1] + 1
    where = {n.name: n.where for n in tape.nodes}
    assert where["MatMul"][1] == call_line and where["Add"][1] == call_line
    assert where["Tanh"][1] == mine_line and where["Multiply"][1] == mine_line
    assert where["Tanh"][2] == "call" and where["MatMul"][2] == (
        "test_each_node_names_the_first_line_of_user_code_above_it")


def test_a_user_function_called_by_a_layer_of_ours_gets_its_own_line():
    """Dense(activation=f) calls the user's f from inside the package, after the layer's own
    ops (whose climb stops early the second time): f's ops still name f's line."""
    import inspect

    import minikeras as keras
    from minikeras import layers, ops

    def squash(x):
        return ops.tanh(x) * 0.5                         # the line of squash's nodes

    model = keras.Sequential([keras.Input((3,)), layers.Dense(2, activation=squash),
                              layers.Dense(2, activation=squash)])
    here = inspect.currentframe().f_lineno
    with keras.GradientTape() as tape:
        model(np.ones((1, 3), np.float32))                # the line of Dense's own nodes
    squash_line = inspect.getsourcelines(squash)[1] + 1
    lines = {(n.name, n.where[1]) for n in tape.nodes}
    assert lines == {("MatMul", here + 2), ("Add", here + 2), ("Tanh", squash_line),
                     ("Multiply", squash_line)}
    paths = {f"{model.name}/{layer.name}" for layer in model.layers}
    assert {n.layer for n in tape.nodes} == paths and len(paths) == 2


def test_a_subclass_with_its_own_rule_does_not_inherit_the_array_twin():
    # Relu has a backward_arrays; a student's Relu with another rule must have that rule run
    # by an ordinary walk (no readable_backward), not the parent's twin.
    class HalfRelu(Relu):
        def backward(self, g):
            return g * 0.5

    assert Relu.backward_arrays is not None and HalfRelu.backward_arrays is None
    x = mk.Tensor(np.array([-1.0, 2.0, 3.0]), requires_grad=True)
    HalfRelu()(x).backward(mk.Tensor(np.ones(3)))
    np.testing.assert_array_equal(x.grad.numpy(), [0.5, 0.5, 0.5])
