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
  and the p25-p75 range;
* ``timed`` reads, in the pauses, how long this process's threads waited for a CPU during
  each block; ``summarize_quiet`` adds the median of the quiet blocks' steps, and the
  verdict helpers say whether a target is met and whether the run was too busy to tell.

It imports no NumPy at module level, so ``preset_blas_threads`` can still set the BLAS
thread variables before NumPy loads.
"""
import gc
import json
import os
import platform
import sys
import time


def interleave(callables, rounds=10, steps=5, warmup=3, pause=0.15, sleep=None):
    """Time several named callables, interleaved.

    ``callables`` maps a name to a function of no arguments (one "step"). Each callable
    first runs ``warmup`` untimed steps, then ``rounds`` rounds follow; in each round every
    callable runs a block of ``steps`` steps, each timed alone with ``time.perf_counter``.
    ``sleep`` (default ``time.sleep``) makes the pause before each block; ``timed`` passes
    one that also takes readings there, outside the timed steps.

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
            (sleep or time.sleep)(pause)
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


# --------------------------------------------------------------------------- BLAS threads
def threads_from_argv(argv):
    """The value of --threads on the command line, or None (read before NumPy loads)."""
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return None


def preset_blas_threads(argv):
    """Without threadpoolctl the BLAS pool size can only be chosen before NumPy is loaded:
    set the thread variables from --threads. Call it before ``import numpy``."""
    requested = threads_from_argv(argv)
    try:
        import threadpoolctl  # noqa: F401
    except ImportError:
        if requested:
            for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
                os.environ[var] = requested


def limit_blas_threads(n):
    """Apply --threads; returns the threadpoolctl limiter to keep alive, and a note on how."""
    if n is None:
        return None, "default pool size"
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None, f"{n} via OPENBLAS_NUM_THREADS (threadpoolctl not installed)"
    return threadpool_limits(limits=n, user_api="blas"), f"{n} via threadpoolctl"


def blas_threads():
    """The thread count of NumPy's BLAS pool as threadpoolctl sees it, else None."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    for pool in threadpool_info():
        if pool.get("user_api") == "blas" and "torch" not in pool.get("filepath", ""):
            return pool.get("num_threads")
    return None


def import_torch(skip, threads):
    """(torch or None, a note for the header). torch gets ``threads`` threads."""
    if skip:
        return None, "skipped (--no-torch)"
    try:
        import torch
    except Exception as e:  # noqa: BLE001  (ImportError, or a broken install)
        return None, (f"not available ({type(e).__name__}: {e}); "
                      "install with: pip install torch==2.13.0")
    torch.set_num_threads(threads)
    return torch, f"{torch.__version__} (set_num_threads({threads}), the BLAS thread count)"


# --------------------------------------------------------------------------- machine load
def cpu_snapshot():
    """(wall, busy CPU seconds of the whole machine, CPU seconds of this process), or None
    where /proc/stat cannot be read."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    hz = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    t = os.times()
    return time.perf_counter(), (sum(fields[:8]) - idle) / hz, t.user + t.system


def others_cores(start, end):
    """Average number of cores other processes kept busy between two snapshots."""
    if start is None or end is None or end[0] <= start[0]:
        return None
    return max(0.0, ((end[1] - start[1]) - (end[2] - start[2])) / (end[0] - start[0]))


# --------------------------------------------------------------------------- quiet blocks
QUIET_WAIT = 0.05           # a block is quiet when this process waited for a CPU < 5% of it
MIN_QUIET = 10              # steps per variant needed before the quiet medians are used


def runqueue_wait_ns():
    """Nanoseconds the threads of this process have spent runnable but waiting for a CPU
    (the second field of /proc/self/task/*/schedstat), or None where it cannot be read."""
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return None
    total = 0
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/schedstat") as f:
                total += int(f.read().split()[1])
        except (OSError, ValueError, IndexError):
            continue  # a thread that ended meanwhile
    return total


class BlockWatch:
    """The ``sleep`` that ``timed`` hands to ``interleave``: it reads the run-queue wait of
    this process once before the pause (the end of the previous block) and once after it
    (the start of the next), so each block gets the fraction of its time that our threads
    spent waiting for a CPU. Both reads happen outside the timed steps."""

    def __init__(self):
        self.marks = []

    def mark(self):
        self.marks.append((time.perf_counter(), runqueue_wait_ns()))

    def sleep(self, seconds):
        self.mark()
        time.sleep(seconds)
        self.mark()

    def block_waits(self):
        """The wait fraction of each block, in the order the blocks ran (None if unknown)."""
        starts, ends = self.marks[1:-1:2], self.marks[2::2]
        out = []
        for (t0, d0), (t1, d1) in zip(starts, ends):
            ok = d0 is not None and d1 is not None and t1 > t0
            out.append((d1 - d0) / 1e9 / (t1 - t0) if ok else None)
        return out


