"""W1: one training step of an MLP, minikeras against PyTorch and a hand-written NumPy floor.

The network is 784-512-512-10 (ReLU, ReLU, logits), the loss is softmax cross-entropy of
the logits against integer labels (mean over the batch), the batch is 128, everything is
float32 and the optimizer is plain SGD with learning rate 0.01. One step is forward +
backward + update. The variants:

  minikeras            keras.Sequential([keras.Input((784,)), Dense(512, "relu"),
                       Dense(512, "relu"), Dense(10)]) compiled with SGD(0.01) and
                       SparseCategoricalCrossentropy(from_logits=True), stepped with
                       model.train_on_batch(x, y)
  mk: no source line   the same, with minikeras.autograd.state.record_source = False
  torch                PyTorch eager: nn.Sequential, nn.CrossEntropyLoss, torch.optim.SGD;
                       zero_grad, forward, loss, backward, step, loss.item()
  numpy floor          the same step written by hand in NumPy: matmuls into preallocated
                       outputs, in-place bias and ReLU, ReLU backward as a mask multiply,
                       x.T @ g and g @ W.T handed to BLAS as they are, the fused
                       cross-entropy backward softmax - onehot, in-place SGD; float32 only

Before any timing, all of them start from the same weights and data, and the loss and
the six gradients must agree with the floor (norm-wise relative error < 1e-4).

A second part times model.fit for one epoch of 20 batches (batch 128, shuffle=True,
verbose=0) against the sum of 20 train_on_batch steps over the same samples, interleaved
in the same run: what the loop of fit adds per epoch.

Steps in blocks during which the threads of this process waited for a CPU less than 5% of
the time (read from /proc/self/task/*/schedstat in the pauses) count as quiet; their median
is reported next to the plain median, and the verdicts use it when there are enough.

Targets (docs: cpu-performance.md, W1): minikeras no slower than PyTorch, within 1.15x of
the NumPy floor, and fit adds at most 5% to the steps it runs.

Run from the repository root:  python benchmarks/bench_mlp_step.py [--rounds 10] [--threads 2]
"""
import argparse
import itertools
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for p in (ROOT, HERE):  # measure the minikeras of this checkout; find common.py
    if p not in sys.path:
        sys.path.insert(0, p)

import common  # noqa: E402  (common imports no NumPy)

if __name__ == "__main__":
    common.preset_blas_threads(sys.argv[1:])  # before NumPy loads

import numpy as np  # noqa: E402

import minikeras  # noqa: E402
import minikeras as keras  # noqa: E402
from minikeras import autograd  # noqa: E402


SIZES = (784, 512, 512, 10)
BATCH = 128
LR = 0.01
FIT_BATCHES = 20
TOLERANCE = 1e-4            # norm-wise relative error of loss and gradients, against the floor
TARGET_VS_TORCH = 1.0       # minikeras / torch, at most
TARGET_VS_FLOOR = 1.15      # minikeras / numpy floor, at most
TARGET_FIT = 1.05           # fit epoch / sum of its train_on_batch steps, at most
PARAM_NAMES = ("W0", "b0", "W1", "b1", "W2", "b2")


def step_flops():
    """Multiply-adds x 2 of one step: forward, dW of every layer, dX of all but the first."""
    pairs = list(itertools.pairwise(SIZES))
    forward = sum(2 * BATCH * i * o for i, o in pairs)
    d_input = sum(2 * BATCH * i * o for i, o in pairs[1:])
    return 2 * forward + d_input


# --------------------------------------------------------------------------- data, weights
def make_weights(seed=0):
    """Glorot-uniform kernels (Keras layout: (in, out)) and small non-zero biases, so a
    wrong bias gradient cannot hide behind zeros. All float32."""
    rng = np.random.default_rng(seed)
    weights = []
    for fan_in, fan_out in itertools.pairwise(SIZES):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        weights.append(rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32))
        weights.append(rng.uniform(-0.05, 0.05, fan_out).astype(np.float32))
    return weights


