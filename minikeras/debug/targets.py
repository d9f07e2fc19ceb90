"""What every debugging tool checks before it reads the tape behind its target.

A tool needs a Tensor that a recorded op made (else there is no tape behind it), and the
graph behind it must still be there: a ``backward()`` or ``tape.gradient()`` call that does
not keep the graph frees each node it walked. The errors say what came and what to do.
"""
from ..tensor import Tensor

__all__ = ["check_target", "freed_error", "graph_nodes"]


def check_target(target, tool):
    """Raise unless ``target`` is a Tensor made by a recorded op; ``tool`` names the caller
    in the message."""
    if not isinstance(target, Tensor):
        raise TypeError(
            f"{tool}() takes the Tensor to differentiate (the loss, usually), got "
            f"{type(target).__name__}. Pass the tensor itself, e.g. the loss computed inside "
            "the GradientTape.")
    if target._node is None or not target.requires_grad:
        raise ValueError(
            f"{tool}(): the target needs no gradient: no recorded op made it (it is data, a "
            "Variable itself, or was computed under no_grad()), so there is no tape to read. "
            "Compute it from tensors with requires_grad=True (or inside a GradientTape, from "
            "trainable Variables).")


def freed_error(node, tool):
    """The error for a graph that a backward walk already freed, at ``node``."""
    return RuntimeError(
        f"{tool}(): the graph behind {node.describe()} was already freed by an earlier "
        "backward() or tape.gradient() call. Record it again, or keep the graph for several "
        "uses with GradientTape(persistent=True) or backward(retain_graph=True).")


def graph_nodes(target, tool):
    """Every node behind ``target``, each once, the newest first, after checking the target
    and that no node of its graph was freed."""
    check_target(target, tool)
    seen, nodes, stack = set(), [], [target._node]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        if node.inputs is None:
            raise freed_error(node, tool)
        seen.add(id(node))
        nodes.append(node)
        stack.extend(t._node for t in node.inputs)
    nodes.sort(key=lambda n: n.seq, reverse=True)
    return nodes