def timed(callables, rounds, steps, warmup, pause):
    """``interleave``, plus the run-queue wait fraction of the block of every sample.
    Returns ({name: [seconds]}, {name: [wait fraction or None]}), in the same order."""
    watch = BlockWatch()
    samples = interleave(callables, rounds=rounds, steps=steps, warmup=warmup, pause=pause,
                         sleep=watch.sleep)
    watch.mark()
    waits = watch.block_waits()
    names = list(callables)
    per_sample = {name: [] for name in names}
    k = 0
    for r in range(rounds):  # the block order of interleave: rotated each round
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            per_sample[name] += [waits[k] if k < len(waits) else None] * steps
            k += 1
    return samples, per_sample


def summarize_quiet(values, waits, scale=1e3):
    """``summarize``, plus the median over the steps of quiet blocks ("quiet"), their
    number ("n_quiet") and the mean wait fraction of all blocks ("wait")."""
    s = summarize(values, scale)
    quiet = sorted(v * scale for v, w in zip(values, waits) if w is not None and w < QUIET_WAIT)
    known = [w for w in waits if w is not None]
    s["quiet"] = percentile(quiet, 50)
    s["n_quiet"] = len(quiet)
    s["wait"] = sum(known) / len(known) if known else None
    return s


# --------------------------------------------------------------------------- verdicts
BASIS_WORDS = {"median": "medians (too few quiet steps for the quiet medians)",
               "quiet": "quiet medians"}

DOUBT_NOTE = ("A '?' marks a verdict taken from the medians of a busy run: rerun at a quieter "
              "moment, with more --rounds, or with --threads 1.")


def judging_basis(stats, min_quiet):
    """"quiet" when every one of ``stats`` has at least ``min_quiet`` quiet steps, else
    "median"."""
    return "quiet" if all(s["n_quiet"] >= min_quiet for s in stats) else "median"


def ratio_set(s, ref, prefix):
    """s / ref from the medians, the quiet medians and the bests."""
    return {f"{prefix}_median": s["median"] / ref["median"],
            f"{prefix}_quiet": s["quiet"] / ref["quiet"],
            f"{prefix}_best": s["min"] / ref["min"]}


def verdict(ok, doubtful=False):
    """"yes" or "NO"; with a "?" when it rests on the medians of a busy run."""
    return ("yes" if ok else "NO") + ("?" if doubtful else "")


def busy(stats, basis):
    """True when a verdict rests on plain medians while our threads often waited for a CPU."""
    known = [s["wait"] for s in stats if s["wait"] is not None]
    return basis == "median" and bool(known) and sum(known) / len(known) >= QUIET_WAIT


def ratio_table(stats, basis, doubtful, target_torch, target_floor):
    """Print every variant over "torch" and over "numpy floor" (medians, quiet medians,
    bests) with verdicts against the two targets; the torch row is torch over the floor,
    for scale. Returns the ratios, by variant."""
    floor = stats["numpy floor"]
    ref = stats.get("torch")
    ratios, rows = {}, []
    for name, s in stats.items():
        if name == "numpy floor":
            continue
        r = ratio_set(s, floor, "numpy")
        if name == "torch":
            ratios[name] = r
            rows.append([name, None, None, None, None, r["numpy_median"], r["numpy_quiet"],
                         r["numpy_best"], None])
            continue
        r["meets_floor_target"] = r[f"numpy_{basis}"] <= target_floor
        if ref is not None:
            r.update(ratio_set(s, ref, "torch"))
            r["meets_torch_target"] = r[f"torch_{basis}"] <= target_torch
        ratios[name] = r
        rows.append([name, r.get("torch_median"), r.get("torch_quiet"), r.get("torch_best"),
                     None if ref is None else verdict(r["meets_torch_target"], doubtful),
                     r["numpy_median"], r["numpy_quiet"], r["numpy_best"],
                     verdict(r["meets_floor_target"], doubtful)])
    print_table(["ratio", "/torch med", "quiet", "best", f"<= {target_torch:g}x torch",
                 "/numpy med", "quiet", "best", f"<= {target_floor:g}x floor"], rows)
    return ratios


def load_line(others, stats):
    """One line on how disturbed a timed part was."""
    parts = []
    if others is not None:
        parts.append(f"other processes kept {others:.2f} cores busy on average")
    known = [s["wait"] for s in stats if s["wait"] is not None]
    if known:
        parts.append(f"our threads waited for a CPU {100 * sum(known) / len(known):.1f}% of the "
                     f"time (blocks under {100 * QUIET_WAIT:.0f}% count as quiet)")
    return ("While timing: " + "; ".join(parts) + ".") if parts else ""


