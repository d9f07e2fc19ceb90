"""The dropout keep-mask of the counter-based generator (kernels/cpu/dropout.py): the hash
against a plain-Python reference, and the statistics of the masks (keep fraction,
neighbouring elements, consecutive steps, nearby seeds)."""
import numpy as np
import pytest

import minikeras as mk
from minikeras.kernels import cpu as cpu_kernels
from minikeras.kernels.cpu import dropout as cpu_dropout

N = 200_000


def _lowbias32(x):
    """The lowbias32 mixer written out on Python ints, wrapping at 32 bits after each step."""
    x ^= x >> 16
    x = (x * 0x7FEB352D) % 2**32
    x ^= x >> 15
    x = (x * 0x846CA68B) % 2**32
    x ^= x >> 16
    return x


def test_the_numpy_hash_is_lowbias32_on_32_bit_words():
    words = [0, 1, 2, 12345, 2**31, 2**32 - 1, 0xDEADBEEF]
    got = cpu_dropout.mix32(np.array(words, dtype=np.uint32))
    assert got.dtype == np.uint32
    assert got.tolist() == [_lowbias32(w) for w in words]
    assert [cpu_dropout.mix32(w) for w in words] == [_lowbias32(w) for w in words]


def test_the_mask_is_the_hash_of_each_index_below_the_threshold():
    seed, step, keep = 7, 3, 0.6
    k0, k1 = cpu_dropout.stream_keys(seed, step)
    expected = [_lowbias32(_lowbias32(i ^ k0) ^ k1) < int(keep * 2**32) for i in range(50)]
    mask = cpu_kernels.dropout_mask((5, 10), keep, seed, step)
    assert mask.dtype == bool and mask.shape == (5, 10)
    assert mask.reshape(-1).tolist() == expected
    # Chunks change nothing: a mask longer than one chunk starts with the shorter mask.
    long = cpu_kernels.dropout_mask((3 * cpu_dropout.CHUNK + 5,), keep, seed, step)
    np.testing.assert_array_equal(long[:50], mask.reshape(-1))


def _z(mask_a, mask_b):
    """The correlation of two boolean masks, in standard errors (about N(0, 1) if independent)."""
    a, b = mask_a.astype(float), mask_b.astype(float)
    return np.corrcoef(a, b)[0, 1] * np.sqrt(a.size)


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.8, 0.97])
def test_the_keep_fraction_is_keep_prob(keep):
    for seed, step in [(0, 0), (1, 5), (-3, 2**40), (2**63 + 11, 1)]:
        mask = cpu_kernels.dropout_mask((N,), keep, seed, step)
        standard_error = np.sqrt(keep * (1 - keep) / N)
        assert abs(mask.mean() - keep) < 5 * standard_error, (seed, step, mask.mean())


def test_no_correlation_between_neighbours_steps_or_seeds():
    m = cpu_kernels.dropout_mask((N,), 0.5, 42, 0)
    assert abs(_z(m[:-1], m[1:])) < 5                  # neighbouring elements
    assert abs(_z(m[:-2], m[2:])) < 5
    rows = m.reshape(-1, 100)                          # the same column of neighbouring rows
    assert abs(_z(rows[:-1].reshape(-1), rows[1:].reshape(-1))) < 5
    for seed, step in [(42, 1), (42, 2), (43, 0), (42 + 2**32, 0)]:
        other = cpu_kernels.dropout_mask((N,), 0.5, seed, step)
        assert abs(_z(m, other)) < 5, (seed, step)
        assert 0.45 < (m != other).mean() < 0.55


def test_the_same_seed_and_step_give_the_same_mask():
    a = cpu_kernels.dropout_mask((4, 6), 0.5, 9, 4)
    np.testing.assert_array_equal(a, cpu_kernels.dropout_mask((4, 6), 0.5, 9, 4))
    assert not np.array_equal(a, cpu_kernels.dropout_mask((4, 6), 0.5, 9, 5))
    assert cpu_kernels.dropout_mask((0, 3), 0.5, 1, 1).shape == (0, 3)
    assert cpu_kernels.dropout_mask((3,), 1.0, 1, 1).all()


def test_random_dropout_draws_its_mask_from_the_seed_and_the_counter():
    gen = mk.random.SeedGenerator(5)
    x = np.ones((3, 8), np.float32)
    first = mk.random.dropout(x, 0.25, seed=gen).numpy()
    second = mk.random.dropout(x, 0.25, seed=gen).numpy()
    np.testing.assert_array_equal(first != 0, cpu_kernels.dropout_mask((3, 8), 0.75, 5, 0))
    np.testing.assert_array_equal(second != 0, cpu_kernels.dropout_mask((3, 8), 0.75, 5, 1))
    np.testing.assert_allclose(first[first != 0], 1 / 0.75)
    with pytest.raises(ValueError, match="at most 2\\*\\*32 elements"):
        cpu_dropout.check_size(2**32 + 1)
