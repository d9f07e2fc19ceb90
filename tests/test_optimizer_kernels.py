"""The one-pass SGD loops (kernels/cpu/updates.py, reached through SGD.fused_update_step)
give the same bits as SGD's NumPy formula in optim/rules.py, and step aside for arrays they
do not fit; Adam has no CPU loop and runs its formula."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

from minikeras import backend, optim
from minikeras.kernels.cpu import updates as kernels
from minikeras.tensor import Tensor, Variable

CONFIGS = [
    ("SGD", {}),
    ("SGD", {"momentum": 0.9}),
    ("SGD", {"momentum": 0.5, "nesterov": True}),
]


def _run(name, hp, weights, grads, use_loop):
    """Three updates of copies of ``weights``; returns the weights and the slots."""
    calls = []
    with pytest.MonkeyPatch.context() as m:
        if use_loop:
            m.setattr(optim.SGD, "update_step", lambda *a: calls.append(a))
            m.setattr(optim.SGD, "LOOP_FROM_SIZE", 0)  # the loop on the smallest weights too
        else:
            m.setattr(backend.kernels, "sgd_update", lambda *a, **k: False)
        variables = [Variable(w.copy()) for w in weights]
        opt = getattr(optim, name)(learning_rate=0.05, **hp)
        for step in range(3):
            opt.apply([Tensor(g * (step + 1)) for g in grads], variables)
        assert calls == []  # with the loop on, the formula never ran
        return [v.numpy() for v in variables] + [s.numpy() for s in opt.variables[2:]]


@pytest.mark.parametrize("name,hp", CONFIGS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@settings(max_examples=15, deadline=None)
@given(shapes=st.lists(array_shapes(min_dims=1, max_dims=3, max_side=6), min_size=1,
                       max_size=3), seed=st.integers(0, 2**31))
def test_loops_give_the_bits_of_the_numpy_formulas(name, hp, dtype, shapes, seed):
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = [rng.standard_normal(s).astype(dtype) for s in shapes]
    fast = _run(name, hp, weights, grads, True)
    plain = _run(name, hp, weights, grads, False)
    assert len(fast) == len(plain)
    for a, b in zip(fast, plain):
        assert a.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(a, b)


def test_sgd_loop_is_the_formula():
    rng = np.random.default_rng(0)
    w = rng.standard_normal(1000).astype(np.float32)
    g = rng.standard_normal(1000).astype(np.float32)
    expected = w - g * np.float32(0.01)
    assert kernels.sgd_update(w, g, np.float32(0.01)) is True
    np.testing.assert_array_equal(w, expected)


def test_fused_step_gives_the_bits_of_the_formula_at_a_model_weight_size():
    rng = np.random.default_rng(3)
    w = rng.standard_normal((784, 512)).astype(np.float32)
    g = rng.standard_normal((784, 512)).astype(np.float32)
    results = []
    for method in ("fused_update_step", "update_step"):
        v = Variable(w.copy())
        opt = optim.SGD(learning_rate=0.01, momentum=0.9, nesterov=True)
        opt.build([v])
        for _ in range(2):
            assert getattr(opt, method)(Tensor(g), v, 0.01) in (True, None)
        results.append(v.numpy())
    np.testing.assert_array_equal(results[0], results[1])
    assert not np.array_equal(results[0], w)


@pytest.mark.parametrize("size,momentum,fused", [
    (optim.SGD.LOOP_FROM_SIZE - 1, 0.0, False),  # plain SGD on a small weight: the formula
    (optim.SGD.LOOP_FROM_SIZE, 0.0, True),
    (10, 0.9, True),                             # with momentum the loop wins at every size
])
def test_which_weights_take_the_sgd_loop(size, momentum, fused):
    v = Variable(np.ones(size, np.float32))
    opt = optim.SGD(learning_rate=0.5, momentum=momentum)
    opt.build([v])
    assert opt.fused_update_step(Tensor(np.ones(size, np.float32)), v, 0.5) is fused
    expected = np.full(size, 0.5 if fused else 1.0, np.float32)
    np.testing.assert_array_equal(v.numpy(), expected)


def test_adam_has_no_cpu_loop_and_runs_its_formula():
    assert not hasattr(kernels, "adam_update")
    rng = np.random.default_rng(1)
    w, g = (rng.standard_normal(50).astype(np.float32) for _ in range(2))
    v = Variable(w.copy())
    opt = optim.Adam(learning_rate=0.001)
    opt.build([v])
    assert opt.fused_update_step(Tensor(g), v, 0.001) is False
    np.testing.assert_array_equal(v.numpy(), w)  # untouched
    opt.apply([Tensor(g)], [v])
    c1, c2 = np.float32(0.1), np.float32(0.001)
    alpha = np.float32(0.001) * np.sqrt(np.float32(1) - np.float32(0.999)) / (
        np.float32(1) - np.float32(0.9))
    m, s2 = g * c1, g * g * c2
    np.testing.assert_allclose(v.numpy(), w - m * alpha / (np.sqrt(s2) + np.float32(1e-7)),
                               rtol=1e-6)


@pytest.mark.parametrize("make", [
    lambda w: w[:, ::2],                     # not contiguous
    lambda w: w.astype(np.float16),          # not float32/float64
    lambda w: w.T,                           # Fortran order
])
def test_loops_step_aside_for_arrays_they_do_not_fit(make):
    w = make(np.ones((4, 6), np.float32))
    g = np.ones(w.shape, w.dtype)
    before = w.copy()
    assert kernels.sgd_update(w, g, w.dtype.type(0.1)) is False
    np.testing.assert_array_equal(w, before)  # untouched: the optimizer runs its formula


def test_mixed_dtypes_step_aside():
    w = np.ones(5, np.float32)
    assert kernels.sgd_update(w, np.ones(5, np.float64), np.float32(0.1)) is False
    assert kernels.sgd_update(w, np.ones(5, np.float32), np.float32(0.1),
                              np.zeros(5, np.float64), np.float32(0.9)) is False


def test_optimizer_updates_a_non_contiguous_variable_through_the_formula():
    base = np.arange(12, dtype=np.float32).reshape(3, 4)
    v = Variable(base)
    v.data = v.data.T  # a transposed (F-ordered) weight array
    g = np.ones((4, 3), np.float32)
    optim.SGD(learning_rate=0.5).apply([Tensor(g)], [v])
    np.testing.assert_array_equal(v.numpy(), base.T - np.float32(0.5))


def test_loops_compile_without_a_writable_cache(monkeypatch):
    """When Numba finds nowhere to write its cache it refuses cache=True; the loops are
    then compiled in memory."""
    import numba

    from minikeras.kernels.cpu import jit as jit_module
    real_njit = numba.njit

    def njit(*args, **kwargs):
        if kwargs.get("cache"):
            raise RuntimeError("cannot cache function '_sgd_loop': no locator available")
        return real_njit(*args, **kwargs)
    monkeypatch.setattr(numba, "njit", njit)
    monkeypatch.setattr(jit_module, "_compiled", {})
    w, g = np.ones(4, np.float32), np.ones(4, np.float32)
    assert kernels.sgd_update(w, g, np.float32(0.5))
    np.testing.assert_array_equal(w, np.full(4, 0.5, np.float32))
