"""W3: the overhead of one recorded op on tiny arrays.

The workload is a chain of three adds on float32 arrays of shape (8,), then backward::

    y = ((x + c1) + c2) + c3        # x is the leaf that wants a gradient, c1..c3 constants
    dL/dx = g                       # backward with a given dL/dy = g

Every add costs a few nanoseconds of arithmetic, so what is measured is the bookkeeping:
creating the op, recording a node, and walking it backward. Each variant below runs the
same chain; the time of one chain is divided by 3 to give the cost **per op**, forward
plus its share of backward.

  mk: backward            minikeras, Tensor(..., requires_grad=True) and y.backward(g)
  mk: no source line      the same with minikeras.autograd.state.record_source = False
  mk: GradientTape        minikeras.GradientTape and tape.gradient(y, x, output_gradients=g)
  torch autograd          PyTorch eager autograd, y.backward(g) (skipped if torch is missing)
  minimal tape            the least a tape can do, written by hand in this file: each +
                          appends (output, inputs, rule) to a list; the gradient walks the
                          list backward once, adding up gradients in a dict by id
  numpy floor             three np.add calls and the three gradient pass-throughs: no tape

Targets: at most 0.15x PyTorch per op (docs: cpu-performance.md, W3), and at most 4x the
minimal tape per op (the tape's bookkeeping against the least a tape can do).

Run from the repository root:  python benchmarks/bench_tape_overhead.py [--rounds 10]
"""
import argparse
import os
import sys

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
from minikeras import autograd  # noqa: E402

OPS_PER_CHAIN = 3
TARGET_VS_TORCH = 0.15  # minikeras per op / torch per op, at most
TARGET_VS_MINIMAL = 4.0  # minikeras per op / the minimal tape per op, at most


def make_inputs():
    """The arrays every variant starts from: x, the constants, and dL/dy."""
    x = np.linspace(-1.0, 1.0, 8).astype(np.float32)
    cs = [np.full(8, k, dtype=np.float32) for k in (0.5, 1.5, 2.5)]
    g = np.arange(1, 9, dtype=np.float32)
    return x, cs, g


# --------------------------------------------------------------------------- the variants
# Each builder returns (run, check): run(n) runs the chain n times, check() runs it once and
# returns (y, dL/dx) as NumPy arrays for the correctness check.

def build_numpy():
    x, (c1, c2, c3), g = make_inputs()
    add = np.add

    def chain():
        y1 = add(x, c1)
        y2 = add(y1, c2)
        y3 = add(y2, c3)
        # Backward: the gradient of an add passes through to its input unchanged.
        g2 = g    # dL/dy2 = dL/dy3
        g1 = g2   # dL/dy1 = dL/dy2
        gx = g1   # dL/dx  = dL/dy1
        return y3, gx

    def run(n):
        for _ in range(n):
            chain()

    return run, chain


class MinimalTape:
    """The least a tape can do: a list of (output, inputs, rule) in the order the ops ran,
    walked backward once, the gradients kept in a dict by id (a Wengert list)."""

    def __init__(self):
        self.entries = []

    def gradient(self, y, g, x):
        """dL/dx given dL/dy = g; the list is used up."""
        grads = {id(y): g}
        for out, inputs, rule in reversed(self.entries):
            go = grads.pop(id(out), None)
            if go is None:
                continue
            for node, gi in zip(inputs, rule(go)):
                key = id(node)
                grads[key] = grads[key] + gi if key in grads else gi
        self.entries.clear()
        return grads[id(x)]


def _add_rule(g):
    return g, g                    # d(a + b)/da = d(a + b)/db = 1


class MinimalValue:
    """An array whose ``+`` writes itself on the minimal tape."""

    __slots__ = ("data", "tape")

    def __init__(self, data, tape):
        self.data, self.tape = data, tape

    def __add__(self, other):
        out = MinimalValue(self.data + other.data, self.tape)
        self.tape.entries.append((out, (self, other), _add_rule))
        return out


def build_minimal_tape():
    x_np, cs, g_np = make_inputs()
    tape = MinimalTape()
    x = MinimalValue(x_np, tape)
    c1, c2, c3 = (MinimalValue(c, tape) for c in cs)

    def chain():
        y = x + c1 + c2 + c3
        return y, tape.gradient(y, g_np, x)

    def run(n):
        for _ in range(n):
            chain()

    def check():
        y, gx = chain()
        return y.data, gx

    return run, check


