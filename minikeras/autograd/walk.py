"""The backward walk: from a target back through the recorded nodes, newest first, each
node's ``backward`` turning the gradient of its output into gradients of its inputs; and
``Tensor.backward()`` on top of it."""
import operator

from .. import backend
from ..tensor import Tensor
from .function import state, tell

# ------------------------------------------------------------------------------- the walk
def _freed_error(node):
    return RuntimeError(
        f"minikeras: cannot backpropagate through {node.describe()}: its graph was already "
        "freed by an earlier backward()/tape.gradient() call, which releases the saved tensors "
        "to save memory. To walk the same graph twice, pass retain_graph=True to backward() "
        "or use GradientTape(persistent=True).")


def _collect(targets):
    """The nodes the targets depend on, newest first (a reverse topological order)."""
    seen = set()
    nodes = []
    stack = [t._node for t in targets if t._node is not None]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        key = id(node)
        if key in seen:
            continue
        inputs = node.inputs
        if inputs is None:
            raise _freed_error(node)
        seen.add(key)
        nodes.append(node)
        for t in inputs:
            parent = t._node
            if parent is not None:
                push(parent)
    nodes.sort(key=_by_seq, reverse=True)
    return nodes


_by_seq = operator.attrgetter("seq")


def _accumulate(grads, t, g):
    entry = grads.get(id(t))
    if entry is None:
        grads[id(t)] = [t, g]
    else:
        entry[1] = entry[1] + g


def _run_hooks(t, g):
    for hook in t._hooks:
        new = hook(g)
        if new is not None:
            g = new if isinstance(new, Tensor) else Tensor(new)
    return g


def _output_grads(node, grads, keep):
    """The gradients of a multi-output node's outputs (None where none arrived), or None if
    no output received a gradient."""
    out_grads = []
    for ref in node.outputs:
        o = ref()
        entry = None if o is None else grads.get(id(o))
        if entry is None:
            out_grads.append(None)
            continue
        if keep is None or id(o) not in keep:
            del grads[id(o)]
        if o._hooks:
            entry[1] = _run_hooks(o, entry[1])
        out_grads.append(entry[1])
    return None if all(g is None for g in out_grads) else out_grads


def _arrays_twin(twin, out_grads):
    """Call a node's ``backward_arrays`` on the arrays of its output gradients and wrap
    what it returns as Tensors."""
    arrays = twin(*[None if g is None else g.data for g in out_grads])
    if not isinstance(arrays, (tuple, list)):
        arrays = (arrays,)
    return tuple([None if a is None else Tensor._wrap(a) for a in arrays])


def backward_walk(targets, seeds, keep=None, retain_graph=False, create_graph=False, step=None,
                  order=None):
    """Backpropagate ``seeds`` (dL/dtarget, Tensors) from ``targets`` through the graph.

    Returns ``{id(tensor): [tensor, gradient]}`` for every leaf reached and for every tensor
    whose id is in ``keep`` (sources that are not leaves). ``order``: the nodes to visit,
    newest first, when the caller knows them (a GradientTape's own record); otherwise they
    are collected from the targets' graph. Each node is one :func:`visit`; ``step``, when
    given, is called as ``step(node, output_grads, input_grads)`` after each node (the hook
    a kernel trace uses). :func:`walk_steps` is the same loop, pausing after each node.
    """
    grads = _seeded(targets, seeds)
    if order is None:
        order = _collect(targets)
    # A node's backward_arrays may stand in for its backward only when the backward pass
    # is not itself recorded.
    twins = state.array_twins and not create_graph
    previous = state.grad_enabled
    state.grad_enabled = create_graph
    if state.observers:
        tell("walk_starts")
    try:
        for node in order:
            visited = visit(node, grads, keep, twins)
            if visited is None:
                continue                        # no gradient reached this node
            if step is not None:
                step(node, visited[0], visited[1])
            if not retain_graph:
                node.release()
        _leaf_hooks(grads)
    finally:
        state.grad_enabled = previous
        if state.observers:
            tell("walk_ends")
    return grads


def walk_steps(targets, seeds, keep=None, retain_graph=False, create_graph=False, order=None):
    """The loop of :func:`backward_walk` as a generator that pauses after each node: it
    yields ``(node, output_grads, input_grads, before)`` (see :func:`visit`) and returns the
    gradients when it is exhausted. While it is paused, the caller's code records as usual."""
    grads = _seeded(targets, seeds)
    if order is None:
        order = _collect(targets)
    twins = state.array_twins and not create_graph
    outside = state.grad_enabled
    state.grad_enabled = create_graph
    try:
        for node in order:
            visited = visit(node, grads, keep, twins)
            if visited is None:
                continue
            state.grad_enabled = outside        # paused
            yield (node,) + visited
            state.grad_enabled = create_graph
            if not retain_graph:
                node.release()
        _leaf_hooks(grads)
    finally:
        state.grad_enabled = outside
    return grads