def make_data(n, seed=1):
    """Pixel-like inputs in [0, 1) and integer labels 0-9 (int64, as torch wants them)."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], n).astype(np.int64)
    return x, y


# --------------------------------------------------------------------------- numpy floor
class NumpyMLP:
    """The step by hand: the least work any NumPy engine has to do for it.

    Every buffer is allocated once; the step writes into them with ``out=``. The ReLU is
    applied in place to the pre-activation (h = max(z, 0)), and its backward multiplies
    by the mask h > 0 (the same as z > 0 except at z == 0, where both give 0).
    """

    def __init__(self, weights, x, y, lr=LR):
        self.params = [w.copy() for w in weights]
        self.x, self.y, self.lr = x, y, lr
        self.allocate()

    def allocate(self):
        """The gradients and the buffers of a step, made anew."""
        b = self.x.shape[0]
        h = SIZES[1:]
        self.grads = [np.empty_like(w) for w in self.params]
        self.rows = np.arange(b)
        self.h0 = np.empty((b, h[0]), np.float32)
        self.h1 = np.empty((b, h[1]), np.float32)
        self.logits = np.empty((b, h[2]), np.float32)
        self.probs = np.empty((b, h[2]), np.float32)
        self.d1 = np.empty((b, h[1]), np.float32)
        self.d0 = np.empty((b, h[0]), np.float32)
        self.mask1 = np.empty((b, h[1]), np.bool_)
        self.mask0 = np.empty((b, h[0]), np.bool_)

    def forward_backward(self):
        """Fill ``self.grads``; return the mean loss as a Python float."""
        W0, b0, W1, b1, W2, b2 = self.params
        gW0, gb0, gW1, gb1, gW2, gb2 = self.grads
        x, y, rows = self.x, self.y, self.rows
        h0, h1, z, p = self.h0, self.h1, self.logits, self.probs
        n = x.shape[0]
        # forward
        np.matmul(x, W0, out=h0)
        h0 += b0
        np.maximum(h0, 0.0, out=h0)
        np.matmul(h0, W1, out=h1)
        h1 += b1
        np.maximum(h1, 0.0, out=h1)
        np.matmul(h1, W2, out=z)
        z += b2
        # log-softmax cross-entropy, after subtracting the row maximum
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=p)
        total = p.sum(axis=1, keepdims=True)
        loss = float((np.log(total).sum() - z[rows, y].sum()) / n)
        # backward of the mean: (softmax - onehot) / n
        p /= total
        p[rows, y] -= 1.0
        p *= 1.0 / n
        np.matmul(h1.T, p, out=gW2)
        p.sum(axis=0, out=gb2)
        np.matmul(p, W2.T, out=self.d1)
        np.greater(h1, 0.0, out=self.mask1)
        np.multiply(self.d1, self.mask1, out=self.d1)
        np.matmul(h0.T, self.d1, out=gW1)
        self.d1.sum(axis=0, out=gb1)
        np.matmul(self.d1, W1.T, out=self.d0)
        np.greater(h0, 0.0, out=self.mask0)
        np.multiply(self.d0, self.mask0, out=self.d0)
        np.matmul(x.T, self.d0, out=gW0)
        self.d0.sum(axis=0, out=gb0)
        return loss

    def update(self):
        common.sgd_update(self.params, self.grads, self.lr)

    def step(self):
        loss = self.forward_backward()
        self.update()
        return loss

    def step_in_new_buffers(self):
        """A step that makes its gradients and buffers first, for the memory pass: what
        the step works in then counts in its peak, as minikeras's arrays do."""
        self.allocate()
        return self.step()


