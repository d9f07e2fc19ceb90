"""``keras.utils.plot_model`` and ``model_to_dot``: the layers of a model as a drawing.

One box per layer, an arrow for each tensor one layer hands to the next (the calls a
functional model recorded on ``keras.Input`` tensors; the order of a Sequential's stack).
A box says the layer's name and class and, when asked, its input and output shapes, its
output dtype, its activation and whether it is trainable. With ``expand_nested=True`` a
model used as a layer is drawn as a dashed frame around its own layers. A subclassed
model has no recorded graph: it is one box.

The DOT text is built here; ``utils/dot.py`` draws it with Graphviz.
"""
import html

from ..layers.input_layer import InputLayer, KerasTensor
from ..layers.structure import flatten, map_structure
from ..models.model import Functional
from ..models.sequential import Sequential
from .dot import quote, render, shown, write_picture

__all__ = ["model_to_dot", "plot_model"]


class DotGraph:
    """The DOT text of a model (``str(graph)`` or ``graph.to_string()``), drawable with
    ``graph.write(path)``; in a notebook it shows itself as SVG."""

    def __init__(self, text):
        self.text = text

    def to_string(self):
        return self.text

    __str__ = to_string

    def write(self, path):
        return write_picture(self.text, path, "model_to_dot")

    def _repr_svg_(self):     # a notebook draws the graph (when Graphviz is installed)
        picture = render(self.text, "svg", "model_to_dot")
        return None if picture is None else picture.decode()

    def __repr__(self):
        return f"<DotGraph: {self.text.count(' [label=')} nodes>"


def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True,
                 rankdir="TB", expand_nested=False, dpi=200, subgraph=False,
                 show_layer_activations=False, show_trainable=False, splines="ortho",
                 **kwargs):
    """The DOT graph of ``model`` (a :class:`DotGraph`); the arguments are those of
    :func:`plot_model`."""
    _check(model, "model_to_dot", kwargs)
    show = dict(show_shapes=show_shapes, show_dtype=show_dtype,
                show_layer_names=show_layer_names,
                show_layer_activations=show_layer_activations, show_trainable=show_trainable)
    lines = ["digraph model {" if not subgraph else f"subgraph cluster_{model.name} {{"]
    lines += [f"  rankdir={rankdir};", "  concentrate=true;", f"  dpi={dpi};",
              f"  splines={splines};", '  fontname="Helvetica";',
              '  node [shape=plaintext, fontname="Helvetica"];']
    names, edges = {}, []
    _add_model(model, "", show, expand_nested, names, lines, edges, depth=1)
    for source, destination in edges:
        a, b = names[id(_output_layer(source, names))], names[id(_input_layer(destination, names))]
        line = f"  {quote(a)} -> {quote(b)} [penwidth=2];"
        if line not in lines:
            lines.append(line)
    lines.append("}")
    return DotGraph("\n".join(lines))


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False,
               show_layer_names=False, rankdir="TB", expand_nested=False, dpi=200,
               show_layer_activations=False, show_trainable=False, splines="ortho", **kwargs):
    """Draw ``model`` into ``to_file`` (.png, .svg, .pdf; .dot writes the DOT text).

    ``show_shapes``/``show_dtype``: each layer's input and output shapes / output dtype;
    ``show_layer_names``: the name beside the class; ``rankdir``: "TB" top to bottom, "LR"
    left to right; ``expand_nested``: nested models as frames around their layers;
    ``dpi``: resolution of a PNG; ``show_layer_activations``, ``show_trainable``: the
    activation of layers that have one, and whether a layer with weights is trainable.

    Returns the picture shown inline in a notebook, else the path of the file. Without
    Graphviz's ``dot`` program the DOT text is written beside ``to_file`` and the error
    says how to install Graphviz."""
    _check(model, "plot_model", kwargs)
    graph = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                         show_layer_names=show_layer_names, rankdir=rankdir,
                         expand_nested=expand_nested, dpi=dpi,
                         show_layer_activations=show_layer_activations,
                         show_trainable=show_trainable, splines=splines)
    return shown(write_picture(graph.text, to_file, "plot_model"))


def _check(model, caller, kwargs):
    if kwargs:
        raise ValueError(f"{caller}(): unknown keyword arguments {sorted(kwargs)}. The "
                         "arguments are those of keras.utils.plot_model (layer_range is no "
                         "longer supported in Keras 3).")
    if not hasattr(model, "built") or not hasattr(model, "layers"):
        raise TypeError(f"{caller}() takes a keras Model, got {type(model).__name__}.")
    if not model.built:
        raise ValueError(f"{caller}(): this model has not yet been built, so it has no layers "
                         "to draw yet. Build the model first by calling `build()` or by "
                         "calling the model on a batch of data.")


