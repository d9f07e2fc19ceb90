"""Run the course's lessons, check their exercises both ways, and make notebooks.

A lesson is a jupytext "percent" file: plain Python whose ``# %%`` lines start cells and
whose comment cells (``# %% [markdown]``) are the text. An exercise cell carries its name::

    # %% tags=["exercise"] exercise="tanh_backward"

and the cell right after it checks it. ``solutions/<the lesson's file name>`` holds, for each
exercise, a cell with the same ``exercise="..."`` name and the solved code.

Uses (from the repository root)::

    python tutorials/run_course.py check [LESSON ...]   # each lesson, plain Python: every
        # exercise first unsolved (its check must fail with a message), then solved
    python tutorials/run_course.py notebooks OUT_DIR [--solved]   # .ipynb files to hand out
    python tutorials/run_course.py execute [LESSON ...]   # the solved notebooks, through a
        # Jupyter kernel (needs nbclient and ipykernel)

LESSON is a number (``3``, ``03``) or a file name. The test suite (tests/test_course.py)
runs ``check`` and ``execute`` for every lesson.
"""
import argparse
import glob
import json
import linecache
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOLUTIONS = os.path.join(HERE, "solutions")


def lessons():
    """The lesson files, in course order."""
    return sorted(glob.glob(os.path.join(HERE, "[0-9][0-9]_*.py")))


def find_lesson(key):
    """The lesson file for ``key``: its number (``3``, ``03``) or its file name."""
    for path in lessons():
        name = os.path.basename(path)
        if key in (name, name[:-3], path) or (key.isdigit() and name[:2] == f"{int(key):02d}"):
            return path
    raise SystemExit(f"no lesson {key!r} in {HERE}; the lessons are: "
                     + ", ".join(os.path.basename(p) for p in lessons()))


def read(path):
    import jupytext
    return jupytext.read(path)


def exercise_names(nb):
    """The names of the exercise cells of a notebook, in order."""
    return [c.metadata["exercise"] for c in nb.cells
            if c.cell_type == "code" and "exercise" in c.metadata]


def solutions(lesson_path):
    """{exercise name: solved source} from solutions/<lesson file name>."""
    path = os.path.join(SOLUTIONS, os.path.basename(lesson_path))
    if not os.path.exists(path):
        return {}
    return {c.metadata["exercise"]: c.source for c in read(path).cells
            if c.cell_type == "code" and "exercise" in c.metadata}


def solved(lesson_path):
    """The lesson as a notebook with every exercise cell replaced by its solution."""
    nb = read(lesson_path)
    answers = solutions(lesson_path)
    for cell in nb.cells:
        name = cell.metadata.get("exercise")
        if cell.cell_type == "code" and name is not None:
            if name not in answers:
                raise ValueError(f"{os.path.basename(lesson_path)}: exercise {name!r} has no "
                                 f"solution in solutions/{os.path.basename(lesson_path)}")
            cell.source = answers[name]
    return nb


def plan(lesson_path):
    """The cells to run for ``check``: a list of (kind, name, source), kind one of
    "cell", "unsolved", "check-fails", "solved", "check-passes"."""
    nb = read(lesson_path)
    answers = solutions(lesson_path)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    steps, i = [], 0
    while i < len(cells):
        cell = cells[i]
        name = cell.metadata.get("exercise")
        if name is None:
            steps.append(("cell", None, cell.source))
            i += 1
            continue
        if name not in answers:
            raise ValueError(f"{os.path.basename(lesson_path)}: exercise {name!r} has no "
                             f"solution in solutions/{os.path.basename(lesson_path)}")
        if i + 1 >= len(cells) or "exercise" in cells[i + 1].metadata:
            raise ValueError(f"{os.path.basename(lesson_path)}: exercise {name!r} must be "
                             "followed by the cell that checks it")
        check = cells[i + 1].source
        steps += [("unsolved", name, cell.source), ("check-fails", name, check),
                  ("solved", name, answers[name]), ("check-passes", name, check)]
        i += 2
    return steps


