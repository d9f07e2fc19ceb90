"""Every workload at 1 thread and at the default threads, in one summary table.

Each workload's script runs in a process of its own with ``--threads N --json FILE``: the
BLAS pool has to be sized before NumPy loads, so one process cannot measure two thread
counts. This script reads the JSON that each one writes and times nothing itself.

  workload   script, and the options this script adds         minikeras row   torch row
  mlp        bench_mlp_step.py --fit-rounds 0                 minikeras       torch
  convnet    bench_convnet_step.py                            minikeras       torch
  lstm       bench_lstm_step.py                               minikeras       torch
  lstm_cell  bench_lstm_step.py --cell-loop                   mk: cell loop   torch
  tape       bench_tape_overhead.py                           mk: backward    torch autograd

When both lstm and lstm_cell are asked for, one run of bench_lstm_step.py --cell-loop gives
both rows. A thread count "default" runs a script without --threads: the BLAS pool is left
as the environment makes it (OpenBLAS takes every core unless OPENBLAS_NUM_THREADS says
otherwise); the table shows the count the script saw.

Per workload and thread count the table gives the median and the best step of minikeras,
of PyTorch and of the hand-written floor (the NumPy floor; for W3 the minimal tape),
minikeras over torch and over the floor (from the
medians and from the bests, as the script computed them), and the peak memory of one
minikeras step over the floor's. W3 (tape) works on arrays of 8 numbers, so its peak memory
means nothing and is not measured.

Run from the repository root:  python benchmarks/bench_all.py [--rounds 10] [--steps 3]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import common  # noqa: E402

# name: (script, options it needs, the minikeras row, the torch row, the floor row, the
# prefix of the floor's ratios in the script's JSON). A chain of adds on 8 numbers costs bare
# NumPy almost nothing, so the floor of the tape workload is the least a tape can do.
WORKLOADS = {
    "mlp": ("bench_mlp_step.py", ["--fit-rounds", "0"], "minikeras", "torch",
            "numpy floor", "numpy"),
    "convnet": ("bench_convnet_step.py", [], "minikeras", "torch", "numpy floor", "numpy"),
    "lstm": ("bench_lstm_step.py", [], "minikeras", "torch", "numpy floor", "numpy"),
    "lstm_cell": ("bench_lstm_step.py", ["--cell-loop"], "mk: cell loop", "torch",
                  "numpy floor", "numpy"),
    "tape": ("bench_tape_overhead.py", [], "mk: backward", "torch autograd",
             "minimal tape", "minimal"),
}
UNITS = {"milliseconds per step": "ms/step", "microseconds per op": "us/op"}


def thread_counts(text):
    """"1,default" -> [1, None] (None: leave the pool as it is)."""
    counts = []
    for item in text.split(","):
        item = item.strip()
        if item == "default":
            counts.append(None)
        elif item.isdigit() and int(item) > 0:
            counts.append(int(item))
        else:
            raise argparse.ArgumentTypeError(f"{item!r} is neither a thread count nor 'default'")
    return counts


def workload_names(text):
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in WORKLOADS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown workload(s) {', '.join(unknown) or text!r}; "
                                         f"choose from {', '.join(WORKLOADS)}")
    return names


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, help="passed to every script (default: its own)")
    p.add_argument("--steps", type=int, help="passed to every script (default: its own)")
    p.add_argument("--warmup", type=int, help="passed to every script (default: its own)")
    p.add_argument("--threads-list", type=thread_counts, default=[1, None], metavar="LIST",
                   help="thread counts, comma-separated, 'default' for the pool as it is "
                        "(default 1,default)")
    p.add_argument("--workloads", type=workload_names, default=list(WORKLOADS), metavar="LIST",
                   help=f"comma-separated, from {','.join(WORKLOADS)} (default: all)")
    p.add_argument("--no-torch", action="store_true", help="passed to every script")
    p.add_argument("--verbose", action="store_true", help="print each script's own report")
    p.add_argument("--json", metavar="PATH", help="also write the summary as JSON to PATH")
    return p.parse_args(argv)


def runs_for(workloads):
    """{script: (its options, the workloads it reports)}, one run per script."""
    runs = {}
    for name in workloads:
        script, options = WORKLOADS[name][:2]
        known, names = runs.setdefault(script, ([], []))
        known += [o for o in options if o not in known]
        names.append(name)
    return runs


def run_script(script, options, threads, args, folder):
    """Run one script with --json into ``folder``; returns (its report or None, the record
    of the run)."""
    path = os.path.join(folder, f"{os.path.splitext(script)[0]}-{threads or 'default'}.json")
    command = [sys.executable, os.path.join(HERE, script), *options]
    for flag, value in (("--rounds", args.rounds), ("--steps", args.steps),
                        ("--warmup", args.warmup), ("--threads", threads)):
        if value is not None:
            command += [flag, str(value)]
    if args.no_torch:
        command.append("--no-torch")
    command += ["--json", path]
    t0 = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    record = {"script": script, "command": command[1:-2], "threads_requested": threads,
              "seconds": time.perf_counter() - t0, "returncode": done.returncode,
              "error": None, "report": None}
    if args.verbose:
        print(done.stdout, end="")
    if done.returncode != 0 or not os.path.exists(path):
        tail = (done.stderr.strip() or done.stdout.strip()).splitlines()[-5:]
        record["error"] = " / ".join(tail) or f"exit status {done.returncode}"
        return None, record
    with open(path) as f:
        record["report"] = json.load(f)
    return record["report"], record


def summary_row(name, threads, report):
    """One row of the summary: the workload at one thread count, from its script's report."""
    _, _, mk_name, torch_name, floor, floor_ratios = WORKLOADS[name]
    stats, ratios = report["stats"], report.get("ratios", {}).get(mk_name, {})
    memory = report.get("memory") or {}
    peaks = memory.get("peak_bytes", {})
    row = {"workload": name, "threads": report.get("threads"), "threads_requested": threads,
           "unit": report["unit"], "torch": report.get("environment", {}).get("torch"),
           "floor": floor}
    for key, variant in (("minikeras", mk_name), ("torch", torch_name), ("floor", floor)):
        s = stats.get(variant)
        row[f"{key}_median"] = None if s is None else s["median"]
        row[f"{key}_best"] = None if s is None else s["min"]
    for key, ratio in (("vs_torch", "torch"), ("vs_floor", floor_ratios)):
        row[f"{key}_median"] = ratios.get(f"{ratio}_median")
        row[f"{key}_best"] = ratios.get(f"{ratio}_best")
    row["memory_vs_floor"] = memory.get("vs_floor", {}).get(mk_name)
    row["minikeras_peak_bytes"] = peaks.get(mk_name)
    row["floor_peak_bytes"] = peaks.get(floor)
    return row


