"""debug.print_tape, tape_to_dot and plot_tape: the graph as text and as a Graphviz drawing."""
import re
import shutil

import numpy as np
import pytest

import minikeras as keras
from minikeras import debug, ops


def _graph():
    w = keras.Variable(np.ones((3, 2), np.float32), name="w")
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    with keras.GradientTape() as tape:
        loss = ops.sum(ops.tanh(ops.matmul(x, w)) * 2.0)
    return loss, w, tape


def test_print_tape_is_a_tree_from_the_target_down(capsys):
    loss, _, _ = _graph()
    assert debug.print_tape(loss) is None  # it prints; tape_text gives the text
    text = debug.tape_text(loss)
    assert capsys.readouterr().out.strip() == text
    lines = text.splitlines()
    assert re.match(r"#\d+ Sum -> \(\) float32  at test_debug_pictures.py:\d+", lines[0])
    assert lines[1].startswith("└─ #") and "Multiply" in lines[1]
    assert any(line.strip().startswith("│  └─ #") and "MatMul" in line for line in lines)
    assert any("w  (3, 2) float32  (Variable)" in line for line in lines)
    assert sum("(constant)" in line for line in lines) == 2


def test_a_shared_node_is_printed_once():
    a = keras.Tensor([1.0, 2.0], requires_grad=True)
    e = ops.exp(a)
    text = debug.tape_text(ops.sum(e * e))
    assert text.count("Exp ->") == 1 and "(see #" in text
    assert "(leaf, requires grad)" in text


def test_the_dot_text_has_values_gradients_and_backward_steps():
    loss, w, tape = _graph()
    dot = debug.tape_to_dot(loss)
    assert dot.startswith("digraph tape {") and dot.rstrip().endswith("}")
    assert dot.count("shape=box") == 4                    # Sum, Multiply, Tanh, MatMul
    assert "w\\n(3, 2) float32\\nmean 1 std 0\\ngrad mean" in dot
    for k in (1, 2, 3, 4):
        assert f'label="backward step {k}"' in dot
    assert "grad = 1" in dot                              # dL/dloss at the top
    plain = debug.tape_to_dot(loss, show_grads=False)
    assert "grad" not in plain and "backward step" not in plain
    # the gradient drawn for w is the one tape.gradient gives: the graph is still there
    g = tape.gradient(loss, w).numpy()
    assert f"grad mean {g.mean():.3g} std {g.std():.3g}" in dot


def test_plot_tape_writes_dot_text_or_says_how_to_get_graphviz(tmp_path, monkeypatch):
    loss, _, _ = _graph()
    out = debug.plot_tape(loss, to_file=str(tmp_path / "tape.dot"))
    assert open(out).read().startswith("digraph tape {")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match=r"`dot` program was not found.*apt-get install "
                                           r"graphviz") as err:
        debug.plot_tape(loss, to_file=str(tmp_path / "t.svg"))
    assert "t.dot" in str(err.value) and (tmp_path / "t.dot").exists()
    assert not (tmp_path / "t.svg").exists()
    with pytest.raises(ValueError, match=r"must end in .svg, .png, .pdf or .dot"):
        debug.plot_tape(loss, to_file=str(tmp_path / "t.jpeg"))


@pytest.mark.skipif(shutil.which("dot") is None,
                    reason="Graphviz's dot program is not installed (apt-get install graphviz)")
def test_plot_tape_draws_an_svg_with_dot(tmp_path):
    loss, _, _ = _graph()
    out = debug.plot_tape(loss, to_file=str(tmp_path / "tape.svg"))
    svg = open(out).read()
    assert "<svg" in svg and "MatMul" in svg and "backward step 4" in svg


def test_freed_graphs_and_constants_are_refused():
    a = keras.Tensor([1.0, 2.0], requires_grad=True)
    y = ops.sum(a * a)
    y.backward()
    for tool in (debug.print_tape, debug.tape_to_dot):
        with pytest.raises(RuntimeError, match="already freed.*persistent=True"):
            tool(y)
        with pytest.raises(ValueError, match="needs no gradient"):
            tool(ops.sum(keras.Tensor([1.0])))
    with pytest.raises(TypeError, match="takes the Tensor to differentiate"):
        debug.print_tape(np.ones(2))


def _clusters_of(dot):
    """Each DOT statement's id -> the labels of the clusters around it, outermost first."""
    where, stack = {}, []
    for line in dot.splitlines()[1:]:
        line = line.strip()
        if line.startswith("subgraph cluster_"):
            stack.append(None)
        elif line.startswith("label=") and stack and stack[-1] is None:
            stack[-1] = re.match(r'label="([^"]*)"', line).group(1)
        elif line == "}":
            if stack:
                stack.pop()
        elif "[" in line and "->" not in line:
            where[line.split()[0]] = tuple(stack)
    return where


def test_the_ops_of_a_layer_call_are_one_cluster_nested_by_path():
    block = keras.Sequential([keras.layers.Dense(3, activation="tanh", name="hidden")],
                             name="block")
    net = keras.Sequential([keras.Input((4,)), block, keras.layers.Dense(2, name="out")],
                           name="net")
    with keras.GradientTape() as tape:
        loss = ops.mean(net(np.ones((2, 4), np.float32)) ** 2)
    dot = debug.tape_to_dot(loss)
    where = _clusters_of(dot)
    nodes = {}
    for line in dot.splitlines():
        m = re.match(r'\s*(n\d+) \[shape=box, style=rounded, label="#\d+ (\w+)', line)
        if m:
            nodes[m.group(1)] = m.group(2)
    recorded = [n for n in tape.nodes]
    assert len(nodes) == len(recorded)
    for node in recorded:   # every op sits in the clusters of its layer call's path
        parts = node.layer.split("/") if node.layer else []
        expected = tuple("/".join(parts[:i]) for i in range(1, len(parts) + 1))
        assert where[f"n{node.seq}"] == expected, (node, node.layer)
    assert {n.layer for n in recorded} == {"net/block/hidden", "net/out", None}
    # the variables stay outside every cluster; a computed tensor sits with its op
    assert all(where[k] == () for k in where if k.startswith("t") and
               "fillcolor" in next(line for line in dot.splitlines() if line.strip().startswith(k + " ")))
    assert dot.count("subgraph cluster_") == 4          # net, net/block, net/block/hidden, net/out
    plain = debug.tape_to_dot(loss, show_grads=False)
    assert _clusters_of(plain) == where                  # the boxes do not depend on gradients
