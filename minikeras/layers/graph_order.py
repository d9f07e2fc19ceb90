"""The order in which Keras lists the layers of a functional model.

It matters for files: the weights of ``model.layers[i]`` are stored under a name made
from its class and its rank among the layers of that class (``layers/dense_2``), so two
libraries must agree on the order to read each other's files.

Keras's rule (``map_graph`` in ``keras/src/ops/function.py``):

1. walk the graph depth-first from each output, arguments in order, numbering each
   layer the first time the walk reaches it;
2. give each call a *depth*: 0 for the calls that make the outputs, and one more than the
   deepest call that uses its result; a layer called several times takes its deepest call;
3. list the layers from the deepest to 0, layers of equal depth in walk order.
"""
from .input_layer import InputLayer, KerasTensor
from .structure import flatten


def _tensors(node):
    """The symbolic tensors a call took, in argument order."""
    return [t for t in flatten([node.inputs, list(node.args), node.kwargs])
            if isinstance(t, KerasTensor)]


def keras_layer_order(model):
    """The layers of a functional ``model`` in Keras's order."""
    input_ids = {id(t) for t in model.inputs}
    finished, in_progress, nodes, walk_index, layers = set(), set(), [], {}, {}

    def visit(tensor):
        node = tensor.node
        if node is None or id(node) in finished:
            return
        is_input = isinstance(node.layer, InputLayer)
        if not is_input and id(tensor) in input_ids:
            finished.add(id(node))
            return
        if id(node) in in_progress:
            raise ValueError(f"Layer '{node.layer.name}' is part of a cycle.")
        walk_index.setdefault(id(node.layer), len(walk_index))
        layers[id(node.layer)] = node.layer
        in_progress.add(id(node))
        if not is_input:
            for t in _tensors(node):
                visit(t)
        finished.add(id(node))
        in_progress.discard(id(node))
        nodes.append(node)

    for output in model.outputs:
        visit(output)

    in_graph = {id(n) for n in nodes}
    node_depth, layer_depth = {}, {}
    for node in reversed(nodes):  # from the outputs back to the inputs
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = node_depth[id(node)] = depth
        if isinstance(node.layer, InputLayer):
            continue
        for t in _tensors(node):
            parent = t.node
            if parent is not None and id(parent) in in_graph:
                node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for t in model.inputs:  # an input no output depends on still belongs to the model
        layer = t.node.layer
        if id(layer) not in layer_depth:
            layer_depth[id(layer)], walk_index[id(layer)], layers[id(layer)] = 0, -1, layer
    return [layers[key] for key in sorted(layer_depth,
                                          key=lambda k: (-layer_depth[k], walk_index[k]))]
