"""Diff two runs node by node: ``debug.compare(a, b, rtol=1e-5, atol=1e-8)``.

Each side is a recording of one forward and backward pass. ``debug.record(fn, *args)`` calls
``fn(*args)`` inside a tape and keeps, for every node, its output and the gradients of the
real backward walk, as NumPy arrays; or pass the target Tensor itself (a loss whose graph is
still there: recorded with a tape, or from tensors with requires_grad; the graph is kept)::

    a = debug.record(lambda: loss_fn(y, model(x)))            # float32
    b = debug.record(lambda: loss_fn(y, model64(x64)))        # the same weights in float64
    print(debug.compare(a, b, rtol=1e-4))

The nodes are paired in recording order. Two nodes pair when they run the same op (or one
op's class derives from the other's: a student's version of an op), with as many inputs,
and outputs of the same shapes; the first node where that fails is reported as a difference
of structure. Then the forward values are compared in recording order, and the backward in
the order of the walk: at each node the gradient that arrived (dL/d output), then what it
handed to each input. The first value beyond the tolerance (``|a - b| > atol + rtol·|b|``,
both as float64, NaN equal to NaN) is reported with both values at its worst index, the op,
its layer and the line of code. So a wrong rule shows as the node whose gradient arrived
equal and left different.

To compare two processes (the cuda backend against numpy), save a recording in one
(``rec.save("cuda.npz")``) and load it in the other (``debug.load_recording("cuda.npz")``).
"""
import json

import numpy as np

from .. import backend
from ..autograd import Function, GradientTape, readable_backward
from ..tensor import Tensor
from .steps import backward_steps, tensor_name

__all__ = ["record", "compare", "load_recording", "Recording", "Comparison"]


def _array(t):
    return None if t is None else np.array(backend.to_numpy(t.data if isinstance(t, Tensor) else t))


class NodeRecord:
    """One node of a recording: ``op``, ``family`` (its class and the op classes it derives
    from), ``seq``, ``layer``, ``location``, ``source``, ``inputs`` (name, shape, dtype each),
    ``outputs`` (arrays), ``upstream`` (dL/d output, arrays or None), ``grads`` (one per
    input, arrays or None), ``reached`` (whether the backward walk reached it)."""

    FIELDS = ("op", "family", "seq", "layer", "location", "source", "inputs", "reached")

    def __init__(self, **fields):
        self.__dict__.update(fields)

    @classmethod
    def of(cls, node, card):
        family = [c.__name__ for c in type(node).__mro__
                  if isinstance(c, type) and issubclass(c, Function) and c is not Function]
        outputs = [ref() for ref in node.outputs]
        return cls(op=node.name, family=family, seq=node.seq, layer=node.layer,
                   location=node.location(), source=node.source_line(),
                   inputs=[(tensor_name(t), list(t.shape), str(t.dtype)) for t in node.inputs],
                   outputs=[_array(o) for o in outputs], reached=card is not None,
                   upstream=[_array(g) for g in card.upstream] if card else [],
                   grads=[_array(g) for _, g in card.grads] if card else [])

    def describe(self):
        layer = f" in {self.layer}" if self.layer else ""
        return f"{self.op} #{self.seq}{layer} at {self.location}"


class Recording:
    """The nodes of one run, in recording order (see the module docstring)."""

    def __init__(self, nodes, target_name):
        self.nodes, self.target_name = nodes, target_name

    @classmethod
    def of(cls, target, readable=True):
        if not isinstance(target, Tensor):
            raise TypeError(f"compare() takes recordings (debug.record(fn, *args)) or target "
                            f"Tensors, got {type(target).__name__}.")
        if readable:
            with readable_backward():
                cards = {id(card.node): card for card in backward_steps(target)}
        else:
            cards = {id(card.node): card for card in backward_steps(target)}
        nodes, seen, stack = [], set(), [target._node]
        while stack:
            node = stack.pop()
            if node is None or id(node) in seen:
                continue
            seen.add(id(node))
            nodes.append(node)
            stack.extend(t._node for t in node.inputs)
        nodes.sort(key=lambda n: n.seq)
        return cls([NodeRecord.of(n, cards.get(id(n))) for n in nodes], tensor_name(target))

    def __len__(self):
        return len(self.nodes)

    def __repr__(self):
        return f"<Recording of {len(self.nodes)} nodes, back from {self.target_name}>"

    def save(self, path):
        """Write the recording to ``path`` (a NumPy .npz file), for :func:`load_recording`."""
        arrays, meta = {}, []
        for k, n in enumerate(self.nodes):
            entry = {f: getattr(n, f) for f in NodeRecord.FIELDS}
            for kind in ("outputs", "upstream", "grads"):
                entry[kind] = [a is not None for a in getattr(n, kind)]
                for j, a in enumerate(getattr(n, kind)):
                    if a is not None:
                        arrays[f"{k}_{kind}_{j}"] = a
            meta.append(entry)
        header = json.dumps({"minikeras_recording": 1, "target": self.target_name, "nodes": meta})
        np.savez(path, header=np.array(header), **arrays)


