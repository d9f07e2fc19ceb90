"""minikeras.initializers: statistics on large shapes, Keras's fans and limits, the
truncation correction, Orthogonal and Identity, dtypes, seeds, configs and get()."""
import json
import math

import numpy as np
import pytest

import minikeras
from minikeras import initializers as I
from minikeras import random as R
from minikeras.tensor import Tensor

SHAPE = (400, 300)
FAN_IN, FAN_OUT = SHAPE

ALL_CLASSES = [I.Zeros, I.Ones, I.Constant, I.Identity, I.RandomNormal, I.RandomUniform,
               I.TruncatedNormal, I.VarianceScaling, I.GlorotUniform, I.GlorotNormal,
               I.HeUniform, I.HeNormal, I.LecunUniform, I.LecunNormal, I.Orthogonal]
RANDOM_CLASSES = [I.RandomNormal, I.RandomUniform, I.TruncatedNormal, I.VarianceScaling,
                  I.GlorotUniform, I.GlorotNormal, I.HeUniform, I.HeNormal, I.LecunUniform,
                  I.LecunNormal, I.Orthogonal]


def values(init, shape=SHAPE, dtype=None):
    out = init(shape, dtype=dtype)
    assert isinstance(out, Tensor)
    assert out.shape == tuple(shape)
    return out.numpy()


# --------------------------------------------------------------------------- fans
@pytest.mark.parametrize("shape, fans", [
    ((), (1, 1)),
    ((7,), (7, 7)),
    ((4, 9), (4, 9)),
    ((3, 3, 16, 32), (16 * 9, 32 * 9)),
    ((5, 16, 32), (16 * 5, 32 * 5)),
    ((2, 3, 4, 5, 6), (5 * 24, 6 * 24)),
])
def test_compute_fans(shape, fans):
    assert I.compute_fans(shape) == fans


# --------------------------------------------------------------------------- constants
def test_zeros_ones_constant():
    np.testing.assert_array_equal(values(I.Zeros(), (3, 4)), np.zeros((3, 4)))
    np.testing.assert_array_equal(values(I.Ones(), (3, 4)), np.ones((3, 4)))
    np.testing.assert_array_equal(values(I.Constant(2.5), (2, 3)), np.full((2, 3), 2.5))
    np.testing.assert_array_equal(values(I.Constant(), (2,)), np.zeros(2))
    np.testing.assert_array_equal(values(I.Constant([1.0, 2.0, 3.0]), (2, 3)),
                                  np.tile([1.0, 2.0, 3.0], (2, 1)))
    assert values(I.Ones(), (2,), dtype="int32").dtype == np.int32
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 4\)"):
        I.Constant([1.0, 2.0, 3.0])((2, 4))


def test_shape_as_int():
    assert I.Zeros()(5).shape == (5,)
    assert I.GlorotUniform(seed=1)(5).shape == (5,)


def test_identity():
    np.testing.assert_array_equal(values(I.Identity(), (3, 3)), np.eye(3))
    np.testing.assert_array_equal(values(I.Identity(gain=2.0), (2, 4)), 2.0 * np.eye(2, 4))
    np.testing.assert_array_equal(values(I.Identity(), (4, 2)), np.eye(4, 2))
    with pytest.raises(ValueError, match="2-D.*rank 3"):
        I.Identity()((2, 2, 2))


# --------------------------------------------------------------------------- plain random
def test_random_normal_statistics():
    w = values(I.RandomNormal(mean=1.0, stddev=0.5, seed=0))
    assert abs(w.mean() - 1.0) < 0.01
    assert abs(w.std() - 0.5) < 0.01
    w = values(I.RandomNormal(seed=0))   # defaults mean 0, stddev 0.05
    assert abs(w.mean()) < 1e-3 and abs(w.std() - 0.05) < 1e-3


def test_random_uniform_statistics():
    w = values(I.RandomUniform(seed=0))     # defaults [-0.05, 0.05)
    assert w.min() >= -0.05 and w.max() < 0.05
    assert w.min() < -0.0499 and w.max() > 0.0499
    assert abs(w.mean()) < 1e-3
    assert abs(w.std() - 0.1 / math.sqrt(12)) < 1e-3
    w = values(I.RandomUniform(minval=2.0, maxval=3.0, seed=1))
    assert w.min() >= 2.0 and w.max() < 3.0 and abs(w.mean() - 2.5) < 0.01


