"""How many CPU threads the engine uses: one number for NumPy's matrix products (the BLAS
library under NumPy: OpenBLAS or MKL) and for our parallel loops (Numba's ``prange``).

The number is, first match:

1. what ``minikeras.config.set_num_threads(n)`` set last;
2. the smallest of ``OMP_NUM_THREADS``, ``NUMBA_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` and
   ``MKL_NUM_THREADS`` that the process was started with (so ``OPENBLAS_NUM_THREADS=1``
   makes the whole engine run on one thread, as the test suite does);
3. the cores this process may run on, which is also what BLAS and Numba take by default.

Importing minikeras changes no thread pool: the environment alone steers BLAS, and our loops
read the number above each time they start (:func:`run_parallel`). ``set_num_threads``
changes both pools for the whole process: BLAS through ``threadpoolctl`` (a well-kept library
that finds the BLAS NumPy loaded and calls its own setter) and Numba with
``numba.set_num_threads``.

Why one number for two pools: an op calls BLAS or one of our loops, never both at once, so
with n for each, n threads are busy at any moment, provided that the pool that just finished
lets go of the cores. Numba's default pool on Linux is OpenMP's, whose idle threads keep
spinning for a while after each loop: they then took the cores from the next matrix product,
and the MNIST convnet's step on two threads went from 27 ms to 68 ms. So the loops run on
Numba's own pool (the ``workqueue`` threading layer), whose idle threads sleep, unless the
user chose a layer with ``NUMBA_THREADING_LAYER``. That pool must not be entered by two
Python threads at once; :func:`run_parallel` takes a lock, so concurrent callers wait their
turn instead.
"""
import os
import threading

__all__ = ["num_threads", "set_num_threads", "run_parallel"]

_ENVIRONMENT = ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "MKL_NUM_THREADS")
_chosen = None            # set by set_num_threads


def available_cores():
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        return os.cpu_count() or 1


def _from_environment():
    counts = []
    for name in _ENVIRONMENT:
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            counts.append(int(value))
    return min(counts) if counts else None


def num_threads():
    """The number of threads the engine uses (see the module's docstring for where it
    comes from)."""
    if _chosen is not None:
        return _chosen
    return _from_environment() or available_cores()


def _numba_pool_size():
    """How many threads Numba started its pool with (NUMBA_NUM_THREADS, else the cores): the
    most a parallel loop can use."""
    import numba
    return numba.config.NUMBA_NUM_THREADS


def set_num_threads(n):
    """Use ``n`` threads from now on, in BLAS and in our parallel loops."""
    global _chosen
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads expects a whole number of threads of at least 1, "
                         f"got {n!r}")
    most = _numba_pool_size()
    if n > most:
        raise ValueError(
            f"set_num_threads({n}): the parallel loops' pool has {most} threads (Numba "
            f"starts NUMBA_NUM_THREADS={most} threads once per process); ask for 1 to {most}, "
            f"or start Python with NUMBA_NUM_THREADS={n}")
    import threadpoolctl
    threadpoolctl.threadpool_limits(limits=n, user_api="blas")
    _chosen = n


_one_at_a_time = threading.Lock()


def run_parallel(compiled, *args):
    """Call a loop compiled with ``parallel=True`` on :func:`num_threads` threads.

    Numba's thread count belongs to the calling thread, so it is set here, just before the
    loop starts, rather than once: a loop called from another Python thread (a data
    loader's, a test runner's) runs with the engine's number too."""
    import numba
    if "NUMBA_THREADING_LAYER" not in os.environ:
        # before Numba starts its pool (at the first parallel loop or thread-count call)
        numba.config.THREADING_LAYER = "workqueue"
    with _one_at_a_time:
        n = min(num_threads(), numba.config.NUMBA_NUM_THREADS)
        if numba.get_num_threads() != n:
            numba.set_num_threads(n)
        return compiled(*args)
