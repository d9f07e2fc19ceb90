"""Compile every CUDA kernel to PTX with the real Numba pipeline (type inference, NVVM): the
simulator type-checks nothing, so this catches kernels that would not compile on a GPU. Each
kernel module lists its kernels and their types in ``PTX_SIGNATURES``; one subprocess per
module compiles them all and reports the shared memory each kernel's PTX declares, which must
fit a block, and the float64 instructions it holds: none in a kernel compiled for float32,
unless ``FLOAT64_ON_PURPOSE`` says why. Needs the NVVM/NVRTC libraries of
``numba-cuda[cu13]``; skipped without them."""
import functools
import importlib
import json
import os
import subprocess
import sys

import pytest

from minikeras.debug.stand_ins import is_cuda_kernel
from minikeras.kernels import cuda as cuda_table
from minikeras.kernels.cuda.launch import MAX_SHARED_BYTES_PER_BLOCK

_COMPILE = r"""
import json, re, sys, importlib
from numba import cuda
m = importlib.import_module(sys.argv[1])
report = {}
for name, sigs in m.PTX_SIGNATURES.items():
    for sig in sigs:
        ptx, _ = cuda.compile_ptx(getattr(m, name).py_func, sig, cc=(7, 5))
        shared = sum(int(n) for n in re.findall(r"\.shared\s+\.align\s+\d+\s+\.b8\s+\S+?\[(\d+)\]", ptx))
        f64 = sorted(set(re.findall(r"\b[a-z]+(?:\.[a-z0-9]+)*\.f64\b", ptx)))
        report[f"{name} {sig}"] = {"ptx_chars": len(ptx), "shared_bytes": shared,
                                   "entry": ".entry" in ptx, "f64": f64}
print(json.dumps(report))
"""

# Kernels compiled for float32 whose PTX holds float64 instructions on purpose, and why.
FLOAT64_ON_PURPOSE = {
    "_standardize_forward_kernel": "adds up its sums in float64 for float32 inputs too, so the "
                                   "statistics are as exact as NumPy's (kernels/cuda/"
                                   "normalization.py); its epsilon is a float64",
    "_standardize_backward_kernel": "adds up its sums in float64, as the forward kernel",
}


def _modules():
    return [f"minikeras.kernels.cuda.{name}" for name in cuda_table.FAMILIES]


@pytest.mark.parametrize("module_name", _modules())
def test_every_kernel_of_the_module_is_listed(module_name):
    module = importlib.import_module(module_name)
    kernels = {name for name, value in vars(module).items() if is_cuda_kernel(value)}
    assert kernels, f"{module_name} has no CUDA kernel"
    assert kernels == set(module.PTX_SIGNATURES), (kernels, set(module.PTX_SIGNATURES))


@functools.lru_cache(maxsize=None)
def _compile(module_name):
    """(return code, stdout, stderr) of the subprocess that compiles the module's kernels:
    once per module for both tests that read its report."""
    env = dict(os.environ)
    env.pop("NUMBA_ENABLE_CUDASIM", None)  # the real compiler, not the simulator
    env["MINIKERAS_BACKEND"] = "numpy"
    result = subprocess.run([sys.executable, "-c", _COMPILE, module_name], env=env,
                            capture_output=True, text=True)
    return result.returncode, result.stdout, result.stderr


def _report(module_name):
    """kernel and signature -> what its PTX holds (skips without the compiler's libraries)."""
    returncode, stdout, stderr = _compile(module_name)
    if returncode != 0 and ("DynamicLibNotFoundError" in stderr or "libnvvm" in stderr.lower()
                            or "nvrtc" in stderr.lower()):
        pytest.skip("the NVVM/NVRTC libraries are not installed (pip install 'numba-cuda[cu13]')")
    assert returncode == 0, stderr[-3000:]
    return json.loads(stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module_name", _modules())
def test_kernels_compile_to_ptx_and_fit_a_block(module_name):
    report = _report(module_name)
    module = importlib.import_module(module_name)
    assert len(report) == sum(len(s) for s in module.PTX_SIGNATURES.values())
    for kernel, r in report.items():
        assert r["entry"] and r["ptx_chars"] > 100, kernel
        assert r["shared_bytes"] <= MAX_SHARED_BYTES_PER_BLOCK, (kernel, r["shared_bytes"])


@pytest.mark.parametrize("module_name", _modules())
def test_float32_kernels_compute_in_float32_on_a_gpu(module_name):
    """A float64 constant (``1.0``, ``0``) in a kernel makes the real compiler turn float32
    arithmetic into float64, slower on every GPU; the simulator cannot show it, the PTX does.
    Every signature is checked but the float64 ones (float64 types and no float32)."""
    report = _report(module_name)
    module = importlib.import_module(module_name)
    found = {}
    for name, sigs in module.PTX_SIGNATURES.items():
        for sig in sigs:
            f64 = report[f"{name} {sig}"]["f64"]
            if "float64" in sig and "float32" not in sig:
                continue                   # a float64 kernel computes in float64
            if name in FLOAT64_ON_PURPOSE:
                assert f64, f"{name} no longer uses float64: remove it from FLOAT64_ON_PURPOSE"
            elif f64:
                found[f"{name} {sig}"] = f64
    assert not found, found
