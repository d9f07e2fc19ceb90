"""The update of one weight: the readable NumPy formula against a one-pass Numba loop.

For SGD, SGD with momentum and Adam, on the weight shapes of the benchmarks' models (the W1
MLP's 784x512, 512x512, 512x10; a 3x3x32x64 conv kernel; the LSTM kernels 32x512 and
128x512) and on one large weight of 4M elements, this times:

* ``formula``: the rule's ``update_step`` (``minikeras/optim/rules.py``), plain array
  expressions on NumPy arrays, in place;
* ``loop``: the same update as one Numba loop. For SGD it is ``SGD.fused_update_step``
  (``kernels/cpu/updates.py``); for Adam it is the loop defined below, the one minikeras
  dropped because it lost;
* ``torch``: ``torch.optim`` (``SGD``/``Adam``) ``step()`` on a CPU tensor of the same
  shape, when PyTorch is installed.

One timed step runs the update ``repeat`` times (enough for about 2M elements), so even a
512x10 weight gives a step far above the timer's resolution; the tables report the time of
one update. ``formula / loop`` above 1 means the loop wins.

Run from the repository root:  python benchmarks/bench_optimizer_update.py --threads 1
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

import numba  # noqa: E402
import numpy as np  # noqa: E402

import minikeras  # noqa: E402
from minikeras import optim  # noqa: E402
from minikeras.tensor import Tensor, Variable  # noqa: E402

SHAPES = {
    "784x512 (MLP)": (784, 512),
    "512x512 (MLP)": (512, 512),
    "512x10 (MLP)": (512, 10),
    "3x3x32x64 (conv)": (3, 3, 32, 64),
    "32x512 (LSTM)": (32, 512),
    "128x512 (LSTM)": (128, 512),
    "2048x2048 (4M)": (2048, 2048),
}
RULES = {
    "SGD": ("SGD", {}),
    "SGD momentum=0.9": ("SGD", {"momentum": 0.9}),
    "Adam": ("Adam", {}),
}
LR = 0.001
ELEMENTS_PER_STEP = 2_000_000


@numba.njit(cache=False)
def adam_loop(w, m, v, g, alpha, one_minus_beta_1, one_minus_beta_2, epsilon):
    """Adam's update (Keras's form) as one loop; the scalars are of w's dtype."""
    for i in range(w.size):
        gi = g[i]
        mi = m[i] + (gi - m[i]) * one_minus_beta_1
        vi = v[i] + (gi * gi - v[i]) * one_minus_beta_2
        m[i] = mi
        v[i] = vi
        w[i] = w[i] - (mi * alpha) / (np.sqrt(vi) + epsilon)


def minikeras_variants(rule, hp, shape, repeat, rng):
    """(formula step, loop step): each runs ``repeat`` updates of its own weight."""
    steps = []
    for use_loop in (False, True):
        w = Variable(rng.standard_normal(shape).astype(np.float32))
        g = Tensor(rng.standard_normal(shape).astype(np.float32))
        opt = getattr(optim, rule)(learning_rate=LR, **hp)
        opt.build([w])
        if not use_loop:
            update = opt.update_step
        elif rule == "SGD":
            update = opt.fused_update_step
        else:
            update = adam_update_with_loop(opt)

        def step(update=update, w=w, g=g):
            for _ in range(repeat):
                update(g, w, LR)
        steps.append(step)
    return steps


def adam_update_with_loop(opt):
    """``Adam.update_step`` with its arithmetic done by ``adam_loop``."""
    def update(gradient, variable, learning_rate):
        i = opt._get_variable_index(variable)
        w, g = variable.data, gradient.data
        m, v = opt._momentums[i].data, opt._velocities[i].data
        alpha, c1, c2, eps = opt._scalars(w, learning_rate)
        adam_loop(w.reshape(-1), m.reshape(-1), v.reshape(-1), g.reshape(-1), alpha, c1, c2,
                  eps)
    return update


def torch_variant(torch, rule, hp, shape, repeat, rng):
    param = torch.nn.Parameter(torch.from_numpy(rng.standard_normal(shape).astype(np.float32)))
    param.grad = torch.from_numpy(rng.standard_normal(shape).astype(np.float32))
    if rule == "SGD":
        opt = torch.optim.SGD([param], lr=LR, momentum=hp.get("momentum", 0.0))
    else:
        opt = torch.optim.Adam([param], lr=LR, eps=1e-7)

    def step():
        with torch.no_grad():
            for _ in range(repeat):
                opt.step()
    return step


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.add_timing_options(parser, rounds=10, steps=3, warmup=2)
    parser.add_argument("--shapes", default=",".join(SHAPES),
                        help="comma-separated names from: " + ", ".join(SHAPES))
    args = parser.parse_args(argv)
    limiter, how = common.limit_blas_threads(args.threads)  # noqa: F841  (kept alive)
    torch, torch_note = common.import_torch(args.no_torch, args.threads or 1)
    env = common.environment()
    env.update(minikeras=os.path.dirname(minikeras.__file__), torch=torch_note,
               blas_threads=how)
    common.print_header("Optimizer update of one weight: NumPy formula vs Numba loop vs "
                        "torch.optim (float32, times per update)", env,
                        common.threadpool_lines(), args)
    rng = np.random.default_rng(0)
    results = {}
    for label, (rule, hp) in RULES.items():
        rows = []
        for name in args.shapes.split(","):
            shape = SHAPES[name]
            size = int(np.prod(shape))
            repeat = max(1, ELEMENTS_PER_STEP // size)
            formula, loop = minikeras_variants(rule, hp, shape, repeat, rng)
            variants = {"formula": formula, "loop": loop}
            if torch is not None:
                variants["torch"] = torch_variant(torch, rule, hp, shape, repeat, rng)
            samples = common.interleave(variants, rounds=args.rounds, steps=args.steps,
                                        warmup=args.warmup, pause=args.pause)
            stats = {k: common.summarize(s, scale=1e6 / repeat) for k, s in samples.items()}
            f, lp = stats["formula"], stats["loop"]
            t = stats.get("torch")
            rows.append([name, size, f["median"], f["min"], lp["median"], lp["min"],
                         f["median"] / lp["median"], f["min"] / lp["min"],
                         t["median"] if t else None,
                         t["median"] / f["median"] if t else None])
            results[f"{label} {name}"] = stats
        print()
        common.print_table(["weight", "elements", "formula us", "best", "loop us", "best",
                            "formula/loop", "best", "torch us", "torch/formula"], rows,
                           title=f"{label}:")
    print("\nformula/loop > 1: the Numba loop is faster. torch/formula > 1: minikeras's "
          "formula is faster than torch.optim.")
    if args.json:
        common.write_json(args.json, {"environment": env, "results": results})


if __name__ == "__main__":
    main()
