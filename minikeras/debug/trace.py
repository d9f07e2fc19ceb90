"""The trace from the API to the kernel: ``with debug.trace() as t: model.train_on_batch(x, y)``.

Inside the block the trace records, nested in the order they ran:

* each layer call, by its path (``sequential/dense_1``);
* each op's forward: the Function, its node number on the tape (``#19``; none when nothing
  needed its gradient), the shapes and dtypes in and out, the line of its ``forward``;
* the backward walk, under a "backward" heading: each node's backward as the walk visits it,
  and which rule ran (the readable ``backward``, whose ops then appear inside it, or its
  ``backward_arrays`` twin);
* the optimizer's update (``Optimizer.apply``);
* inside those, what computed the numbers: each function of the backend's kernel table and
  of the kernel modules' ``__all__`` (``kernels/cpu/conv.py:im2col``), each Numba loop a
  kernel compiles and calls (``jit``), each CUDA kernel launch with its grid and block, and
  each call of the array module through ``backend.xp`` (``numpy.matmul``, ``cupy.exp``),
  with the shapes and dtypes of its arrays and the line that called it.

Every event has its time (inclusive: an op's time contains its kernels'). On a GPU each
traced call waits for the device before and after, so a time is the work's, not the
launch's; that makes the traced block slower than an untraced one.

What is not seen: array arithmetic written with operators (``x + y``, ``-x``, ``a[i]``,
``x.sum()``: the op's line names its ``forward``, where that code is); NumPy called as
``np.`` rather than ``backend.xp`` (the kernels compute on the array module of their
arguments, so calls inside a kernel are part of the kernel's time); ``xp.random``,
``xp.linalg`` and other submodules; the kernel modules' private helpers; work in other
threads. A backward walk of ``walk_steps`` (the stepper) has no "backward" heading.

How: on entering, the trace adds itself to ``autograd.state.observers`` (told of each op,
layer call and backward step) and puts timing stand-ins in place of the kernel table's
functions, the kernel modules' functions and CUDA kernels, ``backend.xp`` and
``Optimizer.apply`` (``stand_ins.py``); on leaving, even on an error, it puts the originals
back. Outside a
trace nothing is wrapped and nothing is paid.
"""
import collections
import json
import os
import sys
import threading
import time

from .. import backend
from ..autograd import state
from ..kernels.cpu.jit import jit as _numba_jit
from ..optim.base import Optimizer
from ..saving.files import atomic_write_bytes
from .stand_ins import (Place, Shapes, Timed, TimedKernel, TracedArrays, is_cuda_kernel,
                        kernel_name, shapes_of)

__all__ = ["trace", "Trace", "Event", "Shapes"]

_clock = time.perf_counter_ns
# On a GPU, wait for the device so that a time measures the work (see the module docstring).
_synchronize = backend.xp.cuda.runtime.deviceSynchronize if backend.mode == "cuda" else None
_recording = []   # the trace whose block is running (traces do not nest)

_USAGE = ("Use it as\n    with debug.trace() as t:\n        model.train_on_batch(x, y)\n"
          "    print(t)")


def trace():
    """A new :class:`Trace`, to use as ``with debug.trace() as t: ...``."""
    return Trace()


class Event:
    """One thing that ran. ``kind``: "layer", "forward", "walk", "backward", "optimizer",
    "kernel", "cuda" (a CUDA kernel launch) or "array" (a ``backend.xp`` function);
    ``start`` and ``end`` in nanoseconds from the start of the trace; ``args`` what is
    known about it (shapes, node number, the calling line); ``children`` what ran inside."""
    __slots__ = ("kind", "name", "start", "end", "args", "children", "owner")

    def __init__(self, kind, name, start, args):
        self.kind, self.name, self.start, self.args = kind, name, start, args
        self.end = None
        self.children = []
        self.owner = None    # the Function or node while it runs, to find it again

    @property
    def ms(self):
        return (self.end - self.start) / 1e6

    def walk(self):
        """This event and every event inside it, in the order they started."""
        yield self
        for child in self.children:
            yield from child.walk()

    def __repr__(self):
        return f"<Event {self.kind} {self.name} {self.ms:.3f} ms>"


