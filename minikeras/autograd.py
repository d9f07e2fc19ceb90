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
"""
import contextlib
import itertools
import operator
import os
import sys
import weakref

from . import backend
from . import tensor as _tensor_module
from .tensor import Tensor, _check_float

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class _State:
    """The recording switches, in one place."""
    grad_enabled = True       # False inside no_grad()
    tapes = []                # the GradientTapes whose `with` block is open, innermost last
    record_source = True      # capture the caller's file and line for every node


state = _State()
_sequence = itertools.count()
_weakref = weakref.ref
_ONE_NEEDS_GRAD = (True,)


# ------------------------------------------------------------------------------- contexts
@contextlib.contextmanager
def no_grad():
    """Run the block without recording anything on the tape (inference, weight updates).

    Usable as ``with minikeras.no_grad():`` or as a decorator.
    """
    previous = state.grad_enabled
    state.grad_enabled = False
    try:
        yield
    finally:
        state.grad_enabled = previous


@contextlib.contextmanager
def enable_grad():
    """Turn recording back on inside a ``no_grad`` block."""
    previous = state.grad_enabled
    state.grad_enabled = True
    try:
        yield
    finally:
        state.grad_enabled = previous


def is_grad_enabled():
    return state.grad_enabled


_inside_package = {}  # code object -> True if it belongs to minikeras (a cache)


def _caller():
    """(file, line, function) of the first frame outside the minikeras package."""
    f = sys._getframe(3)  # skip _caller, _record and Function.__call__
    inside = _inside_package
    while f is not None:
        code = f.f_code
        flag = inside.get(code)
        if flag is None:
            flag = inside[code] = code.co_filename.startswith(_PACKAGE_DIR)
        if not flag:
            return (code.co_filename, f.f_lineno, code.co_name)
        f = f.f_back
    return None


# ------------------------------------------------------------------------------- Function
class Function:
    """One differentiable operation, and, once recorded, one node of the graph.

    A subclass writes the math twice, side by side:

    * ``forward(self, *arrays)`` gets the inputs as backend arrays and returns the output
      array (a tuple of arrays when ``n_outputs > 1``). It may keep on ``self`` what the
      backward needs (a mask, an argmax).
    * ``backward(self, *grads)`` gets dL/d(output) as Tensors and returns dL/d(input) for
      every input, as Tensors (or None where an input needs none), computed **with ops** so
      the backward pass can itself be recorded. ``self.inputs`` are the input Tensors and
      ``self.output()`` is the output Tensor.

    Op parameters (an axis, a slope) go to ``__init__``; ops are called as
    ``Sum(axis=0)(x)``. What ``forward`` keeps on ``self`` must be plain arrays, never
    Tensors: a node reaches other nodes only through ``inputs``, which ``release()`` drops. Every subclass is listed in :data:`REGISTRY`, which the test suite
    uses to make sure each op has a gradient check.

    Attributes of a recorded node, for inspection: ``inputs``, ``outputs`` (weak
    references), ``seq`` (its place in recording order), ``where`` (file, line, function of
    the user code that called it), ``needs_grad`` (which inputs want a gradient).
    """

    n_outputs = 1
    differentiable = True
    inputs = None
    outputs = ()
    needs_grad = ()
    seq = -1
    where = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        REGISTRY[cls.__name__] = cls

    def forward(self, *arrays):
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, *grads):
        raise NotImplementedError(f"{type(self).__name__} has no backward: it is not differentiable")

    def __call__(self, *args):
        inputs = args
        for a in args:
            if not isinstance(a, Tensor):
                inputs = _as_tensors(args, type(self).__name__)
                break
        n = len(inputs)
        try:
            if n == 1:
                out = self.forward(inputs[0].data)
            elif n == 2:
                out = self.forward(inputs[0].data, inputs[1].data)
            else:
                out = self.forward(*[t.data for t in inputs])
        except OpError:
            raise
        except ValueError as e:
            raise OpError(self.explain(inputs, e)) from None
        if self.n_outputs == 1:
            result = Tensor._wrap(out)
        else:
            result = tuple([Tensor._wrap(o) for o in out])
        if state.grad_enabled and self.differentiable:
            for t in inputs:
                if t.requires_grad:
                    self._record(inputs, result)
                    break
        return result

    def _record(self, inputs, result):
        """Make this Function a node of the graph: keep what backward needs and link the
        outputs to it."""
        self.inputs = inputs
        n = len(inputs)
        if n == 1:
            self.needs_grad = _ONE_NEEDS_GRAD
        elif n == 2:
            self.needs_grad = (inputs[0].requires_grad, inputs[1].requires_grad)
        else:
            self.needs_grad = tuple([t.requires_grad for t in inputs])
        self.seq = next(_sequence)
        if state.record_source:
            self.where = _caller()
        if self.n_outputs == 1:
            if result.data.dtype.kind in "fc":
                result.requires_grad = True
                result._node = self
            self.outputs = (_weakref(result),)
        else:
            for o in result:
                if o.data.dtype.kind in "fc":
                    o.requires_grad = True
                    o._node = self
            self.outputs = tuple([_weakref(o) for o in result])
        if state.tapes:
            for tape in state.tapes:
                tape._nodes.append(self)

    def explain(self, inputs, error):
        """The message for a ValueError raised by ``forward`` (usually shapes that do not
        fit): the op, what it got, and NumPy's words. Ops may override it."""
        if "broadcast" in str(error) and len(inputs) >= 2:
            shapes = " and ".join(str(t.shape) for t in inputs)
            return (f"ops.{self.op_name()}: cannot broadcast shapes {shapes} together. "
                    "Broadcasting compares shapes from the last axis; each pair of sizes must "
                    "be equal or one of them 1.")
        shapes = ", ".join(f"{t.shape} {t.dtype}" for t in inputs)
        return f"ops.{self.op_name()}: {error} (inputs: {shapes})"

    def op_name(self):
        """The public name of the op in messages (``ops.<name>``); the snake_case class
        name unless the class sets ``public_name``."""
        return getattr(self, "public_name", None) or _snake(self.name)

    # ---------------------------------------------------------------- for backward methods
    def output(self, i=0):
        """The i-th output Tensor (alive whenever this node's backward runs)."""
        return self.outputs[i]()

    @property
    def name(self):
        return type(self).__name__

    @property
    def freed(self):
        """True once a backward walk without retain_graph/persistent released this node."""
        return self.inputs is None and self.seq >= 0

    def release(self):
        """Let go of the input tensors after a walk, so the graph behind this node can be
        freed. (Ops keep only arrays on ``self``, never Tensors, so this is enough.)"""
        self.inputs = None

    def location(self):
        """``"file.py:12"`` of the user code that called this op, or ``"?"``."""
        if not self.where:
            return "?"
        return f"{os.path.basename(self.where[0])}:{self.where[1]}"

    def source_line(self):
        """The text of the line that called this op, when the file can be read."""
        if not self.where:
            return ""
        import linecache
        return linecache.getline(self.where[0], self.where[1]).strip()

    def describe(self):
        return f"{self.name} at {self.location()}"

    def __repr__(self):
        if self.seq < 0:
            return f"<{self.name} (not recorded)>"
        if self.inputs is None:
            return f"<{self.name} #{self.seq} at {self.location()} (freed)>"
        ins = ", ".join(f"{t.shape} {t.dtype}" for t in self.inputs)
        return f"<{self.name} #{self.seq} at {self.location()} inputs=[{ins}]>"


