"""Numba on the CPU, for the few kernels where NumPy's whole-array passes cost more than
the arithmetic: a loop written in plain Python (readable, and runnable as Python), compiled
by ``numba.njit`` the first time it is called. Numba keeps the machine code on disk, so
later processes load it instead of compiling again; NumPy arrays of any layout work.

A loop that splits its work among threads writes ``for i in prange(n):`` for the loop whose
iterations are independent (no iteration writes what another reads or writes), and is
compiled with :func:`parallel`. ``prange`` below is plain ``range``, so the loop still runs as
Python; :func:`parallel` compiles it with Numba's ``prange`` in that name, and Numba hands
each of the engine's threads (``threads.num_threads()``) a share of the iterations.
"""
import types

prange = range   # in the loops' source: "these iterations may run on several threads"

_compiled = {}


def _njit(loop, **options):
    import numba
    try:
        return numba.njit(cache=True, nogil=True, **options)(loop)
    except RuntimeError:
        # No writable place for Numba's cache (a read-only install and home): compile
        # in memory only, once per process.
        return numba.njit(nogil=True, **options)(loop)


def jit(loop):
    """``loop`` compiled by Numba (once per process)."""
    fn = _compiled.get(loop)
    if fn is None:
        fn = _compiled[loop] = _njit(loop)
    return fn


def parallel(loop):
    """``loop`` compiled by Numba with its ``prange`` loops split among threads (once per
    process). Call the result through ``threads.run_parallel``, which sets the number of
    threads."""
    fn = _compiled.get(loop)
    if fn is None:
        import numba
        names = dict(loop.__globals__, prange=numba.prange)
        threaded = types.FunctionType(loop.__code__, names, loop.__name__, loop.__defaults__,
                                      loop.__closure__)
        threaded.__qualname__, threaded.__module__ = loop.__qualname__, loop.__module__
        fn = _compiled[loop] = _njit(threaded, parallel=True)
    return fn