def rel_error(a, ref):
    """Norm-wise relative error ||a - ref|| / ||ref|| in float64 (||a|| when ref is 0)."""
    import numpy as np
    a = np.asarray(a, np.float64)
    ref = np.asarray(ref, np.float64)
    denom = np.linalg.norm(ref)
    return float(np.linalg.norm(a - ref) / denom) if denom else float(np.linalg.norm(a))


# --------------------------------------------------------------------------- memory
def peak_memory(callables, drop=None):
    """Peak bytes allocated during one call of each callable, above what was allocated
    when the call began, as ``tracemalloc`` sees it: Python objects and NumPy's array
    buffers (NumPy reports them to tracemalloc); not PyTorch's, whose allocator does not.

    Every callable runs once untraced first (lazy buildup such as optimizer slots is not a
    step's cost), and the peak is reset between callables. Tracing slows Python down a
    lot, so this is a separate pass, never mixed with timing. Returns {name: bytes}.

    Arrays kept from one call to the next are not made in the call, so they do not count.
    A step that works in such buffers counts them when it makes them anew: a floor's
    callable can allocate its buffers first, and ``drop`` maps a name to a function that
    empties a pool of reused buffers. It runs just before that callable's measured call,
    outside the measurement, so that what it frees does not lower the peak.
    """
    import tracemalloc
    drop = drop or {}
    for fn in callables.values():
        fn()
    peaks = {}
    tracemalloc.start()
    try:
        for name, fn in callables.items():
            if name in drop:
                drop[name]()
            gc.collect()
            tracemalloc.reset_peak()
            start = tracemalloc.get_traced_memory()[0]
            fn()
            peaks[name] = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    return peaks


MEMORY_NOTE = ("Peak memory allocated during one step above what was live at its start "
               "(tracemalloc, a separate untimed pass; PyTorch's allocator is invisible to it).")


def report_memory(steps, target=None, note=MEMORY_NOTE, drop=None):
    """The untimed memory pass of a step benchmark: ``peak_memory`` of ``steps`` (with
    ``drop``), one of them "numpy floor", printed in MiB and over the floor's peak, with a
    verdict against ``target`` (the most a variant may take, in floors) where there is one.
    Returns the part of the JSON report that it makes: the peaks in bytes, the ratios to
    the floor of every other variant and, with a target, their verdicts."""
    peaks = peak_memory(steps, drop)
    floor = peaks["numpy floor"]
    memory = {"peak_bytes": peaks, "vs_floor": {}, "target": target, "meets_target": {}}
    rows = []
    for name, peak in peaks.items():
        ratio = peak / floor if floor else float("nan")
        row = [name, peak / 2**20, ratio]
        if name != "numpy floor":
            memory["vs_floor"][name] = ratio
        if target is not None:
            ok = None
            if name != "numpy floor":
                ok = memory["meets_target"][name] = ratio <= target
            row.append(None if ok is None else verdict(ok))
        rows.append(row)
    headers = ["peak of one step", "MiB", "/numpy"]
    if target is not None:
        headers.append(f"<= {target:g}x floor")
    print_table(headers, rows)
    print(note)
    print()
    return memory


# --------------------------------------------------------------------------- header
def print_header(title, env, pools, args, keys=("python", "numpy", "torch", "minikeras",
                                                 "blas_threads", "platform", "cpus",
                                                 "loadavg")):
    """The first lines of a report: the workload, the environment, the thread pools and
    the timing method."""
    print(title)
    for key in keys:
        if key in env:
            print(f"  {key:12s} {env[key]}")
    for line in pools:
        print(f"  {'pool':12s} {line}")
    print(f"  {'method':12s} {args.rounds} rounds x {args.steps} steps, interleaved, "
          f"{args.warmup} warm-up steps, {args.pause}s pause between blocks")


def add_timing_options(parser, rounds=10, steps=3, warmup=5, memory=False):
    """The options every step benchmark takes: --rounds, --steps, --warmup, --pause,
    --threads, --no-torch, --json, and --no-memory where it has a memory pass."""
    parser.add_argument("--rounds", type=int, default=rounds,
                        help=f"interleaved rounds; each runs a block of every variant "
                             f"(default {rounds})")
    parser.add_argument("--steps", type=int, default=steps,
                        help=f"timed steps per block (default {steps})")
    parser.add_argument("--warmup", type=int, default=warmup,
                        help=f"untimed steps first (default {warmup})")
    parser.add_argument("--pause", type=float, default=0.15,
                        help="seconds of sleep between blocks (default 0.15)")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS threads for NumPy (threadpoolctl's threadpool_limits, else "
                             "OPENBLAS_NUM_THREADS before NumPy loads); torch gets the same "
                             "number. Default: leave the BLAS pool as it is")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    if memory:
        parser.add_argument("--no-memory", action="store_true",
                            help="skip the tracemalloc pass that measures each step's peak "
                                 "memory")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    return parser