def test_truncated_normal_within_two_stddev():
    w = values(I.TruncatedNormal(mean=0.5, stddev=0.1, seed=0))
    assert w.min() >= 0.5 - 0.2 - 1e-6 and w.max() <= 0.5 + 0.2 + 1e-6
    assert abs(w.mean() - 0.5) < 2e-3
    assert abs(w.std() / 0.1 - I.TRUNCATION_CORRECTION) < 0.01
    w = values(I.TruncatedNormal(seed=0))
    assert np.abs(w).max() <= 0.1 + 1e-7


# --------------------------------------------------------------------------- variance scaling
def test_glorot_uniform_limit_is_exact():
    limit = math.sqrt(6 / (FAN_IN + FAN_OUT))
    w = values(I.GlorotUniform(seed=0))
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.999 * limit
    assert abs(w.std() - limit / math.sqrt(3)) < 0.01 * limit


def test_glorot_uniform_conv_kernel_uses_receptive_field():
    shape = (3, 3, 16, 32)
    limit = math.sqrt(6 / (16 * 9 + 32 * 9))
    w = values(I.GlorotUniform(seed=0), shape)
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit


def test_one_dimensional_fans():
    # a (n,) weight counts n for both fans: He uniform limit sqrt(6 / n)
    w = values(I.HeUniform(seed=0), (5000,))
    limit = math.sqrt(6 / 5000)
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit


@pytest.mark.parametrize("cls, variance, kind", [
    (I.GlorotUniform, 2 / (FAN_IN + FAN_OUT), "uniform"),
    (I.GlorotNormal, 2 / (FAN_IN + FAN_OUT), "truncated"),
    (I.HeUniform, 2 / FAN_IN, "uniform"),
    (I.HeNormal, 2 / FAN_IN, "truncated"),
    (I.LecunUniform, 1 / FAN_IN, "uniform"),
    (I.LecunNormal, 1 / FAN_IN, "truncated"),
])
def test_presets_variance_and_support(cls, variance, kind):
    w = values(cls(seed=3))
    std = math.sqrt(variance)
    assert abs(w.mean()) < 0.02 * std
    assert abs(w.std() - std) < 0.02 * std      # the truncation correction restores the std
    if kind == "uniform":
        assert np.abs(w).max() <= math.sqrt(3) * std
    else:                                       # cut at 2σ of the corrected scale
        assert np.abs(w).max() <= 2 * std / I.TRUNCATION_CORRECTION + 1e-7
        assert np.abs(w).max() > 1.95 * std / I.TRUNCATION_CORRECTION


@pytest.mark.parametrize("mode, n", [("fan_in", FAN_IN), ("fan_out", FAN_OUT),
                                     ("fan_avg", (FAN_IN + FAN_OUT) / 2)])
@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform"])
def test_variance_scaling_modes(mode, n, distribution):
    w = values(I.VarianceScaling(scale=3.0, mode=mode, distribution=distribution, seed=1))
    std = math.sqrt(3.0 / n)
    assert abs(w.std() - std) < 0.02 * std
    if distribution == "untruncated_normal":
        assert np.abs(w).max() > 2.5 * std     # tails that a truncated draw would not have


def test_variance_scaling_defaults_and_normal_alias():
    init = I.VarianceScaling()
    assert (init.scale, init.mode, init.distribution, init._init_seed) == (1.0, "fan_in",
                                                                      "truncated_normal", None)
    assert I.VarianceScaling(distribution="normal").distribution == "truncated_normal"
    assert I.VarianceScaling(distribution="Uniform").distribution == "uniform"


def test_variance_scaling_small_fans_count_as_one():
    w = values(I.VarianceScaling(scale=1.0, distribution="uniform", seed=0), (0, 1000))
    assert w.size == 0
    # fan_in 0 counts as 1: limit sqrt(3)
    assert I.VarianceScaling().variance((0, 5)) == 1.0


@pytest.mark.parametrize("kwargs, match", [
    ({"scale": 0.0}, "scale must be a positive"),
    ({"scale": -1.0}, "scale must be a positive"),
    ({"mode": "fan_sum"}, "mode must be one of fan_in, fan_out, fan_avg"),
    ({"distribution": "cauchy"}, "distribution must be one of"),
    ({"seed": "abc"}, "seed must be an int"),
    ({"seed": 1.5}, "seed must be an int"),
])
def test_variance_scaling_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        I.VarianceScaling(**kwargs)


