"""Step through the backward pass, one node at a time: ``debug.backward_steps(target)``.

The steps are the real walk (``autograd.walk_steps``), paused after each node, not a replay:
the gradients they show are the ones the walk computed, and when the last step is done the
gradients equal what ``tape.gradient`` or ``backward()`` give, bit for bit.

Each step is a card (:class:`BackwardStep`): step k of n, the op and the line of user code
that called it, the inputs, the gradient that arrived at the output (dL/d output), the rule
from the op's docstring, the gradient handed to each input, and, for an input that already
had a gradient (a tensor used twice), the sum before and after. ``print(step)`` gives the
card as text; a notebook shows it as HTML.
"""
import html
import inspect

import numpy as np

from .. import backend
from ..autograd import walk_steps
from ..tensor import Tensor, Variable
from .targets import graph_nodes

__all__ = ["backward_steps", "BackwardSteps", "BackwardStep", "tensor_name", "tensor_summary",
           "rule_of", "rule_terms"]


def tensor_name(t):
    """What the debugging tools call a tensor: a Variable by its path, a computed tensor by
    the node that made it (``#12 tanh``), any other by its name, else ``leaf`` (it wants a
    gradient) or ``constant`` (data)."""
    if isinstance(t, Variable):
        return t.path or "variable"
    node = t._node
    if node is not None:
        return f"#{node.seq} {node.op_name()}"
    return t.name or ("leaf" if t.requires_grad else "constant")


def rule_of(op):
    """The derivative rule of an op (a node, or its class): the text of its docstring's
    ``Rule:`` line (the form is in ``autograd.Function``'s docstring); for an op written
    without one, the first paragraph of its docstring."""
    cls = op if isinstance(op, type) else type(op)
    doc = inspect.getdoc(cls) or ""
    lines = [line[len("Rule:"):].strip() for line in doc.splitlines() if line.startswith("Rule:")]
    if lines:
        return lines[0]
    return doc.split("\n\n")[0].strip() or f"(no rule written for {cls.__name__})"


def rule_terms(op):
    """The ``Rule:`` line of an op (a node, or its class) as a list of (input name, formula).
    Raises ValueError when the docstring has no such line, several, or one not of the form
    ``dL/d<name> = <formula>; dL/d<name> = <formula>; ...``."""
    cls = op if isinstance(op, type) else type(op)
    lines = [line for line in (inspect.getdoc(cls) or "").splitlines() if line.startswith("Rule:")]
    if len(lines) != 1:
        raise ValueError(f"{cls.__name__}: expected one 'Rule:' line in the docstring, found "
                         f"{len(lines)}. Add one, e.g. 'Rule: dL/dx = g · 2 · x'.")
    terms = []
    for part in lines[0][len("Rule:"):].split(";"):
        name, eq, formula = part.strip().partition(" = ")
        if not (eq and name.startswith("dL/d") and len(name) > 4 and formula.strip()):
            raise ValueError(f"{cls.__name__}: the rule term {part.strip()!r} is not of the "
                             "form 'dL/d<input> = <formula>'.")
        terms.append((name[4:], formula.strip()))
    return terms


def input_names(node):
    """(name in the op's forward, name of the tensor) for each input of a recorded node:
    what the names of its rule stand for (``x`` is ``#3 mat_mul``)."""
    params = list(inspect.signature(type(node).forward).parameters.values())[1:]
    names = []
    for p in params:
        if p.kind == p.VAR_POSITIONAL:
            names += [f"{p.name}[{k}]" for k in range(len(node.inputs) - len(names))]
            break
        names.append(p.name)
    return [(n, tensor_name(t)) for n, t in zip(names, node.inputs)]


def tensor_summary(t):
    """A short text for a gradient: shape, dtype, and a few of its numbers."""
    if t is None:
        return "None"
    a = backend.to_numpy(t.data if isinstance(t, Tensor) else t)
    with np.printoptions(precision=4, threshold=6, edgeitems=2, linewidth=88, suppress=True):
        values = np.array2string(a, separator=", ").replace("\n", " ")
    return f"{a.shape} {a.dtype} {values}"


def _broadcast_from(input_shape, output_shape):
    """The output shape that a gradient was summed back from to fit ``input_shape``, when the
    op broadcast this input (an elementwise op); None when it did not."""
    if tuple(input_shape) == tuple(output_shape):
        return None
    try:
        if np.broadcast_shapes(tuple(input_shape), tuple(output_shape)) == tuple(output_shape):
            return tuple(output_shape)
    except ValueError:
        pass
    return None


