"""Pictures of the tape: ``print_tape(target)`` (a text tree, works everywhere) and
``plot_tape(target, to_file=...)`` (a Graphviz drawing).

Both read the graph behind ``target`` without walking it. In the drawing, op nodes are
boxes and tensors are ellipses, each labelled with its shape, dtype and a summary of its
values; with ``show_grads=True`` the backward pass is stepped through first
(``backward_steps``) and each tensor also shows a summary of its gradient, and each edge
the number of the backward step that sent a gradient along it. The DOT text is built
here (``tape_to_dot``); turning it into SVG or PNG needs Graphviz's ``dot`` program.
"""
import os
import shutil
import subprocess


from .. import backend
from ..tensor import Tensor, Variable
from .steps import backward_steps, tensor_name
from .targets import graph_nodes

__all__ = ["print_tape", "tape_to_dot", "plot_tape"]


def _stats(t):
    a = backend.to_numpy(t.data if isinstance(t, Tensor) else t)
    if a.size == 0 or a.dtype.kind not in "fc":
        return "" if a.size == 0 else f"[{a.min()} .. {a.max()}]" if a.dtype.kind in "iu" else ""
    if a.size == 1:
        return f"= {a.reshape(()).item():.4g}"
    return f"mean {a.mean():.3g} std {a.std():.3g}"


def _label(t):
    kind = "Variable" if isinstance(t, Variable) else ("computed" if t._node else "constant")
    return f"{tensor_name(t)}  {tuple(t.shape)} {t.dtype}  ({kind})"


def print_tape(target):
    """Print the graph behind ``target`` as an indented tree, the target first: each op
    with the line that called it, each input under its op. A node met a second time is
    shown once and then named (``see #12 above``). Returns the text, too."""
    graph_nodes(target, "print_tape")   # checks the target and that no node was freed
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
    text = "\n".join(lines)
    print(text)
    return text


def _quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def tape_to_dot(target, show_grads=True, rankdir="TB"):
    """The DOT text of the graph behind ``target`` (see the module docstring)."""
    graph_nodes(target, "tape_to_dot")   # checks the target and that no node was freed
    grads, step_of = {}, {}
    if show_grads:
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
    lines = ["digraph tape {", f"  rankdir={rankdir};",
             '  node [fontname="Helvetica", fontsize=10];']
    seen_nodes, key = set(), {}   # key: the DOT name of each tensor, t0, t1, ... in order
    stack = [target]

    def tensor_node(t):
        if id(t) in key:
            return
        key[id(t)] = f"t{len(key)}"
        label = f"{tensor_name(t)}\n{tuple(t.shape)} {t.dtype}\n{_stats(t)}"
        g = grads.get(id(t))
        if g is not None:
            label += f"\ngrad {_stats(g)}"
        style = 'style=filled, fillcolor="#dbe9f6"' if isinstance(t, Variable) else ""
        lines.append(f"  {key[id(t)]} [shape=ellipse, label={_quote(label)}"
                     f"{', ' + style if style else ''}];")

    tensor_node(target)
    while stack:
        t = stack.pop()
        node = t._node
        if node is None or id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        where = node.location()
        label = f"#{node.seq} {node.name}" + (f"\n{where}" if where != "?" else "")
        lines.append(f"  n{node.seq} [shape=box, style=rounded, label={_quote(label)}];")
        for ref in node.outputs:
            out = ref()
            if out is not None:
                tensor_node(out)
                lines.append(f"  n{node.seq} -> {key[id(out)]};")
        for inp in node.inputs:
            tensor_node(inp)
            k = step_of.get((id(node), id(inp)))
            edge = f' [label="backward step {k}", fontsize=8]' if k else ""
            lines.append(f"  {key[id(inp)]} -> n{node.seq}{edge};")
            stack.append(inp)
    lines.append("}")
    return "\n".join(lines)


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
    the file written; in a notebook, an SVG shows inline when the result is displayed."""
    graph_nodes(target, "plot_tape")   # checks the target and that no node was freed
    root, ext = os.path.splitext(to_file)
    fmt = ext.lstrip(".").lower() or "svg"
    if fmt not in ("svg", "png", "pdf", "dot"):
        raise ValueError(f"plot_tape(): to_file must end in .svg, .png, .pdf or .dot; got "
                         f"{to_file!r}.")
    dot_text = tape_to_dot(target, show_grads=show_grads, rankdir=rankdir)
    if fmt == "dot":
        _write(to_file, dot_text.encode())
        return to_file
    program = shutil.which("dot")
    if program is None:
        dot_file = root + ".dot"
        _write(dot_file, dot_text.encode())
        raise RuntimeError(
            f"plot_tape(): Graphviz's `dot` program was not found, so {to_file} could not be "
            f"drawn; the DOT text was written to {dot_file}. Install Graphviz (Debian/Ubuntu: "
            "apt-get install graphviz; macOS: brew install graphviz; conda: conda install "
            "graphviz), or paste the .dot file into any Graphviz viewer.")
    done = subprocess.run([program, f"-T{fmt}"], input=dot_text.encode(), capture_output=True,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"plot_tape(): dot failed: {done.stderr.decode(errors='replace')}")
    _write(to_file, done.stdout)
    return to_file


def _write(path, data):
    """Write through a temporary file beside ``path`` and rename: never half a file."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