def drive(lesson_path, report_path):
    """Run ``plan(lesson_path)`` in this process, in one namespace, as ``python lesson.py``
    would; write a JSON report (time, the unsolved messages) to ``report_path``."""
    sys.path.insert(0, HERE)
    import exercises
    namespace = {"__name__": "__main__", "__file__": lesson_path}
    report = {"lesson": os.path.basename(lesson_path), "unsolved": {}, "cells": 0}
    start = time.perf_counter()
    for k, (kind, name, source) in enumerate(plan(lesson_path)):
        filename = f"<{report['lesson']} cell {k}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        code = compile(source, filename, "exec")
        if kind != "check-fails":
            exec(code, namespace)
            report["cells"] += 1
            continue
        try:
            exec(code, namespace)
        except exercises.ExerciseFailed as e:
            report["unsolved"][name] = str(e)
        else:
            raise AssertionError(f"exercise {name!r}: its check passed before it was solved")
    report["seconds"] = time.perf_counter() - start
    with open(report_path, "w", encoding="utf-8") as f:
        json.dump(report, f)


def environment(notebook=False):
    """The environment a lesson runs in: the repository on the path; outside a notebook,
    matplotlib's Agg backend (a notebook's kernel draws figures inline)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if notebook:
        env.pop("MPLBACKEND", None)
    else:
        env["MPLBACKEND"] = "Agg"
    root = os.path.dirname(HERE)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def check(lesson_path, env=None):
    """Run one lesson as plain Python in a fresh interpreter, every exercise unsolved then
    solved. Returns the report (``seconds``, ``unsolved`` messages) or raises with the
    lesson's output."""
    with tempfile.TemporaryDirectory() as tmp:
        report_path = os.path.join(tmp, "report.json")
        done = subprocess.run([sys.executable, os.path.abspath(__file__), "_drive",
                               lesson_path, report_path], cwd=HERE, env=env or environment(),
                              capture_output=True, text=True)
        if done.returncode != 0 or not os.path.exists(report_path):
            raise RuntimeError(f"{os.path.basename(lesson_path)} failed (exit "
                               f"{done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}")
        with open(report_path, encoding="utf-8") as f:
            report = json.load(f)
        report["output"] = done.stdout
        return report


def execute(lesson_path, timeout=600, solved_exercises=True):
    """Execute the lesson's notebook (solved, or as handed out) through a Jupyter kernel;
    returns the executed notebook. Raises nbclient's CellExecutionError on a failing cell."""
    import nbclient
    nb = solved(lesson_path) if solved_exercises else read(lesson_path)
    client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                     resources={"metadata": {"path": HERE}})
    old = dict(os.environ)
    os.environ.clear()
    os.environ.update(environment(notebook=True))  # the kernel inherits this environment
    try:
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    return nb


def write_notebooks(out_dir, with_solutions=False):
    import jupytext
    os.makedirs(out_dir, exist_ok=True)
    for path in lessons():
        nb = solved(path) if with_solutions else read(path)
        target = os.path.join(out_dir, os.path.basename(path)[:-3] + ".ipynb")
        jupytext.write(nb, target)
        print(target)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("check", help="run lessons as plain Python, exercises both ways")
    p.add_argument("lesson", nargs="*")
    p = sub.add_parser("execute", help="run the solved notebooks through a Jupyter kernel")
    p.add_argument("lesson", nargs="*")
    p = sub.add_parser("notebooks", help="write the lessons as .ipynb files")
    p.add_argument("out_dir")
    p.add_argument("--solved", action="store_true", help="with the solutions filled in")
    p = sub.add_parser("_drive")
    p.add_argument("lesson")
    p.add_argument("report")
    args = parser.parse_args(argv)
    if args.what == "_drive":
        return drive(args.lesson, args.report)
    if args.what == "notebooks":
        return write_notebooks(args.out_dir, args.solved)
    paths = [find_lesson(k) for k in args.lesson] or lessons()
    for path in paths:
        start = time.perf_counter()
        if args.what == "check":
            report = check(path)
            print(f"{os.path.basename(path)}: ok in {report['seconds']:.1f} s, "
                  f"{len(report['unsolved'])} exercise(s) checked both ways")
            for name, message in report["unsolved"].items():
                print(f"    unsolved {name}: {message}")
        else:
            execute(path)
            print(f"{os.path.basename(path)}: notebook ok in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