# --------------------------------------------------------------------------- step reports
def report_agreement(names, errors, worst, dtypes, tolerance):
    """Print the check table (norm-wise relative error of every tensor of every variant
    against the floor) and the gradient dtypes; exit when an error reaches ``tolerance``,
    since the times of a variant that computes something else mean nothing."""
    if not names:
        print("  check        nothing to check the floor against (no torch, no minikeras)")
        return
    print_table(["rel. error vs floor"] + names,
                [[tensor] + [f"{row[n]:.1e}" for n in names] for tensor, row in errors.items()])
    if worst >= tolerance:
        sys.exit(f"Disagreement: worst norm-wise relative error {worst:.1e} >= {tolerance:.0e}; "
                 "not timing.")
    print(f"  check        loss and gradients agree (worst {worst:.1e} < {tolerance:.0e}); "
          f"gradient dtypes: {', '.join(f'{k} {v}' for k, v in dtypes.items())}")
    not32 = {k: v for k, v in dtypes.items() if v != ["float32"]}
    if not32:
        print(f"  WARNING: gradients not float32: {not32}")


def time_and_report(variants, args, flops, notes, target_torch, target_floor):
    """Time ``variants`` interleaved (``timed``) and print the table of step times, the
    ratio table with its verdicts (when a minikeras row is there) and the load lines.
    ``notes`` are printed under the first table (why a row is missing). Returns the part
    of the JSON report that these make."""
    load_start = cpu_snapshot()
    samples, waits = timed(variants, args.rounds, args.steps, args.warmup, args.pause)
    others = others_cores(load_start, cpu_snapshot())
    stats = {name: summarize_quiet(samples[name], waits[name]) for name in samples}
    print_table(["step (ms)", "median", "quiet med", "best", "p25", "p75", "GFLOP/s best",
                 "quiet/steps"],
                [[name, s["median"], s["quiet"], s["min"], s["p25"], s["p75"],
                  flops / s["min"] / 1e6, f"{s['n_quiet']}/{s['n']}"]
                 for name, s in stats.items()])
    for note in notes:
        print(f"({note})")
    print()
    basis = judging_basis(stats.values(), MIN_QUIET)
    doubtful = busy(stats.values(), basis)
    ratios = {}
    if len(stats) > 1:
        ratios = ratio_table(stats, basis, doubtful, target_torch, target_floor)
    if any(name not in ("torch", "numpy floor") for name in stats):
        print(f"Targets: minikeras at most {target_torch:g}x PyTorch (and, as "
              f"cpu-performance.md suggests, at most {target_floor:g}x the NumPy floor), judged "
              f"on the {BASIS_WORDS[basis]}. The best steps show the uncontended cost.")
        if doubtful:
            print(DOUBT_NOTE)
    print(load_line(others, stats.values()))
    try:
        end_load = [round(v, 2) for v in os.getloadavg()]
        print(f"Load average at the end: {end_load} (the machine is shared; compare ratios and "
              "best steps rather than absolute medians).")
    except OSError:
        pass
    return {"stats": stats, "ratios": ratios, "others_cores": others,
            "quiet_wait_threshold": QUIET_WAIT, "judged_on": basis,
            "verdicts_doubtful": doubtful,
            "samples_ms": {k: [v * 1e3 for v in s] for k, s in samples.items()},
            "block_waits": waits}


def sgd_update(params, grads, lr):
    """The floors' SGD step, in place: g *= lr; w -= g (``lr`` a Python float, so float32
    stays float32 under NEP 50)."""
    import numpy as np
    for w, g in zip(params, grads):
        np.multiply(g, lr, out=g)
        np.subtract(w, g, out=w)


def minikeras_unusable(keras, import_error, layers_needed, try_model):
    """None when minikeras imports, has every layer in ``layers_needed`` and ``try_model()``
    (build the model, compute its gradients) runs; else a note saying why not, and the
    benchmark goes on without the minikeras rows."""
    if keras is None:
        return f"minikeras does not import ({import_error})"
    missing = [name for name in layers_needed if not hasattr(keras.layers, name)]
    if missing:
        return f"minikeras.layers has no {', '.join(missing)} yet"
    try:
        try_model()
    except Exception as e:  # noqa: BLE001
        return f"minikeras fails on this model ({type(e).__name__}: {e})"
    return None