class Trace:
    """What ran inside one ``with`` block (see the module docstring). ``print(t)`` shows
    the tree, ``t.table()`` the time per op and per kernel, ``t.save("trace.json")``
    writes it for Perfetto or chrome://tracing; ``t.events`` holds the outermost events."""

    def __init__(self):
        self.events = []
        self.duration_ns = None
        self._stack = []         # the events running now, innermost last
        self._patches = []       # (object, name, original) to put back on exit
        self._t0 = None
        self._thread = None

    # ------------------------------------------------------------------ the block
    def __enter__(self):
        if _recording:
            raise RuntimeError(
                "debug.trace(): another trace is already recording; traces do not nest. "
                "End the outer `with debug.trace()` block first, or trace only one of them.")
        if self._t0 is not None:
            raise RuntimeError("debug.trace(): this trace already recorded a block; a trace "
                               "records once. Start a new one: with debug.trace() as t2: ...")
        self._t0 = _clock()
        self._thread = threading.get_ident()
        self._record_source = state.record_source
        state.record_source = True        # the layer paths come with the source lines
        _recording.append(self)
        try:
            self._install()
        except BaseException:
            self._finish()
            raise
        state.observers.append(self)
        return self

    def __exit__(self, *error):
        self._finish()
        return False

    def _finish(self):
        if self in state.observers:
            state.observers.remove(self)
        for owner, name, original in reversed(self._patches):
            setattr(owner, name, original)
        self._patches = []
        state.record_source = self._record_source
        _recording.remove(self)
        end = self._now()
        while self._stack:                 # left open by an error
            self._stack[-1].args["unfinished"] = "an error left it before it ended"
            self._close(self._stack[-1], end)
        self.duration_ns = end

    @property
    def recording(self):
        return self.duration_ns is None and self._t0 is not None

    # ------------------------------------------------------------------ events
    def _now(self):
        if _synchronize is not None:
            _synchronize()
        return _clock() - self._t0

    def _open(self, kind, name, args, owner=None):
        if self.duration_ns is not None or threading.get_ident() != self._thread:
            return None
        event = Event(kind, name, self._now(), args)
        event.owner = owner
        (self._stack[-1].children if self._stack else self.events).append(event)
        self._stack.append(event)
        return event

    def _close(self, event, end=None):
        """End ``event`` and any event still open inside it (an error skipped its end)."""
        if event is None or event not in self._stack:
            return
        end = self._now() if end is None else end
        while True:
            top = self._stack.pop()
            top.end, top.owner = end, None
            if top is event:
                return
            top.args["unfinished"] = "an error left it before it ended"

    def _find(self, kind, owner):
        for event in reversed(self._stack):
            if event.kind == kind and event.owner is owner:
                return event
        return None

    # ------------------------------------------------------------------ observer hooks
    def layer_starts(self, path):
        self._open("layer", path, {}, owner=path)

    def layer_ends(self, path):
        self._close(self._find("layer", path))

    def forward_starts(self, fn, inputs):
        self._open("forward", fn.name, {"inputs": shapes_of(t.data for t in inputs)}, owner=fn)

    def forward(self, fn, inputs, result):
        event = self._find("forward", fn)
        if event is None:
            return
        self._close(event)
        outputs = result if isinstance(result, tuple) else (result,)
        event.args["output"] = shapes_of(t.data for t in outputs)
        if fn.seq >= 0:
            event.args["node"] = fn.seq
        event.args["code"] = _defined(type(fn).forward)

    def walk_starts(self):
        self._open("walk", "backward", {}, owner=self)

    def walk_ends(self):
        self._close(self._find("walk", self))

    def backward_starts(self, node):
        twin = (state.array_twins and not state.grad_enabled
                and node.backward_arrays is not None)   # the walk's own test (see visit)
        rule = "backward_arrays" if twin else "backward"
        self._open("backward", node.name,
                   {"node": node.seq, "rule": rule, "code": _defined(getattr(type(node), rule))},
                   owner=node)

    def backward(self, node, out_grads, in_grads):
        event = self._find("backward", node)
        if event is None:
            return
        self._close(event)
        event.args["gradient in"] = shapes_of(g.data for g in out_grads if g is not None)
        event.args["gradients out"] = shapes_of(g.data for g in in_grads if g is not None)

    # ------------------------------------------------------------------ the stand-ins
    def _patch(self, owner, name, new):
        self._patches.append((owner, name, getattr(owner, name)))
        setattr(owner, name, new)

    def _install(self):
        table = backend.kernels
        modules = []
        for name in table.__all__:
            fn = getattr(table, name)
            self._patch(table, name, Timed(self, "kernel", fn))
            module = sys.modules.get(getattr(fn, "__module__", None) or "")
            if module is not None and module is not table and module not in modules:
                modules.append(module)
        for module in modules:
            public = getattr(module, "__all__", ())
            for name, value in list(vars(module).items()):
                if value is _numba_jit:
                    self._patch(module, name, self._traced_jit)
                elif is_cuda_kernel(value):
                    self._patch(module, name, TimedKernel(self, value))
                elif name in public and callable(value) and hasattr(value, "__code__"):
                    self._patch(module, name, Timed(self, "kernel", value))
        self._patch(backend, "xp", TracedArrays(self, backend.xp))
        self._patch(Optimizer, "apply", self._traced_apply(Optimizer.apply))

    def _traced_jit(self, loop):
        """``jit`` while tracing: the compiled loop, timed under the loop's name."""
        return Timed(self, "kernel", _numba_jit(loop), name=kernel_name(loop),
                      extra={"compiled by": "numba"})

    def _traced_apply(self, apply):
        trace = self

        def traced_apply(optimizer, grads, trainable_variables=None):
            grads = list(grads)
            event = trace._open("optimizer", f"{type(optimizer).__name__}.apply",
                                {"gradients": len(grads)})
            try:
                return apply(optimizer, grads, trainable_variables)
            finally:
                trace._close(event)
        return traced_apply

    # ------------------------------------------------------------------ reading it
    def _problem(self):
        """Why there is nothing to show yet, or None."""
        if self._t0 is None:
            return "debug.trace(): this trace has not recorded anything yet. " + _USAGE
        if self.recording:
            return ("debug.trace(): this trace is still recording; read it after its `with` "
                    "block has ended.")
        if not self.events:
            return ("debug.trace(): nothing was recorded: no layer, op, kernel or array "
                    "function ran inside the `with debug.trace() as t:` block. Put the code "
                    "to trace inside the block. " + _USAGE)
        return None

    def all_events(self):
        """Every event, outermost first, in the order they started."""
        for event in self.events:
            yield from event.walk()

    def __str__(self):
        problem = self._problem()
        if problem:
            return problem
        counts = collections.Counter(e.kind for e in self.all_events())
        lines = [f"trace: {self.duration_ns / 1e6:.3f} ms on the {backend.mode} backend; "
                 f"{counts['forward']} op forwards, {counts['backward']} backward steps, "
                 f"{counts['kernel'] + counts['cuda'] + counts['array']} kernel and array "
                 "calls (each time includes what ran inside)"]
        for event in self.events:
            _tree_lines(event, 0, lines)
        return "\n".join(lines)

    __repr__ = __str__

    def table(self, limit=None):
        """Calls and time per op (forward and backward apart) and per kernel or array
        function, largest total first, as text; ``limit`` rows of each at most. ``share``:
        of the whole block's time."""
        problem = self._problem()
        if problem:
            return problem
        groups = {"op": {}, "kernel": {}}
        for event in self.all_events():
            if event.kind in ("forward", "backward", "optimizer"):
                key, group = f"{event.name} ({event.kind})", "op"
            elif event.kind in ("kernel", "cuda", "array"):
                key, group = event.name, "kernel"
            else:
                continue
            row = groups[group].setdefault(key, [0, 0])
            row[0] += 1
            row[1] += event.end - event.start
        width = max([len(k) for g in groups.values() for k in g] + [24]) + 2
        head = f"{'calls':>7}{'total ms':>11}{'mean ms':>10}{'share':>8}"
        lines = []
        for group, title in (("op", "op"), ("kernel", "kernel or array function")):
            lines.append(f"{title:<{width}}{head}")
            rows = sorted(groups[group].items(), key=lambda item: -item[1][1])[:limit]
            for key, (calls, total) in rows:
                lines.append(f"{key:<{width}}{calls:>7}{total / 1e6:>11.3f}"
                             f"{total / 1e6 / calls:>10.4f}{total / self.duration_ns:>8.1%}")
            lines.append("")
        lines.append(f"whole block: {self.duration_ns / 1e6:.3f} ms; a time includes the "
                     "calls inside it (an op's, its kernels')")
        return "\n".join(lines)

    def save(self, path):
        """Write the trace as Chrome Trace Event JSON (open it in https://ui.perfetto.dev or
        chrome://tracing): one complete ("X") event per event, and a flow arrow from each
        op's forward to its node's backward. Written to a temporary file first, then
        renamed, so a failed save leaves no half-written file. Returns ``path``."""
        problem = self._problem()
        if problem:
            raise ValueError(problem.replace("debug.trace()", "trace.save()", 1))
        path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise FileNotFoundError(
                f"trace.save({path!r}): the folder {folder!r} does not exist. Create it "
                "first (os.makedirs(folder, exist_ok=True)) or save to an existing folder.")
        text = json.dumps({"traceEvents": self.chrome_events(), "displayTimeUnit": "ms"})
        atomic_write_bytes(path, text.encode("utf-8"))
        return path

    def chrome_events(self):
        """The trace as a list of Chrome Trace Events (what :meth:`save` writes)."""
        pid, tid = os.getpid(), 1
        out = [{"ph": "M", "name": "process_name", "pid": pid, "tid": tid,
                "args": {"name": f"minikeras ({backend.mode})"}}]
        forwards, backwards = {}, {}
        for event in self.all_events():
            ts, end = _us(event.start), _us(event.end)
            out.append({"ph": "X", "name": event.name, "cat": event.kind, "ts": ts,
                        "dur": round(end - ts, 3), "pid": pid, "tid": tid,
                        "args": {k: _jsonable(v) for k, v in event.args.items()}})
            node = event.args.get("node")
            if node is not None and event.kind == "forward":
                forwards[node] = ts
            elif node is not None and event.kind == "backward":
                backwards.setdefault(node, ts)
        for node, ts in forwards.items():
            if node in backwards:
                common = {"name": "forward to backward", "cat": "flow", "id": node,
                          "pid": pid, "tid": tid}
                out.append(dict(common, ph="s", ts=ts))
                out.append(dict(common, ph="f", bp="e", ts=backwards[node]))
        return out


