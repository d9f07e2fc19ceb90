"""Choosing the backend (environment, config file, default) and its errors; the cuda backend
under Numba's simulator, in a separate process."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import minikeras as mk

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_python(code, **env_changes):
    env = {k: v for k, v in os.environ.items()
           if k not in ("MINIKERAS_BACKEND", "NUMBA_ENABLE_CUDASIM", "MINIKERAS_HOME")}
    env.update({k: v for k, v in env_changes.items() if v is not None})
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          cwd=ROOT)


def test_default_backend_is_numpy():
    assert mk.config.backend() == "numpy"
    assert mk.backend.xp is np and mk.backend.mode == "numpy"
    assert mk.backend.kernels.__name__ == "minikeras.kernels.cpu"


def test_unknown_backend_fails_at_import_naming_the_choices(tmp_path):
    r = run_python("import minikeras", MINIKERAS_BACKEND="jax", MINIKERAS_HOME=str(tmp_path))
    assert r.returncode != 0
    assert "unknown backend 'jax' (from MINIKERAS_BACKEND)" in r.stderr
    assert "'numpy'" in r.stderr and "'cuda'" in r.stderr and "NUMBA_ENABLE_CUDASIM=1" in r.stderr


def test_cuda_without_gpu_or_simulator_fails_at_import(tmp_path):
    probe = run_python("import cupy, sys; sys.exit(0 if cupy.is_available() else 1)")
    if probe.returncode == 0:
        pytest.skip("a GPU is present: the cuda backend starts")
    r = run_python("import minikeras", MINIKERAS_BACKEND="cuda", MINIKERAS_HOME=str(tmp_path))
    assert r.returncode != 0
    assert "the 'cuda' backend cannot start" in r.stderr
    assert "pip install 'minikeras[gpu]'" in r.stderr and "NUMBA_ENABLE_CUDASIM=1" in r.stderr
    assert "MINIKERAS_BACKEND=numpy" in r.stderr


def test_config_file_is_read(tmp_path):
    (tmp_path / "minikeras.json").write_text(json.dumps(
        {"backend": "numpy", "floatx": "float64", "epsilon": 1e-5,
         "image_data_format": "channels_first"}))
    r = run_python("import minikeras as k; c = k.config; "
                   "print(c.backend(), c.floatx(), c.epsilon(), c.image_data_format(), "
                   "k.Tensor(1.5).dtype)", MINIKERAS_HOME=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["numpy", "float64", "1e-05", "channels_first", "float64"]


def test_environment_wins_over_config_file(tmp_path):
    (tmp_path / "minikeras.json").write_text(json.dumps({"backend": "tensorflow"}))
    r = run_python("import minikeras as k; print(k.config.backend())",
                   MINIKERAS_HOME=str(tmp_path), MINIKERAS_BACKEND="numpy")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "numpy"
    r = run_python("import minikeras", MINIKERAS_HOME=str(tmp_path))
    assert "unknown backend 'tensorflow' (from " in r.stderr and "minikeras.json" in r.stderr


def test_broken_config_file_gives_a_clear_error(tmp_path):
    (tmp_path / "minikeras.json").write_text("{not json")
    r = run_python("import minikeras", MINIKERAS_HOME=str(tmp_path))
    assert r.returncode != 0
    assert "cannot read the config file" in r.stderr and "minikeras.json" in r.stderr


def test_set_floatx_and_epsilon_and_their_errors():
    old_f, old_e = mk.config.floatx(), mk.config.epsilon()
    try:
        mk.config.set_floatx("float64")
        assert mk.Tensor(1.0).dtype == np.float64
        mk.config.set_epsilon(1e-4)
        assert mk.config.epsilon() == 1e-4
    finally:
        mk.config.set_floatx(old_f)
        mk.config.set_epsilon(old_e)
    with pytest.raises(ValueError, match="unknown floatx 'float8'; expected one of float16, float32, float64"):
        mk.config.set_floatx("float8")
    with pytest.raises(ValueError, match="unknown image_data_format 'nhwc'"):
        mk.config.set_image_data_format("nhwc")


def test_cuda_backend_under_the_simulator():
    pytest.importorskip("numba.cuda")
    env = {k: v for k, v in os.environ.items() if k != "MINIKERAS_HOME"}
    env.update(NUMBA_ENABLE_CUDASIM="1", MINIKERAS_BACKEND="cuda",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        os.path.join(ROOT, "tests", "cudasim")],
                       env=env, capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert " passed" in r.stdout and " failed" not in r.stdout


def test_freed_memory_is_kept_for_the_next_step():
    """On Linux with glibc the numpy backend raises malloc's thresholds at import, so the
    large arrays of one training step are reused by the next instead of being returned to
    the operating system (and faulted in again). MINIKERAS_KEEP_FREED_MEMORY=0 turns it off."""
    if not sys.platform.startswith("linux"):
        pytest.skip("glibc's mallopt is Linux-only")
    # A "step": several large arrays alive at once (the sizes of a small convnet's
    # activations and im2col matrices, in MiB), then all freed.
    code = ("import resource, numpy as np, minikeras\n"
            "from minikeras.backend import host_memory\n"
            "def step():\n"
            "    arrays = [np.ones(n * 2**18, np.float32) for n in (11, 17, 11, 4, 3, 11, 6)]\n"
            "    return sum(float(a[::4096].sum()) for a in arrays)\n"
            "for _ in range(3): step()\n"
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
            "for _ in range(20): step()\n"
            "print(host_memory.active, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)\n")
    runs = {}
    for flag in ("1", "0"):
        env = dict(os.environ, MINIKERAS_KEEP_FREED_MEMORY=flag, PYTHONPATH=ROOT)
        r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        active, faults = r.stdout.split()
        runs[flag] = (active == "True", int(faults))
    assert runs["1"][0] and not runs["0"][0]
    # Returned to the system each time, 20 steps of 63 MiB fault in ~60,000 pages again.
    assert runs["0"][1] > 10000 and runs["1"][1] < runs["0"][1] / 10, runs