# --------------------------------------------------------------------------- minikeras
def build_minikeras(weights):
    model = keras.Sequential([
        keras.Input((SIZES[0],)),
        keras.layers.Dense(SIZES[1], activation="relu"),
        keras.layers.Dense(SIZES[2], activation="relu"),
        keras.layers.Dense(SIZES[3]),
    ])
    model.compile(optimizer=keras.optimizers.SGD(LR),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.set_weights([w.copy() for w in weights])
    return model


def minikeras_loss_and_grads(model, x, y):
    """What train_step computes before the update: the compiled loss of model(x) and its
    gradients, through a GradientTape."""
    xt, yt = minikeras.Tensor(x), minikeras.Tensor(y)
    with minikeras.GradientTape() as tape:
        y_pred = model(xt, training=True)
        loss = model.compute_loss(xt, yt, y_pred)
    grads = tape.gradient(loss, model.trainable_weights)
    return float(loss.item()), [g.numpy() for g in grads]


def minikeras_step(model, x, y, record_source=True):
    state = autograd.state
    train_on_batch = model.train_on_batch
    if record_source:
        return lambda: train_on_batch(x, y)

    def step():
        previous = state.record_source
        state.record_source = False
        try:
            return train_on_batch(x, y)
        finally:
            state.record_source = previous
    return step


# --------------------------------------------------------------------------- torch
def build_torch(torch, weights):
    nn = torch.nn
    net = nn.Sequential(nn.Linear(SIZES[0], SIZES[1]), nn.ReLU(),
                        nn.Linear(SIZES[1], SIZES[2]), nn.ReLU(),
                        nn.Linear(SIZES[2], SIZES[3]))
    linears = [m for m in net if isinstance(m, nn.Linear)]
    with torch.no_grad():
        for layer, (kernel, bias) in zip(linears, zip(weights[0::2], weights[1::2])):
            layer.weight.copy_(torch.from_numpy(kernel.T.copy()))  # torch keeps (out, in)
            layer.bias.copy_(torch.from_numpy(bias))
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=LR)
    return net, linears, criterion, optimizer


def torch_loss_and_grads(torch, parts, x, y):
    net, linears, criterion, _ = parts
    for p in net.parameters():
        p.grad = None
    loss = criterion(net(torch.from_numpy(x)), torch.from_numpy(y))
    loss.backward()
    grads = []
    for layer in linears:
        grads += [layer.weight.grad.numpy().T, layer.bias.grad.numpy()]
    return float(loss.item()), grads


def torch_step(torch, parts, x, y):
    net, _, criterion, optimizer = parts
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        optimizer.zero_grad()
        loss = criterion(net(xt), yt)
        loss.backward()
        optimizer.step()
        return loss.item()
    return step


def check_agreement(torch, weights, x, y):
    """Loss and gradients of every variant against the floor, from the same weights and
    data. Returns the variant names, {tensor: {variant: error}}, the worst error and the
    gradient dtypes of each variant."""
    floor = NumpyMLP(weights, x, y)
    ref_loss = floor.forward_backward()
    ref = [ref_loss] + [g.copy() for g in floor.grads]
    results = {}
    model = build_minikeras(weights)
    loss, grads = minikeras_loss_and_grads(model, x, y)
    results["minikeras"] = [loss] + grads
    autograd.state.record_source, previous = False, autograd.state.record_source
    try:
        loss, grads = minikeras_loss_and_grads(build_minikeras(weights), x, y)
    finally:
        autograd.state.record_source = previous
    results["mk: no source line"] = [loss] + grads
    if torch is not None:
        loss, grads = torch_loss_and_grads(torch, build_torch(torch, weights), x, y)
        results["torch"] = [loss] + grads
    errors = {}
    for i, name in enumerate(("loss",) + PARAM_NAMES):
        errors[name] = {variant: common.rel_error(got[i], ref[i])
                        for variant, got in results.items()}
    worst = max(max(row.values()) for row in errors.values())
    dtypes = {k: sorted({str(np.asarray(g).dtype) for g in v[1:]}) for k, v in results.items()}
    return list(results), errors, worst, dtypes


