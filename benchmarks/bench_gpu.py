"""The GPU benchmark: minikeras's cuda backend against PyTorch on CUDA, and our tiled matmul
against cuBLAS, on one NVIDIA GPU.

Workloads (the models of the CPU benchmarks, float32, SGD 0.01, batch as there):

  mlp       784-512-512-10 (ReLU), batch 128                     (bench_mlp_step.py)
  convnet   28x28x1 -> Conv 32 3x3 relu -> pool 2 -> Conv 64 3x3 relu -> pool 2 -> 10,
            batch 128                                           (bench_convnet_step.py)
  lstm      LSTM 32 -> 128 over 32 steps, the last step -> 10, batch 64
                                                                (bench_lstm_step.py)
  matmul    C = A @ B for square float32 matrices of 256 ... 2048: our tiled kernel
            (kernels/cuda/matmul.py) against cupy.matmul (cuBLAS)

One step is ``model.train_on_batch(x, y)`` with ``x`` and ``y`` NumPy arrays on the host, as
``fit`` hands each batch over (so the copy to the GPU is inside the step), for minikeras with
cuBLAS matmuls (the default) and with ``config.set_matmul("ours")``; for PyTorch the same
step in eager mode with the batch copied to the GPU inside the step too. Every step ends
with a synchronisation of the device, so the times are the GPU's work, not its queue.
Steps are interleaved (``common.interleave``), medians and best steps reported, and the
ratios are minikeras / PyTorch.

Run from the repository root, on a machine with a GPU, CuPy and numba-cuda
(``pip install '.[gpu]'``) and PyTorch built for CUDA:

    python benchmarks/bench_gpu.py [--rounds 10] [--workloads mlp,convnet,lstm,matmul]

Without a GPU it says so and exits with status 0: there is nothing to measure (the kernels
are tested without one under the simulator: ``tests/cudasim/``).
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for p in (ROOT, HERE):
    if p not in sys.path:
        sys.path.insert(0, p)

import common  # noqa: E402


def gpu_present():
    """(True, "") when CuPy sees a GPU, else (False, why)."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return False, "NUMBA_ENABLE_CUDASIM=1 is set: the simulator is not a GPU to time"
    try:
        import cupy
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return False, "CuPy finds no GPU"
        cupy.zeros(1)
    except Exception as e:     # not installed, no driver, no device
        return False, f"CuPy cannot use a GPU ({type(e).__name__}: {str(e)[:120]})"
    return True, ""


def build_models(keras):
    layers = keras.layers

    def mlp():
        return keras.Sequential([keras.Input((784,)), layers.Dense(512, activation="relu"),
                                 layers.Dense(512, activation="relu"), layers.Dense(10)])

    def convnet():
        return keras.Sequential([keras.Input((28, 28, 1)),
                                 layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
                                 layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
                                 layers.Flatten(), layers.Dense(10)])

    def lstm():
        return keras.Sequential([keras.Input((32, 32)), layers.LSTM(128), layers.Dense(10)])
    return {"mlp": (mlp, (128, 784)), "convnet": (convnet, (128, 28, 28, 1)),
            "lstm": (lstm, (64, 32, 32))}


def torch_models(torch):
    nn = torch.nn

    class LastStep(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm, self.linear = nn.LSTM(32, 128, batch_first=True), nn.Linear(128, 10)

        def forward(self, x):
            return self.linear(self.lstm(x)[0][:, -1])
    return {
        "mlp": lambda: nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512),
                                     nn.ReLU(), nn.Linear(512, 10)),
        "convnet": lambda: nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                                         nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                                         nn.Flatten(), nn.Linear(5 * 5 * 64, 10)),
        "lstm": LastStep,
    }


def minikeras_step(keras, sync, build, x, y, matmul):
    keras.config.set_matmul(matmul)
    model = build()
    model.compile(optimizer=keras.optimizers.SGD(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))

    def step():
        keras.config.set_matmul(matmul)
        model.train_on_batch(x, y)
        sync()
    return step


