"""keras.utils.model_to_dot and plot_model: the DOT text (no Graphviz needed) and the files."""
import re
import shutil
import sys
import types

import numpy as np
import pytest

import minikeras as keras
from minikeras import layers, utils


def _boxes(dot):
    """DOT id -> label of every box."""
    return dict(re.findall(r'^\s*"([^"]+)" \[label=(<.*>)\];$', dot, re.M))


def _edges(dot):
    return set(re.findall(r'^\s*"([^"]+)" -> "([^"]+)"', dot, re.M))


def _functional():
    inp = keras.Input((4,), name="x")
    a = layers.Dense(4, activation="relu", name="d1")(inp)
    b = layers.Dense(3, activation="tanh", name="d2")(a)
    c = layers.Concatenate(name="cat")([a, b])
    return keras.Model(inp, layers.Dense(2, name="out")(c), name="net")


def test_a_sequential_model_is_a_chain_of_boxes():
    model = keras.Sequential([keras.Input((5,)), layers.Dense(3, name="a"),
                              layers.Dense(2, name="b"), layers.Dense(1, name="c")])
    dot = str(utils.model_to_dot(model, show_layer_names=True))
    assert dot.startswith("digraph model {") and dot.endswith("}")
    assert list(_boxes(dot)) == ["a", "b", "c"]          # one box per layer, no input box
    assert _edges(dot) == {("a", "b"), ("b", "c")}
    assert "rankdir=TB;" in dot and "dpi=200;" in dot and "splines=ortho;" in dot
    assert "<b>a</b> (Dense)" in _boxes(dot)["a"]
    assert "<b>Dense</b>" in _boxes(str(utils.model_to_dot(model, show_layer_names=False)))["a"]
    assert "rankdir=LR;" in str(utils.model_to_dot(model, rankdir="LR"))
    assert str(utils.model_to_dot(model, subgraph=True)).startswith(
        f"subgraph cluster_{model.name} {{")


def test_a_functional_model_has_the_edges_of_its_graph():
    model = _functional()
    dot = utils.model_to_dot(model).to_string()
    assert set(_boxes(dot)) == {layer.name for layer in model.layers}   # the Input included
    assert _edges(dot) == {("x", "d1"), ("d1", "d2"), ("d1", "cat"), ("d2", "cat"),
                           ("cat", "out")}


def test_shapes_dtypes_activations_and_trainable_when_asked():
    model = _functional()
    model.get_layer("d2").trainable = False
    plain = _boxes(str(utils.model_to_dot(model)))
    assert not any(w in "".join(plain.values())
                   for w in ("shape", "dtype", "Activation", "Trainable"))
    boxes = _boxes(str(utils.model_to_dot(model, show_shapes=True, show_dtype=True,
                                          show_layer_activations=True, show_trainable=True)))
    for layer in model.layers:
        box = boxes[layer.name]
        assert f"Output shape: <b>{layer.output.shape}</b>" in box
        assert f"Output dtype: <b>{layer.output.dtype}</b>" in box
        if layer.name != "x":
            shapes = [t.shape for t in layer.input] if isinstance(layer.input, list) \
                else layer.input.shape
            assert f"Input shape: <b>{shapes}</b>" in box
    assert "Input shape" not in boxes["x"]
    assert "Activation: <b>relu</b>" in boxes["d1"] and "Activation: <b>tanh</b>" in boxes["d2"]
    assert "Activation" not in boxes["cat"]
    assert "<b>Trainable</b>" in boxes["d1"] and "<b>Non-trainable</b>" in boxes["d2"]
    assert "rainable" not in boxes["cat"] and "rainable" not in boxes["x"]   # no weights


