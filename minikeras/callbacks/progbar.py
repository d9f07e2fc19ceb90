"""The progress bar, drawn as Keras 3 draws it::

    Epoch 1/2
    12/45 ━━━━━╺━━━━━━━━━━━━━━ 1s 31ms/step - accuracy: 0.7344 - loss: 0.8620

``Progbar(target)`` then ``update(current, values)`` after each step. On a terminal (or any
POSIX system, as Keras decides) the line is redrawn in place with ``\\r``; otherwise each
update starts a new line. ``verbose=2`` prints one line, when the target is reached.
"""
import os
import sys
import time

GREEN, GREY, BOLD, RESET = "\x1b[32m", "\x1b[37m", "\x1b[1m", "\x1b[0m"
BAR_CHAR = "\u2501"  # ━


def _dynamic_display(stream):
    """Keras redraws in place when the output is a terminal, in a notebook, or on POSIX."""
    return ((hasattr(stream, "isatty") and stream.isatty()) or "ipykernel" in sys.modules
            or "posix" in sys.modules or "PYCHARM_HOSTED" in os.environ)


def format_value(v):
    """``0.1234`` as ``0.1234``, tiny values in scientific notation, as Keras prints them."""
    return f"{v:.4f}" if abs(v) > 1e-3 else f"{v:.4e}"


def format_time_per_unit(seconds, unit_name):
    if seconds >= 1 or seconds == 0:
        return f" {seconds:.0f}s/{unit_name}"
    if seconds >= 1e-3:
        return f" {seconds * 1e3:.0f}ms/{unit_name}"
    return f" {seconds * 1e6:.0f}us/{unit_name}"


def format_eta(seconds):
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(seconds)}s"


class Progbar:
    """``keras.utils.Progbar(target, width=20, verbose=1, interval=0.05,
    stateful_metrics=None, unit_name="step")``.

    Values given to ``update`` are averaged over the steps, except the names in
    ``stateful_metrics``, which are shown as given (the training loop passes metrics that
    already are running means).
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None,
                 unit_name="step", stream=None):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.stateful_metrics = set(stateful_metrics or ())
        self.unit_name = unit_name
        self.stream = stream or sys.stdout
        self._dynamic = _dynamic_display(self.stream)
        self._values = {}       # name -> [sum * steps, steps] or the latest value
        self._order = []
        self._seen = 0
        self._start = time.time()
        self._last_update = 0.0
        self._prev_width = 0
        self._first_step_time = None  # Keras leaves the first (slow) step out of the mean

    def update(self, current, values=None, finalize=None):
        """Move the bar to ``current`` with ``values`` (a list of (name, value) or a dict)."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        items = values.items() if isinstance(values, dict) else (values or [])
        steps = max(current - self._seen, 1)
        for name, value in items:
            value = float(value)
            if name not in self._order:
                self._order.append(name)
            if name in self.stateful_metrics:
                self._values[name] = value
            elif name in self._values:
                self._values[name][0] += value * steps
                self._values[name][1] += steps
            else:
                self._values[name] = [value * steps, steps]
        now = time.time()
        if self._seen == 0 and current > 0:
            self._first_step_time = now - self._start
        self._seen = current
        if self.verbose == 1:
            if not finalize and now - self._last_update < self.interval:
                return
            self._draw(current, now, finalize)
        elif self.verbose == 2 and finalize:
            line = f"{current}/{self.target} - {now - self._start:.0f}s -"
            line += self._time_per_step(current, now)
            self._write(line + self._metrics() + "\n")
        self._last_update = now

    def add(self, n, values=None):
        self.update(self._seen + n, values)

    # ------------------------------------------------------------------ drawing
    def _time_per_step(self, current, now):
        elapsed = now - self._start
        if current > 1 and self._first_step_time is not None:
            per = (elapsed - self._first_step_time) / (current - 1)
        else:
            per = elapsed / max(current, 1)
        return format_time_per_unit(per, self.unit_name)

    def _metrics(self):
        out = ""
        for name in self._order:
            v = self._values[name]
            value = v if name in self.stateful_metrics else v[0] / max(1, v[1])
            out += f" - {name}: {format_value(value)}"
        return out

    def _draw(self, current, now, finalize):
        if self._dynamic:
            line = "\b" * self._prev_width + "\r"
        else:
            line = "\n"
        if self.target is not None:
            digits = len(str(self.target))
            counter = f"{current:{digits}d}/{self.target}"
            filled = int(self.width * current / self.target) if self.target else self.width
            bar = (f"{BOLD}{counter}{RESET} {GREEN}{BAR_CHAR * filled}{RESET}"
                   f"{GREY}{BAR_CHAR * (self.width - filled)}{RESET}")
        else:
            bar = f"{BOLD}{current:7d}/Unknown{RESET}"
        elapsed = now - self._start
        if finalize:
            clock = f"{elapsed:.0f}s"
        elif self.target is not None and current:
            clock = format_eta(elapsed / current * (self.target - current))
        else:
            clock = f"{elapsed:.0f}s"
        line += f"{bar} {BOLD}{clock}{RESET}" + self._time_per_step(current, now) + self._metrics()
        visible = len(line)
        if visible < self._prev_width:
            line += " " * (self._prev_width - visible)
        self._prev_width = visible
        if finalize:
            line += "\n"
        self._write(line)

    def _write(self, text):
        self.stream.write(text)
        self.stream.flush()