class OpError(ValueError):
    """A ValueError raised by an op about its inputs; its message names the op."""


#: Every Function subclass by class name (filled by ``__init_subclass__``).
REGISTRY = {}


def _as_tensors(args, opname):
    """The arguments of an op as Tensors. Scalars take the dtype of the tensors they meet
    (``x * 2.0`` stays float32), as Python numbers do in NumPy and Keras."""
    like = None
    for a in args:
        if isinstance(a, Tensor):
            like = a.data.dtype
            break
    int_meets_float = like is not None and like.kind in "iub" and any(
        isinstance(a, float) for a in args)
    out = []
    for a in args:
        if isinstance(a, Tensor):
            if int_meets_float and a.data.dtype.kind in "iub":
                a = Tensor._wrap(a.data.astype(backend.floatx()))  # int * 0.5 -> floatx
            out.append(a)
        elif isinstance(a, (float, int, bool)) and not isinstance(a, type(None)):
            out.append(Tensor._wrap(_scalar(a, like)))
        else:
            if backend.is_foreign_array(a):
                raise backend.device_mismatch(a, f"ops.{_snake(opname)}")
            out.append(Tensor(a))
    return tuple(out)


def _scalar(value, like):
    xp = backend.xp
    if like is None:
        return xp.asarray(value, dtype=backend.floatx() if isinstance(value, float) else
                          ("bool" if isinstance(value, bool) else "int32"))
    if like.kind in "iub" and isinstance(value, float):
        return xp.asarray(value, dtype=backend.floatx())
    if like.kind == "b" and not isinstance(value, bool):
        return xp.asarray(value, dtype="int32")
    return xp.asarray(value, dtype=like)


def _snake(name):
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


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


