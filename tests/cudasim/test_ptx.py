"""Compile every CUDA kernel to PTX with the real Numba pipeline (type inference, NVVM): the
simulator type-checks nothing, so this catches kernels that would not compile on a GPU. Each
kernel module lists its kernels and their types in ``PTX_SIGNATURES``; one subprocess per
module compiles them all and reports the shared memory each kernel's PTX declares, which must
fit a block. Needs the NVVM/NVRTC libraries of ``numba-cuda[cu13]``; skipped without them."""
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
        report[f"{name} {sig}"] = {"ptx_chars": len(ptx), "shared_bytes": shared,
                                   "entry": ".entry" in ptx}
print(json.dumps(report))
"""


def _modules():
    return [f"minikeras.kernels.cuda.{name}" for name in cuda_table.FAMILIES]


@pytest.mark.parametrize("module_name", _modules())
def test_every_kernel_of_the_module_is_listed(module_name):
    module = importlib.import_module(module_name)
    kernels = {name for name, value in vars(module).items() if is_cuda_kernel(value)}
    assert kernels, f"{module_name} has no CUDA kernel"
    assert kernels == set(module.PTX_SIGNATURES), (kernels, set(module.PTX_SIGNATURES))


@pytest.mark.parametrize("module_name", _modules())
def test_kernels_compile_to_ptx_and_fit_a_block(module_name):
    env = dict(os.environ)
    env.pop("NUMBA_ENABLE_CUDASIM", None)  # the real compiler, not the simulator
    env["MINIKERAS_BACKEND"] = "numpy"
    result = subprocess.run([sys.executable, "-c", _COMPILE, module_name], env=env,
                            capture_output=True, text=True)
    if result.returncode != 0 and ("DynamicLibNotFoundError" in result.stderr
                                   or "libnvvm" in result.stderr.lower()
                                   or "nvrtc" in result.stderr.lower()):
        pytest.skip("the NVVM/NVRTC libraries are not installed (pip install 'numba-cuda[cu13]')")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    module = importlib.import_module(module_name)
    assert len(report) == sum(len(s) for s in module.PTX_SIGNATURES.values())
    for kernel, r in report.items():
        assert r["entry"] and r["ptx_chars"] > 100, kernel
        assert r["shared_bytes"] <= MAX_SHARED_BYTES_PER_BLOCK, (kernel, r["shared_bytes"])
