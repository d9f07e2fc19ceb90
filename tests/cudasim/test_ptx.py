"""Compile every CUDA kernel to PTX with the real Numba pipeline (type inference, NVVM): the
simulator type-checks nothing, so this catches kernels that would not compile on a GPU.
Needs the NVVM/NVRTC libraries of ``numba-cuda[cu13]``; skipped without them."""
import numpy as np
import pytest


def _compile(pyfunc, sig):
    import importlib
    import os
    import subprocess
    import sys
    code = (
        "import numba\nfrom numba import cuda\n"
        f"import importlib\nm = importlib.import_module({pyfunc.__module__!r})\n"
        f"f = getattr(m, {pyfunc.__name__!r}).py_func\n"
        f"ptx, _ = cuda.compile_ptx(f, {sig!r}, cc=(7, 5))\n"
        "print(len(ptx))\n")
    env = dict(os.environ)
    env.pop("NUMBA_ENABLE_CUDASIM", None)  # the real compiler, not the simulator
    env["MINIKERAS_BACKEND"] = "numpy"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


@pytest.mark.parametrize("module,name,sig", [
    ("activations", "_relu_kernel", "void(float32[::1], float32[::1])"),
    ("activations", "_relu_grad_kernel", "void(float32[::1], float32[::1], float32[::1])"),
    ("activations", "_softmax_rows_kernel", "void(float32[:, ::1], float32[:, ::1])"),
    ("updates", "_sgd_kernel", "void(float32[::1], float32[::1], float32)"),
    ("updates", "_sgd_momentum_kernel",
     "void(float32[::1], float32[::1], float32[::1], float32, float32, boolean)"),
    ("updates", "_adam_kernel", "void(float32[::1], float32[::1], float32[::1], float32[::1], "
                              "float32[::1], float32, float32, float32, float32, boolean)"),
])
def test_kernel_compiles_to_ptx(module, name, sig):
    import importlib
    kernels = importlib.import_module(f"minikeras.kernels.cuda.{module}")
    result = _compile(getattr(kernels, name), sig)
    if result.returncode != 0 and ("DynamicLibNotFoundError" in result.stderr
                                   or "libnvvm" in result.stderr.lower()
                                   or "nvrtc" in result.stderr.lower()):
        pytest.skip("the NVVM/NVRTC libraries are not installed (pip install 'numba-cuda[cu13]')")
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout.strip()) > 100
