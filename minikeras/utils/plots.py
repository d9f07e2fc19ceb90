"""``keras.utils.plot_history(history)``: the curves of ``fit``, one plot per metric.

``fit`` returns a ``History`` whose ``history`` dict holds one value per epoch for the loss,
each metric and, with validation data, their ``val_`` twins. Each metric gets one plot with
the training curve and, when there is one, the validation curve on the same axes.

The plots are drawn with matplotlib on a ``Figure`` made directly (no ``pyplot``, so no
window and no global state is touched); a notebook shows the returned figure inline.
"""
import io
import os

from ..saving.files import atomic_write_bytes

__all__ = ["plot_history", "new_figure", "save_figure"]


def plot_history(history, to_file=None, metrics=None):
    """Plot the loss and each metric of ``history`` (what ``fit`` returns, or its
    ``history`` dict) against the epoch, training and validation on one plot per metric.

    ``metrics``: the names to plot (default: every one recorded, the loss first);
    ``to_file``: also save the figure there (.png, .svg, .pdf, ...). Returns the
    matplotlib Figure."""
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict):
        raise TypeError(f"plot_history() takes the History that fit() returns (or its "
                        f".history dict), got {type(history).__name__}.")
    names = []
    for key in logs:          # each metric once, its val_ twin on the same plot
        name = key[4:] if key.startswith("val_") else key
        if name not in names:
            names.append(name)
    if "loss" in names:
        names.insert(0, names.pop(names.index("loss")))
    if metrics is not None:
        metrics = [metrics] if isinstance(metrics, str) else list(metrics)
        unknown = [m for m in metrics if m not in names]
        if unknown:
            raise ValueError(f"plot_history(metrics=...): {unknown} not in the history; it "
                             f"holds {names}.")
        names = metrics
    if not names or not any(len(logs.get(n, logs.get("val_" + n, []))) for n in names):
        raise ValueError("plot_history(): the history is empty: nothing was recorded. Train "
                         "with fit() first and pass what it returns.")
    figure, axes = new_figure(len(names), "plot_history")
    for ax, name in zip(axes, names):
        for key, label in ((name, "training"), ("val_" + name, "validation")):
            values = logs.get(key)
            if values:
                ax.plot(range(1, len(values) + 1), values, marker="o", markersize=3, label=label)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(matplotlib_classes(caller="plot_history")[1](integer=True))
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend()
    if to_file is not None:
        save_figure(figure, to_file, "plot_history")
    return figure


def matplotlib_classes(caller):
    """matplotlib's ``Figure`` and ``MaxNLocator``, imported on the first plot: importing
    matplotlib takes about a third of a second, which ``import minikeras`` does not pay."""
    try:
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        raise ImportError(f"{caller}() draws with matplotlib, which is not installed. Install "
                          "it: pip install matplotlib (or conda install matplotlib).") from None
    return Figure, MaxNLocator


def new_figure(n, caller, columns=3):
    """A Figure with ``n`` plots, up to ``columns`` a row; returns (figure, list of axes)."""
    Figure = matplotlib_classes(caller)[0]
    cols = min(n, columns)
    rows = (n + cols - 1) // cols
    figure = Figure(figsize=(4.5 * cols, 3.4 * rows), layout="constrained")
    axes = figure.subplots(rows, cols, squeeze=False).ravel().tolist()
    for ax in axes[n:]:
        figure.delaxes(ax)
    return figure, axes[:n]


def save_figure(figure, to_file, caller):
    """Save ``figure`` to ``to_file`` in the format its ending names, never half a file."""
    fmt = os.path.splitext(str(to_file))[1].lstrip(".").lower()
    supported = figure.canvas.get_supported_filetypes()
    if fmt not in supported:
        raise ValueError(f"{caller}(): to_file must end in one of "
                         f"{', '.join('.' + f for f in sorted(supported))}; got {str(to_file)!r}.")
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt)
    atomic_write_bytes(str(to_file), buffer.getvalue())
