"""The course in tutorials/ runs, both as plain Python and as notebooks, and its exercises
check themselves both ways: each exercise left as handed out fails its check with a message
(never a bare traceback), and with the solution from tutorials/solutions/ filled in passes.

``tutorials/run_course.py`` does the work; these tests call it for every lesson."""
import os
import re
import shutil
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TUTORIALS = os.path.join(ROOT, "tutorials")
sys.path.insert(0, TUTORIALS)
import run_course  # noqa: E402

LESSONS = run_course.lessons()
IDS = [os.path.basename(p)[:-3] for p in LESSONS]


def test_the_course_has_twelve_lessons_numbered_in_order():
    numbers = [int(os.path.basename(p)[:2]) for p in LESSONS]
    assert numbers == list(range(1, len(numbers) + 1)), numbers
    assert len(numbers) >= 12, f"the course has {len(numbers)} lessons; it should have 12"


def test_the_readme_maps_every_lesson():
    text = open(os.path.join(TUTORIALS, "README.md"), encoding="utf-8").read()
    for path in LESSONS:
        assert f"({os.path.basename(path)})" in text, f"README.md does not link {path}"


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_exercises_are_named_and_solved(path):
    nb = run_course.read(path)
    names = run_course.exercise_names(nb)
    number = int(os.path.basename(path)[:2])
    if number >= 3:
        assert 1 <= len(names) <= 3, f"lesson {number} has {len(names)} exercises; 1 to 3 expected"
    assert len(set(names)) == len(names), f"exercise names repeat: {names}"
    answers = run_course.solutions(path)
    assert set(answers) == set(names), (f"solutions/{os.path.basename(path)} answers "
                                        f"{sorted(answers)}; the lesson asks {sorted(names)}")
    run_course.plan(path)  # each exercise is followed by its check


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_lesson_runs_as_plain_python_with_exercises_checked_both_ways(path):
    report = run_course.check(path)
    names = run_course.exercise_names(run_course.read(path))
    assert sorted(report["unsolved"]) == sorted(names)
    for name, message in report["unsolved"].items():
        assert message.startswith(f"Exercise {name!r}: "), message
        assert len(message) > len(name) + 40, f"the message for {name!r} says too little: {message}"
        assert "Traceback" not in message
    assert report["output"].count("✓ exercise") == len(names), report["output"][-2000:]


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_lesson_runs_as_a_notebook_through_a_jupyter_kernel(path):
    nb = run_course.execute(path)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors, errors
    pictures = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                if {"image/png", "image/svg+xml"} & set(o.get("data", {}))]
    assert pictures, "the lesson shows no picture inline"


def test_an_unsolved_notebook_stops_at_the_check_with_the_message_alone():
    import nbclient
    path = next(p for p in LESSONS if run_course.exercise_names(run_course.read(p)))
    with pytest.raises(nbclient.exceptions.CellExecutionError) as info:
        run_course.execute(path, solved_exercises=False)
    error = info.value
    assert error.ename == "ExerciseFailed"
    first = run_course.exercise_names(run_course.read(path))[0]
    assert f"✗ Exercise {first!r}: " in str(error)
    assert "Traceback" not in str(error) and "File \"" not in str(error)


def test_an_unsolved_lesson_run_with_python_prints_the_message_alone(tmp_path):
    import subprocess
    path = next(p for p in LESSONS if run_course.exercise_names(run_course.read(p)))
    done = subprocess.run([sys.executable, path], cwd=TUTORIALS, env=run_course.environment(),
                          capture_output=True, text=True)
    assert done.returncode == 1
    assert re.search(r"^✗ Exercise '[^']+': ", done.stderr, re.M), done.stderr[-2000:]
    assert "Traceback" not in done.stderr, done.stderr[-2000:]


def test_a_lesson_without_graphviz_says_what_it_skipped(tmp_path):
    drawing = [p for p in LESSONS if re.search(r"plot_(tape|model)\b", open(p, encoding="utf-8").read())]
    assert drawing, "no lesson draws a picture with Graphviz"
    env = run_course.environment()
    bare = tmp_path / "bin"
    bare.mkdir()
    env["PATH"] = str(bare)  # no `dot` on the PATH
    assert shutil.which("dot", path=env["PATH"]) is None
    report = run_course.check(drawing[0], env=env)
    assert "skipped:" in report["output"] and "Graphviz" in report["output"], \
        report["output"][-2000:]
