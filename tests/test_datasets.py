"""The bundled digits dataset and the from-scratch training example that uses it."""
import os
import subprocess
import sys

import numpy as np
import pytest

from minikeras.datasets import digits

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_digits_load_data_shapes_dtypes_and_split():
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    assert x_train.shape == (1437, 8, 8) and x_test.shape == (360, 8, 8)
    assert y_train.shape == (1437,) and y_test.shape == (360,)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert x_train.max() == 16 and x_train.min() == 0
    assert set(np.unique(np.concatenate([y_train, y_test]))) == set(range(10))
    counts = np.bincount(np.concatenate([y_train, y_test]))
    assert counts.sum() == 1797 and counts.min() >= 170  # 174..183 per class


def test_digits_split_is_reproducible_and_disjoint():
    (a, _), (b, _) = digits.load_data()
    (c, _), (d, _) = digits.load_data()
    np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(b, d)
    (_, _), (e, _) = digits.load_data(seed=1)
    assert not np.array_equal(b, e)
    flat_train = {x.tobytes() for x in a}
    # the UCI set holds a few duplicate images; nearly all test images are unseen
    assert sum(x.tobytes() in flat_train for x in b) < 10


def test_digits_bad_split():
    with pytest.raises(ValueError, match="test_split must be between 0 and 1, got 1.5"):
        digits.load_data(test_split=1.5)


def _run_example(name, tmp_path, *args):
    env = dict(os.environ, PYTHONPATH=ROOT, MPLBACKEND="Agg")
    r = subprocess.run([sys.executable, os.path.join(ROOT, "examples", name), *args,
                        "--plot", str(tmp_path / "curves.png")],
                       capture_output=True, text=True, env=env, cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout


def test_main_job_trains_a_keras_model_on_the_digits(tmp_path):
    out = _run_example("train_digits.py", tmp_path)
    assert 'Model: "sequential"' in out and "Epoch 30/30" in out and "41/41" in out
    acc = float(out.split("test accuracy:")[1].split()[0])
    assert acc >= 0.95, out[-2000:]
    assert f"training curves saved to {tmp_path / 'curves.png'}" in out
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_from_scratch_example_learns_the_digits(tmp_path):
    out = _run_example("digits_from_scratch.py", tmp_path, "--epochs", "5")
    assert "Epoch 5/5" in out and "45/45" in out
    acc = float(out.split("test accuracy:")[1].split()[0])
    assert acc >= 0.93, out[-2000:]


def test_convnet_example_reaches_098_on_the_digits(tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT)
    r = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "train_digits_convnet.py")],
                       capture_output=True, text=True, env=env, cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr[-3000:]
    out = r.stdout
    assert "conv2d (Conv2D)" in out and "max_pooling2d (MaxPooling2D)" in out
    assert "Epoch 40/40" in out
    acc = float(out.split("test accuracy:")[1].split()[0])
    assert acc >= 0.98, out[-2000:]
