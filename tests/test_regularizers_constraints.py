"""minikeras.regularizers and minikeras.constraints: values against NumPy, gradients of the
penalties (float64 finite differences), Keras's epsilon in the norm constraints, configs,
get() and its errors."""
import json

import numpy as np
import pytest

import minikeras
from minikeras import GradientTape
from minikeras import constraints as C
from minikeras import regularizers as Rg
from minikeras.tensor import Tensor, Variable
from minikeras.utils import check_gradients

EPS = 1e-7


def weights(shape=(5, 4), seed=0):
    w = np.random.default_rng(seed).normal(size=shape)
    w[np.abs(w) < 1e-2] += 0.05          # no value at |w|'s kink
    return w


# =========================================================================== regularizers
@pytest.mark.parametrize("reg, reference", [
    (Rg.L1(), lambda w: 0.01 * np.abs(w).sum()),
    (Rg.L1(0.3), lambda w: 0.3 * np.abs(w).sum()),
    (Rg.L2(), lambda w: 0.01 * (w ** 2).sum()),
    (Rg.L2(l2=0.5), lambda w: 0.5 * (w ** 2).sum()),
    (Rg.L1L2(l1=0.1, l2=0.2), lambda w: 0.1 * np.abs(w).sum() + 0.2 * (w ** 2).sum()),
    (Rg.L1L2(l2=0.2), lambda w: 0.2 * (w ** 2).sum()),
    (Rg.L1L2(), lambda w: 0.0),
], ids=["L1", "L1(0.3)", "L2", "L2(0.5)", "L1L2", "L1L2(l2)", "L1L2()"])
def test_regularizer_values(reg, reference):
    w = weights()
    out = reg(Tensor(w))
    assert isinstance(out, Tensor) and out.shape == ()
    np.testing.assert_allclose(out.numpy(), reference(w), rtol=1e-12)
    out32 = reg(Tensor(w.astype(np.float32)))
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32.numpy(), reference(w), rtol=1e-5)


@pytest.mark.parametrize("reg", [Rg.L1(0.3), Rg.L2(0.5), Rg.L1L2(0.1, 0.2),
                                 Rg.OrthogonalRegularizer(0.7),
                                 Rg.OrthogonalRegularizer(0.7, mode="columns")],
                         ids=["L1", "L2", "L1L2", "orthogonal-rows", "orthogonal-columns"])
def test_regularizer_gradients(reg):
    report = check_gradients(reg, weights((4, 3), seed=1))
    assert report.ok, str(report)


def test_regularizer_gradient_formulas():
    w = weights((3, 3), seed=2)
    v = Variable(w, name="kernel")
    with GradientTape() as tape:
        loss = Rg.L2(0.5)(v) + Rg.L1(0.25)(v)
    (g,) = tape.gradient(loss, [v])
    np.testing.assert_allclose(g.numpy(), 2 * 0.5 * w + 0.25 * np.sign(w))


def np_orthogonal_penalty(w, factor, mode):
    m = w if mode == "rows" else w.T
    m = m / np.sqrt(np.maximum((m ** 2).sum(axis=1, keepdims=True), 1e-12))
    gram = m @ m.T
    n = gram.shape[0]
    off = np.abs(gram - np.diag(np.diag(gram)))
    return factor * 0.5 * off.sum() / (n * (n - 1) / 2)


@pytest.mark.parametrize("mode", ["rows", "columns"])
def test_orthogonal_regularizer(mode):
    w = weights((6, 4), seed=3)
    reg = Rg.OrthogonalRegularizer(factor=0.2, mode=mode)
    np.testing.assert_allclose(reg(Tensor(w)).numpy(), np_orthogonal_penalty(w, 0.2, mode))
    q, _ = np.linalg.qr(weights((6, 6), seed=4))
    assert Rg.OrthogonalRegularizer()(Tensor(q)).numpy() < 1e-12
    with pytest.raises(ValueError, match="2-D weight.*\\(2, 2, 2\\)"):
        reg(Tensor(np.ones((2, 2, 2))))
    with pytest.raises(ValueError, match="mode must be 'rows' or 'columns'"):
        Rg.OrthogonalRegularizer(mode="diagonal")


def test_regularizer_defaults_and_none():
    assert Rg.L1().l1 == 0.01 and Rg.L2().l2 == 0.01
    assert (Rg.L1L2().l1, Rg.L1L2().l2) == (0.0, 0.0)
    assert Rg.L2(None).l2 == 0.01 and Rg.L1L2(None, None).l1 == 0.0
    assert Rg.Regularizer()(Tensor(np.ones(3))).numpy() == 0.0


@pytest.mark.parametrize("make", [lambda: Rg.L1(-0.1), lambda: Rg.L2("big"),
                                  lambda: Rg.L1L2(l2=float("inf")), lambda: Rg.L2(float("nan")),
                                  lambda: Rg.L1(True)])