def load_recording(path):
    """A recording written by ``Recording.save``."""
    with np.load(path, allow_pickle=False) as data:
        header = json.loads(str(data["header"])) if "header" in data.files else {}
        if header.get("minikeras_recording") != 1:
            raise ValueError(f"load_recording(): {path} is not a recording written by "
                             "Recording.save (it has no minikeras header).")
        nodes = []
        for k, entry in enumerate(header["nodes"]):
            for kind in ("outputs", "upstream", "grads"):
                entry[kind] = [data[f"{k}_{kind}_{j}"] if there else None
                               for j, there in enumerate(entry[kind])]
            nodes.append(NodeRecord(**entry))
    return Recording(nodes, header["target"])


def record(fn, *args, readable=True, **kwargs):
    """Run ``fn(*args, **kwargs)`` inside a GradientTape; it must return the Tensor to
    differentiate (the loss). Returns the :class:`Recording` of its forward and backward.
    The walk runs each op's readable ``backward`` (the rule written with ops, yours in an op
    of your own); ``readable=False`` lets ops use their array twins, as training does."""
    if not callable(fn):
        raise TypeError(f"record() takes a function that returns the loss, got "
                        f"{type(fn).__name__}; for a loss already computed, pass it to "
                        "compare() itself.")
    with GradientTape():
        target = fn(*args, **kwargs)
    if not isinstance(target, Tensor):
        raise TypeError(f"record(fn): fn returned {type(target).__name__}; it should return "
                        "the Tensor to differentiate (the loss).")
    return Recording.of(target, readable)


class Comparison:
    """What :func:`compare` found: ``ok``; ``kind`` ("agree", "structure", "forward" or
    "backward"); ``index`` (the node's place in recording order), ``a`` and ``b`` (the two
    NodeRecords), ``what``, ``worst_index``, ``value_a``, ``value_b``. ``print`` it."""

    def __init__(self, kind, text, index=None, a=None, b=None, what=None, worst_index=None,
                 value_a=None, value_b=None):
        self.kind, self.ok, self.text = kind, kind == "agree", text
        self.index, self.a, self.b, self.what = index, a, b, what
        self.worst_index, self.value_a, self.value_b = worst_index, value_a, value_b

    def __str__(self):
        return self.text

    def __repr__(self):
        return f"<Comparison: {self.kind}>"


def _pairs(x, y):
    return x.op == y.op or x.op in y.family or y.op in x.family


def _shapes(n):
    return ", ".join(str(tuple(shape)) for _, shape, _ in n.inputs)


def _structure(ra, rb):
    """The first place where the two graphs differ, as a Comparison, or None."""
    for k, (x, y) in enumerate(zip(ra.nodes, rb.nodes)):
        shapes_x = [None if o is None else o.shape for o in x.outputs]
        shapes_y = [None if o is None else o.shape for o in y.outputs]
        if not _pairs(x, y) or len(x.inputs) != len(y.inputs) or shapes_x != shapes_y:
            before = "the nodes before it pair" if k else "it is the first node"
            text = (f"compare: the two graphs differ at node {k + 1} (in recording order); "
                    f"{before}.\n"
                    f"  a: {x.describe()}, inputs {_shapes(x)}, outputs {shapes_x}\n"
                    f"  b: {y.describe()}, inputs {_shapes(y)}, outputs {shapes_y}\n"
                    "Compare two runs of the same computation: the same ops in the same order.")
            return Comparison("structure", text, k, x, y)
    if len(ra) != len(rb):
        longer, name = (ra, "a") if len(ra) > len(rb) else (rb, "b")
        extra = longer.nodes[min(len(ra), len(rb))]
        text = (f"compare: the two graphs differ in size: a has {len(ra)} nodes, b has "
                f"{len(rb)}; the first {min(len(ra), len(rb))} pair, and {name} goes on with "
                f"{extra.describe()}.\n"
                "Compare two runs of the same computation: the same ops in the same order.")
        return Comparison("structure", text, min(len(ra), len(rb)), extra if name == "a" else None,
                          extra if name == "b" else None)
    return None


