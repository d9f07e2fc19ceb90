"""Numba on the CPU, for the few kernels where NumPy's whole-array passes cost more than
the arithmetic: a loop written in plain Python (readable, and runnable as Python), compiled
by ``numba.njit`` the first time it is called. Numba keeps the machine code on disk, so
later processes load it instead of compiling again; NumPy arrays of any layout work.

A loop may call an *element function*: a plain Python function of scalars, marked with
``@element``, that holds the arithmetic of one element (the SGD rule of ``updates.py``,
which the CUDA kernel calls too). From Python it is that function; when ``jit`` first
compiles a loop, it shows Numba every element function marked so far
(``register_jitable(inline="always")``), and Numba compiles each into the loops that call
it, inline, as if written there."""

_compiled = {}
_elements = []  # element functions not yet shown to Numba


def element(fn):
    """Mark ``fn`` as an element function that compiled loops may call; returns ``fn``."""
    _elements.append(fn)
    return fn


def jit(loop):
    """``loop`` compiled by Numba (once per process)."""
    fn = _compiled.get(loop)
    if fn is None:
        import numba.extending
        while _elements:
            numba.extending.register_jitable(inline="always")(_elements.pop())
        try:
            fn = numba.njit(cache=True, nogil=True)(loop)
        except RuntimeError:
            # No writable place for Numba's cache (a read-only install and home): compile
            # in memory only, once per process.
            fn = numba.njit(nogil=True)(loop)
        _compiled[loop] = fn
    return fn
