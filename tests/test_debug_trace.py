"""debug.trace(): what ran inside a block, from the layer call down to the kernel.

The events are checked against independent witnesses: the nodes a GradientTape recorded,
the calls of each Function's methods counted by tests/execution.py, and the kernel calls
a step must make (one ``relu`` per ReLU forward, one matrix product per gradient a MatMul
hands on)."""
import collections
import importlib.util
import json
import os
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minikeras as keras
from execution import counting
from minikeras import backend, debug, layers, ops
from minikeras.autograd import Function, GradientTape, readable_backward, state
from minikeras.optim.base import Optimizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _digits_model():
    """The README's model: the MLP of examples/train_digits.py, compiled as there."""
    spec = importlib.util.spec_from_file_location(
        "train_digits", os.path.join(ROOT, "examples", "train_digits.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.build_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _batch(n=16, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.uniform(0, 16, (n, 8, 8)).astype("float32"),
            rng.integers(0, 10, n).astype("int64"))


@pytest.fixture(scope="module")
def mlp_trace():
    model = _digits_model()
    x, y = _batch()
    model.train_on_batch(x, y)             # built, optimizer slots made
    with counting() as counts, debug.trace() as t:
        model.train_on_batch(x, y)
    return model, t, counts


def _events(t, kind, name=None):
    return [e for e in t.all_events() if e.kind == kind and (name is None or e.name == name)]


def _kernels():
    """Everything the trace swaps while it records, to check it is put back."""
    table = backend.kernels
    modules = {sys.modules[getattr(table, n).__module__] for n in table.__all__}
    return ([(m, {n: v for n, v in vars(m).items() if callable(v)}) for m in [table, *modules]],
            backend.xp, Optimizer.__dict__["apply"])


BEFORE = _kernels()      # taken before any trace ran


def _assert_restored(before):
    modules, xp, apply = before
    for module, names in modules:
        now = vars(module)
        changed = [n for n, v in names.items() if now.get(n) is not v]
        assert not changed, f"{module.__name__}: {changed} still wrapped"
    assert backend.xp is xp and backend.xp is np
    assert Optimizer.__dict__["apply"] is apply
    assert state.observers == []


# ------------------------------------------------------------------ what it records
def test_op_events_match_the_calls_of_each_function(mlp_trace):
    _, t, counts = mlp_trace
    forwards = collections.Counter(e.name for e in _events(t, "forward"))
    assert forwards == +collections.Counter(counts.forward)
    readable = collections.Counter(e.name for e in _events(t, "backward")
                                   if e.args["rule"] == "backward")
    twins = collections.Counter(e.name for e in _events(t, "backward")
                                if e.args["rule"] == "backward_arrays")
    assert readable == +collections.Counter(counts.backward)
    assert twins == +collections.Counter(counts.backward_arrays)


def test_nodes_match_what_a_gradient_tape_recorded():
    model = _digits_model()
    x, y = _batch()
    model.train_on_batch(x, y)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    weights = model.trainable_weights
    with debug.trace() as t:
        with GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        recorded = tape.nodes
        tape.gradient(loss, weights)
    forwards = [e for e in _events(t, "forward") if "node" in e.args]
    assert [(e.name, e.args["node"]) for e in forwards] == [(n.name, n.seq) for n in recorded]
    # the walk visits every recorded node once, newest first, under one "backward" heading
    walk, = _events(t, "walk")
    steps = [e for e in walk.children if e.kind == "backward"]
    assert [(e.name, e.args["node"]) for e in steps] == [(n.name, n.seq) for n in recorded[::-1]]
    assert _events(t, "backward") == steps


def test_kernels_inside_the_ops_are_the_ones_the_step_needs(mlp_trace):
    model, t, _ = mlp_trace
    relus = _events(t, "forward", "Relu")
    assert len(relus) == 2
    for op in relus:
        assert [k.name for k in op.children] == ["kernels/cpu/activations.py:relu"]
        assert str(op.children[0].args["inputs"]) == str(op.args["inputs"])
    for step in _events(t, "backward", "Relu"):
        kernel, = step.children
        assert kernel.name == "kernels/cpu/activations.py:relu_grad"
    # one matrix product per MatMul forward and one per gradient its backward hands on:
    # the first Dense gets no gradient for its input (the data)
    matmuls = _events(t, "forward", "MatMul")
    product = "kernels/cpu/matmul.py:matmul"
    products = [k for op in matmuls for k in op.children if k.name == product]
    assert len(products) == len(matmuls) == 3
    dense = [layer for layer in model.layers if isinstance(layer, layers.Dense)]
    for op, layer in zip(matmuls, dense):
        n_in, n_out = layer.kernel.shape
        assert str(op.children[0].args["inputs"]) == f"(16, {n_in}), ({n_in}, {n_out}) float32"
    backward_products = [k for step in _events(t, "backward", "MatMul")
                         for k in step.children if k.name == product]
    assert len(backward_products) == 2 + 2 + 1


def test_layer_calls_nest_their_ops_in_model_order(mlp_trace):
    model, t, _ = mlp_trace
    outer = [e for e in t.events if e.kind == "layer"]
    assert [e.name for e in outer] == [model.name]
    inner = [e.name for e in outer[0].children if e.kind == "layer"]
    assert inner == [f"{model.name}/{layer.name}" for layer in model.layers]
    for layer_event in outer[0].children:
        for op in layer_event.children:
            if op.kind == "forward" and "node" in op.args:
                node_layer = op.args.get("layer")
                assert node_layer in (None, layer_event.name)


def test_the_optimizer_update_is_one_event_with_its_arrays(mlp_trace):
    model, t, _ = mlp_trace
    update, = _events(t, "optimizer")
    assert update.name == "Adam.apply"
    assert update.args["gradients"] == len(model.trainable_weights)
    sqrts = [e for e in update.children if e.name == "numpy.sqrt"]
    assert len(sqrts) == len(model.trainable_weights)   # Adam's formula, once per weight
    assert ({str(e.args["inputs"]) for e in sqrts}
            == {f"{tuple(w.shape)} float32" for w in model.trainable_weights})


def test_every_event_lies_inside_its_parent(mlp_trace):
    _, t, _ = mlp_trace

    def check(event):
        assert event.start <= event.end
        for child in event.children:
            assert event.start <= child.start and child.end <= event.end, (event, child)
            check(child)
    for e in t.events:
        check(e)
        assert 0 <= e.start and e.end <= t.duration_ns
    for a, b in zip(t.events, t.events[1:]):
        assert a.end <= b.start


def test_readable_backward_shows_the_ops_of_each_rule():
    w = keras.Variable(np.arange(6, dtype="float32").reshape(2, 3))
    x = keras.Tensor(np.ones((4, 2), dtype="float32"))
    with readable_backward(), counting() as counts, debug.trace() as t:
        with GradientTape() as tape:
            loss = ops.sum(ops.relu(ops.matmul(x, w)))
        tape.gradient(loss, [w])
    steps = _events(t, "backward")
    assert {e.args["rule"] for e in steps} == {"backward"}
    assert not counts.backward_arrays
    inside = collections.Counter(e.name for s in steps for e in s.walk() if e.kind == "forward")
    outside = collections.Counter(e.name for e in t.events if e.kind == "forward")
    assert inside + outside == +collections.Counter(counts.forward)
    assert inside      # the rules are written with ops


@given(batch=st.integers(1, 9), width=st.integers(1, 7), classes=st.integers(2, 5))
def test_shapes_of_kernel_calls_follow_the_model(batch, width, classes):
    model = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(width, activation="relu"),
                              layers.Dense(classes, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x = np.ones((batch, 3), dtype="float32")
    y = np.zeros(batch, dtype="int64")
    with debug.trace() as t:
        model.train_on_batch(x, y)
    relu, = _events(t, "forward", "Relu")
    assert str(relu.args["output"]) == f"{(batch, width)} float32"
    products = [str(k.args["inputs"])
                for op in _events(t, "forward", "MatMul") for k in op.children]
    assert products == [f"({batch}, 3), (3, {width}) float32",
                        f"({batch}, {width}), ({width}, {classes}) float32"]
    assert [e.args["node"] for e in _events(t, "forward") if "node" in e.args] == sorted(
        e.args["node"] for e in _events(t, "backward"))


# ------------------------------------------------------------------ print, table, save
def test_print_is_an_indented_tree(mlp_trace):
    model, t, _ = mlp_trace
    lines = str(t).splitlines()
    assert lines[0].startswith("trace: ")
    depth = {}
    for line in lines[1:]:
        text = line.split(" ms  ", 1)[1]
        depth.setdefault(text.split()[0], (len(text) - len(text.lstrip())) // 2)
    dense = f"{model.name}/{model.layers[2].name}"
    assert depth[model.name] == 0 and depth[dense] == 1
    assert depth["MatMul"] == 2 and depth["kernels/cpu/matmul.py:matmul"] == 3
    assert depth["backward"] == 0
    backward_line = next(line for line in lines if "backward_arrays" in line)
    assert "MatMul #" in backward_line


def test_table_sums_calls_and_time_per_op_and_kernel(mlp_trace):
    _, t, counts = mlp_trace
    text = t.table()
    rows = {}
    for line in text.splitlines():
        parts = line.rsplit(None, 4)
        if len(parts) == 5 and parts[1].isdigit():
            rows[parts[0]] = (int(parts[1]), float(parts[2]), parts[4])
    assert rows["MatMul (forward)"][0] == counts.forward["MatMul"]
    assert rows["Relu (backward)"][0] == counts.backward_arrays["Relu"]
    assert rows["kernels/cpu/matmul.py:matmul"][0] == 3 + 5
    assert rows["Adam.apply (optimizer)"][0] == 1
    total = sum(e.end - e.start for e in _events(t, "forward", "MatMul")) / 1e6
    assert rows["MatMul (forward)"][1] == pytest.approx(total, abs=1e-3)
    # each section is sorted by total time, largest first
    sections = text.split("\n\n")
    for section in sections[:2]:
        totals = [float(line.rsplit(None, 4)[2]) for line in section.splitlines()[1:]]
        assert totals == sorted(totals, reverse=True) and totals


def test_saved_json_is_chrome_trace_events_with_flows(mlp_trace, tmp_path):
    _, t, _ = mlp_trace
    path = t.save(tmp_path / "trace.json")
    assert os.listdir(tmp_path) == ["trace.json"]       # no temporary file left
    events = json.loads(open(path).read())["traceEvents"]
    complete = [e for e in events if e["ph"] == "X"]
    assert len(complete) == len(list(t.all_events()))
    for e in complete:
        assert {"ph", "ts", "dur", "pid", "tid", "name", "cat", "args"} <= set(e)
        assert e["dur"] >= 0
    # the intervals nest: each event lies inside the one open when it started, or after it
    def inside(parent, e):
        return (parent["ts"] <= e["ts"]
                and e["ts"] + e["dur"] <= parent["ts"] + parent["dur"] + 1e-6)
    stack = []
    for e in sorted(complete, key=lambda e: (e["ts"], -e["dur"])):
        while stack and not inside(stack[-1], e):
            done = stack.pop()
            assert done["ts"] + done["dur"] <= e["ts"] + 1e-6, (done, e)  # no overlap
        stack.append(e)
    # every flow start has its finish: from a forward op to the backward of the same node
    starts = {e["id"]: e for e in events if e["ph"] == "s"}
    finishes = {e["id"]: e for e in events if e["ph"] == "f"}
    assert starts and set(starts) == set(finishes)
    forward_at = {e["args"]["node"]: e["ts"] for e in complete
                  if e["cat"] == "forward" and "node" in e["args"]}
    backward_at = {e["args"]["node"]: e["ts"] for e in complete if e["cat"] == "backward"}
    assert set(starts) == set(forward_at) & set(backward_at) == set(backward_at)
    for node, s in starts.items():
        assert s["ts"] == forward_at[node] and finishes[node]["ts"] == backward_at[node]
        assert finishes[node]["ts"] > s["ts"]


# ------------------------------------------------------------------ bad input
def test_an_empty_trace_says_what_to_do(tmp_path):
    with debug.trace() as t:
        pass
    for text in (str(t), t.table()):
        assert "nothing was recorded" in text and "model.train_on_batch(x, y)" in text
    with pytest.raises(ValueError, match="trace.save.*nothing was recorded"):
        t.save(tmp_path / "trace.json")
    assert os.listdir(tmp_path) == []


def test_a_trace_not_yet_used_or_still_recording_says_so():
    t = debug.trace()
    assert "has not recorded anything yet" in str(t)
    with t:
        ops.exp(keras.Tensor(np.zeros(2, dtype="float32")))
        assert "still recording" in t.table()
        with pytest.raises(ValueError, match="still recording"):
            t.save("never.json")
    assert "Exp" in str(t)


def test_traces_do_not_nest_and_record_once():
    before = _kernels()
    with debug.trace() as t:
        with pytest.raises(RuntimeError, match="another trace is already recording; traces do "
                                               "not nest"):
            with debug.trace():
                pass
    _assert_restored(before)
    with pytest.raises(RuntimeError, match="a trace records once. Start a new one"):
        with t:
            pass
    _assert_restored(before)


class TraceTestBoom(Function):
    """An op whose forward fails after the trace saw it start."""

    def forward(self, x):
        raise RuntimeError("boom inside the forward")


def test_an_error_inside_the_block_puts_everything_back():
    before = _kernels()
    model = _digits_model()
    x, y = _batch()
    with pytest.raises(RuntimeError, match="boom inside the forward"):
        with debug.trace() as t:
            model.train_on_batch(x, y)
            TraceTestBoom()(keras.Tensor(np.ones(3, dtype="float32")))
    _assert_restored(before)
    last = t.events[-1]
    assert last.name == "TraceTestBoom" and "unfinished" in last.args
    assert str(t).splitlines()[-1].endswith("!")
    assert _events(t, "optimizer")           # what ran before the error is kept
    # and nothing runs through the wrappers any more
    model.train_on_batch(x, y)
    assert t.events[-1] is last


def test_an_error_inside_a_kernel_closes_its_events():
    before = _kernels()
    with pytest.raises(Exception):
        with debug.trace() as t:
            backend.kernels.relu(None)
    _assert_restored(before)
    kernel, = t.events
    assert kernel.name == "kernels/cpu/activations.py:relu" and kernel.end is not None


def test_saving_into_a_missing_folder_says_so(mlp_trace, tmp_path):
    _, t, _ = mlp_trace
    target = tmp_path / "no" / "such" / "trace.json"
    with pytest.raises(FileNotFoundError, match="does not exist. Create it first"):
        t.save(target)
    assert not (tmp_path / "no").exists()


def test_nothing_is_wrapped_outside_a_trace(mlp_trace):
    _assert_restored(BEFORE)
    table = backend.kernels
    assert table.relu.__module__ == "minikeras.kernels.cpu.activations"
    assert type(backend.xp.matmul) is np.ufunc


# ------------------------------------------------------------------ other models and tools
def test_a_convolution_shows_the_kernels_it_calls_inside_each_other():
    model = keras.Sequential([keras.Input((6, 6, 2)), layers.Conv2D(3, 3, activation="relu"),
                              layers.MaxPooling2D(), layers.Flatten(), layers.Dense(2)])
    model.compile(optimizer="sgd",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.random.default_rng(1).random((2, 6, 6, 2)).astype("float32")
    y = np.array([0, 1])
    with debug.trace() as t:
        model.train_on_batch(x, y)
    conv_layer, = [e for e in t.all_events() if e.name.endswith(model.layers[0].name)]
    conv_op, = [e for e in conv_layer.children if e.kind == "forward"]
    assert conv_op.name == "ConvRelu"          # the convolution and its relu, fused
    forward_kernel, = [k for k in conv_op.children if k.kind == "kernel"]
    assert forward_kernel.name == "kernels/cpu/conv.py:conv_forward"
    im2col, = [k for k in forward_kernel.children if k.name == "kernels/cpu/conv.py:im2col"]
    assert str(im2col.args["inputs"]) == "(2, 6, 6, 2) float32"
    pool, = _events(t, "forward", "MaxPool")
    assert [k.name for k in pool.children] == ["kernels/cpu/pooling.py:max_pool_forward"]
    loop, = pool.children[0].children      # the Numba loop the kernel compiled and called
    assert loop.name == "kernels/cpu/pooling.py:_max_pool_loop"
    assert loop.args["compiled by"] == "numba"


def test_a_trace_and_check_numerics_watch_the_same_block():
    x = keras.Tensor(np.array([1.0, 4.0], np.float32), requires_grad=True)
    with debug.check_numerics(), debug.trace() as t:
        ops.sum(ops.sqrt(x)).backward()
    assert [e.name for e in _events(t, "forward")][:2] == ["Sqrt", "Sum"]
    assert [e.name for e in _events(t, "backward")] == ["Sum", "Sqrt"]
    assert state.observers == []


def test_stepping_through_the_walk_inside_a_trace():
    w = keras.Variable(np.ones(3, np.float32))
    with debug.trace() as t:
        with GradientTape() as tape:
            loss = ops.sum(ops.tanh(w))
        steps = list(debug.backward_steps(loss))
    assert [e.name for e in _events(t, "backward")] == [s.op for s in steps] == ["Sum", "Tanh"]