class BackwardStep:
    """One node of the backward walk, after its backward ran (see the module docstring).

    Attributes: ``index`` (1-based) and ``total``; ``node``; ``op``, ``location``,
    ``source``; ``inputs`` (name, shape, dtype per input); ``upstream`` (dL/d output, one per
    output, None where none arrived); ``rule``; ``grads`` (name, gradient or None per input);
    ``accumulated`` (name, before, after) for inputs that already had a gradient;
    ``broadcast`` (name, from shape, to shape) where a gradient was summed back.
    """

    def __init__(self, index, total, node, out_grads, in_grads, before):
        self.index, self.total, self.node = index, total, node
        self.op = node.name
        self.location = node.location()
        self.source = node.source_line()
        names = [tensor_name(t) for t in node.inputs]
        self.inputs = [(n, tuple(t.shape), str(t.dtype)) for n, t in zip(names, node.inputs)]
        self.upstream = list(out_grads)
        self.rule = rule_of(node)
        self.grads = [(n, g if need else None)
                      for n, g, need in zip(names, in_grads, node.needs_grad)]
        self.accumulated = [(n, b, b + g) for n, b, g in zip(names, before or (), in_grads)
                            if b is not None and g is not None]
        out_shape = next((tuple(g.shape) for g in out_grads if g is not None), None)
        self.broadcast = []
        if node.n_outputs == 1 and out_shape is not None:
            for (n, shape, _), g in zip(self.inputs, in_grads):
                src = _broadcast_from(shape, out_shape) if g is not None else None
                if src is not None:
                    self.broadcast.append((n, src, shape))

    def _lines(self):
        where = f" at {self.location}" if self.location != "?" else ""
        layer = f" in {self.node.layer}" if self.node.layer else ""
        lines = [f"step {self.index} of {self.total}: {self.op} #{self.node.seq}{layer}{where}"]
        if self.source:
            lines.append(f"  called by:  {self.source}")
        lines.append("  inputs:     " + ", ".join(f"{n} {s} {d}" for n, s, d in self.inputs))
        for k, g in enumerate(self.upstream):
            label = "dL/d output" if len(self.upstream) == 1 else f"dL/d output {k}"
            lines.append(f"  {label}: {tensor_summary(g)}")
        rule = self.rule.split("; ") if self.rule.startswith("dL/d") else self.rule.splitlines()
        lines += [("  rule:       " if k == 0 else "              ") + part
                  for k, part in enumerate(rule)]
        for n, g in self.grads:
            lines.append(f"  -> dL/d {n}: {tensor_summary(g)}")
        for n, src, dst in self.broadcast:
            lines.append(f"     {n}: broadcast in the forward pass, so its gradient was "
                         f"summed from {src} back to {dst}")
        for n, before, after in self.accumulated:
            lines.append(f"     {n} is used more than once: its gradient so far "
                         f"{tensor_summary(before)} becomes {tensor_summary(after)}")
        return lines

    def __str__(self):
        return "\n".join(self._lines())

    def __repr__(self):
        return f"<BackwardStep {self.index} of {self.total}: {self.op} #{self.node.seq}>"

    def _repr_html_(self):
        lines = self._lines()
        head, body = html.escape(lines[0]), "\n".join(html.escape(x) for x in lines[1:])
        return (f"<div style='border:1px solid #999;border-radius:4px;padding:6px;"
                f"font-family:monospace'><b>{head}</b><pre style='margin:4px 0'>{body}</pre>"
                f"</div>")


class BackwardSteps:
    """An iterator over the steps of one backward walk (made by :func:`backward_steps`).

    ``next(steps)`` runs the next node's backward and returns its card; iteration ends after
    the last node. Then ``gradient(t)`` is the gradient the walk gave tensor ``t`` (a leaf,
    or a tensor passed in ``sources``), and ``gradients`` maps the name of each leaf to it.
    """

    def __init__(self, target, gradient=None, sources=None, retain_graph=True):
        total = len(graph_nodes(target, "backward_steps"))   # checks the target, too
        if gradient is None:
            if target.data.size != 1:
                raise ValueError(
                    f"backward_steps(): the target has shape {target.shape}; pass gradient= "
                    "(dL/dtarget, same shape) or reduce it first, e.g. ops.sum(y).")
            seed = Tensor._wrap(backend.xp.ones_like(target.data))
        else:
            seed = gradient if isinstance(gradient, Tensor) else Tensor(gradient, dtype=target.dtype)
        self._sources = list(sources or [])
        keep = {id(s) for s in self._sources}
        self._walk = walk_steps([target], [seed], keep=keep, retain_graph=retain_graph)
        self._grads = None
        self._index = 0
        self.total = total

    def __iter__(self):
        return self

    def __next__(self):
        if self._grads is not None:
            raise StopIteration
        try:
            node, out_grads, in_grads, before = next(self._walk)
        except StopIteration as done:
            self._grads = done.value
            raise
        self._index += 1
        return BackwardStep(self._index, self.total, node, out_grads, in_grads, before)

    def run(self):
        """Run the remaining steps; returns self."""
        for _ in self:
            pass
        return self

    @property
    def done(self):
        return self._grads is not None

    def gradient(self, t):
        """dL/dt from the finished walk (None if t received none)."""
        if self._grads is None:
            raise RuntimeError("the walk is not finished: step to the end first (steps.run()).")
        entry = self._grads.get(id(t))
        return None if entry is None else entry[1]

    @property
    def gradients(self):
        """{name: gradient} of every leaf that wants a gradient, once the walk is finished."""
        if self._grads is None:
            raise RuntimeError("the walk is not finished: step to the end first (steps.run()).")
        return {tensor_name(t): g for t, g in self._grads.values()
                if t._node is None and t.requires_grad}


def backward_steps(target, gradient=None, sources=None, retain_graph=True):
    """Step through the backward pass from ``target`` (usually the loss), one node at a time.

    Returns a :class:`BackwardSteps` iterator of cards::

        with keras.GradientTape() as tape:
            loss = loss_fn(y, model(x))
        for step in debug.backward_steps(loss):
            print(step)

    ``gradient``: dL/dtarget for a target that is not a scalar. ``sources``: tensors that are
    not leaves whose gradients ``gradient(t)`` should also give. The graph is kept
    (``retain_graph=True``), so ``tape.gradient`` or ``backward()`` can still run afterwards
    and give the same numbers; nothing is added to any ``.grad``.
    """
    return BackwardSteps(target, gradient, sources, retain_graph)
