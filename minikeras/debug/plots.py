"""``debug.plot_layer_health(health)``: the records of a :class:`LayerHealth` callback as
four plots against the training step: each layer's activation spread (mean ± std), its
saturation, each weight's gradient norm and its update:weight ratio (log scales, with the
1e-3 rule of thumb drawn). The figure is made like ``utils.plot_history``'s (matplotlib,
no pyplot) and returned; a notebook shows it inline.
"""
from ..utils.plots import new_figure, save_figure
from .health import LayerHealth

__all__ = ["plot_layer_health"]


def plot_layer_health(health, to_file=None):
    """Plot what ``health`` (a LayerHealth callback after ``fit``, or its ``history``
    list) recorded; save it to ``to_file`` too when given. Returns the Figure."""
    records = health.history if isinstance(health, LayerHealth) else health
    if not isinstance(records, list):
        raise TypeError(f"plot_layer_health() takes a debug.LayerHealth callback (or its "
                        f".history list), got {type(health).__name__}.")
    if not records:
        raise ValueError("plot_layer_health(): nothing was recorded. Pass the callback to "
                         "fit first: model.fit(x, y, callbacks=[health]).")
    figure, (spread, saturation, grads, ratios) = new_figure(4, "plot_layer_health", columns=2)
    layers = list(dict.fromkeys(r["layer"] for r in records))
    for name in layers:
        rows = [r for r in records if r["layer"] == name and r["mean"] is not None]
        steps = [r["step"] for r in rows]
        mean = [r["mean"] for r in rows]
        std = [r["std"] for r in rows]
        line, = spread.plot(steps, mean, label=name)
        spread.fill_between(steps, [m - s for m, s in zip(mean, std)],
                            [m + s for m, s in zip(mean, std)], color=line.get_color(), alpha=0.15)
        sat = [r for r in rows if r["saturation"] is not None]
        if sat:
            saturation.plot([r["step"] for r in sat], [r["saturation"] for r in sat],
                            label=f"{name} ({sat[0]['saturation_kind']})")
    weights = list(dict.fromkeys(w["name"] for r in records for w in r["weights"]))
    for name in weights:
        points = [(r["step"], w) for r in records for w in r["weights"] if w["name"] == name]
        grads.plot([s for s, w in points if w["grad_norm"]],
                   [w["grad_norm"] for s, w in points if w["grad_norm"]], label=name)
        ratios.plot([s for s, w in points if w["update_ratio"]],
                    [w["update_ratio"] for s, w in points if w["update_ratio"]], label=name)
    ratios.axhline(1e-3, color="gray", linestyle="--", linewidth=1, label="1e-3")
    titles = ("activation mean ± std", "saturated share", "gradient norm", "update / weight")
    for ax, title in zip((spread, saturation, grads, ratios), titles):
        ax.set_title(title)
        ax.set_xlabel("training step")
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=7)
    saturation.set_ylim(-0.02, 1.02)
    grads.set_yscale("log")
    ratios.set_yscale("log")
    if to_file is not None:
        save_figure(figure, to_file, "plot_layer_health")
    return figure