def build_minikeras_backward(record_source=True):
    x_np, cs, g_np = make_inputs()
    x = minikeras.Tensor(x_np, requires_grad=True)
    c1, c2, c3 = (minikeras.Tensor(c) for c in cs)
    g = minikeras.Tensor(g_np)
    state = autograd.state

    def chain():
        x.grad = None
        y = x + c1 + c2 + c3
        y.backward(g)
        return y

    def run(n):
        previous = state.record_source
        state.record_source = record_source
        try:
            for _ in range(n):
                chain()
        finally:
            state.record_source = previous

    def check():
        previous = state.record_source
        state.record_source = record_source
        try:
            y = chain()
        finally:
            state.record_source = previous
        return y.numpy(), x.grad.numpy()

    return run, check


def build_minikeras_tape():
    x_np, cs, g_np = make_inputs()
    x = minikeras.Variable(x_np)  # trainable: every GradientTape watches it
    c1, c2, c3 = (minikeras.Tensor(c) for c in cs)
    g = minikeras.Tensor(g_np)
    GradientTape = minikeras.GradientTape

    def chain():
        with GradientTape() as tape:
            y = x + c1 + c2 + c3
        return y, tape.gradient(y, x, output_gradients=g)

    def run(n):
        for _ in range(n):
            chain()

    def check():
        y, gx = chain()
        return y.numpy(), gx.numpy()

    return run, check


def build_torch(torch):
    x_np, cs, g_np = make_inputs()
    x = torch.tensor(x_np, requires_grad=True)
    c1, c2, c3 = (torch.from_numpy(c) for c in cs)
    g = torch.from_numpy(g_np)

    def chain():
        x.grad = None
        y = x + c1 + c2 + c3
        y.backward(g)
        return y

    def run(n):
        for _ in range(n):
            chain()

    def check():
        y = chain()
        return y.detach().numpy(), x.grad.numpy()

    return run, check


# --------------------------------------------------------------------------- main
def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common.add_timing_options(p, rounds=10, steps=5, warmup=3)
    p.add_argument("--chains", type=int, default=200,
                   help="chains run in one timed step, so a step lasts well above the timer's "
                        "resolution (default 200)")
    return p.parse_args(argv)


def import_torch(skip, threads):
    if skip:
        return None, "skipped (--no-torch)"
    try:
        import torch
    except Exception as e:  # ImportError, or a broken install
        return None, (f"not available ({type(e).__name__}: {e}); "
                      "install with: pip install torch==2.13.0")
    torch.set_num_threads(threads)
    return torch, f"{torch.__version__} (set_num_threads({threads}))"


