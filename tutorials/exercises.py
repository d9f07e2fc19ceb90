"""The checks behind the course's "your turn" cells.

Every exercise is a cell you edit, followed by a cell that checks it::

    with exercise("tanh_backward") as ex:
        got = ex.call(tanh_backward, y, g)          # runs your function
        ex.expect_close(got, g * (1 - y * y), what="dL/dx")
        ex.expect_gradients(lambda x: ..., x)        # finite differences agree

When everything holds, the check prints one line starting with ✓. When something does not,
it raises :class:`ExerciseFailed` with a message that says, in words, what is wrong and
where to look; the traceback is left out (in a notebook and in a plain ``python`` run),
because the message is the useful part. Errors inside *your* code are reported the same
way, with the line of your cell that raised.

Two helpers for the lessons themselves:

* :func:`optional` runs a step that needs a program you may not have (Graphviz's ``dot``,
  a browser) and says what it skipped instead of stopping the lesson;
* :func:`show` shows a matplotlib figure inline in a notebook and closes it elsewhere.
"""
import contextlib
import os
import sys
import traceback

import numpy as np

__all__ = ["ExerciseFailed", "exercise", "optional", "show"]


class ExerciseFailed(AssertionError):
    """An exercise's check did not pass; the message says what to change."""

    def __init__(self, name, message):
        super().__init__(f"Exercise {name!r}: {message}")
        self.exercise = name
        self.hint = message


class Exercise:
    """What the ``with exercise(name) as ex:`` block gets: the checks, as methods."""

    def __init__(self, name):
        self.name = name
        self.notes = []

    def fail(self, message):
        raise ExerciseFailed(self.name, message)

    # ----------------------------------------------------------------- running your code
    def call(self, fn, *args, **kwargs):
        """Call your ``fn``; a NotImplementedError or a crash becomes a message."""
        if not callable(fn):
            self.fail(f"expected a function here, but got {type(fn).__name__}.")
        try:
            return fn(*args, **kwargs)
        except ExerciseFailed:
            raise
        except NotImplementedError:
            self.fail("not written yet: replace the line `raise NotImplementedError` "
                      "in the exercise cell with your code, run that cell, then this one.")
        except Exception as e:  # a learner's bug: say what and where, without a traceback
            self.fail(f"your code raised {type(e).__name__}: {e}{_where(e)}")

    # ------------------------------------------------------------------------ the checks
    def expect_array(self, got, shape=None, what="your result"):
        """``got`` is an array (or Tensor) of ``shape``; returns it as a NumPy array."""
        if got is None:
            self.fail(f"{what} is None: did the function forget to `return` its result?")
        if hasattr(got, "numpy") and callable(got.numpy):
            got = got.numpy()
        try:
            got = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            self.fail(f"{what} should be an array of numbers, but it is a {type(got).__name__}.")
        if shape is not None and got.shape != tuple(shape):
            self.fail(f"{what} has shape {got.shape}, but it should have shape {tuple(shape)}"
                      f"{_shape_hint(got.shape, tuple(shape))}")
        return got

    def expect_close(self, got, expected, what="your result", rtol=1e-5, atol=1e-8,
                     hint=None):
        """``got`` equals ``expected`` (same shape, values within the tolerance)."""
        expected = np.asarray(expected.numpy() if hasattr(expected, "numpy") else expected,
                              dtype=np.float64)
        got = self.expect_array(got, expected.shape, what)
        if not np.all(np.isfinite(got)) and np.all(np.isfinite(expected)):
            k = tuple(int(i) for i in np.argwhere(~np.isfinite(got))[0])
            self.fail(f"{what} has a non-finite value ({got[k]}) at index {k}."
                      + (f" Hint: {hint}" if hint else ""))
        bad = ~np.isclose(got, expected, rtol=rtol, atol=atol)
        if bad.any():
            k = tuple(int(i) for i in np.unravel_index(
                int(np.argmax(np.abs(got - expected) * bad)), got.shape))
            where = f" at index {k}" if got.ndim else ""
            self.fail(f"{what}{where} is {got[k]:.6g}, but it should be {expected[k]:.6g} "
                      f"({int(bad.sum())} of {bad.size} values differ)."
                      + (f" Hint: {hint}" if hint else ""))
        return got

    def expect(self, condition, message):
        """A plain condition; ``message`` says what is wrong when it does not hold."""
        if not condition:
            self.fail(message)

    def expect_gradients(self, fn, *inputs, tolerance=1e-5, hint=None):
        """The tape's gradient of ``fn(*inputs)`` agrees with finite differences
        (``keras.utils.check_gradients``, in float64)."""
        from minikeras.utils import check_gradients
        report = self.call(check_gradients, fn, *inputs, tolerance=tolerance)
        if report.ok:
            self.notes.append("the gradients agree with finite differences")
            return report
        k, row = max(((k, r) for k, r in enumerate(report.rows) if r["checked"] and
                      r.get("error") is not None), key=lambda kr: kr[1]["error"])
        self.fail(f"the gradient of input {k} disagrees with finite differences: at index "
                  f"{row['index']} the tape says {row['analytic']:.6g}, nudging the input "
                  f"says {row['numeric']:.6g}." + (f" Hint: {hint}" if hint else ""))

    def expect_node_gradients(self, target, hint=None):
        """Every node that ``target`` depends on passes its own gradient check
        (``debug.check_node_gradients``); names the first node that does not."""
        from minikeras import debug
        report = self.call(debug.check_node_gradients, target)
        for row in report.rows:
            why = row.get("why") or ""
            if row["ok"] is None and why.split(":")[0].endswith(("Error", "Exception")):
                self.fail(f"node #{row['seq']} ({row['op']}) could not be checked: its forward "
                          f"or backward raised {why}." + (f" Hint: {hint}" if hint else ""))
            if row["ok"] is False:
                self.fail(f"node #{row['seq']} ({row['op']}) has a backward that disagrees "
                          f"with finite differences (relative error {row['error']:.3g} for "
                          f"{row['input']})." + (f" Hint: {hint}" if hint else ""))
        self.notes.append(f"all {sum(r['ok'] is True for r in report.rows)} nodes agree "
                          "with finite differences")
        return report


