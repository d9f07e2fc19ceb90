"""Learning-rate schedules: hand-computed values at chosen steps (staircase, cycle, warmup,
restarts), a float64 re-statement of each formula at random steps, config and errors."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minikeras import optim, schedules
from minikeras.tensor import Tensor, Variable

S = schedules


def values(schedule, steps):
    return [float(schedule(s)) for s in steps]


def test_exponential_decay():
    s = S.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    np.testing.assert_allclose(values(s, [0, 5, 10, 25]),
                               [0.1, 0.1 * 0.5 ** 0.5, 0.05, 0.1 * 0.5 ** 2.5], rtol=1e-6)
    stairs = S.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    np.testing.assert_allclose(values(stairs, [0, 5, 9, 10, 15, 25]),
                               [0.1, 0.1, 0.1, 0.05, 0.05, 0.025], rtol=1e-6)


def test_piecewise_constant_decay():
    s = S.PiecewiseConstantDecay(boundaries=[10, 20], values=[1.0, 0.5, 0.1])
    assert values(s, [0, 10, 11, 20, 21, 1000]) == pytest.approx([1.0, 1.0, 0.5, 0.5, 0.1, 0.1])
    with pytest.raises(ValueError, match="The length of boundaries should be 1 less than the "
                                         "length of values"):
        S.PiecewiseConstantDecay([10, 20], [1.0, 0.5])


def test_polynomial_decay():
    s = S.PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.01)
    np.testing.assert_allclose(values(s, [0, 5, 10, 20]), [0.1, 0.055, 0.01, 0.01], rtol=1e-6)
    squared = S.PolynomialDecay(0.1, 10, end_learning_rate=0.01, power=2.0)
    np.testing.assert_allclose(values(squared, [5]), [0.09 * 0.25 + 0.01], rtol=1e-6)
    cyc = S.PolynomialDecay(0.1, 10, end_learning_rate=0.01, cycle=True)
    # step 0 -> multiplier 1; 15 -> decay over 20; 21 -> decay over 30
    np.testing.assert_allclose(values(cyc, [0, 10, 15, 20, 21]),
                               [0.1, 0.01, 0.09 * 0.25 + 0.01, 0.01, 0.09 * 0.3 + 0.01],
                               rtol=1e-6)
    assert S.PolynomialDecay(1.0, 4).get_config()["end_learning_rate"] == 0.0001


def test_inverse_time_decay():
    s = S.InverseTimeDecay(0.1, decay_steps=10, decay_rate=0.5)
    np.testing.assert_allclose(values(s, [0, 5, 20]), [0.1, 0.08, 0.05], rtol=1e-6)
    stairs = S.InverseTimeDecay(0.1, 10, 0.5, staircase=True)
    np.testing.assert_allclose(values(stairs, [5, 15, 20]), [0.1, 0.1 / 1.5, 0.05], rtol=1e-6)


def test_cosine_decay():
    s = S.CosineDecay(0.1, decay_steps=100)
    np.testing.assert_allclose(values(s, [0, 50, 100, 200]), [0.1, 0.05, 0.0, 0.0],
                               rtol=1e-6, atol=1e-9)
    floor = S.CosineDecay(0.1, 100, alpha=0.1)
    np.testing.assert_allclose(values(floor, [50, 100, 1000]), [0.055, 0.01, 0.01], rtol=1e-6)


def test_cosine_decay_with_warmup():
    s = S.CosineDecay(0.0, decay_steps=100, warmup_target=0.2, warmup_steps=10)
    # linear 0 -> 0.2 over 10 steps, then cosine from 0.2 over the next 100
    np.testing.assert_allclose(values(s, [0, 5, 10, 60, 110, 500]),
                               [0.0, 0.1, 0.2, 0.1, 0.0, 0.0], rtol=1e-6, atol=1e-8)
    s = S.CosineDecay(0.01, decay_steps=10, alpha=0.5, warmup_target=0.1, warmup_steps=2)
    np.testing.assert_allclose(values(s, [1, 7]), [0.055, 0.1 * (0.5 * 0.5 + 0.5)], rtol=1e-6)


def test_cosine_decay_restarts():
    s = S.CosineDecayRestarts(1.0, first_decay_steps=10, t_mul=2.0, m_mul=0.5)
    # periods [0, 10), [10, 30), [30, 70): each twice as long, starting half as high
    np.testing.assert_allclose(values(s, [0, 5, 10, 20, 30, 50]),
                               [1.0, 0.5, 0.5, 0.25, 0.25, 0.125], rtol=1e-5, atol=1e-7)
    same_length = S.CosineDecayRestarts(1.0, 10, t_mul=1.0, alpha=0.2)
    np.testing.assert_allclose(values(same_length, [5, 10, 15]),
                               [0.8 * 0.5 + 0.2, 1.0, 0.8 * 0.5 + 0.2], rtol=1e-6)


@given(step=st.integers(0, 5000))
def test_formulas_at_random_steps(step):
    """Each schedule against its formula restated in float64."""
    pi = math.pi
    cases = [
        (S.ExponentialDecay(0.3, 70, 0.8), 0.3 * 0.8 ** (step / 70)),
        (S.ExponentialDecay(0.3, 70, 0.8, staircase=True), 0.3 * 0.8 ** (step // 70)),
        (S.InverseTimeDecay(0.3, 70, 0.8), 0.3 / (1 + 0.8 * step / 70)),
        (S.PolynomialDecay(0.3, 900, 0.02, power=0.5),
         (0.3 - 0.02) * (1 - min(step, 900) / 900) ** 0.5 + 0.02),
        (S.CosineDecay(0.3, 900, alpha=0.2),
         0.3 * (0.8 * 0.5 * (1 + math.cos(pi * min(step, 900) / 900)) + 0.2)),
    ]
    period = max(1, math.ceil(step / 400))
    cases.append((S.PolynomialDecay(0.3, 400, 0.02, power=2.0, cycle=True),
                  0.28 * (1 - step / (400 * period)) ** 2 + 0.02))
    fraction = (step / 300) % 1.0
    cases.append((S.CosineDecayRestarts(0.3, 300, t_mul=1.0, m_mul=0.9),
                  0.3 * 0.9 ** (step // 300) * 0.5 * (1 + math.cos(pi * fraction))))
    for schedule, expected in cases:
        assert float(schedule(step)) == pytest.approx(expected, rel=2e-5, abs=1e-7), schedule


# Values printed by real Keras 3.15.1 (KERAS_BACKEND=numpy), float32, at these steps.
GOLDEN_STEPS = [0, 7, 13, 50, 199, 12345]
KERAS_3_15_GOLDEN = [
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 7, "decay_rate": 0.6}, [0.10000000149011612, 0.06000000238418579, 0.038725338876247406, 0.0026023529935628176, 4.933525588057819e-08, 0.0]),  # noqa: E501
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 7, "decay_rate": 0.6, "staircase": True}, [0.10000000149011612, 0.06000000238418579, 0.06000000238418579, 0.00279936078004539, 6.140949437849486e-08, 0.0]),  # noqa: E501
    ("PiecewiseConstantDecay", {"boundaries": [3, 10, 50], "values": [1.0, 0.5, 0.25, 0.01]}, [1.0, 0.5, 0.25, 0.25, 0.009999999776482582, 0.009999999776482582]),  # noqa: E501
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 30, "end_learning_rate": 0.003, "power": 1.7}, [0.10000000149011612, 0.06474516540765762, 0.039934203028678894, 0.003000000026077032, 0.003000000026077032, 0.003000000026077032]),  # noqa: E501
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 30, "power": 0.5, "cycle": True}, [0.10000000149011612, 0.08757194876670837, 0.07530198991298676, 0.04088400676846504, 0.022964004427194595, 0.0035802070051431656]),  # noqa: E501
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 9, "decay_rate": 0.3}, [0.10000000149011612, 0.0810810849070549, 0.06976743787527084, 0.03750000149011612, 0.013100435957312584, 0.00024242424115072936]),  # noqa: E501
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 9, "decay_rate": 0.3, "staircase": True}, [0.10000000149011612, 0.10000000149011612, 0.07692307978868484, 0.03999999910593033, 0.013157893903553486, 0.0002425418351776898]),  # noqa: E501
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 40, "alpha": 0.05}, [0.10000000149011612, 0.09300040453672409, 0.0773186907172203, 0.005000000353902578, 0.005000000353902578, 0.005000000353902578]),  # noqa: E501
    ("CosineDecay", {"initial_learning_rate": 0.001, "decay_steps": 40, "warmup_target": 0.1, "warmup_steps": 13}, [0.0010000000474974513, 0.054307691752910614, 0.10000000149011612, 0.00138150155544281, 0.0, 0.0]),  # noqa: E501
    ("CosineDecay", {"initial_learning_rate": 0.0, "decay_steps": 40, "alpha": 0.2, "warmup_target": 0.05, "warmup_steps": 0}, [0.05000000074505806, 0.04705280438065529, 0.040449973195791245, 0.010000000707805157, 0.010000000707805157, 0.010000000707805157]),  # noqa: E501
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 9}, [0.10000000149011612, 0.011697771959006786, 0.08830221742391586, 0.02886909618973732, 0.058682411909103394, 0.07401955127716064]),  # noqa: E501
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 9, "t_mul": 1.0, "m_mul": 0.7, "alpha": 0.1}, [0.10000000149011612, 0.020527994260191917, 0.04696991667151451, 0.016249826177954674, 0.010034128092229366, 0.010000000707805157]),  # noqa: E501
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 5, "t_mul": 3.0, "m_mul": 0.5}, [0.10000000149011612, 0.047838639467954636, 0.022386791184544563, 0.006249999161809683, 1.6923994508033502e-06, 0.00023642173619009554]),  # noqa: E501
]


@pytest.mark.parametrize("name, kwargs, expected", KERAS_3_15_GOLDEN,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(KERAS_3_15_GOLDEN)])
def test_same_float32_values_as_keras(name, kwargs, expected):
    schedule = getattr(S, name)(**kwargs)
    got = np.array([schedule(step).numpy() for step in GOLDEN_STEPS], np.float32)
    # bit for bit here; 2 ulp of room for another C library's cos/log/pow
    np.testing.assert_array_max_ulp(got, np.asarray(expected, np.float32), maxulp=2)


def test_result_is_a_float32_tensor_and_any_step_type_works():
    s = S.ExponentialDecay(0.1, 10, 0.5)
    out = s(0)
    assert isinstance(out, Tensor) and out.shape == () and out.dtype == np.float32
    assert float(out) == float(np.float32(0.1))  # computed in float32, as Keras does
    step = Variable(np.asarray(10, np.int64), trainable=False)
    for form in (10, 10.0, np.int64(10), Tensor(np.asarray(10)), step):
        assert float(s(form)) == pytest.approx(0.05)
    assert S.ExponentialDecay(np.float64(0.1), 10, 0.5)(0).dtype == np.float64


ALL = [S.ExponentialDecay(0.1, 10, 0.9, staircase=True), S.PiecewiseConstantDecay([5], [1.0, 0.1]),
       S.PolynomialDecay(0.1, 10, cycle=True), S.InverseTimeDecay(0.1, 10, 0.5),
       S.CosineDecay(0.1, 10, warmup_target=0.2, warmup_steps=3),
       S.CosineDecayRestarts(0.1, 10, t_mul=3.0, m_mul=0.5, alpha=0.1)]


@pytest.mark.parametrize("schedule", ALL, ids=[type(s).__name__ for s in ALL])
def test_config_round_trip(schedule):
    again = type(schedule).from_config(schedule.get_config())
    assert again.get_config() == schedule.get_config()
    restored = S.deserialize(S.serialize(schedule))
    assert type(restored) is type(schedule)
    assert values(restored, [0, 4, 13]) == values(schedule, [0, 4, 13])


def test_default_names_and_config_keys():
    assert S.ExponentialDecay(0.1, 1, 0.5).get_config()["name"] == "ExponentialDecay"
    assert S.PiecewiseConstantDecay([1], [1.0, 0.5]).name == "PiecewiseConstant"
    assert S.CosineDecayRestarts(0.1, 1).get_config() == {
        "initial_learning_rate": 0.1, "first_decay_steps": 1, "t_mul": 2.0, "m_mul": 1.0,
        "alpha": 0.0, "name": "SGDRDecay"}
    assert S.CosineDecay(0.1, 1).get_config() == {
        "initial_learning_rate": 0.1, "decay_steps": 1, "alpha": 0.0, "name": "CosineDecay",
        "warmup_target": None, "warmup_steps": 0}


def test_errors():
    for make in (lambda: S.ExponentialDecay(0.1, 0, 0.5), lambda: S.PolynomialDecay(0.1, -1),
                 lambda: S.InverseTimeDecay(0.1, 0, 0.5), lambda: S.CosineDecay(0.1, 0)):
        with pytest.raises(ValueError, match="Argument `decay_steps` must be > 0"):
            make()
    with pytest.raises(ValueError, match="`first_decay_steps` must be > 0"):
        S.CosineDecayRestarts(0.1, 0)
    with pytest.raises(NotImplementedError, match="must override `__call__"):
        S.LearningRateSchedule()(0)
    with pytest.raises(NotImplementedError, match="must override `get_config"):
        S.LearningRateSchedule().get_config()
    with pytest.raises(ValueError, match="Unknown learning rate schedule 'Nope'"):
        S.deserialize({"class_name": "Nope", "config": {}})


def test_a_custom_schedule_drives_an_optimizer():
    class Halving(S.LearningRateSchedule):
        def __call__(self, step):
            return 1.0 / 2 ** float(step)

        def get_config(self):
            return {}

    w = Variable(np.zeros(1, np.float32), name="w")
    opt = optim.SGD(learning_rate=Halving())
    for _ in range(3):
        opt.apply([Tensor([1.0])], [w])
    np.testing.assert_allclose(w.numpy(), [-1.75])
    config = opt.get_config()
    assert config["learning_rate"]["class_name"] == "Halving"
    with pytest.raises(ValueError, match="Unknown learning rate schedule 'Halving'"):
        optim.SGD.from_config(config)
    restored = optim.SGD.from_config(config, custom_objects={"Halving": Halving})
    assert isinstance(restored._learning_rate, Halving)
    assert optim.schedules is S