# ---------------------------------------------------------------------- words
def _defined(fn):
    code = getattr(fn, "__code__", None)
    return Place((code.co_filename, code.co_firstlineno)) if code else "?"


def _us(ns):
    return round(ns / 1000, 3)


def _jsonable(value):
    return value if isinstance(value, (int, float, str)) else str(value)


def _label(event):
    a = event.args
    number = f" #{a['node']}" if "node" in a else ""
    ins, out = str(a.get("inputs", "")), str(a.get("output", ""))
    flow = f"{ins} -> {out}".strip() if out else ins
    if event.kind == "layer":
        return f"{event.name}  (layer)"
    if event.kind == "walk":
        return "backward  (the walk over the tape, newest node first)"
    if event.kind == "forward":
        return f"{event.name}{number}  {flow}  [{a.get('code', '?')}]"
    if event.kind == "backward":
        grads = " -> ".join(str(x) for x in (a.get("gradient in"), a.get("gradients out")) if x)
        return f"{event.name}{number} {a['rule']}  {grads}  [{a['code']}]"
    if event.kind == "optimizer":
        return f"{event.name}  ({a['gradients']} gradients)"
    launch = f"[grid {a['grid']}, block {a['block']}]" if event.kind == "cuda" else ""
    return f"{event.name}{launch}  {flow}  (from {a.get('called from', '?')})"


def _tree_lines(event, depth, lines):
    mark = "  !" if "unfinished" in event.args else ""
    lines.append(f"{event.ms:9.3f} ms  {'  ' * depth}{_label(event)}{mark}")
    for child in event.children:
        _tree_lines(child, depth + 1, lines)
