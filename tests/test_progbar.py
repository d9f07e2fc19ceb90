"""The progress bar (minikeras/callbacks/progbar.py) draws what Keras 3 draws (see shared
facts: keras/src/utils/progbar.py)."""
import io
import re

from minikeras.utils import Progbar
from minikeras.callbacks.progbar import format_eta, format_time_per_unit, format_value

ANSI = re.compile(r"\x1b\[[0-9;]*m")


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_frame_bytes_match_keras():
    out = Terminal()
    bar = Progbar(4, stream=out, stateful_metrics=["accuracy", "loss"])
    bar.update(1, [("accuracy", 0.3125), ("loss", 1.1189)])
    frame = out.getvalue()
    assert frame.startswith("\r\x1b[1m1/4\x1b[0m \x1b[32m" + "\u2501" * 5 + "\x1b[0m\x1b[37m"
                            + "\u2501" * 15 + "\x1b[0m \x1b[1m")
    assert frame.endswith("/step - accuracy: 0.3125 - loss: 1.1189")


def test_final_line_and_counter_alignment():
    out = Terminal()
    bar = Progbar(120, stream=out)
    bar.update(7, {"loss": 2.0})
    bar.update(120, {"loss": 1.0})
    text = ANSI.sub("", out.getvalue())
    assert "  7/120 " in text
    last = text.split("\r")[-1]
    assert last.startswith("120/120 " + "\u2501" * 20 + " 0s ")
    assert last.rstrip().endswith("loss: 1.1000") or "loss: 1." in last  # mean over steps
    assert text.endswith("\n")


def test_verbose_2_prints_one_line_at_the_end():
    out = io.StringIO()
    bar = Progbar(3, verbose=2, stream=out, stateful_metrics=["loss"])
    for i in range(1, 4):
        bar.update(i, [("loss", 0.5)])
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    assert re.match(r"^3/3 - \d+s - \d+(us|ms|s)/step - loss: 0\.5000$", lines[0]), lines[0]


def test_verbose_0_is_silent():
    out = io.StringIO()
    bar = Progbar(3, verbose=0, stream=out)
    bar.update(3, [("loss", 1.0)])
    assert out.getvalue() == ""


def test_unknown_target():
    out = Terminal()
    Progbar(None, stream=out).update(5, [("loss", 1.0)])
    assert "      5/Unknown" in ANSI.sub("", out.getvalue())


def test_number_formats():
    assert format_value(0.12345) == "0.1235"
    assert format_value(0.0001234) == "1.2340e-04"
    assert format_time_per_unit(2.4, "step") == " 2s/step"
    assert format_time_per_unit(0.0312, "step") == " 31ms/step"
    assert format_time_per_unit(0.000914, "step") == " 914us/step"
    assert format_eta(42) == "42s" and format_eta(125) == "2:05" and format_eta(3725) == "1:02:05"