def backward_walk(targets, seeds, keep=None, retain_graph=False, create_graph=False, step=None,
                  order=None):
    """Backpropagate ``seeds`` (dL/dtarget, Tensors) from ``targets`` through the graph.

    Returns ``{id(tensor): [tensor, gradient]}`` for every leaf reached and for every tensor
    whose id is in ``keep`` (sources that are not leaves). ``step``, when given, is called
    as ``step(node, output_grads, input_grads)`` after each node: the hook a step-through
    debugger or a kernel trace uses. ``order``: the nodes to visit, newest first, when the
    caller knows them (a GradientTape's own record); otherwise they are collected from the
    targets' graph. Nodes that receive no gradient are skipped.
    """
    grads = {}
    for t, g in zip(targets, seeds):
        _accumulate(grads, t, g)
    if order is None:
        order = _collect(targets)
    previous = state.grad_enabled
    state.grad_enabled = create_graph
    try:
        for node in order:
            if node.n_outputs == 1:
                o = node.outputs[0]()
                entry = None if o is None else grads.get(id(o))
                if entry is None:
                    continue
                if keep is None or id(o) not in keep:
                    del grads[id(o)]
                if o._hooks:
                    entry[1] = _run_hooks(o, entry[1])
                out_grads = (entry[1],)
            else:
                out_grads = _output_grads(node, grads, keep)
                if out_grads is None:
                    continue
            if node.inputs is None:
                raise _freed_error(node)
            in_grads = node.backward(*out_grads)
            if not isinstance(in_grads, (tuple, list)):
                in_grads = (in_grads,)
            for t, g, need in zip(node.inputs, in_grads, node.needs_grad):
                if need and g is not None:
                    entry = grads.get(id(t))
                    if entry is None:
                        grads[id(t)] = [t, g]
                    else:
                        entry[1] = entry[1] + g
            if step is not None:
                step(node, out_grads, in_grads)
            if not retain_graph:
                node.release()
    finally:
        state.grad_enabled = previous
    for entry in grads.values():
        t = entry[0]
        if t._node is None and t._hooks:
            entry[1] = _run_hooks(t, entry[1])
    return grads


def backward(tensor, gradient=None, retain_graph=False, create_graph=False):
    """``tensor.backward()``: accumulate d(tensor)/d(leaf) into ``leaf.grad``."""
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


