"""The backward pass as a page to step through in a browser: ``debug.backprop_player(loss)``.

It writes one HTML file that needs nothing else (no network: the styles, the script and
the data are inside): the graph of the tape drawn as SVG, and the cards of
:func:`backward_steps` as data. The target (the loss) is at the top; each row further down
is one step further from it, ops as square boxes and tensors as round ones; the arrows are
the forward pass, and the gradients flow down against them. The arrow keys Right and Left
(or the buttons Next, Previous, First, Last) step the walk node by node: the node whose
backward runs is lit, its card shows beside the graph, and each tensor shows its gradient
once the walk has reached it. The text is large, for a projector in a classroom.

The page itself is ``player.html`` beside this file; this file fills in the drawing and
the data.
"""
import html
import json
import os

import numpy as np

from .. import backend
from ..saving.files import atomic_write_bytes
from ..tensor import Variable
from .steps import backward_steps, tensor_name, tensor_summary
from .targets import graph_nodes

__all__ = ["backprop_player"]

PAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "player.html")

WIDTH, TENSOR_HEIGHT, OP_HEIGHT = 340, 96, 66   # the boxes, in pixels
GAP, ROW = 40, 150                               # between boxes, from row to row
LINE = 25                                        # one line of text in a box


def gradient_text(g):
    """What a tensor's box says about its gradient: the number, or its mean and std."""
    a = backend.to_numpy(getattr(g, "data", g)).astype(np.float64)
    if a.size == 1:
        return f"grad = {a.reshape(()).item():.4g}"
    return f"grad mean {a.mean():.3g} std {a.std():.3g}"


def _graph(target, nodes):
    """The tensors and ops behind ``target`` with their row (steps from the target), and
    the edges. A tensor sits one row below the lowest op that uses it."""
    key, tensors, row = {id(target): "t0"}, [target], {"t0": 0}
    ops, edges = [], []

    def tensor_key(t):
        if id(t) not in key:
            key[id(t)] = f"t{len(key)}"
            tensors.append(t)
        return key[id(t)]

    for node in nodes:   # newest first: every op that uses a node's outputs comes before it
        outs = [o for o in (ref() for ref in node.outputs) if o is not None]
        op = f"n{node.seq}"
        row[op] = 1 + max((row[key[id(o)]] for o in outs if id(o) in key), default=0)
        ops.append((op, node))
        for o in outs:
            k = tensor_key(o)
            row.setdefault(k, row[op] - 1)
            edges.append((op, k, op))       # (from, to, the op whose backward uses it)
        for t in node.inputs:
            k = tensor_key(t)
            row[k] = max(row.get(k, 0), row[op] + 1)
            edges.append((k, op, op))
    return key, tensors, ops, edges, row


def _positions(row, edges):
    """x, y of each box: rows from the top; in a row, each box under the boxes it feeds
    (the mean x of its neighbours above), the row centred."""
    above = {}
    for a, b, _ in edges:   # the edge a -> b goes up: b is above a
        above.setdefault(a, []).append(b)
    rows = {}
    for k, r in row.items():
        rows.setdefault(r, []).append(k)
    widest = max(len(ks) for ks in rows.values()) * (WIDTH + GAP)
    x, y = {}, {}
    for r in sorted(rows):
        ks = rows[r]
        if r > 0:
            ks.sort(key=lambda k: np.mean([x[b] for b in above.get(k, []) if b in x] or [0]))
        left = (widest - len(ks) * (WIDTH + GAP)) / 2 + GAP / 2
        for i, k in enumerate(ks):
            x[k], y[k] = left + i * (WIDTH + GAP), 20 + r * ROW
    return x, y, widest, 20 + (max(rows) + 1) * ROW


def _short(text, n=28):
    return text if len(text) <= n else text[:n - 1] + "…"


def _box(k, x, y, lines, kind, grad_line=None):
    height = TENSOR_HEIGHT if grad_line is not None else OP_HEIGHT
    out = [f'<g class="box {kind}" id="{k}"><rect x="{x:.0f}" y="{y:.0f}" width="{WIDTH}" '
           f'height="{height}" rx="{30 if grad_line is not None else 4}"/>']
    for i, line in enumerate(lines):
        style = ' class="head"' if i == 0 else ""
        out.append(f'<text x="{x + WIDTH / 2:.0f}" y="{y + 26 + i * LINE:.0f}"{style}>'
                   f'{html.escape(_short(line))}</text>')
    if grad_line is not None:
        out.append(f'<text class="grad" id="grad-{k}" x="{x + WIDTH / 2:.0f}" '
                   f'y="{y + 26 + len(lines) * LINE:.0f}">{html.escape(grad_line)}</text>')
    return "".join(out) + "</g>"


