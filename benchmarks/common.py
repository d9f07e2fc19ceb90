"""Small helpers shared by the benchmarks: interleaved timing, summary statistics,
thread-pool facts and a plain-text table.

The machine these benchmarks run on is shared (other processes, 2 cores), so:

* frameworks are timed **interleaved** in one process: round 1 runs a block of every
  callable, round 2 runs another block of every callable, and so on, so a noisy moment
  hits all of them instead of one;
* the order of the callables rotates from one round to the next, so no one always runs
  first after the pause;
* there is a short pause between blocks (and a ``gc.collect()``), so the worker threads of
  one library (OpenBLAS, torch's OpenMP pool) have gone to sleep before the next runs;
* the summary keeps the **min** (the best step, the least disturbed) next to the median
  and the p25-p75 range.
"""
import gc
import json
import os
import platform
import sys
import time


def interleave(callables, rounds=10, steps=5, warmup=3, pause=0.15):
    """Time several named callables, interleaved.

    ``callables`` maps a name to a function of no arguments (one "step"). Each callable
    first runs ``warmup`` untimed steps, then ``rounds`` rounds follow; in each round every
    callable runs a block of ``steps`` steps, each timed alone with ``time.perf_counter``.

    Returns ``{name: [seconds per step, ...]}`` with ``rounds * steps`` samples each.
    """
    names = list(callables)
    for name in names:
        for _ in range(warmup):
            callables[name]()
    samples = {name: [] for name in names}
    clock = time.perf_counter
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            time.sleep(pause)
            fn = callables[name]
            out = samples[name]
            for _ in range(steps):
                t0 = clock()
                fn()
                out.append(clock() - t0)
    return samples


def percentile(sorted_values, q):
    """The q-th percentile (0-100) of an already sorted list, linear interpolation."""
    if not sorted_values:
        return float("nan")
    pos = (len(sorted_values) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def summarize(values, scale=1.0):
    """median, min, p25, p75 (and n) of ``values``, each multiplied by ``scale``."""
    v = sorted(x * scale for x in values)
    return {
        "median": percentile(v, 50),
        "min": v[0] if v else float("nan"),
        "p25": percentile(v, 25),
        "p75": percentile(v, 75),
        "n": len(v),
    }


def threadpool_lines():
    """One line per native thread pool loaded in this process (BLAS, OpenMP), from
    threadpoolctl; a single note if threadpoolctl is not installed."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return ["threadpoolctl not installed (pip install threadpoolctl to list BLAS/OpenMP pools)"]
    lines = []
    for pool in threadpool_info():
        parts = [f"{pool.get('internal_api', '?')} {pool.get('version') or ''}".strip(),
                 f"threads={pool.get('num_threads')}"]
        if pool.get("architecture"):
            parts.append(f"arch={pool['architecture']}")
        if pool.get("threading_layer"):
            parts.append(f"layer={pool['threading_layer']}")
        parts.append(os.path.basename(pool.get("filepath", "")))
        lines.append(", ".join(parts))
    return lines or ["no native thread pool loaded yet"]


def environment():
    """Facts about the machine and the interpreter worth printing above any timing."""
    import numpy as np
    env = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "numpy": np.__version__,
    }
    try:
        env["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    return env


def print_table(headers, rows, title=None):
    """Print ``rows`` (lists of cells) under ``headers``. Floats get 3 significant-ish
    decimals; the first column is left-aligned, the others right-aligned."""
    def fmt(cell):
        if isinstance(cell, float):
            if cell != cell:  # nan
                return "-"
            return f"{cell:.3f}" if abs(cell) < 1000 else f"{cell:.0f}"
        return "-" if cell is None else str(cell)

    text = [[fmt(c) for c in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in text)) for i, h in enumerate(headers)]

    def line(cells):
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:])]
        return "  ".join([first] + rest)

    if title:
        print(title)
    print(line([str(h) for h in headers]))
    print("  ".join("-" * w for w in widths))
    for r in text:
        print(line(r))
    sys.stdout.flush()


def write_json(path, payload):
    """Write ``payload`` as indented JSON to ``path`` (creating its folder)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with open(path, "w") as f:
        json.dump(payload, f, indent=2)
        f.write("\n")
