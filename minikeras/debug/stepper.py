"""Step through the backward pass at a prompt, as pdb steps through code:
``debug.step_backward(loss)``.

The stepper is a small command loop (the standard library's ``cmd.Cmd``) over
:func:`backward_steps`, so each ``next`` runs one node's real backward and shows its card::

    (backward) n                 run the next node's backward, show its card
    (backward) b dense_1         stop at the next node of layer dense_1 (or of an op: b Add)
    (backward) c                 run on to that node, or to the end
    (backward) w                 the line of your code that recorded the node, with its neighbours
    (backward) p dense/kernel    a tensor by name, with its gradient so far
    (backward) q

Inside pdb, start it with ``!``: ``(Pdb) !debug.step_backward(loss)`` (pdb has its own
``debug`` command); the commands you type then go to the stepper, and ``q`` returns to pdb.
In a notebook, where there is no prompt, ``stepper = debug.step_backward(loss,
interactive=False)`` returns the stepper: ``stepper.next()`` returns the next card (a
notebook shows it), ``stepper.cont()`` runs to the next breakpoint, and
``stepper.onecmd("where")`` runs any command.
"""
import cmd
import linecache
import os

import numpy as np

from .. import backend
from ..tensor import Tensor
from .steps import backward_steps, input_names, rule_of, tensor_name

__all__ = ["step_backward", "Stepper"]


def _values(t):
    """The numbers of a tensor, a few dozen at most."""
    a = backend.to_numpy(t.data if isinstance(t, Tensor) else t)
    with np.printoptions(precision=4, threshold=48, edgeitems=3, linewidth=88, suppress=True):
        return f"{a.shape} {a.dtype}\n{np.array2string(a, separator=', ')}"


def _graph(target):
    """The nodes behind ``target``, newest first, and {name: [tensors]} of every tensor they
    touch (inputs and outputs)."""
    nodes, seen, stack = [], set(), [target._node]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen or node.inputs is None:
            continue
        seen.add(id(node))
        nodes.append(node)
        stack.extend(t._node for t in node.inputs)
    nodes.sort(key=lambda n: n.seq, reverse=True)
    tensors = {}
    for node in nodes:
        outputs = [ref() for ref in node.outputs]
        for t in list(node.inputs) + [o for o in outputs if o is not None]:
            same = tensors.setdefault(tensor_name(t), [])
            if all(t is not u for u in same):
                same.append(t)
    return nodes, tensors


def _matches(node, name):
    """True when ``name`` is the node's op (``Add`` or ``add``) or its layer: the whole
    path (``sequential/dense_1``) or one part of it (``dense_1``)."""
    low = name.lower()
    if low in (node.name.lower(), node.op_name().lower()):
        return True
    path = node.layer or ""
    return bool(path) and (name == path or name in path.split("/"))


