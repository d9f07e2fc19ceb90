"""Before and after: the same minikeras workloads from two checkouts, interleaved.

Two versions of minikeras cannot live in one process (both are the package ``minikeras``),
so each checkout gets a worker process of its own, and this script takes turns: a block of
steps in one worker, then a block in the other, the order swapped every round, with a pause
between blocks. A noisy moment on the machine then hits both checkouts alike. Each worker
times its own steps with ``time.perf_counter`` and sends the times back over a pipe.

The workloads are those of the other scripts here, minikeras only (the PyTorch and NumPy
columns are in those scripts):

  mlp        784-512-512-10 MLP (relu, relu, logits), batch 128, SGD, train_on_batch
  convnet    the Keras MNIST convnet (Conv2D 32 and 64, 3x3, relu; max pooling; Dense(10)),
             batch 128, SGD, train_on_batch
  lstm       LSTM(128) over 32 steps of 32 features, then Dense(10), batch 64, SGD
  lstm_cell  the same with LSTM(128, use_cudnn=False): the cell loop written with ops
  tape       200 chains of three adds on (8,) float32 arrays and their backward (W3)

The report gives, per workload, the median and the best step of each checkout and their
ratio (this checkout / the other). Run from the repository root:

    python benchmarks/compare_checkouts.py --base ../baseline [--threads 1] [--rounds 15]
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORKLOADS = ("mlp", "convnet", "lstm", "lstm_cell", "tape")


# ------------------------------------------------------------------------------ the worker
def build(name):
    """The step of workload ``name`` as a function of no arguments."""
    import numpy as np
    import minikeras as keras
    from minikeras import layers

    rng = np.random.default_rng(0)
    if name == "tape":
        x = keras.Tensor(rng.standard_normal(8).astype(np.float32), requires_grad=True)
        cs = [keras.Tensor(rng.standard_normal(8).astype(np.float32)) for _ in range(3)]
        g = keras.Tensor(np.ones(8, np.float32))

        def chains():
            for _ in range(200):
                y = ((x + cs[0]) + cs[1]) + cs[2]
                y.backward(g)
        return chains
    if name == "mlp":
        inputs, stack, batch = (784,), [layers.Dense(512, activation="relu"),
                                        layers.Dense(512, activation="relu")], 128
        x = rng.random((batch, 784), dtype=np.float32)
    elif name == "convnet":
        inputs, batch = (28, 28, 1), 128
        stack = [layers.Conv2D(32, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
                 layers.Conv2D(64, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
                 layers.Flatten()]
        x = rng.random((batch, 28, 28, 1), dtype=np.float32)
    else:
        inputs, batch = (32, 32), 64
        stack = [layers.LSTM(128, use_cudnn=(name == "lstm") and "auto")]
        x = rng.standard_normal((batch, 32, 32)).astype(np.float32)
    model = keras.Sequential([keras.Input(inputs)] + stack + [layers.Dense(10)])
    model.compile(optimizer=keras.optimizers.SGD(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    y = rng.integers(0, 10, batch)
    return lambda: model.train_on_batch(x, y)


def worker(root, name):
    """Build the workload from the checkout at ``root``, then answer the parent: each line
    ``n`` on stdin runs n timed steps and writes their times as one JSON line."""
    sys.path.insert(0, root)
    step = build(name)
    import minikeras
    out = sys.stdout
    out.write(json.dumps({"ready": os.path.dirname(os.path.abspath(minikeras.__file__))}) + "\n")
    out.flush()
    clock = time.perf_counter
    for line in sys.stdin:
        n = int(line)
        if n < 0:
            break
        times = []
        for _ in range(n):
            t0 = clock()
            step()
            times.append(clock() - t0)
        out.write(json.dumps(times) + "\n")
        out.flush()


# ------------------------------------------------------------------------------ the parent
class Worker:
    def __init__(self, root, name, threads):
        env = dict(os.environ)
        if threads:
            for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                        "NUMBA_NUM_THREADS"):
                env[var] = str(threads)
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--worker", root, name],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=root)
        self.where = json.loads(self.proc.stdout.readline())["ready"]

    def run(self, n):
        self.proc.stdin.write(f"{n}\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self):
        self.proc.stdin.write("-1\n")
        self.proc.stdin.close()
        self.proc.wait()


def median(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])


def compare(name, head, base, threads, rounds, steps, warmup, pause):
    pair = {"head": Worker(head, name, threads), "base": Worker(base, name, threads)}
    try:
        for w in pair.values():
            w.run(warmup)
        samples = {"head": [], "base": []}
        for r in range(rounds):
            order = ["head", "base"] if r % 2 == 0 else ["base", "head"]
            for key in order:
                time.sleep(pause)
                samples[key] += pair[key].run(steps)
        where = {k: w.where for k, w in pair.items()}
    finally:
        for w in pair.values():
            w.close()
    return samples, where


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", required=True, help="the other checkout (its repository root)")
    p.add_argument("--head", default=ROOT, help="this checkout (default: the one of this script)")
    p.add_argument("--workloads", default=",".join(WORKLOADS))
    p.add_argument("--threads", type=int, default=0, help="BLAS/OpenMP/Numba threads (0: leave)")
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--pause", type=float, default=0.1)
    p.add_argument("--repeat", type=int, default=1,
                   help="run the whole comparison this many times, with new workers each time, "
                        "and report the median ratio over the runs (default 1)")
    p.add_argument("--json", help="also write every sample here")
    args = p.parse_args(argv)
    names = args.workloads.split(",")
    rows, everything = [], {name: [] for name in names}
    for run in range(args.repeat):
        for name in names:
            samples, where = compare(name, os.path.abspath(args.head),
                                     os.path.abspath(args.base), args.threads, args.rounds,
                                     args.steps, args.warmup, args.pause)
            h, b = samples["head"], samples["base"]
            rows.append((run, name, median(b), min(b), median(h), min(h)))
            everything[name].append({"samples": samples, "where": where})
    print(f"threads: {args.threads or 'default'}; {args.rounds} rounds x {args.steps} steps, "
          f"interleaved{f', {args.repeat} runs' if args.repeat > 1 else ''}; times in ms")
    print(f"  base: {os.path.abspath(args.base)}\n  head: {os.path.abspath(args.head)}")
    print(f"{'workload':<10} {'base med':>9} {'base best':>9} {'head med':>9} {'head best':>9}"
          f" {'med ratio':>9} {'best ratio':>10}" + ("   run" if args.repeat > 1 else ""))
    for run, name, bm, bb, hm, hb in rows:
        print(f"{name:<10} {bm * 1e3:9.3f} {bb * 1e3:9.3f} {hm * 1e3:9.3f} {hb * 1e3:9.3f}"
              f" {hm / bm:9.3f} {hb / bb:10.3f}" + (f" {run + 1:5d}" if args.repeat > 1 else ""))
    if args.repeat > 1:
        print(f"\nover the {args.repeat} runs: the median of the runs' ratios (lowest-highest)")
        print(f"{'workload':<10} {'med ratio':>21} {'best ratio':>21}")
        for name in names:
            mine = [r for r in rows if r[1] == name]
            med = sorted(r[4] / r[2] for r in mine)
            best = sorted(r[5] / r[3] for r in mine)
            print(f"{name:<10} {median(med):7.3f} ({med[0]:.3f}-{med[-1]:.3f})"
                  f" {median(best):7.3f} ({best[0]:.3f}-{best[-1]:.3f})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "results": everything}, f)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3])
    else:
        main()