def main(argv=None):
    args = parse_args(argv)
    limiter, threads_note = common.limit_blas_threads(args.threads)
    n_threads = args.threads or common.blas_threads() or os.cpu_count() or 1
    # three adds on 8 numbers: no thread pool work to share, so torch gets 1 thread unless
    # --threads says otherwise
    torch, torch_note = import_torch(args.no_torch, args.threads or 1)

    variants = {
        "mk: backward": build_minikeras_backward(record_source=True),
        "mk: no source line": build_minikeras_backward(record_source=False),
        "mk: GradientTape": build_minikeras_tape(),
    }
    if torch is not None:
        variants["torch autograd"] = build_torch(torch)
    variants["minimal tape"] = build_minimal_tape()
    numpy_run, numpy_chain = build_numpy()
    variants["numpy floor"] = (numpy_run, numpy_chain)

    env = common.environment()
    env["torch"] = torch_note
    env["minikeras"] = f"{minikeras.__version__} from {os.path.dirname(minikeras.__file__)}"
    env["blas_threads"] = f"{n_threads} ({threads_note})"
    print("W3 tape overhead: y = x + c1 + c2 + c3 on float32 (8,), then backward; time per op")
    for key in ("python", "numpy", "torch", "minikeras", "blas_threads", "platform", "cpus",
                "loadavg"):
        if key in env:
            print(f"  {key:12s} {env[key]}")
    pools = common.threadpool_lines()
    for line in pools:
        print(f"  {'pool':12s} {line}")
    print(f"  {'method':12s} {args.rounds} rounds x {args.steps} steps x {args.chains} chains, "
          f"interleaved, {args.warmup} warm-up steps, {args.pause}s pause between blocks")

    # Every variant must compute the same y and dL/dx before its time means anything.
    y_ref, gx_ref = numpy_chain()
    for name, (_, check) in variants.items():
        y, gx = check()
        if not (np.array_equal(y, y_ref) and np.array_equal(gx, gx_ref)):
            sys.exit(f"{name}: wrong result (y={y}, dL/dx={gx}; expected {y_ref}, {gx_ref})")
    print(f"  {'check':12s} every variant gives the same y and dL/dx")
    print()

    n = args.chains
    steps = {name: (lambda run=run: run(n)) for name, (run, _) in variants.items()}
    samples = common.interleave(steps, rounds=args.rounds, steps=args.steps,
                                warmup=args.warmup, pause=args.pause)
    per_op_us = 1e6 / (n * OPS_PER_CHAIN)
    stats = {name: common.summarize(s, per_op_us) for name, s in samples.items()}

    rows = [[name, s["median"], s["min"], s["p25"], s["p75"], s["n"]]
            for name, s in stats.items()]
    common.print_table(["per op (us)", "median", "best", "p25", "p75", "steps"], rows)
    if torch is None:
        print(f"(torch {torch_note})")
    print()

    ratios = {}
    floor, minimal = stats["numpy floor"], stats["minimal tape"]
    ref = stats.get("torch autograd")
    rows = []
    for name, s in stats.items():
        if not name.startswith("mk:"):
            continue
        r = {"numpy_median": s["median"] / floor["median"],
             "numpy_best": s["min"] / floor["min"],
             "minimal_median": s["median"] / minimal["median"],
             "minimal_best": s["min"] / minimal["min"]}
        r["meets_minimal_target"] = r["minimal_median"] <= TARGET_VS_MINIMAL
        if ref is not None:
            r["torch_median"] = s["median"] / ref["median"]
            r["torch_best"] = s["min"] / ref["min"]
            r["meets_target"] = r["torch_median"] <= TARGET_VS_TORCH
        ratios[name] = r
        rows.append([name, r.get("torch_median"), r.get("torch_best"),
                     None if ref is None else ("yes" if r["meets_target"] else "NO"),
                     r["minimal_median"], r["minimal_best"],
                     "yes" if r["meets_minimal_target"] else "NO",
                     r["numpy_median"], r["numpy_best"]])
    common.print_table(["ratio", "/torch med", "/torch best", f"<= {TARGET_VS_TORCH}x torch",
                        "/minimal med", "/minimal best", f"<= {TARGET_VS_MINIMAL:g}x minimal",
                        "/numpy med", "/numpy best"], rows)
    print(f"Targets: minikeras at most {TARGET_VS_TORCH}x PyTorch and at most "
          f"{TARGET_VS_MINIMAL:g}x the minimal tape per op, judged on the medians; the best "
          "steps show the uncontended cost. (cpu-performance.md: <= 5 us per op.)")
    a, b = stats["mk: backward"], stats["mk: no source line"]
    print(f"Source-line capture costs {a['median'] - b['median']:.2f} us per op (median), "
          f"{a['min'] - b['min']:.2f} us (best).")
    try:
        end_load = [round(x, 2) for x in os.getloadavg()]
        print(f"Load average at the end: {end_load} (the machine is shared; compare ratios and "
              "best steps rather than absolute medians).")
    except OSError:
        pass

    if args.json:
        common.write_json(args.json, {
            "benchmark": "W3 tape overhead",
            "workload": "y = x + c1 + c2 + c3 on float32 (8,), backward with dL/dy = g; per op",
            "unit": "microseconds per op",
            "config": vars(args),
            "threads": n_threads,
            "environment": env,
            "threadpools": pools,
            "target_vs_torch": TARGET_VS_TORCH,
            "target_vs_minimal_tape": TARGET_VS_MINIMAL,
            "stats": stats,
            "ratios": ratios,
            "samples_us_per_op": {k: [v * per_op_us for v in s] for k, s in samples.items()},
        })
        print(f"Wrote {args.json}")
    del limiter  # the BLAS limit holds until here


if __name__ == "__main__":
    main()
