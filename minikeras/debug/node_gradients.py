"""A gradient check of every node inside a real model: ``debug.check_node_gradients(loss)``.

``utils.check_gradients`` checks one function. Inside a model, a wrong gradient anywhere
spoils every gradient before it, and the check of the whole model only says that something
is wrong. This tool checks each recorded node on its own: it runs a copy of the node's op
again on the node's recorded inputs, cast to float64, and compares the op's backward with
central finite differences of that op alone. The table it returns has one row per node,
so the one wrong rule (a student's own op, say) stands out.
"""
import copy

import numpy as np

from .. import ops
from ..tensor import Tensor
from ..utils.gradient_check import check_gradients
from .steps import tensor_name
from .targets import graph_nodes

__all__ = ["check_node_gradients", "NodeGradientReport"]


class NodeGradientReport:
    """One row per node, newest first: ``node``, ``op``, ``shape`` (of its first output),
    ``error`` (the worst relative error over its inputs, None when not checked), ``index``
    and ``input`` (where it was), ``ok`` and ``why`` (a reason when not checked).
    ``failed`` lists the rows that failed; ``ok`` is True when none did; ``str()`` is the
    table."""

    def __init__(self, rows, tolerance):
        self.rows, self.tolerance = rows, tolerance

    @property
    def failed(self):
        return [r for r in self.rows if r["ok"] is False]

    @property
    def ok(self):
        return not self.failed

    def __bool__(self):
        return self.ok

    def __str__(self):
        head = (f"{'node':>6}  {'op':<26} {'output shape':<16} {'worst error':>11}  "
                f"{'where':<24} verdict")
        lines = [f"gradient check of each node (float64, tolerance {self.tolerance:g}): "
                 f"{'ok' if self.ok else f'{len(self.failed)} FAILED'}", head]
        for r in self.rows:
            if r["error"] is None:
                lines.append(f"{'#' + str(r['seq']):>6}  {r['op']:<26} {str(r['shape']):<16} "
                             f"{'-':>11}  {'':<24} not checked: {r['why']}")
                continue
            where = f"{r['input']} {list(r['index'])}"
            lines.append(f"{'#' + str(r['seq']):>6}  {r['op']:<26} {str(r['shape']):<16} "
                         f"{r['error']:11.2e}  {where:<24} {'ok' if r['ok'] else 'WRONG'}")
        return "\n".join(lines)

    __repr__ = __str__


def _rerun(node, rng):
    """The node's op as a function of its inputs, run anew from a copy of the node (so the
    recorded node keeps its own saved arrays); several outputs are folded into one scalar
    with fixed random weights."""
    directions = {}

    def fn(*tensors):
        out = copy.copy(node)(*tensors)
        if not isinstance(out, tuple):
            return out
        total = None
        for k, o in enumerate(out):
            if o.data.dtype.kind != "f":
                continue
            if k not in directions:
                directions[k] = rng.standard_normal(o.shape)
            term = ops.sum(o * Tensor(directions[k]))
            total = term if total is None else total + term
        return total
    return fn


def check_node_gradients(target, tolerance=1e-5, eps=1e-6, seed=0):
    """Check every node that ``target`` depends on against finite differences of its own
    op (see the module docstring); returns a :class:`NodeGradientReport`::

        with keras.GradientTape() as tape:
            loss = loss_fn(y, model(x))
        print(debug.check_node_gradients(loss))

    The graph is read, not walked: ``tape.gradient`` still works afterwards. Nodes whose op
    cannot run again in float64 are listed as not checked, with the reason.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for node in graph_nodes(target, "check_node_gradients"):
        out = node.output(0)
        row = {"node": node, "seq": node.seq, "op": node.name,
               "shape": None if out is None else tuple(out.shape),
               "error": None, "index": None, "input": None, "ok": None, "why": ""}
        rows.append(row)
        floats = [k for k, t in enumerate(node.inputs) if t.data.dtype.kind == "f"]
        if not floats:
            row["why"] = "no float input"
            continue
        try:
            report = check_gradients(_rerun(node, rng), *node.inputs, eps=eps,
                                     tolerance=tolerance, seed=seed)
        except Exception as e:  # an op that cannot run on float64 copies: say why
            row["why"] = f"{type(e).__name__}: {e}"
            continue
        checked = [(k, r) for k, r in enumerate(report.rows)
                   if r["checked"] and r["error"] is not None]
        if not checked:
            row["why"] = "no input to check"
            continue
        k, worst = max(checked, key=lambda kr: kr[1]["error"])
        row.update(error=worst["error"], index=worst["index"], ok=report.ok,
                   input=tensor_name(node.inputs[k]))
    return NodeGradientReport(rows, tolerance)
