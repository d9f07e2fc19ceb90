"""The tape: reverse-mode automatic differentiation.

Three ideas, in this order:

1. **Recording.** Every op is a :class:`Function`. Calling one computes the output from
   plain arrays (``forward``). If gradients are enabled and an input ``requires_grad``, the
   Function object itself becomes a *node*: it keeps its input Tensors, a weak reference to
   its outputs, a sequence number and the source line that called it, and each output
   points back to it (``out._node``). Those back links are the graph.

2. **The backward walk** (:func:`backward_walk`). Starting from a target, collect the nodes
   it depends on (an explicit stack, never recursion, so a graph thousands of nodes deep is
   fine), sort them newest first (a node is always newer than the nodes of its inputs, so
   this is a valid reverse topological order), and loop: for each node, take the gradient
   of its outputs, call its ``backward``, and add what comes out to the gradients of its
   inputs. When a tensor is used twice its gradients are summed (the multivariate chain rule).

3. **Front ends.** ``Tensor.backward()`` fills ``.grad`` of the leaves (the PyTorch way);
   :class:`GradientTape` returns gradients for the sources you ask for (the TensorFlow/Keras
   way). Both call the same walk.

``backward`` methods are written with ops. During an ordinary walk nothing records them;
with ``create_graph=True`` (or when an outer GradientTape is recording) they are recorded
like any forward computation, and the gradients can be differentiated again.

The code, in reading order: ``function.py`` (recording), ``walk.py`` (the backward walk and
``Tensor.backward``), ``tape.py`` (``GradientTape``).
"""
from ..tensor import Tensor
from .function import (REGISTRY, Function, OpError, enable_grad, is_grad_enabled,  # noqa: F401
                       no_grad, readable_backward, state)
from .tape import GradientTape  # noqa: F401
from .walk import backward, backward_walk, walk_steps  # noqa: F401

# t.backward(...) is backward(t, ...) of walk.py (tensor.py cannot import this package: it is
# written on top of tensor.py).
Tensor.backward = backward
