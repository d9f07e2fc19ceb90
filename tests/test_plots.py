"""keras.utils.plot_history and debug.plot_layer_health: matplotlib figures whose lines
hold the recorded numbers."""
import sys

import numpy as np
import pytest

import minikeras as keras
from minikeras import debug, layers


def _trained(epochs=3):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(4, activation="relu", name="h"),
                              layers.Dense(2, name="o")])
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(
        from_logits=True), metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 3)).astype(np.float32), rng.integers(0, 2, 40)
    health = debug.LayerHealth(every=2, verbose=0)
    history = model.fit(x, y, epochs=epochs, batch_size=8, validation_split=0.25, verbose=0,
                        callbacks=[health])
    return history, health


def test_plot_history_draws_each_metric_with_its_validation_twin(tmp_path):
    history, _ = _trained()
    out = tmp_path / "curves.png"
    figure = keras.utils.plot_history(history, to_file=str(out))
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [ax.get_title() for ax in figure.axes] == ["loss", "accuracy"]
    for ax in figure.axes:
        name = ax.get_title()
        assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == name
        lines = {line.get_label(): line for line in ax.lines}
        assert set(lines) == {"training", "validation"}
        for label, key in (("training", name), ("validation", "val_" + name)):
            np.testing.assert_array_equal(lines[label].get_xdata(), [1, 2, 3])
            np.testing.assert_allclose(lines[label].get_ydata(), history.history[key])
    one = keras.utils.plot_history(history.history, metrics="accuracy")
    assert [ax.get_title() for ax in one.axes] == ["accuracy"]
    only_train = keras.utils.plot_history({"loss": [3.0, 2.0]})
    assert [line.get_label() for line in only_train.axes[0].lines] == ["training"]


def test_plot_history_refuses_what_it_cannot_draw(tmp_path):
    history, _ = _trained(epochs=1)
    with pytest.raises(ValueError, match=r"\['auc'\] not in the history; it holds "
                                         r"\['loss', 'accuracy'\]"):
        keras.utils.plot_history(history, metrics=["auc"])
    with pytest.raises(ValueError, match="the history is empty.*Train with fit"):
        keras.utils.plot_history({})
    with pytest.raises(TypeError, match="takes the History that fit\\(\\) returns"):
        keras.utils.plot_history([1.0, 2.0])
    with pytest.raises(ValueError, match=r"to_file must end in one of .*\.png"):
        keras.utils.plot_history(history, to_file=str(tmp_path / "c.nope"))
    assert not (tmp_path / "c.nope").exists()


def test_plot_layer_health_draws_the_records(tmp_path):
    _, health = _trained()
    out = tmp_path / "health.svg"
    figure = debug.plot_layer_health(health, to_file=str(out))
    assert "<svg" in out.read_text()
    titles = [ax.get_title() for ax in figure.axes]
    assert titles == ["activation mean ± std", "saturated share", "gradient norm",
                      "update / weight"]
    spread, saturation, grads, ratios = figure.axes
    hidden = [r for r in health.history if r["layer"] == "h"]
    line = next(line for line in spread.lines if line.get_label() == "h")
    np.testing.assert_array_equal(line.get_xdata(), [r["step"] for r in hidden])
    np.testing.assert_allclose(line.get_ydata(), [r["mean"] for r in hidden])
    assert [line.get_label() for line in saturation.lines] == ["h (dead relu)"]
    kernel = [w for r in hidden for w in r["weights"] if w["name"] == "h/kernel"]
    line = next(line for line in grads.lines if line.get_label() == "h/kernel")
    np.testing.assert_allclose(line.get_ydata(), [w["grad_norm"] for w in kernel])
    line = next(line for line in ratios.lines if line.get_label() == "h/kernel")
    np.testing.assert_allclose(line.get_ydata(), [w["update_ratio"] for w in kernel])
    assert grads.get_yscale() == "log" and ratios.get_yscale() == "log"
    assert debug.plot_layer_health(health.history).axes[0].get_title() == titles[0]


def test_plot_layer_health_refuses_nothing_recorded():
    with pytest.raises(ValueError, match=r"nothing was recorded. Pass the callback to fit"):
        debug.plot_layer_health(debug.LayerHealth())
    with pytest.raises(TypeError, match="takes a debug.LayerHealth callback"):
        debug.plot_layer_health("health")


def test_without_matplotlib_the_message_says_how_to_install_it(monkeypatch):
    history, health = _trained(epochs=1)
    monkeypatch.setitem(sys.modules, "matplotlib", None)       # import matplotlib fails
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    monkeypatch.setitem(sys.modules, "matplotlib.ticker", None)
    try:
        with pytest.raises(ImportError, match=r"plot_history\(\) draws with matplotlib, which "
                                              r"is not installed.*pip install matplotlib"):
            keras.utils.plot_history(history)
        with pytest.raises(ImportError, match=r"plot_layer_health\(\) draws with matplotlib"):
            debug.plot_layer_health(health)
    finally:
        monkeypatch.undo()
    assert keras.utils.plot_history(history).axes
