"""Pictures of the tape: ``print_tape(target)`` (a text tree, works everywhere) and
``plot_tape(target, to_file=...)`` (a Graphviz drawing).

Both read the graph behind ``target`` without walking it. In the drawing, op nodes are
boxes and tensors are ellipses, each labelled with its shape, dtype and a summary of its
values; with ``show_grads=True`` the backward pass is stepped through first
(``backward_steps``) and each tensor also shows a summary of its gradient, and each edge
the number of the backward step that sent a gradient along it. The ops of one layer
call are drawn in one box labelled with its path. The DOT text is built here
(``tape_to_dot``); turning it into SVG or PNG needs Graphviz's ``dot`` program
(``utils/dot.py``).
"""
from .. import backend
from ..tensor import Tensor, Variable
from ..utils.dot import quote, shown, write_picture
from .steps import backward_steps, tensor_name
from .targets import graph_nodes

__all__ = ["print_tape", "tape_text", "tape_to_dot", "plot_tape"]


def _stats(t):
    a = backend.to_numpy(t.data if isinstance(t, Tensor) else t)
    if a.size == 0 or a.dtype.kind not in "fc":
        return "" if a.size == 0 else f"[{a.min()} .. {a.max()}]" if a.dtype.kind in "iu" else ""
    if a.size == 1:
        return f"= {a.reshape(()).item():.4g}"
    return f"mean {a.mean():.3g} std {a.std():.3g}"


def _label(t):
    kind = ("Variable" if isinstance(t, Variable) else "computed" if t._node
            else "leaf, requires grad" if t.requires_grad else "constant")
    return f"{tensor_name(t)}  {tuple(t.shape)} {t.dtype}  ({kind})"


def print_tape(target):
    """Print the graph behind ``target`` as an indented tree (:func:`tape_text`)."""
    print(tape_text(target, "print_tape"))


def tape_text(target, caller="tape_text"):
    """The graph behind ``target`` as an indented tree, the target first: each op with the
    line that called it, each input under its op. A node met a second time is shown once
    and then named (``see #12 above``)."""
    graph_nodes(target, caller)   # checks the target and that no node was freed
    lines, shown = [], set()

    def visit(t, prefix, last, top=False):
        branch = "" if top else ("└─ " if last else "├─ ")
        node = t._node
        if node is None:
            lines.append(f"{prefix}{branch}{_label(t)}")
            return
        if id(node) in shown:
            lines.append(f"{prefix}{branch}{tensor_name(t)}  (see #{node.seq} above)")
            return
        shown.add(id(node))
        where = f"  at {node.location()}" if node.location() != "?" else ""
        lines.append(f"{prefix}{branch}#{node.seq} {node.name} -> {tuple(t.shape)} "
                     f"{t.dtype}{where}")
        inner = prefix + ("" if top else ("   " if last else "│  "))
        for k, child in enumerate(node.inputs):
            visit(child, inner, k == len(node.inputs) - 1)

    visit(target, "", True, top=True)
    return "\n".join(lines)