# ------------------------------------------------------------------------------- GradientTape
class GradientTape:
    """Record operations for automatic differentiation, as ``tf.GradientTape`` /
    ``keras`` custom training loops do::

        with minikeras.GradientTape() as tape:
            loss = loss_fn(y, model(x))
        grads = tape.gradient(loss, model.trainable_weights)

    Trainable Variables are watched automatically; other tensors need ``tape.watch(x)``.
    ``gradient`` walks back through the operations recorded on this tape only: a value
    computed before the ``with`` block counts as a constant, as in TensorFlow.
    A non-persistent tape may compute gradients once and then releases its nodes;
    ``persistent=True`` keeps them for several ``gradient`` calls (``del tape`` frees them).
    Gradients computed while an outer tape is recording are recorded by it, so nesting two
    tapes gives second derivatives.

    ``tape.nodes`` lists the recorded operations, in order, for inspection.
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        if not watch_accessed_variables:
            raise NotImplementedError(
                "GradientTape(watch_accessed_variables=False) is not supported: trainable "
                "Variables are always watched. Use minikeras.no_grad() around the ops to skip.")
        self.persistent = persistent
        self._nodes = []
        self._recording = False
        self._watched = []
        self._used = False

    def __enter__(self):
        if self._recording:
            raise RuntimeError("this GradientTape is already recording; open a new one.")
        self._recording = True
        state.tapes.append(self)
        return self

    def __exit__(self, *exc):
        self._recording = False
        if self in state.tapes:
            state.tapes.remove(self)
        for t in self._watched:
            t._watchers -= 1
            if t._watchers == 0:
                t.requires_grad = False
        self._watched = []
        return False

    def watch(self, tensor):
        """Record the ops applied to ``tensor`` (a float Tensor, or a list of them)."""
        if isinstance(tensor, (list, tuple)):
            for t in tensor:
                self.watch(t)
            return
        if not isinstance(tensor, Tensor):
            raise TypeError(f"GradientTape.watch() takes a Tensor or Variable, got "
                            f"{type(tensor).__name__}. Convert it with ops.convert_to_tensor().")
        _check_float(tensor, "GradientTape.watch()")
        if self._recording and (tensor._watchers or not tensor.requires_grad):
            # Only tensors that a tape switched on are switched off again on exit.
            tensor._watchers += 1
            tensor.requires_grad = True
            self._watched.append(tensor)

    @contextlib.contextmanager
    def stop_recording(self):
        """Temporarily run ops inside the tape's block without recording them."""
        with no_grad():
            yield

    @property
    def nodes(self):
        """The recorded operations (Function nodes), oldest first."""
        return list(self._nodes or ())

    def reset(self):
        """Forget everything recorded so far."""
        self._nodes = []

    def gradient(self, target, sources, output_gradients=None, unconnected_gradients="none"):
        """d(target)/d(source) for each source.

        ``target``: a Tensor (or a list, whose gradients add up). A target that is not a
        scalar is treated as its sum, as TensorFlow does, unless ``output_gradients`` gives
        dL/dtarget explicitly. ``sources``: a Tensor, a list/tuple or a dict of them; the
        result has the same structure. A source the target does not depend on gets None
        (``unconnected_gradients="zero"`` gives zeros instead).
        """
        if self._nodes is None:
            raise RuntimeError(
                "A non-persistent GradientTape can compute gradients only once: its nodes were "
                "released after the first gradient() call. Use GradientTape(persistent=True) "
                "to call gradient() several times.")
        if unconnected_gradients not in ("none", "zero"):
            raise ValueError(f"unconnected_gradients must be 'none' or 'zero', got "
                             f"{unconnected_gradients!r}.")
        targets = list(target) if isinstance(target, (list, tuple)) else [target]
        seeds = self._seeds(targets, output_gradients)
        flat, rebuild = _flatten(sources)
        keep = set()
        for s in flat:
            if not isinstance(s, Tensor):
                raise TypeError(f"GradientTape.gradient(): sources must be Tensors or "
                                f"Variables, got {type(s).__name__}.")
            if s.data.dtype.kind not in "fc":
                raise TypeError(f"GradientTape.gradient(): cannot differentiate with respect to "
                                f"a tensor of integer dtype {s.dtype} (shape {s.shape}); only "
                                "float tensors have gradients. Cast it to float first.")
            keep.add(id(s))
        live, live_seeds = [], []
        for t, g in zip(targets, seeds):
            if t.requires_grad:
                live.append(t)
                live_seeds.append(g)
        # Gradients computed while another tape records are recorded by it (second order).
        outer_recording = bool(state.tapes)
        grads = {}
        if live:
            # Only what this tape recorded is walked, newest first, as in TensorFlow.
            grads = backward_walk(live, live_seeds, keep=keep,
                                  retain_graph=self.persistent or outer_recording,
                                  create_graph=outer_recording, order=self._nodes[::-1])
        result = []
        for s in flat:
            entry = grads.get(id(s))
            if entry is not None:
                result.append(entry[1])
            elif unconnected_gradients == "zero":
                result.append(Tensor._wrap(backend.xp.zeros_like(s.data)))
            else:
                result.append(None)
        if not self.persistent:
            self._nodes = None
        return rebuild(result)

    @staticmethod
    def _seeds(targets, output_gradients):
        """dL/dtarget for each target: ones (a non-scalar target counts as its sum), or the
        given ``output_gradients``."""
        for t in targets:
            if not isinstance(t, Tensor):
                raise TypeError(f"GradientTape.gradient(): the target must be a Tensor, got "
                                f"{type(t).__name__}.")
        if output_gradients is None:
            return [Tensor._wrap(backend.xp.ones_like(t.data)) for t in targets]
        og = list(output_gradients) if isinstance(output_gradients, (list, tuple)) else [output_gradients]
        if len(og) != len(targets):
            raise ValueError(f"output_gradients has {len(og)} entries for {len(targets)} targets.")
        seeds = []
        for t, g in zip(targets, og):
            g = g if isinstance(g, Tensor) else Tensor(g, dtype=t.dtype)
            if g.data.shape != t.data.shape:
                raise ValueError(f"output_gradients: shape {g.shape} does not match the "
                                 f"target's shape {t.shape}.")
            seeds.append(g)
        return seeds

    def __repr__(self):
        n = "released" if self._nodes is None else f"{len(self._nodes)} nodes"
        return f"<GradientTape persistent={self.persistent} recording={self._recording} {n}>"


def _first(results):
    return results[0]


def _flatten(sources):
    """A flat list of the sources and a function that puts results back in their shape."""
    if isinstance(sources, Tensor):
        return [sources], _first
    if isinstance(sources, list):
        return sources, list
    if isinstance(sources, tuple):
        return list(sources), tuple
    if isinstance(sources, dict):
        keys = list(sources)
        return [sources[k] for k in keys], lambda r: dict(zip(keys, r))
    raise TypeError(f"GradientTape.gradient(): sources must be a Tensor, a list, a tuple or a "
                    f"dict of Tensors, got {type(sources).__name__}.")


# Tensor.backward() calls backward() above (tensor.py cannot import this module: it is
# imported by it).
_tensor_module.backward_function = backward
