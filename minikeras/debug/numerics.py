"""Where a NaN or an Inf started: ``with debug.check_numerics(): ...``.

Inside the block every op's output is checked as it is computed, and every gradient as
the backward walk computes it. The first op that turns finite numbers into a NaN or an
Inf stops the block with a :class:`NumericsError` that names the phase (forward or
backward), the op, the line of your code that called it, the first bad index, the input
values at that index and the op's derivative rule. A NaN that was already in the data is
reported as such, at the first op that meets it. So the error points at the origin, not
at the loss many ops later, where the NaN is finally seen.
"""
import contextlib
import linecache
import os
import sys
import warnings

import numpy as np

from .. import backend
from ..autograd import state
from .steps import rule_of, tensor_name

__all__ = ["check_numerics", "NumericsError"]

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class NumericsError(FloatingPointError):
    """A NaN or an Inf appeared; the message says where and why."""


def _user_line():
    """``file:line  source`` of the first frame outside minikeras, or ""."""
    f = sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(_PACKAGE):
        f = f.f_back
    if f is None:
        return ""
    text = linecache.getline(f.f_code.co_filename, f.f_lineno).strip()
    return f"{os.path.basename(f.f_code.co_filename)}:{f.f_lineno}  {text}"


def _first_bad(array):
    """(index tuple, value) of the first element that is not finite, or None."""
    a = backend.to_numpy(array)
    if a.dtype.kind not in "fc" or a.size == 0:
        return None
    bad = ~np.isfinite(a)
    if not bad.any():
        return None
    index = np.unravel_index(int(np.argmax(bad)), a.shape)
    return tuple(int(i) for i in index), a[index]


def _value_at(t, index, out_shape):
    """The value of input ``t`` that met output cell ``index`` of an op whose inputs
    broadcast to ``out_shape``; None when the op does not work cell by cell."""
    shape = tuple(t.shape)
    try:
        if np.broadcast_shapes(shape, tuple(out_shape)) != tuple(out_shape):
            return None
    except ValueError:
        return None
    a = backend.to_numpy(t.data)
    lead = len(out_shape) - len(shape)
    at = tuple(0 if n == 1 else i for i, n in zip(index[lead:], shape))
    return a[at]


def _describe_inputs(inputs, index, out_shape):
    parts = []
    for t in inputs:
        v = _value_at(t, index, out_shape)
        name = tensor_name(t)
        if v is None:
            lo, hi = _range(t)
            parts.append(f"{name} {tuple(t.shape)} (values from {lo:.4g} to {hi:.4g})")
        else:
            parts.append(f"{name} = {_number(v)}")
    return ", ".join(parts)


def _number(v):
    v = np.asarray(v).item()
    return f"{v:.6g}" if isinstance(v, float) else repr(v)


def _range(t):
    a = backend.to_numpy(t.data)
    if a.size == 0 or a.dtype.kind not in "fciub":
        return float("nan"), float("nan")
    return float(np.nanmin(a)), float(np.nanmax(a))


def _kind(value):
    return "nan" if value != value else ("inf" if value > 0 else "-inf")


class _Checker:
    """The observer ``check_numerics`` puts on the tape (see ``autograd.state.observers``)."""

    def __init__(self):
        self.float_ops = 0
        self.in_backward = None   # the node whose backward is running: its ops are its own

    def backward_starts(self, node):
        self.in_backward = node

    def forward(self, fn, inputs, result):
        if self.in_backward is not None:
            return  # an op inside a node's backward: checked as that node's gradients
        outputs = result if isinstance(result, tuple) else (result,)
        floats = [o for o in outputs if o.data.dtype.kind in "fc"]
        if not floats:
            return
        self.float_ops += 1
        for o in floats:
            found = _first_bad(o.data)
            if found is None:
                continue
            index, value = found
            where = _user_line()
            for t in inputs:
                bad_in = _first_bad(t.data)
                if bad_in is not None and t._node is None:
                    raise NumericsError(
                        f"check_numerics: a {_kind(bad_in[1])} came in with the data: the input "
                        f"{tensor_name(t)} of {fn.name} (shape {tuple(t.shape)}) already holds "
                        f"{_number(bad_in[1])} at {list(bad_in[0])}, before any op made it.\n"
                        f"  at: {where or '?'}\n"
                        "Clean the data (np.isfinite) or find where it was loaded.")
                if bad_in is not None:
                    return  # an earlier op made it outside this block: not this op's doing
            raise NumericsError(
                f"check_numerics: the forward of {fn.op_name()} made {_kind(value)} at "
                f"{list(index)} from finite inputs: {_describe_inputs(inputs, index, o.shape)}.\n"
                f"  op:   {fn.name}\n  at:   {where or '?'}\n"
                f"  rule: {rule_of(fn)}")

    def backward(self, node, out_grads, in_grads):
        self.in_backward = None
        if any(g is not None and _first_bad(g.data) is not None for g in out_grads):
            return  # the gradient arrived already bad: an earlier step reported it
        for k, g in enumerate(in_grads):
            found = None if g is None else _first_bad(g.data)
            if found is None:
                continue
            index, value = found
            x = node.inputs[k]
            where = f"{node.location()}  {node.source_line()}".strip()
            raise NumericsError(
                f"check_numerics: the forward of {node.op_name()} was finite; its backward made "
                f"{_kind(value)} at {list(index)} in the gradient of {tensor_name(x)} because "
                f"{_describe_inputs(node.inputs, index, x.shape)} there.\n"
                f"  op:   {node.name} #{node.seq}{' in ' + node.layer if node.layer else ''}\n"
                f"  at:   {where or '?'}\n"
                f"  rule: {rule_of(node)}")


@contextlib.contextmanager
def check_numerics():
    """Stop at the first op whose output or gradient is not finite (see the module
    docstring). NumPy's own warnings about invalid values are silenced inside: the error
    says more. Ops on integers are not checked (they cannot make NaN or Inf)."""
    checker = _Checker()
    state.observers.append(checker)
    try:
        with np.errstate(all="ignore"):
            yield checker
    finally:
        state.observers.remove(checker)
    if checker.float_ops == 0:
        warnings.warn("check_numerics(): no floating-point op ran inside the block, so "
                      "nothing was checked (integer ops cannot make NaN or Inf).", stacklevel=3)