def visit(node, grads, keep, twins):
    """One step of the walk: take the gradient that arrived at the node's output (None if
    none did: the node is skipped), call its ``backward`` (the rule written with ops) or,
    when ``twins`` (nothing records this pass), its ``backward_arrays`` twin (the same rule
    on arrays), and add each input's gradient to what that input already received (a
    tensor used twice gets the sum). Returns ``(output_grads, input_grads, before)``;
    ``before`` is None or, when an input had already received a gradient, a list with that
    earlier gradient at its place."""
    if node.n_outputs == 1:
        o = node.outputs[0]()
        entry = None if o is None else grads.get(id(o))
        if entry is None:
            return None
        if keep is None or id(o) not in keep:
            del grads[id(o)]
        if o._hooks:
            entry[1] = _run_hooks(o, entry[1])
        out_grads = (entry[1],)
    else:
        out_grads = _output_grads(node, grads, keep)
        if out_grads is None:
            return None
    if node.inputs is None:
        raise _freed_error(node)
    observers = state.observers
    if observers:
        for observer in observers:
            observer.backward_starts(node)
    twin = node.backward_arrays if twins else None
    if twin is None:        # the readable rule, written with ops
        in_grads = node.backward(*out_grads)
        if not isinstance(in_grads, (tuple, list)):
            in_grads = (in_grads,)
    else:                   # the same rule on arrays: nothing records this pass
        in_grads = _arrays_twin(twin, out_grads)
    if observers:
        for observer in observers:
            observer.backward(node, out_grads, in_grads)
    before = None
    k = 0
    for t, g, need in zip(node.inputs, in_grads, node.needs_grad):
        if need and g is not None:
            entry = grads.get(id(t))
            if entry is None:
                grads[id(t)] = [t, g]
            else:                       # a tensor used twice: the sum
                if before is None:
                    before = [None] * len(node.inputs)
                before[k] = entry[1]
                entry[1] = entry[1] + g
        k += 1
    return out_grads, in_grads, before


def _seeded(targets, seeds):
    grads = {}
    for t, g in zip(targets, seeds):
        _accumulate(grads, t, g)
    return grads


def _leaf_hooks(grads):
    """Hooks on leaves run once, on their total gradient, when the walk is done."""
    for entry in grads.values():
        t = entry[0]
        if t._node is None and t._hooks:
            entry[1] = _run_hooks(t, entry[1])


def backward(tensor, gradient=None, retain_graph=False, create_graph=False):
    """``tensor.backward()``: add d(tensor)/d(leaf) to ``.grad`` of every leaf tensor with
    ``requires_grad=True`` that ``tensor`` depends on (bound as ``Tensor.backward``).

    Gradients **accumulate**: ``t.grad`` becomes ``t.grad + dtensor/dt``, so call
    ``zero_grad()`` (or set ``t.grad = None``) between steps, as in PyTorch.

    ``gradient`` is dL/dtensor; it may be left out only when the tensor has a single element
    (a scalar loss), where it is 1. The graph is freed after the walk unless
    ``retain_graph=True``; ``create_graph=True`` records the backward pass too, so that the
    gradients can be differentiated again (it implies ``retain_graph``).
    """
    if not tensor.requires_grad:
        raise RuntimeError(
            "backward() was called on a tensor that does not require gradients: no input of "
            "the ops that made it had requires_grad=True (or it was computed under no_grad()). "
            "Create the inputs with Tensor(..., requires_grad=True) or use minikeras.Variable.")
    data = tensor.data
    if gradient is None:
        if data.size != 1:
            raise RuntimeError(
                f"backward() on a tensor of shape {tensor.shape} needs gradient=, the gradient "
                "of the final loss with respect to this tensor (same shape). Only a tensor with "
                "one element (a scalar loss) gets the default gradient 1. Reduce it first, e.g. "
                "ops.sum(y).backward() or ops.mean(y).backward().")
        seed = Tensor._wrap(backend.xp.ones_like(data))
    else:
        seed = gradient if isinstance(gradient, Tensor) else Tensor(gradient, dtype=data.dtype)
        if seed.data.shape != data.shape:
            raise ValueError(f"backward(gradient=...) got a gradient of shape {seed.shape} for a "
                             f"tensor of shape {tensor.shape}; they must be equal.")
    grads = backward_walk([tensor], [seed], retain_graph=retain_graph or create_graph,
                          create_graph=create_graph)
    for t, g in grads.values():
        if t._node is None and t.requires_grad:
            t.grad = g if t.grad is None else t.grad + g
