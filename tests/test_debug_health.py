"""debug.LayerHealth: per-layer activations, saturation, gradient norms and update ratios
during fit, checked against the same numbers computed by hand with NumPy."""
import numpy as np
import pytest

import minikeras as keras
from minikeras import debug, layers


def _tiny():
    model = keras.Sequential([keras.Input((2,)), layers.Dense(3, activation="relu", name="hidden"),
                              layers.Dense(1, activation="sigmoid", name="out")])
    w1 = np.array([[-1.0, 0.5, 0.3], [-1.0, -0.2, 0.8]], np.float32)   # unit 0 is dead
    b1 = np.array([0.0, 0.1, -0.1], np.float32)
    w2 = np.array([[0.7], [-0.4], [9.0]], np.float32)                   # pushes sigmoid to 1
    b2 = np.array([0.2], np.float32)
    model.set_weights([w1, b1, w2, b2])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5), loss="mse")
    x = np.array([[1.0, 2.0], [0.5, 0.1], [2.0, 0.3], [0.2, 1.5]], np.float32)
    y = np.array([[1.0], [0.0], [1.0], [0.0]], np.float32)
    return model, x, y, [a.astype(np.float64) for a in (w1, b1, w2, b2)]


def _by_hand(x, y, w1, b1, w2, b2):
    """Forward and backward of the tiny model, in NumPy."""
    x, y = x.astype(np.float64), y.astype(np.float64)
    z1 = x @ w1 + b1
    h = np.maximum(z1, 0)
    p = 1 / (1 + np.exp(-(h @ w2 + b2)))
    dz2 = 2 * (p - y) / p.size * p * (1 - p)
    dz1 = dz2 @ w2.T * (z1 > 0)
    grads = [x.T @ dz1, dz1.sum(0), h.T @ dz2, dz2.sum(0)]
    return h, p, grads


def test_the_records_are_the_numbers_computed_by_hand(capsys):
    model, x, y, weights = _tiny()
    health = debug.LayerHealth(every=1)
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0, callbacks=[health])
    h, p, grads = _by_hand(x, y, *weights)
    hidden, out = health.history
    assert (hidden["layer"], out["layer"]) == ("hidden", "out")
    assert hidden["mean"] == pytest.approx(h.mean(), rel=1e-5)
    assert hidden["std"] == pytest.approx(h.std(), rel=1e-5)
    assert hidden["saturation_kind"] == "dead relu"
    assert hidden["saturation"] == pytest.approx(np.all(h == 0, axis=0).mean())
    assert out["mean"] == pytest.approx(p.mean(), rel=1e-5)
    assert out["saturation_kind"] == "sigmoid near 0/1"
    assert out["saturation"] == pytest.approx(((p < 0.01) | (p > 0.99)).mean())
    rows = hidden["weights"] + out["weights"]
    assert [r["name"] for r in rows] == ["hidden/kernel", "hidden/bias", "out/kernel", "out/bias"]
    for r, g, w in zip(rows, grads, weights):
        assert r["grad_norm"] == pytest.approx(np.linalg.norm(g), rel=1e-5)
        assert r["weight_norm"] == pytest.approx(np.linalg.norm(w), rel=1e-6)
        assert r["update_ratio"] == pytest.approx(0.5 * np.linalg.norm(g) / np.linalg.norm(w),
                                                  rel=1e-4)     # SGD's step is lr·g
    table = capsys.readouterr().out
    assert table.startswith("layer health, epoch 1 (batch 1 of training):")
    assert f"{np.all(h == 0, axis=0).mean():.1%} dead relu" in table
    assert "hidden/kernel" in table and f"{np.linalg.norm(grads[0]):.3g}" in table


def test_every_n_batches_and_nothing_left_behind():
    model, x, y, _ = _tiny()
    health = debug.LayerHealth(every=3, verbose=0)
    model.fit(np.tile(x, (4, 1)), np.tile(y, (4, 1)), batch_size=2, epochs=2, verbose=0,
              callbacks=[health])
    steps = sorted({r["step"] for r in health.history})
    assert steps == [0, 3, 6, 9, 12, 15] and len(health.history) == 2 * len(steps)
    assert {r["epoch"] for r in health.history} == {0, 1}
    assert all("call" not in vars(layer) for layer in model.layers)
    assert "apply_gradients" not in vars(model.optimizer)
    before = model.predict(x, verbose=0)
    model.predict(x, verbose=0)               # after training, no record is made
    assert len(health.history) == 2 * len(steps) and before.shape == (4, 1)


def test_a_tanh_layer_counts_units_near_plus_minus_one():
    model = keras.Sequential([keras.Input((1,)), layers.Dense(4, activation="tanh", name="t")])
    model.set_weights([np.array([[0.1, 1.0, 5.0, -9.0]], np.float32), np.zeros(4, np.float32)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.array([[1.0], [0.5]], np.float32)
    health = debug.LayerHealth(verbose=0)
    model.fit(x, np.zeros((2, 4), np.float32), batch_size=2, verbose=0, callbacks=[health])
    a = np.tanh(x.astype(np.float64) @ np.array([[0.1, 1.0, 5.0, -9.0]]))
    assert health.history[0]["saturation"] == pytest.approx((np.abs(a) > 0.99).mean())
    assert health.history[0]["weights"][1]["update_ratio"] is None   # a bias of zeros


def test_bad_arguments_say_what_to_pass():
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match=r"whole number of batches, 1 or more; got"):
            debug.LayerHealth(every=bad)
    assert debug.LayerHealth().table() == "LayerHealth: nothing recorded yet."