def check_one_step(model, weights, x, y):
    """After one train_on_batch from ``weights``, the weights must be the floor's after one
    step. The error is relative to the size of the update (|w1 - w0|), so it sees a wrong
    update, not just the unchanged bulk of the weights."""
    floor = NumpyMLP(weights, x, y)
    floor_loss = floor.step()
    mk_loss = float(model.train_on_batch(x, y))
    worst = abs(mk_loss - floor_loss) / abs(floor_loss)
    for w0, w_mk, w_floor in zip(weights, model.get_weights(), floor.params):
        delta = np.linalg.norm(w_floor.astype(np.float64) - w0)
        worst = max(worst, float(np.linalg.norm(w_mk.astype(np.float64) - w_floor) / delta))
    return worst


def report_memory(weights, x, y):
    """The untimed tracemalloc pass: the peak memory of one minikeras step against the
    floor's. The floor keeps its gradients and buffers from one step to the next; in this
    pass its step makes them anew, so that they count."""
    steps = {"minikeras": minikeras_step(build_minikeras(weights), x, y),
             "numpy floor": NumpyMLP(weights, x, y).step_in_new_buffers}
    return common.report_memory(steps, note=common.MEMORY_NOTE + " The floor's gradients and "
                                "buffers, which it keeps from one step to the next, are made "
                                "anew in the measured step, so they count.")


# --------------------------------------------------------------------------- fit overhead
def fit_callables(weights, x, y):
    """Two callables over the same FIT_BATCHES x BATCH samples, on one model: one epoch of
    fit, and the train_on_batch steps of those batches, whose own times are summed (the
    loop around them is not counted)."""
    model = build_minikeras(weights)
    batches = [(x[i:i + BATCH], y[i:i + BATCH]) for i in range(0, len(x), BATCH)]
    step_sums = []
    clock = time.perf_counter
    train_on_batch = model.train_on_batch

    def fit_epoch():
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=True)

    def steps():
        total = 0.0
        for xb, yb in batches:
            t0 = clock()
            train_on_batch(xb, yb)
            total += clock() - t0
        step_sums.append(total)

    return model, fit_epoch, steps, step_sums


# --------------------------------------------------------------------------- main
def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common.add_timing_options(p, memory=True)
    p.add_argument("--fit-rounds", type=int, default=6,
                   help="interleaved rounds of the fit part, one epoch of fit and its "
                        f"{FIT_BATCHES} train_on_batch steps each; 0 skips it (default 6)")
    p.add_argument("--profile", type=int, default=0, metavar="N",
                   help="after timing, run cProfile over N train_on_batch steps and print the "
                        "functions with the largest own time (default 0: no profile)")
    return p.parse_args(argv)



