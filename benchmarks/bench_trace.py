"""What ``debug.trace()`` costs while it records: one ``train_on_batch`` of the README's
model (the MLP of examples/train_digits.py: 64-128-64-10, relu, dropout, softmax; Adam;
batch 32), timed with and without a trace around it, interleaved.

  no trace      model.train_on_batch(x, y)
  trace         with debug.trace(): model.train_on_batch(x, y)

The cost when no trace runs is measured against another checkout with
``compare_checkouts.py`` (the hooks a trace uses are one test each on the hot path).

Run from the repository root:  python benchmarks/bench_trace.py [--rounds 15]
"""
import argparse
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for p in (ROOT, HERE):  # measure the minikeras of this checkout; find common.py
    if p not in sys.path:
        sys.path.insert(0, p)

import numpy as np  # noqa: E402

import common  # noqa: E402
import minikeras as keras  # noqa: E402
from minikeras import debug  # noqa: E402


def digits_model():
    spec = importlib.util.spec_from_file_location(
        "train_digits", os.path.join(ROOT, "examples", "train_digits.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.build_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--pause", type=float, default=0.1)
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 16, (32, 8, 8)).astype("float32")
    y = rng.integers(0, 10, 32)
    model = digits_model()
    events = []

    def traced():
        with debug.trace() as t:
            model.train_on_batch(x, y)
        events.append(len(list(t.all_events())))

    samples = common.interleave({"no trace": lambda: model.train_on_batch(x, y),
                                 "trace": traced},
                                rounds=args.rounds, steps=args.steps, warmup=args.warmup,
                                pause=args.pause)
    stats = {name: common.summarize(v, scale=1e3) for name, v in samples.items()}
    print(f"train_on_batch of the digits MLP, batch 32, {args.rounds} rounds x {args.steps} "
          f"steps, interleaved; {events[-1]} events per traced step")
    for name, s in stats.items():
        print(f"  {name:9s} median {s['median']:.3f} ms  (min {s['min']:.3f}, "
              f"p25-p75 {s['p25']:.3f}-{s['p75']:.3f})")
    ratio = stats["trace"]["median"] / stats["no trace"]["median"]
    print(f"  a traced step takes {ratio:.2f}x an untraced one (medians)")


if __name__ == "__main__":
    main()
