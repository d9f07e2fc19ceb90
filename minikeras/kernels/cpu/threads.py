"""How many CPU threads the engine uses, as one number: ``minikeras.config.num_threads()``.

The number is, first match:

1. what ``minikeras.config.set_num_threads(n)`` set last;
2. the smallest of ``OMP_NUM_THREADS``, ``NUMBA_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` and
   ``MKL_NUM_THREADS`` that the process was started with (``OPENBLAS_NUM_THREADS=1``, as
   the test suite runs, puts the whole engine on one thread);
3. the cores this process may run on, which is what BLAS takes when nothing is set.

Where the threads go. The matrix products (every Dense, every convolution's im2col
product, the recurrent steps) are NumPy's ``matmul``, which hands them to the BLAS library
NumPy loaded (OpenBLAS or MKL); BLAS splits each product among its threads and reads the
environment variables above itself. Our own compiled loops (``jit.py``: the ReLU masks,
max pooling, the SGD update, the cross-entropy rows) run on the calling thread. Each was
tried split among threads with Numba's ``prange`` on two cores, and none was faster inside
a training step. The reason is BLAS: after each product OpenBLAS's worker threads keep
spinning for a while, waiting for the next one, so the other cores are taken when our loop
starts. The ReLU mask at the size of the MNIST convnet's first layer, (128, 26, 26, 32):
686 µs on one thread and 417 µs on two when run alone, but 830 µs and 866 µs right after
a matrix product (and with Numba's OpenMP pool instead of its own, 7.8 ms: two spinning
pools). Making OpenBLAS's workers sleep at once (``OPENBLAS_THREAD_TIMEOUT=4``) frees the
cores, but every product then waits for its threads to wake: the MLP, convnet, LSTM and
LSTM cell-loop steps on two threads were 5%, 6%, 48% and 18% slower. So at any moment one
pool is busy, and BLAS's threads and ours never compete for the cores.

``set_num_threads(n)`` changes BLAS's pool for the whole process, through ``threadpoolctl``
(a well-kept library that finds the BLAS NumPy loaded and calls that library's own setter).
Importing minikeras changes no thread pool.
"""
import os
import warnings

__all__ = ["num_threads", "set_num_threads"]

ENVIRONMENT = ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS",
               "MKL_NUM_THREADS")
_chosen = None            # what set_num_threads set last


def available_cores():
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        return os.cpu_count() or 1


def from_environment():
    """The smallest thread count set in :data:`ENVIRONMENT` (values that are not a whole
    number of at least 1 are ignored), or None."""
    counts = []
    for name in ENVIRONMENT:
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            counts.append(int(value))
    return min(counts) if counts else None


def num_threads():
    """The number of threads the engine uses (see the module's docstring for where it
    comes from)."""
    if _chosen is not None:
        return _chosen
    return from_environment() or available_cores()


def set_num_threads(n):
    """Use ``n`` threads from now on for the matrix products (BLAS), for the whole process."""
    global _chosen
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads expects a whole number of threads of at least 1, "
                         f"got {n!r}")
    import threadpoolctl
    if not any(p["user_api"] == "blas" for p in threadpoolctl.threadpool_info()):
        warnings.warn(f"set_num_threads({n}): threadpoolctl found no BLAS library loaded in "
                      "this process, so no matrix-product thread pool was changed (NumPy's "
                      "BLAS is one it does not know, or NumPy runs without one)",
                      RuntimeWarning, stacklevel=2)
    threadpoolctl.threadpool_limits(limits=n, user_api="blas")
    _chosen = n
