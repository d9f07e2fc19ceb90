"""The line budget of the engine: the floors below the layers stay small enough to read.

A line counts when it holds code: blank lines, comments and docstrings (the string that
opens a module, class or function) do not count, so explaining the code costs nothing.
The docstring lines are shown beside the code lines, for information. Run with ``-s`` to
see the table:

    OPENBLAS_NUM_THREADS=1 python -m pytest -q -s tests/test_line_budget.py

The budgets are written in README.md ("Line budget") and docs/architecture.md; change
them there too.
"""
import ast
import io
import pathlib
import tokenize

ROOT = pathlib.Path(__file__).resolve().parent.parent / "minikeras"

# floor -> (its files, relative to minikeras/, the budget of code lines)
FLOORS = {
    "kernels": (["kernels/__init__.py", "kernels/arrays.py", "kernels/cpu"], 1050),
    # the CUDA kernels, one module per family, each beside its launcher (kernels/cuda/)
    "cuda": (["kernels/cuda"], 1600),
    "backend": (["backend"], 225),
    "tensor": (["tensor.py"], 300),
    "autograd": (["autograd"], 600),
    "ops": (["ops"], 2450),
}
# The core tape: what a student reads to understand every gradient, in one sitting.
TAPE = ("tensor", "autograd")
TAPE_BUDGET = 875

_NOT_CODE = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
             tokenize.DEDENT, tokenize.ENDMARKER}


def docstring_lines(source):
    """The line numbers of the docstrings of the module, its classes and its functions."""
    lines = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                lines.update(range(first.lineno, first.end_lineno + 1))
    return lines


def count_lines(source):
    """(code lines, docstring lines) of one Python source text."""
    docs = docstring_lines(source)
    code = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in _NOT_CODE:
            code.update(range(tok.start[0], tok.end[0] + 1))
    return len(code - docs), len(docs)


def floor_files(parts):
    files = []
    for part in parts:
        path = ROOT / part
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


def measure():
    """floor -> {file name: (code lines, docstring lines)}."""
    return {floor: {str(f.relative_to(ROOT.parent)): count_lines(f.read_text())
                    for f in floor_files(parts)}
            for floor, (parts, _) in FLOORS.items()}


def table(counts):
    rows = [f"{'floor':<10}{'code':>7}{'budget':>8}{'docstrings':>12}"]
    for floor, files in counts.items():
        code = sum(c for c, _ in files.values())
        docs = sum(d for _, d in files.values())
        rows.append(f"{floor:<10}{code:>7}{FLOORS[floor][1]:>8}{docs:>12}")
    tape = sum(c for floor in TAPE for c, _ in counts[floor].values())
    rows.append(f"{'tape':<10}{tape:>7}{TAPE_BUDGET:>8}   (tensor + autograd)")
    return "\n".join(rows)


def biggest(files, n=3):
    top = sorted(files.items(), key=lambda item: -item[1][0])[:n]
    return ", ".join(f"{name} ({code})" for name, (code, _) in top)


def test_the_counter_skips_blank_lines_comments_and_docstrings():
    source = ('"""Module docstring,\non two lines."""\n\n# a comment\nx = 1  # counted\n'
              'def f(a):\n    """Doc."""\n    text = """a string\n    that is code"""\n'
              '    return a\n')
    assert count_lines(source) == (5, 3)


def test_every_floor_stays_within_its_line_budget():
    counts = measure()
    print("\n" + table(counts))
    for floor, files in counts.items():
        assert files, f"the floor {floor!r} has no files under minikeras/: update FLOORS"
        code, budget = sum(c for c, _ in files.values()), FLOORS[floor][1]
        assert code <= budget, (
            f"the {floor} floor has {code} lines of code, over its budget of {budget}; "
            f"its biggest files: {biggest(files)}. Make room (a file that grows holds two "
            "ideas) or raise the budget here, in README.md and docs/architecture.md.")


def test_the_core_tape_reads_in_one_sitting():
    counts = measure()
    files = {name: c for floor in TAPE for name, c in counts[floor].items()}
    code = sum(c for c, _ in files.values())
    assert code <= TAPE_BUDGET, (
        f"the core tape (tensor.py + autograd/) has {code} lines of code, over its budget of "
        f"{TAPE_BUDGET}; its biggest files: {biggest(files)}.")