@contextlib.contextmanager
def exercise(name):
    """The check of one exercise: ``with exercise("name") as ex: ...``. Prints ✓ when the
    block ends cleanly; a failure raises :class:`ExerciseFailed`."""
    ex = Exercise(name)
    try:
        yield ex
    except ExerciseFailed:
        raise
    except NameError as e:
        raise ExerciseFailed(name, f"{e}. Run the exercise cell above (it defines what this "
                                   "check uses), then run this cell again.") from None
    except Exception as e:  # something about your answer broke the check itself
        raise ExerciseFailed(name, f"checking it raised {type(e).__name__}: {e}{_where(e)}") \
            from None
    detail = f" ({'; '.join(ex.notes)})" if ex.notes else ""
    print(f"✓ exercise {name!r} passed{detail}")


def optional(what, fn, *args, **kwargs):
    """Run ``fn(*args)``, a step that needs an optional program (``what`` names it); when
    the program is missing, print what was skipped and return None."""
    try:
        return fn(*args, **kwargs)
    except ImportError as e:  # GraphvizNotFound is an ImportError, like a missing package
        print(f"skipped: {what} ({e})")
        return None


def show(fig):
    """Show a matplotlib figure: inline in a notebook (as a PNG); elsewhere it is only
    closed (the lessons also save what matters to a file)."""
    import io
    import matplotlib.pyplot as plt
    ipython = sys.modules.get("IPython")
    if ipython is not None and ipython.get_ipython() is not None:
        from IPython.display import Image, display
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
        display(Image(data=buffer.getvalue(), format="png"))
    plt.close(fig)


# ------------------------------------------------------------------------------ messages
def _where(error):
    """' (line N of your cell: `code`)' for the innermost frame in a lesson cell."""
    import minikeras
    library = (os.path.dirname(os.path.abspath(minikeras.__file__)), os.path.abspath(__file__),
               os.path.dirname(os.__file__))
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if not os.path.abspath(f.filename).startswith(library)]
    if not frames:
        return ""
    f = frames[-1]
    code = (f.line or "").strip()
    return f" (line {f.lineno} of your cell{': `' + code + '`' if code else ''})"


def _shape_hint(got, want):
    if sorted(got) == sorted(want) and got != want:
        return ": the same sizes in another order; is a transpose missing or extra?"
    if len(got) != len(want):
        return ": a different number of axes; is a sum over an axis missing or extra?"
    return "."


# ---------------------------------------------------------- a failure shows its message
def _show_message(etype, value, tb, tb_offset=None):
    print(f"✗ {value}", file=sys.stderr)


def _install_handlers():
    """Show an ExerciseFailed as its message alone, in IPython and in plain Python."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None:
        shell.run_line_magic("matplotlib", "inline")  # a figure left last in a cell shows
        def handler(shell, etype, value, tb, tb_offset=None):
            message = [f"✗ {value}"]
            shell._showtraceback(etype, value, message)   # the message in place of a traceback
            return message
        shell.set_custom_exc((ExerciseFailed,), handler)
        return
    previous = sys.excepthook

    def hook(etype, value, tb):
        if issubclass(etype, ExerciseFailed):
            _show_message(etype, value, tb)
        else:
            previous(etype, value, tb)
    sys.excepthook = hook


_install_handlers()
