#!/usr/bin/env bash
# The checks that need an NVIDIA GPU, in one run: the kernel tests of tests/cudasim on the
# real GPU (no simulator), then bench_gpu.py (minikeras's cuda backend against PyTorch on
# CUDA, our tiled matmul against cuBLAS). Nothing is installed: the machine must already have
# CuPy, numba-cuda, PyTorch for CUDA, NumPy, h5py, threadpoolctl, pytest and hypothesis.
# minikeras is taken from this checkout (PYTHONPATH).
#
#   bash benchmarks/gpu_check.sh [OUTPUT_DIR]      # from the repository root
#
# The logs go to OUTPUT_DIR (default /tmp/gpu_check): nvidia-smi.txt,
# gpu_tests.log, bench_gpu.log. Each part has a time limit, so the whole run stays within
# about nine minutes; the exit status is that of the tests.
set -o pipefail
cd "$(dirname "$0")/.." || exit 1
out="${1:-/tmp/gpu_check}"
mkdir -p "$out"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
python=$(command -v python3 || command -v python)

if ! "$python" -c "from numba import cuda; raise SystemExit(0 if cuda.is_available() else 1)" 2>/dev/null; then
    echo "gpu_check: Numba finds no CUDA GPU here; nothing to check (the kernels are tested without one: NUMBA_ENABLE_CUDASIM=1 MINIKERAS_BACKEND=cuda python -m pytest tests/cudasim)"
    exit 0
fi

{ nvidia-smi; "$python" -c "import numpy, numba, cupy; print('numpy', numpy.__version__, 'numba', numba.__version__, 'cupy', cupy.__version__)"; } \
    2>&1 | tee "$out/nvidia-smi.txt"

echo "== tests/cudasim on the GPU (MINIKERAS_BACKEND=cuda, no simulator)"
env -u NUMBA_ENABLE_CUDASIM MINIKERAS_BACKEND=cuda timeout 330 \
    "$python" -m pytest -q -p no:cacheprovider tests/cudasim 2>&1 | tee "$out/gpu_tests.log"
tests=$?

echo "== benchmarks/bench_gpu.py"
timeout 200 "$python" benchmarks/bench_gpu.py --rounds 6 --steps 5 2>&1 | tee "$out/bench_gpu.log"
exit $tests
