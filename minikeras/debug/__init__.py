"""Tools for looking inside backpropagation while it runs.

``backward_steps(loss)`` steps through the backward pass node by node (``steps.py``); each
step is a card with the op, the line of your code that called it, the gradient that arrived,
the op's rule and the gradients it handed on. ``with check_numerics():`` stops at the op
where a NaN or an Inf first appeared, forward or backward (``numerics.py``);
``check_node_gradients(loss)`` checks each node's backward against finite differences of
its own op, so one wrong rule stands out (``node_gradients.py``). ``print_tape(loss)`` and
``plot_tape(loss, to_file=...)`` show the graph, with values and gradients
(``pictures.py``). ``backprop_player(loss)`` writes a page to step through the backward
pass in a browser, node by node, on the graph (``player.py``). The tools read the tape
through the hooks the lower floors offer (``autograd.walk_steps``,
``autograd.state.observers``); nothing below imports them, and they cost nothing when not
in use.
"""
from .node_gradients import NodeGradientReport, check_node_gradients  # noqa: F401
from .numerics import NumericsError, check_numerics  # noqa: F401
from .pictures import plot_tape, print_tape, tape_to_dot  # noqa: F401
from .player import backprop_player  # noqa: F401
from .steps import BackwardStep, BackwardSteps, backward_steps, tensor_name  # noqa: F401

__all__ = ["backward_steps", "BackwardSteps", "BackwardStep", "tensor_name", "check_numerics",
           "NumericsError", "check_node_gradients", "NodeGradientReport", "print_tape",
           "tape_to_dot", "plot_tape", "backprop_player"]
