"""The engine's thread setting: ``minikeras.config.num_threads()`` and ``set_num_threads``."""
import numpy as np
import pytest
import threadpoolctl

import minikeras
from minikeras.kernels.cpu import threads


def blas_threads():
    pools = [p for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
    assert pools, "NumPy's BLAS library was not found by threadpoolctl"
    return {p["num_threads"] for p in pools}


@pytest.fixture
def restore_threads():
    """set_num_threads changes the whole process: give the suite its BLAS count back."""
    chosen, before = threads._chosen, max(blas_threads())
    yield
    threadpoolctl.threadpool_limits(limits=before, user_api="blas")
    threads._chosen = chosen


def test_the_environment_sets_the_number(monkeypatch):
    monkeypatch.setattr(threads, "_chosen", None)
    for name in threads.ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    assert minikeras.config.num_threads() == threads.available_cores()
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert minikeras.config.num_threads() == 3
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    assert minikeras.config.num_threads() == 2          # the smallest of those set
    monkeypatch.setenv("NUMBA_NUM_THREADS", "junk")
    monkeypatch.setenv("MKL_NUM_THREADS", "0")
    assert minikeras.config.num_threads() == 2          # values that are not a count: ignored


def test_set_num_threads_sets_the_blas_pool(restore_threads):
    minikeras.config.set_num_threads(2)
    assert minikeras.config.num_threads() == 2
    assert blas_threads() == {2}
    a = np.random.default_rng(0).standard_normal((300, 200))
    np.testing.assert_allclose(a @ a.T, np.einsum("ik,jk->ij", a, a), rtol=1e-10, atol=1e-10)
    minikeras.config.set_num_threads(1)
    assert minikeras.config.num_threads() == 1
    assert blas_threads() == {1}


@pytest.mark.parametrize("bad", [0, -2, 1.5, "2", True, None])
def test_set_num_threads_refuses_what_is_not_a_count(bad, restore_threads):
    chosen = threads._chosen
    with pytest.raises(ValueError, match=r"whole number of threads of at least 1, got " + repr(bad).replace(".", r"\.")):
        minikeras.config.set_num_threads(bad)
    assert threads._chosen == chosen                     # nothing changed


def test_set_num_threads_says_when_there_is_no_blas_pool(restore_threads, monkeypatch):
    monkeypatch.setattr(threadpoolctl, "threadpool_info", lambda: [])
    with pytest.warns(RuntimeWarning, match=r"set_num_threads\(1\): threadpoolctl found no BLAS "
                                            r"library loaded in this process"):
        minikeras.config.set_num_threads(1)
    assert minikeras.config.num_threads() == 1


def test_importing_minikeras_changes_no_thread_pool():
    """A fresh interpreter: the BLAS pool has the same size before and after the import."""
    import subprocess
    import sys
    code = ("import threadpoolctl, numpy\n"
            "before = [p['num_threads'] for p in threadpoolctl.threadpool_info()]\n"
            "import minikeras\n"
            "after = [p['num_threads'] for p in threadpoolctl.threadpool_info()"
            " if p['user_api'] == 'blas']\n"
            "print(before == after[:len(before)], minikeras.config.num_threads())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out[0] == "True"
    assert int(out[1]) == minikeras.config.num_threads()
