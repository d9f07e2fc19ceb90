"""The stand-ins a ``debug.trace()`` puts in place of kernels and array functions while it
records (``trace.py`` installs them and takes them away): each call of a kernel, a Numba loop,
a CUDA kernel launch or a function of ``backend.xp`` becomes one timed event of the trace,
with the shapes and dtypes of its arrays and the line that called it."""
import os
import sys

__all__ = ["Timed", "TimedKernel", "TracedArrays", "is_cuda_kernel", "Place", "Shapes",
           "relative", "kernel_name", "shapes_of"]

# minikeras/ (this file is minikeras/debug/stand_ins.py)
PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


# ---------------------------------------------------------------------- stand-ins
class Timed:
    """Stands in for a kernel or an array function while a trace records: each call is
    one event. Other attributes are the original's (``xp.add.at`` still works)."""

    def __init__(self, trace, kind, original, name=None, extra=None):
        self._trace, self._kind, self._original = trace, kind, original
        self._name = name or kernel_name(original)
        self._extra = extra or {}

    def __call__(self, *args, **kwargs):
        where = _where(sys._getframe(1))
        event = self._trace._open(self._kind, self._name,
                                  dict(self._extra, inputs=shapes_of(_arrays(args, kwargs)),
                                       **{"called from": where}))
        try:
            result = self._original(*args, **kwargs)
        finally:
            self._trace._close(event)
        if event is not None:
            event.args["output"] = shapes_of(_arrays((result,), {}))
        return result

    def __getattr__(self, name):
        return getattr(self._original, name)


class TimedKernel:
    """Stands in for a CUDA kernel: ``kernel[grid, block](...)`` launches it as one event
    that records the grid and the block."""

    def __init__(self, trace, kernel):
        self._trace, self._kernel = trace, kernel

    def __getitem__(self, config):
        grid, block = config[0], config[1]
        return Timed(self._trace, "cuda", self._kernel[config],
                      name=kernel_name(self._kernel.py_func),
                      extra={"grid": _dims(grid), "block": _dims(block)})

    def __getattr__(self, name):
        return getattr(self._kernel, name)


class TracedArrays:
    """``backend.xp`` while a trace records: the same module, each function timed."""

    def __init__(self, trace, module):
        self._trace, self._module, self._timed = trace, module, {}

    def __getattr__(self, name):
        timed = self._timed.get(name)
        if timed is not None:
            return timed
        value = getattr(self._module, name)
        if not callable(value) or isinstance(value, type):
            return value              # constants, dtypes, classes, submodules
        timed = self._timed[name] = Timed(self._trace, "array", value,
                                           name=f"{self._module.__name__}.{name}")
        return timed


def is_cuda_kernel(value):
    """A Numba CUDA kernel (not a device function: those are compiled into kernels)."""
    module = type(value).__module__ or ""
    if not (module.startswith("numba") and "cuda" in module and hasattr(value, "py_func")):
        return False
    device = getattr(value, "_device", None)
    if device is None:
        device = getattr(value, "targetoptions", {}).get("device", False)
    return not device


# ---------------------------------------------------------------------- words
def relative(filename):
    return filename[len(PACKAGE):] if filename.startswith(PACKAGE) else os.path.basename(filename)


class Place(tuple):
    """(file, line), written ``ops/nn.py:46`` (relative to minikeras/) when read."""

    def __str__(self):
        return f"{relative(self[0])}:{self[1]}"


def _where(frame):
    return Place((frame.f_code.co_filename, frame.f_lineno))


def kernel_name(fn):
    """``kernels/cpu/conv.py:im2col`` for a Python function, else its module and name."""
    code = getattr(getattr(fn, "py_func", fn), "__code__", None)
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", repr(fn))
    if code is None:
        return f"{getattr(fn, '__module__', None) or '?'}.{name}"
    return f"{relative(code.co_filename)}:{name}"


def _arrays(args, kwargs):
    """The arrays among the arguments (one level into tuples and lists)."""
    found = []
    for a in list(args) + list(kwargs.values()):
        for b in (a if isinstance(a, (tuple, list)) else (a,)):
            if hasattr(b, "shape") and hasattr(b, "dtype"):
                found.append(b)
    return found


class Shapes(tuple):
    """The (shape, dtype) of some arrays, kept as they are while recording and written
    out only when read: ``(32, 64), (64, 128) float32`` (the dtype once when shared)."""

    def __str__(self):
        if not self:
            return ""
        dtypes = {str(dtype) for _, dtype in self}
        if len(dtypes) == 1:
            return ", ".join(str(tuple(shape)) for shape, _ in self) + " " + dtypes.pop()
        return ", ".join(f"{tuple(shape)} {dtype}" for shape, dtype in self)


def shapes_of(arrays):
    """The (shape, dtype) of each of ``arrays``, as :class:`Shapes`."""
    return Shapes([(a.shape, a.dtype) for a in arrays])


def _dims(d):
    return tuple(d) if isinstance(d, (tuple, list)) else (int(d),)
