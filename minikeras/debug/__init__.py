"""Tools for looking inside backpropagation while it runs, one file each.

- ``backward_steps(loss)`` steps through the backward pass node by node; each step is a
  card with the op, its layer, the line of your code that called it, the gradient that
  arrived, the op's rule and the gradients it handed on (``steps.py``).
  ``step_backward(loss)`` does it at a prompt, as pdb does (``stepper.py``), and
  ``backprop_player(loss)`` writes a page that steps it in a browser, on the graph
  (``player.py``).
- ``with check_numerics():`` stops at the op where a NaN or an Inf first appeared, forward
  or backward (``numerics.py``).
- ``check_node_gradients(loss)`` checks each node's backward against finite differences of
  its own op, so one wrong rule stands out (``node_gradients.py``); ``compare(a, b)`` diffs
  two runs node by node, forward and backward (``compare.py``).
- ``print_tape(loss)`` and ``plot_tape(loss, to_file=...)`` show the graph, with values and
  gradients, layer calls as boxes (``pictures.py``).
- ``with trace() as t:`` records each layer call, op, backward step and kernel that ran
  inside, with shapes and times (``trace.py``; the timing stand-ins it puts in place of
  kernels and array functions are in ``stand_ins.py``).
- ``LayerHealth`` is a callback of ``fit`` that records each layer's activations,
  saturation, gradient and weight norms and update:weight ratios (``health.py``);
  ``plot_layer_health`` draws them (``plots.py``).

Each tool checks its target first (``targets.py``). The tools read the tape through the
hooks the lower floors offer (``autograd.walk_steps``, ``autograd.state.observers``);
nothing below imports them, and they cost nothing when not in use.
"""
from .compare import Comparison, Recording, compare, load_recording, record  # noqa: F401
from .health import LayerHealth  # noqa: F401
from .node_gradients import NodeGradientReport, check_node_gradients  # noqa: F401
from .numerics import NumericsError, check_numerics  # noqa: F401
from .pictures import plot_tape, print_tape, tape_text, tape_to_dot  # noqa: F401
from .player import backprop_player  # noqa: F401
from .plots import plot_layer_health  # noqa: F401
from .stepper import Stepper, step_backward  # noqa: F401
from .steps import BackwardStep, BackwardSteps, backward_steps, tensor_name  # noqa: F401
from .trace import Trace, trace  # noqa: F401

__all__ = ["backward_steps", "BackwardSteps", "BackwardStep", "tensor_name", "step_backward",
           "Stepper", "backprop_player", "check_numerics", "NumericsError",
           "check_node_gradients", "NodeGradientReport", "compare", "record", "load_recording",
           "Recording", "Comparison", "print_tape", "tape_text", "tape_to_dot", "plot_tape", "trace", "Trace",
           "LayerHealth", "plot_layer_health"]