def profile_steps(n, weights, x, y, top=25):
    """cProfile of n train_on_batch steps, sorted by own time."""
    import cProfile
    import io
    import pstats
    model = build_minikeras(weights)
    for _ in range(3):
        model.train_on_batch(x, y)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        model.train_on_batch(x, y)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv=None):
    args = parse_args(argv)
    limiter, threads_note = common.limit_blas_threads(args.threads)
    n_threads = args.threads or common.blas_threads() or os.cpu_count() or 1
    torch, torch_note = common.import_torch(args.no_torch, n_threads)

    weights = make_weights()
    x, y = make_data(BATCH)
    flops = step_flops()

    env = common.environment()
    env["torch"] = torch_note
    env["minikeras"] = f"{minikeras.__version__} from {os.path.dirname(minikeras.__file__)}"
    env["blas_threads"] = f"{n_threads} ({threads_note})"
    print(f"W1 MLP step: {'-'.join(map(str, SIZES))}, ReLU, softmax cross-entropy of logits, "
          f"batch {BATCH}, float32, SGD lr {LR}; {flops / 1e6:.0f} MFLOP per step")
    for key in ("python", "numpy", "torch", "minikeras", "blas_threads", "platform", "cpus",
                "loadavg"):
        if key in env:
            print(f"  {key:12s} {env[key]}")
    pools = common.threadpool_lines()
    for line in pools:
        print(f"  {'pool':12s} {line}")
    print(f"  {'method':12s} {args.rounds} rounds x {args.steps} steps, interleaved, "
          f"{args.warmup} warm-up steps, {args.pause}s pause between blocks")

    # Every variant must compute the same loss and gradients before its time means anything.
    names, errors, worst, dtypes = check_agreement(torch, weights, x, y)
    common.print_table(["rel. error vs floor"] + names,
                       [[tensor] + [f"{row[n]:.1e}" for n in names]
                        for tensor, row in errors.items()])
    if worst >= TOLERANCE:
        sys.exit(f"Disagreement: worst norm-wise relative error {worst:.1e} >= {TOLERANCE:.0e}; "
                 "not timing.")
    not32 = {k: v for k, v in dtypes.items() if v != ["float32"]}
    step_err = check_one_step(build_minikeras(weights), weights, x, y)
    print(f"  {'check':12s} loss and gradients agree (worst {worst:.1e} < {TOLERANCE:.0e}); "
          f"gradient dtypes: {', '.join(f'{k} {v}' for k, v in dtypes.items())}")
    print(f"  {'check':12s} one train_on_batch step vs one floor step: worst error "
          f"{step_err:.1e} (loss, and weights relative to the size of the update)")
    if not32:
        print(f"  WARNING: gradients not float32: {not32}")
    print()

    memory = None if args.no_memory else report_memory(weights, x, y)

    variants = {
        "minikeras": minikeras_step(build_minikeras(weights), x, y, record_source=True),
        "mk: no source line": minikeras_step(build_minikeras(weights), x, y,
                                             record_source=False),
    }
    if torch is not None:
        variants["torch"] = torch_step(torch, build_torch(torch, weights), x, y)
    variants["numpy floor"] = NumpyMLP(weights, x, y).step

    load_start = common.cpu_snapshot()
    samples, waits = common.timed(variants, args.rounds, args.steps, args.warmup, args.pause)
    load_steps = common.others_cores(load_start, common.cpu_snapshot())
    stats = {name: common.summarize_quiet(samples[name], waits[name]) for name in samples}

    rows = [[name, s["median"], s["quiet"], s["min"], s["p25"], s["p75"],
             flops / s["min"] / 1e6, f"{s['n_quiet']}/{s['n']}"] for name, s in stats.items()]
    common.print_table(["step (ms)", "median", "quiet med", "best", "p25", "p75", "GFLOP/s best",
                        "quiet/steps"], rows)
    if torch is None:
        print(f"(torch {torch_note})")
    print()

    basis = common.judging_basis(stats.values(), common.MIN_QUIET)
    doubtful = common.busy(stats.values(), basis)
    ratios = common.ratio_table(stats, basis, doubtful, TARGET_VS_TORCH, TARGET_VS_FLOOR)
    print(f"Targets: minikeras no slower than PyTorch and at most {TARGET_VS_FLOOR}x the NumPy "
          f"floor, judged on the {common.BASIS_WORDS[basis]}. The best steps show the uncontended "
          "cost.")
    if doubtful:
        print(common.DOUBT_NOTE)
    a, b = stats["minikeras"], stats["mk: no source line"]
    print(f"Source-line capture costs {a['median'] - b['median']:.2f} ms per step (median), "
          f"{a['min'] - b['min']:.2f} ms (best).")
    print(common.load_line(load_steps, stats.values()))

    fit = None
    if args.fit_rounds > 0:
        print()
        fx, fy = make_data(BATCH * FIT_BATCHES, seed=2)
        _, fit_epoch, steps, step_sums = fit_callables(weights, fx, fy)
        load_start = common.cpu_snapshot()
        fit_samples, fit_waits = common.timed({"fit": fit_epoch, "steps": steps}, args.fit_rounds,
                                       1, 1, args.pause)
        load_fit = common.others_cores(load_start, common.cpu_snapshot())
        # The warm-up ran `steps` once too: keep only the timed rounds' sums of step times.
        timed_sums = step_sums[-len(fit_samples["steps"]):]
        fit_stats = {"fit, 1 epoch": common.summarize_quiet(fit_samples["fit"], fit_waits["fit"]),
                     f"sum of {FIT_BATCHES} train_on_batch": common.summarize_quiet(timed_sums,
                                                                      fit_waits["steps"])}
        rows = [[name, s["median"], s["quiet"], s["min"], s["p25"], s["p75"],
                 f"{s['n_quiet']}/{s['n']}"] for name, s in fit_stats.items()]
        rows.append([f"{FIT_BATCHES} x step of part 1", a["median"] * FIT_BATCHES,
                     a["quiet"] * FIT_BATCHES, a["min"] * FIT_BATCHES, None, None, None])
        common.print_table([f"epoch of {FIT_BATCHES} (ms)", "median", "quiet med", "best", "p25",
                            "p75", "quiet/epochs"], rows)
        f_s, s_s = fit_stats.values()
        fit_basis = common.judging_basis(fit_stats.values(), max(3, (args.fit_rounds + 1) // 2))
        fit = {"stats": fit_stats, **common.ratio_set(f_s, s_s, "steps"), "judged_on": fit_basis,
               "others_cores": load_fit,
               "samples_ms": {"fit, 1 epoch": [v * 1e3 for v in fit_samples["fit"]],
                              "train_on_batch sums": [v * 1e3 for v in timed_sums]}}
        fit["meets_target"] = fit[f"steps_{fit_basis}"] <= TARGET_FIT
        fit_doubtful = fit["verdict_doubtful"] = common.busy(fit_stats.values(), fit_basis)
        q = fit["steps_quiet"]
        print(f"fit / steps: {fit['steps_median']:.3f} (medians), "
              f"{'-' if math.isnan(q) else f'{q:.3f}'} (quiet medians), "
              f"{fit['steps_best']:.3f} (bests). Target <= {TARGET_FIT} "
              f"(fit adds at most {(TARGET_FIT - 1) * 100:.0f}%), judged on the "
              f"{common.BASIS_WORDS[fit_basis]}: "
              f"{common.verdict(fit['meets_target'], fit_doubtful)}")
        if fit_doubtful:
            print(common.DOUBT_NOTE)
        print(common.load_line(load_fit, fit_stats.values()))

    try:
        end_load = [round(v, 2) for v in os.getloadavg()]
        print(f"Load average at the end: {end_load} (the machine is shared; compare ratios and "
              "best steps rather than absolute medians).")
    except OSError:
        pass

    profile = None
    if args.profile:
        print()
        print(f"cProfile of {args.profile} minikeras train_on_batch steps, by own time:")
        profile = profile_steps(args.profile, weights, x, y)
        print(profile)

    if args.json:
        common.write_json(args.json, {
            "benchmark": "W1 MLP step",
            "workload": f"MLP {'-'.join(map(str, SIZES))} ReLU, sparse softmax CE of logits, "
                        f"batch {BATCH}, float32, SGD lr {LR}; forward + backward + update",
            "unit": "milliseconds per step",
            "mflop_per_step": flops / 1e6,
            "config": vars(args),
            "threads": n_threads,
            "environment": env,
            "threadpools": pools,
            "check": {"rel_error_vs_floor": errors, "worst": worst,
                      "one_step_worst": step_err, "gradient_dtypes": dtypes},
            "targets": {"vs_torch": TARGET_VS_TORCH, "vs_floor": TARGET_VS_FLOOR,
                        "fit": TARGET_FIT},
            "memory": memory,
            "stats": stats,
            "ratios": ratios,
            "others_cores": load_steps,
            "quiet_wait_threshold": common.QUIET_WAIT,
            "judged_on": basis,
            "verdicts_doubtful": doubtful,
            "fit": fit,
            "profile": profile,
            "samples_ms": {k: [v * 1e3 for v in s] for k, s in samples.items()},
            "block_waits": waits,
        })
        print(f"Wrote {args.json}")
    del limiter  # the BLAS limit holds until here


if __name__ == "__main__":
    main()
