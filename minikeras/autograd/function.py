"""Recording: the switches (``state``, ``no_grad``), the ``Function`` base class (an op, and
once recorded a node of the graph) and how a call becomes a node (``Function._record``)."""
import contextlib
import itertools
import linecache
import os
import sys
import weakref

from .. import backend
from ..tensor import Tensor

# minikeras/ (this file is minikeras/autograd/function.py)
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class _State:
    """The recording switches, in one place."""
    grad_enabled = True       # False inside no_grad()
    tapes = []                # the GradientTapes whose `with` block is open, innermost last
    call_sites = []           # [frame, where, path, last frame] of each layer call in
                              # progress: see call_site and user_frame
    observers = []            # told of every op call and backward step (see Function.__call__
                              # and walk.visit), and, when they ask, of the start of each op
                              # and layer call (see tell): what the debug tools attach
    record_source = True      # capture the caller's file and line for every node
    array_twins = True        # the walk may call a node's backward_arrays (see readable_backward)


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


@contextlib.contextmanager
def readable_backward():
    """Inside this block every backward walk calls each node's readable ``backward`` (the
    formula written with ops), never its ``backward_arrays`` twin. The gradients are the
    same numbers; the test suite and the debugging tools use it to run the formula a
    student reads."""
    previous = state.array_twins
    state.array_twins = False
    try:
        yield
    finally:
        state.array_twins = previous


_inside_package = {}  # code object -> True if it belongs to minikeras (a cache)


def user_frame(f):
    """(file, line, function) of the first frame, from ``f`` up, outside the minikeras
    package. A frame that entered :func:`call_site` already knows its answer, so the climb
    stops there: inside a model, an op climbs to its layer's call, not to the user's code.
    The climb also stops at the frame the last climb inside the same layer call started
    from (a layer's loop calls many ops from one frame): its answer is the same."""
    inside = _inside_package
    sites = state.call_sites
    site = sites[-1] if sites else None
    start = f
    while f is not None:
        if site is not None and (f is site[0] or f is site[3]):
            site[3] = start.f_back      # only package frames lie between it and the layer call
            return site[1]
        code = f.f_code
        flag = inside.get(code)
        if flag is None:
            flag = inside[code] = code.co_filename.startswith(_PACKAGE_DIR)
        if not flag:
            return (code.co_filename, f.f_lineno, code.co_name)
        f = f.f_back
    return None


class call_site:
    """``with call_site(frame, name):`` remembers, for the time of the block, the user code
    that called ``frame`` (a layer's ``__call__``), so that the ops recorded inside find
    their source line without climbing past it again, and the path of the layer call
    (``sequential/dense_1``), which each node recorded inside keeps as ``node.layer``. Only
    when source lines are recorded. (A class rather than a generator: it is entered once
    per layer call, and this form costs half as much.)"""

    __slots__ = ("frame", "name", "path")

    def __init__(self, frame, name):
        self.frame, self.name, self.path = frame, name, None

    def __enter__(self):
        if not state.record_source:
            return self
        sites = state.call_sites
        self.path = f"{sites[-1][2]}/{self.name}" if sites else self.name
        # (layer's frame, the user line that called it, its path, see user_frame)
        sites.append([self.frame, user_frame(self.frame.f_back), self.path, None])
        if state.observers:
            tell("layer_starts", self.path)
        return self

    def __exit__(self, *exc):
        if self.path is None:
            return
        state.call_sites.pop()
        if state.observers:
            tell("layer_ends", self.path)


def tell(hook, *args):
    """Call the optional hook ``hook`` (``forward_starts``, ``layer_starts``, ...) of every
    observer that has it."""
    for observer in state.observers:
        method = getattr(observer, hook, None)
        if method is not None:
            method(*args)


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
      ``self.output()`` is the output Tensor. This is the rule a student reads, and it
      comes first in the class.

    A few ops on the hot path of training also write the same rule on raw arrays, as
    ``backward_arrays(self, *grad_arrays)`` (arrays in; a tuple of arrays, None where an
    input needs none, out). The walk calls it instead of ``backward`` only when nothing
    records the backward pass (no ``create_graph``, no outer tape, not inside
    :func:`readable_backward`); the test suite checks the two give the same numbers.

    The docstring of a differentiable op ends with its rule, in one line of a fixed form
    that the debugging tools read::

        Rule: dL/dx = unbroadcast(g · y, x); dL/dy = unbroadcast(g · x, y)

    one ``dL/d<input> = <formula>`` per input, named as in ``forward``, in order, joined by
    ``; ``. ``g`` is dL/d(output) (``g0, g1, ...`` for several outputs; ``h`` where an input
    is itself called ``g``), ``z`` the output (unless an input is called ``z``), ``[c]`` 1
    where c holds else 0, ``unbroadcast(t, x)`` t summed back to x's shape, ``expand(g)`` g
    broadcast back over the reduced axes; ``none``: that input gets no gradient.

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
    backward_arrays = None    # optional: the same rule on arrays (see the class docstring)
    inputs = None
    outputs = ()
    needs_grad = ()
    seq = -1
    where = None
    layer = None              # the path of the layer call that recorded it, if any

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        REGISTRY[cls.__name__] = cls
        if "backward" in cls.__dict__ and "backward_arrays" not in cls.__dict__:
            # A subclass that writes its own rule (a student's op built on ours) must not
            # inherit the parent's array twin: the walk would run the parent's rule instead.
            cls.backward_arrays = None

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
        if state.observers:
            tell("forward_starts", self, inputs)
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
        if state.observers:
            for observer in state.observers:
                observer.forward(self, inputs, result)
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
            self.where = user_frame(sys._getframe(2))  # above _record and __call__
            if state.call_sites:
                self.layer = state.call_sites[-1][2]
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