# --------------------------------------------------------------------------- orthogonal
@pytest.mark.parametrize("shape", [(30, 20), (20, 30), (25, 25), (3, 3, 4, 8), (2, 3, 40)])
def test_orthogonal_is_orthonormal(shape):
    w = values(I.Orthogonal(seed=0), shape, dtype="float64").reshape(-1, shape[-1])
    rows, cols = w.shape
    if rows >= cols:
        np.testing.assert_allclose(w.T @ w, np.eye(cols), atol=1e-10)
    else:
        np.testing.assert_allclose(w @ w.T, np.eye(rows), atol=1e-10)


def test_orthogonal_gain_and_float32():
    w = values(I.Orthogonal(gain=3.0, seed=1), (16, 16))
    assert w.dtype == np.float32
    np.testing.assert_allclose(w.T @ w, 9.0 * np.eye(16), atol=1e-4)


def test_orthogonal_rank_error():
    with pytest.raises(ValueError, match="rank 2 or more.*rank 1"):
        I.Orthogonal()((5,))


def test_orthogonal_is_not_biased_to_a_sign():
    # the sign correction makes the diagonal of Q symmetric around 0 over many draws
    diag = np.concatenate([np.diag(values(I.Orthogonal(seed=s), (8, 8))) for s in range(200)])
    assert abs(np.mean(diag > 0) - 0.5) < 0.08