def threads_cell(row):
    if row["threads"] is None:
        return "default" if row["threads_requested"] is None else str(row["threads_requested"])
    return f"{row['threads']}" + (" (default)" if row["threads_requested"] is None else "")


def print_summary(rows, failures):
    headers = ["workload", "threads", "unit", "mk med", "mk best", "torch med", "torch best",
               "floor med", "floor best", "/torch med", "/torch best", "/floor med",
               "/floor best", "mem /floor"]
    keys = ["minikeras_median", "minikeras_best", "torch_median", "torch_best", "floor_median",
            "floor_best", "vs_torch_median", "vs_torch_best", "vs_floor_median",
            "vs_floor_best", "memory_vs_floor"]
    table = []
    for row in rows:
        if "error" in row:
            table.append([row["workload"], threads_cell(row), "failed"] + [None] * len(keys))
        else:
            table.append([row["workload"], threads_cell(row), UNITS.get(row["unit"], row["unit"])]
                         + [row[k] for k in keys])
    print()
    common.print_table(headers, table)
    print("Times: the median and the best of each variant's timed steps. /torch and /floor: "
          "minikeras over PyTorch and over the hand-written floor (the NumPy floor; for tape "
          "the minimal tape), from the medians and from the bests. mem /floor: the peak memory of one minikeras step over the floor's "
          "(tracemalloc). A '-' is a column that was not measured: torch skipped or not "
          "installed, or the memory of the tape workload, whose arrays are too small for it "
          "to mean anything.")
    for script, threads, error in failures:
        print(f"FAILED: {script} at threads {threads or 'default'}: {error}")


def main(argv=None):
    args = parse_args(argv)
    runs = runs_for(args.workloads)
    rows, records, failures = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench_all-") as folder:
        for threads in args.threads_list:
            for script, (options, names) in runs.items():
                label = threads or "default"
                print(f"{', '.join(names)} at threads {label}: {script} ...", end=" ",
                      flush=True)
                report, record = run_script(script, options, threads, args, folder)
                records.append(record)
                print(f"{record['seconds']:.0f} s" + ("" if report else ", FAILED"), flush=True)
                for name in names:
                    if report is None:
                        rows.append({"workload": name, "threads": None,
                                     "threads_requested": threads, "error": record["error"]})
                    else:
                        rows.append(summary_row(name, threads, report))
                if report is None:
                    failures.append((script, threads, record["error"]))
    order = {name: k for k, name in enumerate(args.workloads)}
    rows.sort(key=lambda row: order[row["workload"]])  # stable: thread counts stay in order
    print_summary(rows, failures)
    if args.json:
        common.write_json(args.json, {
            "benchmark": "all workloads",
            "config": {**vars(args), "threads_list": [t or "default"
                                                      for t in args.threads_list]},
            "environment": common.environment(),
            "rows": rows,
            "runs": records,
        })
        print(f"Wrote {args.json}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
