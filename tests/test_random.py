"""minikeras.random: seeds reproduce, shapes and dtypes, value ranges, rough moments, the
truncation bound, dropout, shuffle, SeedGenerator and set_random_seed."""
import random as python_random

import numpy as np
import pytest

import minikeras
from minikeras import random as R
from minikeras.tensor import Tensor

N = 20_000


def _np(t):
    return t.numpy()


@pytest.mark.parametrize("draw", [
    lambda seed: R.normal((3, 4), seed=seed),
    lambda seed: R.uniform((3, 4), seed=seed),
    lambda seed: R.truncated_normal((3, 4), seed=seed),
    lambda seed: R.randint((3, 4), 0, 100, seed=seed),
    lambda seed: R.dropout(np.ones((3, 4)), 0.5, seed=seed),
    lambda seed: R.shuffle(np.arange(12), seed=seed),
], ids=["normal", "uniform", "truncated_normal", "randint", "dropout", "shuffle"])
def test_int_seed_reproduces_and_differs_between_seeds(draw):
    a, b, c = _np(draw(1)), _np(draw(1)), _np(draw(2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_shapes_and_dtypes():
    assert R.normal((2, 3), seed=0).shape == (2, 3)
    assert R.normal((2, 3), seed=0).dtype == np.float32
    assert R.normal(5, seed=0).shape == (5,)
    assert R.uniform((2,), dtype="float64", seed=0).dtype == np.float64
    assert R.uniform((2,), dtype="float16", seed=0).dtype == np.float16
    assert R.truncated_normal((4, 1), seed=0).dtype == np.float32
    assert R.randint((2, 2), 0, 5, seed=0).dtype == np.int32
    assert R.randint((2, 2), 0, 5, dtype="int64", seed=0).dtype == np.int64
    assert isinstance(R.normal((1,), seed=0), Tensor)


def test_dtype_errors():
    with pytest.raises(ValueError, match="randint"):
        R.uniform((2,), dtype="int32", seed=0)
    with pytest.raises(ValueError, match="integer type"):
        R.randint((2,), 0, 3, dtype="float32", seed=0)
    with pytest.raises(ValueError, match="minval < maxval"):
        R.randint((2,), 3, 3, seed=0)
    with pytest.raises(ValueError, match="seed must be"):
        R.normal((2,), seed="abc")


def test_normal_moments():
    x = _np(R.normal((N,), mean=2.0, stddev=3.0, dtype="float64", seed=0))
    assert abs(x.mean() - 2.0) < 0.1
    assert abs(x.std() - 3.0) < 0.1


def test_uniform_range_and_moments():
    x = _np(R.uniform((N,), minval=-2.0, maxval=4.0, seed=0))
    assert x.min() >= -2.0 and x.max() < 4.0
    assert abs(x.mean() - 1.0) < 0.1
    assert abs(x.std() - 6 / np.sqrt(12)) < 0.1


def test_truncated_normal_bound_and_std():
    x = _np(R.truncated_normal((N,), mean=1.0, stddev=0.5, dtype="float64", seed=0))
    assert x.min() >= 1.0 - 2 * 0.5 and x.max() <= 1.0 + 2 * 0.5
    assert abs(x.mean() - 1.0) < 0.02
    # the standard deviation of N(0, 1) cut at ±2 is 0.8796 (the Keras initializers' constant)
    assert abs(x.std() / 0.5 - 0.87962566) < 0.02


def test_randint_range_covers_all_values():
    x = _np(R.randint((N,), -3, 4, seed=0))
    assert x.min() == -3 and x.max() == 3
    counts = np.bincount(x + 3)
    assert counts.min() > N / 7 * 0.8


def test_dropout_scaling_and_rate():
    x = np.ones((N,), np.float32)
    y = _np(R.dropout(x, 0.25, seed=0))
    assert y.dtype == np.float32
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((y == 0).mean() - 0.25) < 0.02
    assert abs(y.mean() - 1.0) < 0.03  # inverted dropout keeps the expected value


def test_dropout_rate_one_gives_zeros_and_rate_zero_the_input():
    x = Tensor(np.arange(1.0, 7.0).reshape(2, 3), requires_grad=True)
    y = R.dropout(x, 1.0, seed=0)
    np.testing.assert_array_equal(y.numpy(), np.zeros((2, 3)))
    minikeras.ops.sum(y).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))
    assert R.dropout(x, 0.0) is x


def test_dropout_gradient_uses_the_same_mask():
    x = Tensor(np.ones((4, 5)), requires_grad=True)
    y = R.dropout(x, 0.5, seed=3)
    minikeras.ops.sum(y).backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.numpy())


def test_dropout_noise_shape_shares_the_mask():
    x = np.ones((3, 4, 5), np.float32)
    y = _np(R.dropout(x, 0.5, noise_shape=(3, 1, 5), seed=0))
    assert (y == y[:, :1, :]).all()
    y = _np(R.dropout(x, 0.5, noise_shape=(None, 1, None), seed=0))
    assert (y == y[:, :1, :]).all()


def test_shuffle_is_a_permutation_of_whole_slices():
    x = np.arange(20).reshape(10, 2)
    y = _np(R.shuffle(x, seed=0))
    assert sorted(map(tuple, y)) == sorted(map(tuple, x))  # rows stay intact
    assert not np.array_equal(y, x)
    z = _np(R.shuffle(x.T, axis=1, seed=0))
    np.testing.assert_array_equal(z, y.T)  # same seed, same permutation of that axis


def test_seed_generator_advances_and_reproduces():
    g1, g2 = R.SeedGenerator(42), R.SeedGenerator(42)
    a1, b1 = _np(R.normal((4,), seed=g1)), _np(R.normal((4,), seed=g1))
    a2, b2 = _np(R.normal((4,), seed=g2)), _np(R.normal((4,), seed=g2))
    assert not np.array_equal(a1, b1)
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(b1, b2)
    assert R.SeedGenerator(7).next() != R.SeedGenerator(8).next()
    g = R.SeedGenerator(5)
    assert g.next() != g.next()
    assert R.SeedGenerator.from_config(R.SeedGenerator(9).get_config()).next() == (9, 0)


def test_seed_generator_rejects_non_int_seeds():
    with pytest.raises(ValueError, match="seed must be an int"):
        R.SeedGenerator(1.5)


def test_set_random_seed_reproduces_everything():
    def draws():
        return (_np(R.normal((3,))), _np(R.uniform((3,))), _np(R.dropout(np.ones(8), 0.5)),
                python_random.random(), np.random.rand())
    minikeras.utils.set_random_seed(123)
    first = draws()
    minikeras.utils.set_random_seed(123)
    second = draws()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    # without resetting, the global generator moves on
    third = draws()
    assert not np.array_equal(first[0], third[0])
    with pytest.raises(ValueError, match="seed must be an int"):
        minikeras.utils.set_random_seed("x")


def test_unseeded_calls_differ():
    assert not np.array_equal(_np(R.normal((8,))), _np(R.normal((8,))))