def torch_step(torch, build, x, y):
    net = build().cuda()
    if x.ndim == 4:                      # NHWC -> NCHW, once, on the host
        x = x.transpose(0, 3, 1, 2).copy()
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01)
    xh, yh = torch.from_numpy(x), torch.from_numpy(y.astype("int64"))

    def step():
        optimizer.zero_grad()
        loss = criterion(net(xh.cuda()), yh.cuda())
        loss.backward()
        optimizer.step()
        torch.cuda.synchronize()
    return step


def ratio_rows(samples, ours, theirs):
    a, b = common.summarize(samples[ours], 1e3), common.summarize(samples[theirs], 1e3)
    return (f"{ours:>24} / {theirs:<14} median {a['median']:8.3f} / {b['median']:8.3f} ms = "
            f"{a['median'] / b['median']:5.2f}   best {a['min']:8.3f} / {b['min']:8.3f} ms = "
            f"{a['min'] / b['min']:5.2f}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--workloads", default="mlp,convnet,lstm,matmul")
    args = p.parse_args(argv)
    ok, why = gpu_present()
    if not ok:
        print(f"bench_gpu: no GPU to measure: {why}. Nothing was timed. (The CUDA kernels "
              "are tested without a GPU: NUMBA_ENABLE_CUDASIM=1 MINIKERAS_BACKEND=cuda "
              "python -m pytest tests/cudasim)")
        return 0
    os.environ["MINIKERAS_BACKEND"] = "cuda"
    import cupy
    import numpy as np

    import minikeras as keras
    assert keras.backend.mode == "cuda", keras.backend.mode
    sync = cupy.cuda.Device().synchronize
    try:
        import torch
        has_torch = torch.cuda.is_available()
    except ImportError:
        torch, has_torch = None, False
    print(f"device: {cupy.cuda.runtime.getDeviceProperties(0)['name'].decode()}; "
          f"CuPy {cupy.__version__}; torch {torch.__version__ if torch else 'absent'}"
          f"{'' if has_torch else ' (no CUDA: torch columns left out)'}")
    rng = np.random.default_rng(0)
    workloads = args.workloads.split(",")
    mk_models = build_models(keras)
    th_models = torch_models(torch) if has_torch else {}
    for name in [w for w in workloads if w in mk_models]:
        build, shape = mk_models[name]
        x = rng.standard_normal(shape).astype(np.float32)
        y = rng.integers(0, 10, size=shape[0]).astype(np.int32)
        steps = {"minikeras (cuBLAS)": minikeras_step(keras, sync, build, x, y, "cublas"),
                 "minikeras (our matmul)": minikeras_step(keras, sync, build, x, y, "ours")}
        if has_torch:
            steps["torch cuda"] = torch_step(torch, th_models[name], x, y)
        samples = common.interleave(steps, rounds=args.rounds, steps=args.steps)
        print(f"\n{name} step")
        for label in ("minikeras (cuBLAS)", "minikeras (our matmul)"):
            other = "torch cuda" if has_torch else "minikeras (cuBLAS)"
            if label != other:
                print(ratio_rows(samples, label, other))
        keras.config.set_matmul("cublas")
    if "matmul" in workloads:
        import importlib
        ours = importlib.import_module("minikeras.kernels.cuda.matmul").tiled_matmul
        print("\nmatmul, float32, n x n @ n x n: ours / cuBLAS")
        for n in (256, 512, 1024, 2048):
            a = cupy.asarray(rng.standard_normal((n, n)).astype(np.float32))
            b = cupy.asarray(rng.standard_normal((n, n)).astype(np.float32))
            assert cupy.allclose(ours(a, b), a @ b, rtol=1e-3, atol=1e-3 * n ** 0.5)

            def run(f):
                return lambda: (f(a, b), sync())
            samples = common.interleave({"ours": run(ours), "cuBLAS": run(cupy.matmul)},
                                        rounds=args.rounds, steps=args.steps)
            flops = 2 * n ** 3
            s = common.summarize(samples["ours"])
            print(ratio_rows(samples, "ours", "cuBLAS"), f"  ours {flops / s['median'] / 1e12:.2f} TFLOP/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