def test_expand_nested_draws_a_frame_around_the_inner_layers():
    inner = keras.Sequential([layers.Dense(3, name="h1"), layers.Dense(3, name="h2")],
                             name="block")
    inp = keras.Input((4,), name="x")
    a = layers.Dense(4, name="d1")(inp)
    model = keras.Model(inp, layers.Dense(2, name="out")(inner(a)), name="net")
    flat = str(utils.model_to_dot(model))
    assert set(_boxes(flat)) == {"x", "d1", "block", "out"} and "cluster" not in flat
    assert _edges(flat) == {("x", "d1"), ("d1", "block"), ("block", "out")}
    dot = str(utils.model_to_dot(model, expand_nested=True))
    assert set(_boxes(dot)) == {"x", "d1", "block/h1", "block/h2", "out"}
    assert _edges(dot) == {("x", "d1"), ("d1", "block/h1"), ("block/h1", "block/h2"),
                           ("block/h2", "out")}
    frame = dot[dot.index('subgraph "cluster_block" {'):]
    frame = frame[:frame.index("\n  }")]
    assert 'label="block"' in frame and '"block/h1" [' in frame and '"block/h2" [' in frame
    assert '"d1" [' not in frame


def test_a_subclassed_model_is_one_box():
    class Net(keras.Model):
        def __init__(self):
            super().__init__(name="mine")
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    model = Net()
    model(np.ones((1, 3), np.float32))
    dot = str(utils.model_to_dot(model))
    assert list(_boxes(dot)) == ["mine"] and not _edges(dot)


def test_a_model_not_built_and_bad_arguments_are_refused():
    model = keras.Sequential([layers.Dense(2)])
    for fn in (utils.model_to_dot, utils.plot_model):
        with pytest.raises(ValueError, match=r"has not yet been built.*calling `build\(\)` or "
                                             r"by calling the model on a batch of data"):
            fn(model)
    model.build((None, 3))
    with pytest.raises(ValueError, match=r"unknown keyword arguments \['layer_range'\]"):
        utils.plot_model(model, layer_range=["a", "b"])
    with pytest.raises(TypeError, match="takes a keras Model, got int"):
        utils.model_to_dot(3)
    with pytest.raises(ValueError, match=r"to_file must end in .svg, .png, .pdf or .dot"):
        utils.plot_model(model, to_file="m.jpeg")


def test_plot_model_writes_dot_text_or_says_how_to_get_graphviz(tmp_path, monkeypatch):
    model = _functional()
    out = utils.plot_model(model, to_file=str(tmp_path / "m.dot"), show_shapes=True)
    assert open(out).read() == str(utils.model_to_dot(model, show_shapes=True,
                                                      show_layer_names=False))
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ImportError, match=r"`dot` program was not found.*apt-get install "
                                          r"graphviz") as err:
        utils.plot_model(model, to_file=str(tmp_path / "m.png"))
    assert isinstance(err.value, RuntimeError) and "m.dot" in str(err.value)
    assert not (tmp_path / "m.png").exists()
    assert utils.model_to_dot(model)._repr_svg_() is None     # a notebook shows the repr


@pytest.mark.skipif(shutil.which("dot") is None,
                    reason="Graphviz's dot program is not installed (apt-get install graphviz)")
def test_plot_model_draws_png_and_svg(tmp_path):
    model = _functional()
    png = utils.plot_model(model, to_file=str(tmp_path / "model.png"))
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    svg = open(utils.plot_model(model, to_file=str(tmp_path / "m.svg"), show_layer_names=True,
                                show_shapes=True)).read()
    assert "<svg" in svg and "Concatenate" in svg and "cat" in svg and "(None, 7)" in svg
    assert utils.plot_model(model, to_file=str(tmp_path / "noext")).endswith("noext.png")
    graph = utils.model_to_dot(model)
    assert graph._repr_svg_().lstrip().startswith("<?xml") and "<svg" in graph._repr_svg_()
    assert open(graph.write(str(tmp_path / "g.svg"))).read() == graph._repr_svg_()


@pytest.mark.skipif(shutil.which("dot") is None,
                    reason="Graphviz's dot program is not installed (apt-get install graphviz)")
def test_in_a_notebook_the_picture_is_returned_for_display(tmp_path, monkeypatch):
    made = []

    class Picture:
        def __init__(self, filename):
            made.append(filename)

    shell = types.SimpleNamespace()
    monkeypatch.setitem(sys.modules, "IPython",
                        types.SimpleNamespace(get_ipython=lambda: shell))
    monkeypatch.setitem(sys.modules, "IPython.display",
                        types.SimpleNamespace(SVG=Picture, Image=Picture))
    out = utils.plot_model(_functional(), to_file=str(tmp_path / "m.svg"))
    assert isinstance(out, Picture) and made == [str(tmp_path / "m.svg")]