def test_regularizer_argument_errors(make):
    with pytest.raises(ValueError, match="non-negative"):
        make()


@pytest.mark.parametrize("reg", [Rg.L1(0.2), Rg.L2(0.3), Rg.L1L2(0.1, 0.4),
                                 Rg.OrthogonalRegularizer(0.5, "columns")],
                         ids=lambda r: type(r).__name__)
def test_regularizer_config_round_trip(reg):
    config = reg.get_config()
    again = type(reg).from_config(json.loads(json.dumps(config)))
    assert type(again) is type(reg) and again.get_config() == config
    via = Rg.deserialize(json.loads(json.dumps(Rg.serialize(reg))))
    assert type(via) is type(reg) and via.get_config() == config
    assert Rg.serialize(Rg.L2(0.5)) == {"module": "keras.regularizers", "class_name": "L2",
                                        "config": {"l2": 0.5}, "registered_name": None}


def test_regularizer_base_has_no_config():
    with pytest.raises(NotImplementedError, match="get_config"):
        Rg.Regularizer().get_config()


@pytest.mark.parametrize("name, cls, config", [
    ("l1", Rg.L1, {"l1": 0.01}), ("l2", Rg.L2, {"l2": 0.01}), ("L2", Rg.L2, {"l2": 0.01}),
    ("l1_l2", Rg.L1L2, {"l1": 0.0, "l2": 0.0}), ("L1L2", Rg.L1L2, {"l1": 0.0, "l2": 0.0}),
    ("orthogonal_regularizer", Rg.OrthogonalRegularizer, {"factor": 0.01, "mode": "rows"}),
])
def test_regularizer_get_by_name(name, cls, config):
    reg = Rg.get(name)
    assert type(reg) is cls and reg.get_config() == config


def test_regularizer_aliases_and_other_identifiers():
    assert Rg.l1 is Rg.L1 and Rg.l2 is Rg.L2 and Rg.l1_l2 is Rg.L1L2
    assert Rg.get(None) is None
    reg = Rg.L2(0.1)
    assert Rg.get(reg) is reg
    assert type(Rg.get(Rg.L1)) is Rg.L1
    got = Rg.get({"class_name": "L1L2", "config": {"l1": 0.5, "l2": 0.25}})
    assert (got.l1, got.l2) == (0.5, 0.25)

    def custom(w):
        return minikeras.ops.sum(w)
    assert Rg.get(custom) is custom


def test_regularizer_get_errors():
    with pytest.raises(ValueError, match="Unknown regularizer 'l3'.*Valid names:.*l1_l2"):
        Rg.get("l3")
    with pytest.raises(ValueError, match="Could not interpret regularizer identifier: 0.5"):
        Rg.get(0.5)


# =========================================================================== constraints
def np_norms(w, axis):
    return np.sqrt((w ** 2).sum(axis=axis, keepdims=True))


@pytest.mark.parametrize("axis", [0, 1, [0, 1], (0, 1, 2)])
def test_max_norm(axis):
    shape = (3, 4) if axis in (0, 1, [0, 1]) else (2, 2, 3, 4)
    w = weights(shape, seed=5) * 2
    norms = np_norms(w, tuple(axis) if isinstance(axis, list) else axis)
    expected = w * np.minimum(norms, 1.5) / (EPS + norms)
    out = C.MaxNorm(max_value=1.5, axis=axis)(Tensor(w))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    out_norms = np_norms(out.numpy(), tuple(axis) if isinstance(axis, list) else axis)
    assert out_norms.max() <= 1.5


def test_max_norm_keeps_small_slices_and_defaults():
    w = np.array([[0.1, 3.0], [0.2, 4.0]])         # column norms 0.224 and 5
    out = C.MaxNorm()(Tensor(w)).numpy()            # max_value 2 along axis 0
    np.testing.assert_allclose(out[:, 0], w[:, 0], rtol=1e-6)
    np.testing.assert_allclose(out[:, 1], w[:, 1] * 2 / 5, rtol=1e-6)


@pytest.mark.parametrize("kwargs", [{}, {"min_value": 1.0, "max_value": 2.0},
                                    {"min_value": 0.5, "max_value": 1.0, "rate": 0.3, "axis": 1}])
def test_min_max_norm(kwargs):
    w = weights((4, 5), seed=6)
    lo, hi = kwargs.get("min_value", 0.0), kwargs.get("max_value", 1.0)
    rate, axis = kwargs.get("rate", 1.0), kwargs.get("axis", 0)
    norms = np_norms(w, axis)
    desired = rate * np.clip(norms, lo, hi) + (1 - rate) * norms
    out = C.MinMaxNorm(**kwargs)(Tensor(w)).numpy()
    np.testing.assert_allclose(out, w * desired / (EPS + norms), rtol=1e-12)
    if rate == 1.0:
        n = np_norms(out, axis)
        assert n.min() >= lo * (1 - 1e-6) and n.max() <= hi