class Stepper(cmd.Cmd):
    """The command loop of :func:`step_backward` (see the module docstring). ``steps`` is
    the underlying :class:`BackwardSteps`, ``card`` the last step shown, ``cards`` all of
    them; once the walk is done ``gradient(t)`` gives dL/dt, as ``tape.gradient`` does."""

    prompt = "(backward) "

    def __init__(self, target, gradient=None, sources=None, stdin=None, stdout=None):
        super().__init__(stdin=stdin, stdout=stdout)
        self.use_rawinput = stdin is None
        self.steps = backward_steps(target, gradient, sources)
        self.nodes, self.tensors = _graph(target)
        self.card, self.cards, self.breakpoints = None, [], []
        self._so_far = {}              # id(tensor) -> its gradient so far
        self.intro = (f"Stepping back from {tensor_name(target)}: {self.steps.total} nodes. "
                      "Type n(ext) for the first, help for the commands.")

    # ------------------------------------------------------------------ for notebooks
    def next(self):
        """Run the next node's backward and return its card (None once the walk is done)."""
        card = next(self.steps, None)
        if card is None:
            return None
        self.card = card
        self.cards.append(card)
        for t, (_, g) in zip(card.node.inputs, card.grads):
            if g is not None:
                before = self._so_far.get(id(t))
                self._so_far[id(t)] = g if before is None else before + g
        return card

    def cont(self):
        """Run on to the next node that matches a breakpoint, or to the end; return the card
        it stopped at (None at the end)."""
        while True:
            card = self.next()
            if card is None or any(_matches(card.node, b) for b in self.breakpoints):
                return card

    def gradient(self, t):
        """dL/dt once the walk is done (see :meth:`BackwardSteps.gradient`)."""
        return self.steps.gradient(t)

    def __repr__(self):
        where = f"after step {self.card.index}, {self.card.op}" if self.card else "before step 1"
        done = ", done" if self.steps.done else ""
        return f"<Stepper over {self.steps.total} nodes, {where}{done}>"

    # ------------------------------------------------------------------ output
    def _say(self, text):
        self.stdout.write(str(text) + "\n")

    def _finished(self):
        self._say(f"The walk is finished ({len(self.cards)} steps): 'grads' shows the gradient "
                  "of every leaf, 'quit' leaves.")

    def _need_card(self):
        if self.card is None:
            self._say("*** no step yet: type 'next' (n) to run the first node's backward.")
        return self.card is not None

    # ------------------------------------------------------------------ commands
    def do_next(self, arg):
        """n(ext): run the next node's backward and show its card."""
        if self.steps.done or self.next() is None:
            return self._finished()
        self._say(self.card)

    def do_continue(self, arg):
        """c(ontinue): run on to the next node that matches a breakpoint, or to the end."""
        if self.steps.done:
            return self._finished()
        card = self.cont()
        if card is None:
            return self._finished()
        layer = f" in {card.node.layer}" if card.node.layer else ""
        self._say(f"Breakpoint: {card.op} #{card.node.seq}{layer}")
        self._say(card)

    def do_break(self, arg):
        """b(reak) OP_OR_LAYER: stop at each node whose op (Add, matmul) or layer (dense_1,
        sequential/dense_1) is OP_OR_LAYER. Without a name: list the breakpoints."""
        name = arg.strip()
        if not name:
            return self._say("Breakpoints: " + (", ".join(self.breakpoints) or "none"))
        if not any(_matches(node, name) for node in self.nodes):
            ops = sorted({n.name for n in self.nodes})
            layers = sorted({n.layer for n in self.nodes if n.layer})
            return self._say(f"*** no node of this graph has the op or layer {name!r}. "
                             f"Ops here: {', '.join(ops)}. Layers: {', '.join(layers) or 'none'}.")
        self.breakpoints.append(name)
        self._say(f"Breakpoint {len(self.breakpoints)}: {name}")

    def do_clear(self, arg):
        """clear [OP_OR_LAYER]: remove that breakpoint, or all of them."""
        name = arg.strip()
        if name and name not in self.breakpoints:
            return self._say(f"*** no breakpoint {name!r}; the breakpoints are: "
                             f"{', '.join(self.breakpoints) or 'none'}.")
        self.breakpoints = [b for b in self.breakpoints if name and b != name]
        self._say(f"Cleared {name or 'all breakpoints'}.")

    def do_where(self, arg):
        """w(here): the line of your code that recorded this node, with the lines around it."""
        if not self._need_card():
            return
        node = self.card.node
        if not node.where:
            return self._say(f"{node.name} #{node.seq}: its source line was not recorded.")
        path, line, func = node.where
        layer = f" in {node.layer}" if node.layer else ""
        self._say(f"{os.path.basename(path)}:{line}, in {func}  ({node.name} #{node.seq}{layer})")
        for k in range(max(1, line - 2), line + 3):
            text = linecache.getline(path, k).rstrip()
            if text or k <= line:
                self._say(f"{'->' if k == line else '  '}{k:>5}  {text}")

    def do_rule(self, arg):
        """rule: the derivative rule of this node's op, and which tensor each name stands for."""
        if not self._need_card():
            return
        for part in rule_of(self.card.node).split("; "):
            self._say("  " + part)
        self._say("  where " + ", ".join(f"{n} = {t}" for n, t in input_names(self.card.node)))

    def do_upstream(self, arg):
        """upstream: the gradient that arrived at this node's output, dL/d output."""
        if not self._need_card():
            return
        for k, g in enumerate(self.card.upstream):
            label = "dL/d output" if len(self.card.upstream) == 1 else f"dL/d output {k}"
            self._say(f"{label}: " + ("None" if g is None else _values(g)))

    def do_grads(self, arg):
        """grads: the gradient this node handed to each input; once the walk is done, the
        gradient of every leaf."""
        if self.steps.done:
            for name, g in self.steps.gradients.items():
                self._say(f"dL/d {name}: {_values(g)}")
            return
        if not self._need_card():
            return
        for name, g in self.card.grads:
            shown = "None (needs no gradient)" if g is None else _values(g)
            self._say(f"-> dL/d {name}: {shown}")

    def do_print(self, arg):
        """p(rint) NAME: a tensor by its name (dense/kernel, '#12 tanh', or 12 for the output
        of node #12), its values and its gradient so far."""
        name = arg.strip()
        found = self.tensors.get(name)
        if found is None and name.lstrip("#").isdigit():
            seq = int(name.lstrip("#"))
            found = [t for key, ts in self.tensors.items() if key.startswith(f"#{seq} ")
                     for t in ts]
        if not found:
            some = ", ".join(sorted(self.tensors)[:6])
            return self._say(f"*** no tensor named {name!r} in this graph. Names here: {some}, ... "
                             "(a number N names the output of node #N; 'list' shows the nodes).")
        for t in found:
            self._say(f"{tensor_name(t)}: {_values(t)}")
            g = self._so_far.get(id(t))
            shown = "none yet" if g is None else _values(g)
            self._say(f"  dL/d {tensor_name(t)} so far: {shown}")

    def do_list(self, arg):
        """l(ist): the nodes still to come, in the order the walk visits them."""
        done = {id(c.node) for c in self.cards}
        last = self.card.node.seq if self.card else None
        left = [n for n in self.nodes if id(n) not in done and (last is None or n.seq < last)]
        if not left:
            return self._say("No nodes left.")
        for n in left:
            layer = f" in {n.layer}" if n.layer else ""
            self._say(f"  #{n.seq:<4} {n.name}{layer} at {n.location()}")

    def do_quit(self, arg):
        """q(uit): leave the stepper (the graph is kept; the tape can still compute gradients)."""
        return True

    do_n, do_c, do_b, do_w, do_p, do_l, do_q = (do_next, do_continue, do_break, do_where,
                                                 do_print, do_list, do_quit)
    do_EOF = do_quit

    def default(self, line):
        self._say(f"*** unknown command {line.split()[0]!r}: type 'help' for the commands.")


def step_backward(target, gradient=None, sources=None, interactive=True, stdin=None, stdout=None):
    """Step through the backward pass from ``target`` (usually the loss) at a pdb-like
    prompt; returns the :class:`Stepper` when you quit (or at once with
    ``interactive=False``). ``stdin``/``stdout``: file objects to read commands from and
    write to (default: the terminal). ``gradient``, ``sources``: as for
    :func:`backward_steps`. See the module docstring for the commands."""
    stepper = Stepper(target, gradient, sources, stdin=stdin, stdout=stdout)
    if interactive:
        stepper.cmdloop()
    return stepper