def _excess(va, vb, rtol, atol):
    """How far beyond the tolerance each element of va is from vb (<= 0: within)."""
    a, b = va.astype(np.float64), vb.astype(np.float64)
    both_nan = np.isnan(a) & np.isnan(b)
    diff = np.where(both_nan, 0.0, np.abs(a - b))
    diff = np.where(np.isnan(diff), np.inf, diff)        # NaN on one side only
    return diff - (atol + rtol * np.abs(np.nan_to_num(b))), diff


def _values(a):
    with np.printoptions(precision=6, threshold=12, edgeitems=2, linewidth=88):
        return f"{a.shape} {a.dtype} " + np.array2string(a, separator=", ").replace("\n", " ")


def _code(x, y):
    """The line of code that recorded the pair of nodes (both lines when they differ)."""
    if x.source == y.source:
        return f"  code:  {x.source}\n" if x.source else ""
    return f"  code:  a: {x.source}\n         b: {y.source}\n"


def _checks(ra, rb):
    """(phase, index, what, value in a, value in b) in the order they are compared."""
    for k, (x, y) in enumerate(zip(ra.nodes, rb.nodes)):
        for j, (u, v) in enumerate(zip(x.outputs, y.outputs)):
            what = "its output" if len(x.outputs) == 1 else f"its output {j}"
            yield "forward", k, what, u, v
    for k in reversed(range(len(ra))):
        x, y = ra.nodes[k], rb.nodes[k]
        if x.reached != y.reached:
            what = "the gradient that arrived (the walk reached this node in one run only)"
            yield "backward", k, what, (x.upstream or [None])[0], (y.upstream or [None])[0]
            continue
        for j, (u, v) in enumerate(zip(x.upstream, y.upstream)):
            number = "" if len(x.upstream) == 1 else f" {j}"
            what = f"the gradient that arrived, dL/d output{number}"
            yield "backward", k, what, u, v
        for j, (u, v) in enumerate(zip(x.grads, y.grads)):
            name = x.inputs[j][0]
            what = (f"the gradient it handed to input {j + 1}, {name} (the gradient that "
                    "arrived agreed)")
            yield "backward", k, what, u, v


def compare(a, b, rtol=1e-5, atol=1e-8):
    """Compare two runs node by node (see the module docstring) and return a
    :class:`Comparison`: the first node where they differ beyond ``atol + rtol·|b|``, or
    that they agree. ``a``, ``b``: recordings (:func:`record`) or target Tensors (recorded
    as :func:`record` does)."""
    if rtol < 0 or atol < 0:
        raise ValueError(f"compare(): rtol and atol must be >= 0, got rtol={rtol}, atol={atol}.")
    ra = a if isinstance(a, Recording) else Recording.of(a)
    rb = b if isinstance(b, Recording) else Recording.of(b)
    different = _structure(ra, rb)
    if different is not None:
        return different
    worst = (0.0, None)
    for phase, k, what, u, v in _checks(ra, rb):
        x, y = ra.nodes[k], rb.nodes[k]
        if u is None or v is None:
            if (u is None) != (v is None):
                has = "a" if v is None else "b"
                text = (f"compare: the {phase} of {x.op} differs at node {k + 1}: only {has} has "
                        f"{what}.\n  a: {x.describe()}\n  b: {y.describe()}")
                return Comparison(phase, text, k, x, y, what)
            continue
        excess, diff = _excess(u, v, rtol, atol)
        if diff.size and diff.max() > worst[0]:
            worst = (float(diff.max()), f"{phase} of {x.op} #{x.seq}, node {k + 1}")
        if excess.size and excess.max() > 0:
            at = np.unravel_index(int(np.argmax(excess)), excess.shape)
            where = list(int(i) for i in at)
            text = (f"compare: the {phase} of {x.op} differs first at node {k + 1} of {len(ra)} "
                    f"(in recording order): {what}.\n"
                    f"  op:    a: {x.describe()}\n"
                    f"         b: {y.describe()}\n"
                    + _code(x, y)
                    + f"  worst: at {where}: a = {float(u[at]):.9g}, b = {float(v[at]):.9g}, "
                    f"|a - b| = "
                    f"{diff[at]:.3g} > atol + rtol·|b| = {atol + rtol * abs(float(v[at])):.3g}\n"
                    f"  a: {_values(u)}\n  b: {_values(v)}")
            return Comparison(phase, text, k, x, y, what, where, u[at], v[at])
    text = (f"compare: the two runs agree: {len(ra)} nodes, forward values and gradients within "
            f"rtol={rtol:g}, atol={atol:g}. Largest |a - b|: {worst[0]:.3g}"
            + (f" (the {worst[1]})." if worst[1] else "."))
    return Comparison("agree", text)
