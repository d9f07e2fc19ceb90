"""Numba on the CPU, for the few kernels where NumPy's whole-array passes cost more than
the arithmetic: a loop written in plain Python (readable, and runnable as Python), compiled
by ``numba.njit`` the first time it is called. Numba keeps the machine code on disk, so
later processes load it instead of compiling again; NumPy arrays of any layout work."""

_compiled = {}


def jit(loop):
    """``loop`` compiled by Numba (once per process)."""
    fn = _compiled.get(loop)
    if fn is None:
        import numba
        try:
            fn = numba.njit(cache=True, nogil=True)(loop)
        except RuntimeError:
            # No writable place for Numba's cache (a read-only install and home): compile
            # in memory only, once per process.
            fn = numba.njit(nogil=True)(loop)
        _compiled[loop] = fn
    return fn