def _add_model(model, prefix, show, expand_nested, names, lines, edges, depth):
    """Add the boxes of ``model``'s layers (frames for nested models) and its edges."""
    pad = "  " * depth
    if isinstance(model, Sequential):
        layers, pairs = model.layers, list(zip(model.layers, model.layers[1:]))
    elif isinstance(model, Functional):
        layers, pairs = model.layers, _functional_edges(model)
    else:                                    # a subclassed model: no graph to read
        layers, pairs = [model], []
    for layer in layers:
        nested = expand_nested and layer is not model and isinstance(layer, (Sequential, Functional))
        if nested:
            lines.append(f"{pad}subgraph {quote('cluster_' + prefix + layer.name)} {{")
            lines.append(f"{pad}  label={quote(layer.name)}; labeljust=l; style=dashed;")
            _add_model(layer, prefix + layer.name + "/", show, expand_nested, names,
                       lines, edges, depth + 1)
            lines.append(f"{pad}}}")
            continue
        names[id(layer)] = prefix + layer.name
        label = _label(layer, _call_node(layer, model), **show)
        lines.append(f"{pad}{quote(prefix + layer.name)} [label={label}];")
    edges.extend(pairs)


def _functional_edges(model):
    """(source layer, destination layer) for every tensor a call of the model took."""
    in_model = {id(n) for n in model._nodes}
    pairs = []
    for node in model._nodes:
        if isinstance(node.layer, InputLayer):
            continue
        for t in flatten([node.inputs, list(node.args), node.kwargs]):
            if isinstance(t, KerasTensor) and t.node is not None and id(t.node) in in_model:
                pairs.append((t.node.layer, node.layer))
    return pairs


def _output_layer(layer, boxes):
    """The box an arrow leaves from: for a model drawn as a frame, its last layer."""
    while id(layer) not in boxes:
        layer = layer.layers[-1] if isinstance(layer, Sequential) else layer.outputs[0].node.layer
    return layer


def _input_layer(layer, boxes):
    """The box an arrow arrives at: for a model drawn as a frame, its first layer."""
    while id(layer) not in boxes:
        layer = layer.layers[0] if isinstance(layer, Sequential) else layer.inputs[0].node.layer
    return layer


def _call_node(layer, model):
    """The symbolic call of ``layer`` inside ``model`` (it knows the shapes), or None."""
    for node in getattr(model, "_nodes", ()):      # a functional model's own calls
        if node.layer is layer:
            return node
    return layer._inbound[-1] if layer._inbound else None


def _label(layer, node, show_shapes, show_dtype, show_layer_names, show_layer_activations,
           show_trainable):
    """The box of one layer, as a Graphviz HTML-like table."""
    kind = type(layer).__name__
    title = f"<b>{_e(layer.name)}</b> ({kind})" if show_layer_names else f"<b>{kind}</b>"
    cells = []
    if show_shapes:
        if kind != "InputLayer":
            cells.append(f"Input shape: <b>{_e(_shapes(node, 'inputs'))}</b>")
        cells.append(f"Output shape: <b>{_e(_shapes(node, 'outputs'))}</b>")
    if show_dtype:
        dtypes = "?" if node is None else map_structure(lambda t: str(t.dtype), node.outputs)
        cells.append(f"Output dtype: <b>{_e(str(dtypes))}</b>")
    width = max(1, len(cells) + (show_trainable and bool(layer.weights)))
    rows = [f'<tr><td colspan="{width}" bgcolor="black"><font point-size="16" color="white">'
            f"{title}</font></td></tr>"]
    activation = getattr(layer, "activation", None)
    if show_layer_activations and activation is not None:
        name = getattr(activation, "__name__", None) or str(activation)
        rows.append(f'<tr><td colspan="{width}" bgcolor="white"><font point-size="14">'
                    f"Activation: <b>{_e(name)}</b></font></td></tr>")
    row = "".join(f'<td bgcolor="white"><font point-size="14">{c}</font></td>' for c in cells)
    if show_trainable and layer.weights:
        color, word = ("forestgreen", "Trainable") if layer.trainable else ("firebrick",
                                                                             "Non-trainable")
        row += f'<td bgcolor="{color}"><font point-size="14" color="white"><b>{word}</b></font></td>'
    if row:
        rows.append(f"<tr>{row}</tr>")
    return ('<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">'
            + "".join(rows) + "</table>>")


def _shapes(node, which):
    if node is None:
        return "?"
    if which == "inputs" and isinstance(node.layer, InputLayer):
        return "?"
    return str(map_structure(lambda t: t.shape, getattr(node, which)))


def _e(text):
    return html.escape(text, quote=False)
