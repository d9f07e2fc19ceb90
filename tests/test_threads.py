"""The engine's thread setting (``minikeras.config.set_num_threads``) and the loops that
split their work among threads: the same numbers on one thread and on several."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minikeras
from minikeras.kernels.cpu import pooling, threads


@pytest.fixture
def restore_threads():
    """set_num_threads changes the whole process: put the suite's single thread back."""
    chosen = threads._chosen
    yield
    import threadpoolctl
    threadpoolctl.threadpool_limits(limits=1, user_api="blas")
    threads._chosen = chosen


def test_the_environment_sets_the_number(monkeypatch):
    monkeypatch.setattr(threads, "_chosen", None)
    for name in threads._ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    assert threads.num_threads() == threads.available_cores()
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    assert threads.num_threads() == 2          # the smallest of the ones set
    monkeypatch.setenv("NUMBA_NUM_THREADS", "junk")
    assert threads.num_threads() == 2          # a value that is not a count is ignored


def test_set_num_threads_sets_blas_and_the_loops(restore_threads):
    import numba
    import threadpoolctl
    most = numba.config.NUMBA_NUM_THREADS
    minikeras.config.set_num_threads(most)
    assert minikeras.config.num_threads() == most
    blas = [p for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
    assert blas and all(p["num_threads"] == most for p in blas)
    minikeras.config.set_num_threads(1)
    assert minikeras.config.num_threads() == 1
    blas = [p for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
    assert all(p["num_threads"] == 1 for p in blas)


@pytest.mark.parametrize("bad", [0, -2, 1.5, "2", True, None])
def test_set_num_threads_refuses_what_is_not_a_count(bad):
    with pytest.raises(ValueError, match=r"whole number of threads of at least 1, got"):
        minikeras.config.set_num_threads(bad)


def test_set_num_threads_refuses_more_than_the_pool():
    import numba
    most = numba.config.NUMBA_NUM_THREADS
    with pytest.raises(ValueError, match=rf"pool has {most} threads.*NUMBA_NUM_THREADS={most + 1}"):
        minikeras.config.set_num_threads(most + 1)
    assert threads._chosen != most + 1


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 3), h=st.integers(1, 9), w=st.integers(1, 9), c=st.integers(1, 5),
       p=st.integers(1, 3), extra=st.integers(0, 1), padding=st.sampled_from(["valid", "same"]),
       threads_=st.integers(1, 2), seed=st.integers(0, 2**31 - 1))
def test_parallel_max_pool_loops_match_the_view_code(n, h, w, c, p, extra, padding, threads_,
                                                     seed, monkeypatch):
    """The loops against the offset-view code (what CuPy arrays run): the same maxima,
    argmax and gradient on one thread and on two."""
    import numba
    pool_, strides = (p, p), (p + extra, p + extra)   # windows that do not overlap
    x = np.random.default_rng(seed).integers(-3, 4, (n, h, w, c)).astype(np.float64)
    if padding == "valid" and (h < p or w < p):
        return
    old = threads._chosen
    threads._chosen = threads_ if threads_ <= numba.config.NUMBA_NUM_THREADS else 1
    try:
        y, argmax = pooling.max_pool_forward(x, pool_, strides, padding)
        g = np.random.default_rng(seed + 1).standard_normal(y.shape)
        dx = pooling.max_pool_backward(g, argmax, x.shape, pool_, strides, padding)
        with monkeypatch.context() as m:
            m.setattr(pooling, "_loops_fit", lambda *arrays: False)
            y_ref, argmax_ref = pooling.max_pool_forward(x, pool_, strides, padding)
            dx_ref = pooling.max_pool_backward(g, argmax_ref, x.shape, pool_, strides, padding)
        np.testing.assert_array_equal(y, y_ref)
        np.testing.assert_array_equal(argmax, argmax_ref)
        np.testing.assert_array_equal(dx, dx_ref)
    finally:
        threads._chosen = old


def test_loops_run_on_numbas_own_pool_and_callers_take_turns():
    """The parallel loops use the workqueue layer (OpenMP's spinning threads took the cores
    from BLAS), and two Python threads running loops at once both get the right answer."""
    import os
    import threading

    import numba
    x = np.random.default_rng(0).standard_normal((4, 8, 8, 3))
    expected = pooling.max_pool_forward(x, (2, 2), (2, 2), "valid")[0]
    if "NUMBA_THREADING_LAYER" not in os.environ:
        assert numba.threading_layer() == "workqueue"
    results, errors = [], []

    def work():
        try:
            for _ in range(20):
                results.append(pooling.max_pool_forward(x, (2, 2), (2, 2), "valid")[0])
        except Exception as e:  # noqa: BLE001  (reported below)
            errors.append(e)

    workers = [threading.Thread(target=work) for _ in range(2)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert not errors
    assert len(results) == 40
    for y in results:
        np.testing.assert_array_equal(y, expected)