def _svg(tensors, key, ops, edges, row):
    x, y, width, height = _positions(row, edges)
    arrow = ('<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="14" '
             'markerHeight="14" markerUnits="userSpaceOnUse" orient="auto">'
             '<path d="M0,0 L10,5 L0,10 z"/></marker>')
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" id="graph" width="{width:.0f}" '
             f'height="{height:.0f}"><defs>{arrow}</defs>']
    # an edge goes from the top of the lower box to the bottom of the upper one; the edges
    # that meet one box are spread along its side, in the order of their other ends
    leaving, arriving = {}, {}
    for a, b, _ in sorted(edges, key=lambda e: (x[e[1]], x[e[0]])):
        leaving.setdefault(a, []).append(b)
    for a, b, _ in sorted(edges, key=lambda e: x[e[0]]):
        arriving.setdefault(b, []).append(a)

    def spread(box, others, other):
        return x[box] + WIDTH * (others.index(other) + 1) / (len(others) + 1)

    for a, b, op in edges:
        bottom = OP_HEIGHT if b.startswith("n") else TENSOR_HEIGHT
        parts.append(f'<line class="edge" data-op="{op}" x1="{spread(a, leaving[a], b):.0f}" '
                     f'y1="{y[a]:.0f}" x2="{spread(b, arriving[b], a):.0f}" '
                     f'y2="{y[b] + bottom:.0f}" marker-end="url(#arrow)"/>')
    for op, node in ops:
        layer = (node.layer or "").split("/")[-1]
        parts.append(_box(op, x[op], y[op], [f"#{node.seq} {node.name}", layer], "op"))
    for t in tensors:
        k = key[id(t)]
        if isinstance(t, Variable):
            kind = "variable"
        else:   # made by an op, a leaf that wants a gradient, or data that needs none
            kind = "computed" if t._node else ("leaf" if t.requires_grad else "data")
        grad = "" if t.requires_grad else "needs no gradient"
        parts.append(_box(k, x[k], y[k], [tensor_name(t), f"{tuple(t.shape)} {t.dtype}"],
                          f"tensor {kind}", grad))
    parts.append("</svg>")
    return "\n".join(parts)


def _cards(target, key):
    """One entry per step of the real walk: the card's fields as text, the box of the
    node, and the gradient text each tensor shows from this step on."""
    steps, so_far, cards = backward_steps(target), {}, []
    for step in steps:
        node, fills = step.node, {}
        for t, (_, g) in zip(node.inputs, step.grads):
            if g is not None:
                so_far[id(t)] = g if id(t) not in so_far else so_far[id(t)] + g
                fills[key[id(t)]] = gradient_text(so_far[id(t)])
        cards.append({
            "index": step.index, "total": step.total, "op": step.op, "seq": node.seq,
            "box": f"n{node.seq}", "layer": node.layer or "", "location": step.location,
            "source": step.source, "inputs": [f"{n} {s} {d}" for n, s, d in step.inputs],
            "upstream": [tensor_summary(g) for g in step.upstream], "rule": step.rule,
            "grads": [[n, tensor_summary(g)] for n, g in step.grads],
            "broadcast": [f"{n}: broadcast in the forward pass, so its gradient was summed "
                          f"from {src} back to {dst}" for n, src, dst in step.broadcast],
            "accumulated": [f"{n} is used more than once: its gradient so far {tensor_summary(b)} "
                            f"becomes {tensor_summary(a)}" for n, b, a in step.accumulated],
            "fills": fills})
    return cards


def backprop_player(target, to_file="backprop.html"):
    """Write the page that steps through the backward pass from ``target`` (a scalar, the
    loss usually) to ``to_file`` (see the module docstring); returns its path::

        with keras.GradientTape() as tape:
            loss = loss_fn(y, model(x))
        debug.backprop_player(loss, to_file="backprop.html")   # then open it in a browser

    The walk keeps the graph and adds nothing to any ``.grad``: ``tape.gradient`` still
    works afterwards and gives the same numbers."""
    nodes = graph_nodes(target, "backprop_player")
    if target.data.size != 1:
        raise ValueError(f"backprop_player(): the target has shape {tuple(target.shape)}; it "
                         "must be one number (a loss). Reduce it first, e.g. ops.sum(y).")
    if not str(to_file).lower().endswith((".html", ".htm")):
        raise ValueError(f"backprop_player(): to_file must end in .html; got {to_file!r}.")
    folder = os.path.dirname(os.path.abspath(to_file))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"backprop_player(): the folder {folder} of to_file does not "
                                "exist; create it first or write the page somewhere else.")
    key, tensors, ops, edges, row = _graph(target, nodes)
    data = {"target": tensor_name(target), "value": f"{float(target.item()):.6g}",
            "start": {"t0": gradient_text(backend.xp.ones_like(target.data))},
            "steps": _cards(target, key)}
    with open(PAGE, encoding="utf-8") as f:
        page = f.read()
    page = page.replace("{{TITLE}}", html.escape(f"Backward pass from {tensor_name(target)}"))
    page = page.replace("{{SVG}}", _svg(tensors, key, ops, edges, row))
    page = page.replace("{{DATA}}", json.dumps(data, indent=1).replace("</", "<\\/"))
    atomic_write_bytes(to_file, page.encode("utf-8"))
    return to_file