# --------------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_float32_default_and_float64_on_request(cls):
    init = cls()
    assert init((4, 4)).dtype == np.float32
    assert init((4, 4), dtype="float64").dtype == np.float64
    assert init((4, 4), dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize("cls", [I.GlorotUniform, I.Zeros, I.Orthogonal])
def test_default_dtype_follows_floatx(cls):
    old = minikeras.config.floatx()
    try:
        minikeras.config.set_floatx("float64")
        assert cls()((3, 3)).dtype == np.float64
    finally:
        minikeras.config.set_floatx(old)


def test_float16():
    assert I.GlorotUniform(seed=0)((4, 4), dtype="float16").dtype == np.float16
    assert I.Orthogonal(seed=0)((4, 4), dtype="float16").dtype == np.float16


def test_random_initializers_refuse_integer_dtypes():
    with pytest.raises(ValueError, match="float"):
        I.RandomNormal(seed=0)((2, 2), dtype="int32")


# --------------------------------------------------------------------------- seeds
@pytest.mark.parametrize("cls", RANDOM_CLASSES)
def test_int_seed_gives_the_same_values_each_call(cls):
    a, b = values(cls(seed=7), (6, 5)), values(cls(seed=7), (6, 5))
    np.testing.assert_array_equal(a, b)
    init = cls(seed=7)
    np.testing.assert_array_equal(values(init, (6, 5)), values(init, (6, 5)))
    assert not np.array_equal(a, values(cls(seed=8), (6, 5)))


@pytest.mark.parametrize("cls", RANDOM_CLASSES)
def test_unseeded_instance_repeats_and_set_random_seed_reproduces(cls):
    init = cls()  # Keras 3: an unseeded instance repeats its values; two instances differ
    np.testing.assert_array_equal(values(init, (6, 5)), values(init, (6, 5)))
    assert not np.array_equal(values(cls(), (6, 5)), values(cls(), (6, 5)))
    minikeras.utils.set_random_seed(123)
    first = [values(cls(), (6, 5)) for _ in range(2)]
    minikeras.utils.set_random_seed(123)
    second = [values(cls(), (6, 5)) for _ in range(2)]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_seed_generator_advances_and_reproduces():
    init = I.RandomNormal(seed=R.SeedGenerator(5))
    a, b = values(init, (3, 3)), values(init, (3, 3))
    assert not np.array_equal(a, b)
    again = I.RandomNormal(seed=R.SeedGenerator(5))
    np.testing.assert_array_equal(values(again, (3, 3)), a)


# --------------------------------------------------------------------------- configs
CONFIGURED = [
    I.Zeros(), I.Ones(), I.Constant(3.0), I.Constant([[1.0, 2.0]]), I.Identity(gain=0.5),
    I.RandomNormal(mean=1.0, stddev=2.0, seed=3), I.RandomUniform(-1.0, 2.0, seed=4),
    I.TruncatedNormal(mean=0.0, stddev=0.2, seed=5),
    I.VarianceScaling(scale=2.0, mode="fan_out", distribution="uniform", seed=6),
    I.GlorotUniform(seed=7), I.GlorotNormal(), I.HeUniform(seed=8), I.HeNormal(),
    I.LecunUniform(), I.LecunNormal(seed=9), I.Orthogonal(gain=2.0, seed=10),
]


@pytest.mark.parametrize("init", CONFIGURED, ids=lambda i: type(i).__name__)
def test_config_round_trip(init):
    config = init.get_config()
    json.dumps(config)                                  # JSON-ready, as saving needs
    again = type(init).from_config(config)
    assert type(again) is type(init) and again.get_config() == config
    via = I.deserialize(json.loads(json.dumps(I.serialize(init))))
    assert type(via) is type(init) and via.get_config() == config
    if getattr(init, "_init_seed", None) is not None:
        np.testing.assert_array_equal(values(init, (4, 3)), values(via, (4, 3)))


def test_config_contents_match_keras():
    assert I.GlorotUniform().get_config() == {"seed": None}
    assert I.Zeros().get_config() == {}
    assert I.RandomUniform().get_config() == {"minval": -0.05, "maxval": 0.05, "seed": None}
    assert I.VarianceScaling().get_config() == {"scale": 1.0, "mode": "fan_in",
                                                "distribution": "truncated_normal", "seed": None}
    assert I.serialize(I.GlorotUniform()) == {"module": "keras.initializers",
                                              "class_name": "GlorotUniform",
                                              "config": {"seed": None}, "registered_name": None}


def test_seed_generator_config_round_trip():
    init = I.RandomNormal(seed=R.SeedGenerator(11))
    config = json.loads(json.dumps(init.get_config()))
    again = I.RandomNormal.from_config(config)
    fresh = I.RandomNormal(seed=R.SeedGenerator(11))
    np.testing.assert_array_equal(values(again, (3, 3)), values(fresh, (3, 3)))


def test_clone():
    init = I.HeNormal(seed=2)
    copy = init.clone()
    assert copy is not init and copy.get_config() == init.get_config()


# --------------------------------------------------------------------------- get
@pytest.mark.parametrize("name, cls", [
    ("glorot_uniform", I.GlorotUniform), ("GlorotUniform", I.GlorotUniform),
    ("glorot_normal", I.GlorotNormal), ("he_normal", I.HeNormal), ("he_uniform", I.HeUniform),
    ("lecun_normal", I.LecunNormal), ("lecun_uniform", I.LecunUniform),
    ("uniform", I.RandomUniform), ("normal", I.RandomNormal), ("random_normal", I.RandomNormal),
    ("random_uniform", I.RandomUniform), ("truncated_normal", I.TruncatedNormal),
    ("zeros", I.Zeros), ("ones", I.Ones), ("constant", I.Constant), ("identity", I.Identity),
    ("orthogonal", I.Orthogonal), ("Orthogonal", I.Orthogonal),
    ("OrthogonalInitializer", I.Orthogonal), ("variance_scaling", I.VarianceScaling),
])
def test_get_by_name(name, cls):
    init = I.get(name)
    assert type(init) is cls
    assert I.get(name) is not init                     # a new instance each time


def test_get_other_identifiers():
    assert I.get(None) is None
    init = I.HeNormal(seed=1)
    assert I.get(init) is init
    assert type(I.get(I.Ones)) is I.Ones

    def custom(shape, dtype=None):
        return minikeras.ops.full(shape, 4.0, dtype=dtype)
    assert I.get(custom) is custom
    got = I.get({"class_name": "RandomUniform",
                 "config": {"minval": 0.0, "maxval": 1.0, "seed": 2}})
    assert type(got) is I.RandomUniform and (got.minval, got.maxval, got.seed) == (0.0, 1.0, 2)
    assert type(I.get({"class_name": "Zeros"})) is I.Zeros


def test_get_unknown_name_lists_valid_ones():
    with pytest.raises(ValueError, match="Unknown initializer 'glorot_unifrom'.*Did you mean "
                                         "'glorot_uniform'.*Valid names:.*he_normal"):
        I.get("glorot_unifrom")
    with pytest.raises(ValueError, match="Could not interpret initializer identifier: 42"):
        I.get(42)
    with pytest.raises(ValueError, match="Cannot deserialize"):
        I.deserialize(["glorot_uniform"])


def test_deserialize_custom_objects():
    class MyInit(I.Initializer):
        def __call__(self, shape, dtype=None):
            return minikeras.ops.ones(shape, dtype=dtype)
    got = I.deserialize({"class_name": "MyInit", "config": {}}, custom_objects={"MyInit": MyInit})
    assert isinstance(got, MyInit)


def test_base_initializer_must_be_subclassed():
    with pytest.raises(NotImplementedError, match="__call__"):
        I.Initializer()((2, 2))


def test_repr():
    assert repr(I.HeNormal(seed=3)) == "HeNormal(seed=3)"