def test_non_neg():
    w = weights((4, 4), seed=7)
    out = C.NonNeg()(Tensor(w))
    np.testing.assert_array_equal(out.numpy(), np.where(w >= 0, w, 0.0))
    assert out.dtype == np.float64
    assert C.NonNeg()(Tensor(w.astype(np.float32))).dtype == np.float32


@pytest.mark.parametrize("axis", [0, 1, -1, [0, 1]])
def test_unit_norm(axis):
    w = weights((3, 5), seed=8)
    ax = tuple(axis) if isinstance(axis, list) else axis
    out = C.UnitNorm(axis=axis)(Tensor(w)).numpy()
    np.testing.assert_allclose(out, w / (EPS + np_norms(w, ax)), rtol=1e-12)
    np.testing.assert_allclose(np_norms(out, ax), 1.0, rtol=1e-6)


def test_epsilon_keeps_zero_slices_at_zero():
    w = np.zeros((3, 2))
    w[:, 1] = [3.0, 0.0, 4.0]
    for c in (C.MaxNorm(1.0), C.MinMaxNorm(0.5, 1.0), C.UnitNorm()):
        out = c(Tensor(w)).numpy()
        assert np.all(np.isfinite(out))
        np.testing.assert_array_equal(out[:, 0], 0.0)


def test_epsilon_follows_config():
    old = minikeras.config.epsilon()
    try:
        minikeras.config.set_epsilon(0.5)
        out = C.UnitNorm()(Tensor(np.array([[3.0], [4.0]]))).numpy()
        np.testing.assert_allclose(out, [[3.0 / 5.5], [4.0 / 5.5]])
    finally:
        minikeras.config.set_epsilon(old)


def test_constraint_on_a_variable_and_assign_back():
    v = Variable(np.array([[3.0, -1.0], [4.0, 2.0]]), name="kernel")
    v.assign(C.MaxNorm(1.0)(v))
    np.testing.assert_allclose(np_norms(v.numpy(), 0), 1.0, rtol=1e-6)
    v.assign(C.NonNeg()(v))
    assert v.numpy().min() >= 0


def test_constraint_base_is_identity():
    t = Tensor([1.0, -2.0])
    assert C.Constraint()(t) is t


@pytest.mark.parametrize("c", [C.MaxNorm(3, axis=[0, 1, 2]), C.MinMaxNorm(0.1, 0.9, 0.5, 1),
                               C.NonNeg(), C.UnitNorm(axis=-1)], ids=lambda c: type(c).__name__)
def test_constraint_config_round_trip(c):
    config = c.get_config()
    again = type(c).from_config(json.loads(json.dumps(config)))
    assert type(again) is type(c) and again.get_config() == config
    via = C.deserialize(json.loads(json.dumps(C.serialize(c))))
    assert type(via) is type(c) and via.get_config() == config
    w = weights((2, 3, 4, 5), seed=9)
    np.testing.assert_allclose(via(Tensor(w)).numpy(), c(Tensor(w)).numpy())


def test_constraint_config_contents():
    assert C.MaxNorm().get_config() == {"max_value": 2, "axis": 0}
    assert C.MinMaxNorm().get_config() == {"min_value": 0.0, "max_value": 1.0, "rate": 1.0,
                                           "axis": 0}
    assert C.UnitNorm().get_config() == {"axis": 0}
    assert C.NonNeg().get_config() == {}


@pytest.mark.parametrize("name, cls", [
    ("max_norm", C.MaxNorm), ("MaxNorm", C.MaxNorm), ("min_max_norm", C.MinMaxNorm),
    ("non_neg", C.NonNeg), ("NonNeg", C.NonNeg), ("unit_norm", C.UnitNorm),
])
def test_constraint_get_by_name(name, cls):
    assert type(C.get(name)) is cls


def test_constraint_get_other_identifiers_and_errors():
    assert C.get(None) is None
    c = C.MaxNorm(4)
    assert C.get(c) is c
    assert type(C.get(C.NonNeg)) is C.NonNeg
    assert C.max_norm is C.MaxNorm and C.non_neg is C.NonNeg
    got = C.get({"class_name": "MaxNorm", "config": {"max_value": 3, "axis": 1}})
    assert (got.max_value, got.axis) == (3, 1)

    def clip_all(w):
        return minikeras.ops.clip(w, -1.0, 1.0)
    assert C.get(clip_all) is clip_all
    with pytest.raises(ValueError, match="Unknown constraint 'nonneg'.*Did you mean 'non_neg'.*"
                                         "Valid names:.*unit_norm"):
        C.get("nonneg")
    with pytest.raises(ValueError, match="Could not interpret constraint identifier: 7"):
        C.get(7)