def tape_to_dot(target, show_grads=True, rankdir="TB"):
    """The DOT text of the graph behind ``target`` (see the module docstring). The ops of
    one layer call, and the tensors they made, sit in a box (a DOT ``cluster``) labelled
    with the call's path (``net/block/hidden``), boxes nested as the calls were."""
    graph_nodes(target, "tape_to_dot")   # checks the target and that no node was freed
    grads, step_of = _gradients(target) if show_grads else ({}, {})
    members = {}  # layer path (None: outside any layer) -> DOT node statements
    edges, seen_nodes, key = [], set(), {}   # key: DOT name of each tensor, t0, t1, ...
    stack = [target]

    def tensor_node(t):
        if id(t) in key:
            return
        key[id(t)] = f"t{len(key)}"
        label = f"{tensor_name(t)}\n{tuple(t.shape)} {t.dtype}\n{_stats(t)}"
        g = grads.get(id(t))
        if g is not None:
            label += f"\ngrad {_stats(g)}"
        style = ', style=filled, fillcolor="#dbe9f6"' if isinstance(t, Variable) else ""
        layer = t._node.layer if t._node is not None else None
        members.setdefault(layer, []).append(
            f"{key[id(t)]} [shape=ellipse, label={quote(label)}{style}];")

    tensor_node(target)
    while stack:
        t = stack.pop()
        node = t._node
        if node is None or id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        where = node.location()
        label = f"#{node.seq} {node.name}" + (f"\n{where}" if where != "?" else "")
        members.setdefault(node.layer, []).append(
            f"n{node.seq} [shape=box, style=rounded, label={quote(label)}];")
        for ref in node.outputs:
            out = ref()
            if out is not None:
                tensor_node(out)
                edges.append(f"n{node.seq} -> {key[id(out)]};")
        for inp in node.inputs:
            tensor_node(inp)
            k = step_of.get((id(node), id(inp)))
            edge = f' [label="backward step {k}", fontsize=8]' if k else ""
            edges.append(f"{key[id(inp)]} -> n{node.seq}{edge};")
            stack.append(inp)
    lines = ["digraph tape {", f"  rankdir={rankdir};",
             '  node [fontname="Helvetica", fontsize=10];']
    lines += ["  " + m for m in members.pop(None, [])]
    lines += _clusters(members)
    lines += ["  " + e for e in edges]
    lines.append("}")
    return "\n".join(lines)


def _gradients(target):
    """Step the backward pass once: the gradient of each tensor, and the step that sent a
    gradient from each node to each input."""
    grads, step_of = {}, {}
    steps = backward_steps(target)
    for step in steps:
        node = step.node
        for ref, g in zip(node.outputs, step.upstream):   # dL/d(this node's output)
            out = ref()
            if out is not None and g is not None:
                grads[id(out)] = g
        for t, (_, g) in zip(node.inputs, step.grads):
            if g is not None:
                step_of[(id(node), id(t))] = step.index
    for t in _tensors(target):
        if t._node is None and steps.gradient(t) is not None:
            grads[id(t)] = steps.gradient(t)
    return grads, step_of


def _clusters(members):
    """DOT lines of one ``subgraph cluster_k`` per layer path, nested by path: the box of
    ``net/block`` holds the box of ``net/block/hidden``."""
    paths = set(members)
    for path in list(paths):   # the outer calls, even those that recorded no op themselves
        parts = path.split("/")
        paths.update("/".join(parts[:i]) for i in range(1, len(parts)))
    children = {}
    for path in sorted(paths):
        parent = path.rsplit("/", 1)[0] if "/" in path else None
        children.setdefault(parent, []).append(path)
    lines, number = [], {}

    def emit(path, depth):
        pad = "  " * depth
        number[path] = len(number)
        lines.append(f"{pad}subgraph cluster_{number[path]} {{")
        lines.append(f'{pad}  label={quote(path)}; style="rounded,dashed"; fontsize=9;')
        lines.extend(f"{pad}  {m}" for m in members.get(path, []))
        for child in children.get(path, []):
            emit(child, depth + 1)
        lines.append(f"{pad}}}")

    for top in children.get(None, []):
        emit(top, 1)
    return lines


def _tensors(target):
    """Every tensor of the graph behind ``target`` (inputs of its nodes), each once."""
    seen, out, stack = set(), [], [target]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        out.append(t)
        if t._node is not None and t._node.inputs is not None:
            stack.extend(t._node.inputs)
    return out


def plot_tape(target, to_file="tape.svg", show_grads=True, rankdir="TB"):
    """Draw the graph behind ``target`` to ``to_file`` (.svg, .png or .pdf with Graphviz's
    ``dot`` program; .dot writes the DOT text). Without ``dot`` the DOT text is written
    next to ``to_file`` and the message says how to install Graphviz. Returns the path of
    the file written; in a notebook, the picture itself, shown inline."""
    graph_nodes(target, "plot_tape")   # checks the target and that no node was freed
    dot_text = tape_to_dot(target, show_grads=show_grads, rankdir=rankdir)
    return shown(write_picture(dot_text, to_file, "plot_tape", default="svg"))
