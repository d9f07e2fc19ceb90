"""benchmarks/bench_all.py runs the workload scripts and sums their reports up in one table.

Only the shape of the summary is checked, never a speed."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCHMARKS = os.path.join(ROOT, "benchmarks")


def test_the_summary_has_a_row_per_workload_and_thread_count(tmp_path):
    summary = tmp_path / "summary.json"
    r = subprocess.run([sys.executable, os.path.join(BENCHMARKS, "bench_all.py"),
                        "--rounds", "1", "--steps", "1", "--warmup", "1", "--no-torch",
                        "--threads-list", "1", "--workloads", "mlp,tape",
                        "--json", str(summary)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "mem /floor" in r.stdout and "FAILED" not in r.stdout
    report = json.loads(summary.read_text())
    rows = report["rows"]
    assert [(row["workload"], row["threads_requested"]) for row in rows] == [("mlp", 1),
                                                                            ("tape", 1)]
    for row in rows:
        assert row["threads"] == 1
        for key in ("minikeras_median", "minikeras_best", "floor_median", "floor_best",
                    "vs_floor_median", "vs_floor_best"):
            assert row[key] > 0, (row["workload"], key)
        assert row["torch_median"] is None and row["vs_torch_best"] is None   # --no-torch
    mlp, tape = rows
    assert mlp["unit"] == "milliseconds per step" and tape["unit"] == "microseconds per op"
    assert mlp["memory_vs_floor"] > 0
    assert mlp["minikeras_peak_bytes"] > 0 and mlp["floor_peak_bytes"] > 0
    assert tape["memory_vs_floor"] is None
    assert (mlp["floor"], tape["floor"]) == ("numpy floor", "minimal tape")
    tape_report = report["runs"][1]["report"]
    assert tape["floor_median"] == tape_report["stats"]["minimal tape"]["median"]
    assert tape["vs_floor_median"] == tape_report["ratios"]["mk: backward"]["minimal_median"]
    assert [run["script"] for run in report["runs"]] == ["bench_mlp_step.py",
                                                         "bench_tape_overhead.py"]


def test_one_lstm_run_gives_both_lstm_rows():
    sys.path.insert(0, BENCHMARKS)
    try:
        import bench_all
    finally:   # bench_all puts benchmarks/ on the path too, and brings common.py
        sys.path[:] = [p for p in sys.path if p != BENCHMARKS]
        sys.modules.pop("bench_all", None)
        sys.modules.pop("common", None)
    runs = bench_all.runs_for(["lstm", "mlp", "lstm_cell"])
    assert runs == {"bench_lstm_step.py": (["--cell-loop"], ["lstm", "lstm_cell"]),
                    "bench_mlp_step.py": (["--fit-rounds", "0"], ["mlp"])}
    assert bench_all.thread_counts("1,default") == [1, None]
    assert "torch" not in sys.modules
