"""benchmarks/bench_gpu.py on a machine without a GPU says so plainly and times nothing."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_without_a_gpu_the_benchmark_says_so_and_exits_cleanly():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")    # the simulator is never a GPU
    r = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "bench_gpu.py")],
                       env=env, capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("bench_gpu: no GPU to measure: NUMBA_ENABLE_CUDASIM=1 is set")
    assert "Nothing was timed" in r.stdout and "tests/cudasim" in r.stdout
