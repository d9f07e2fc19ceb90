"""The elementwise activation kernels (kernels/cuda/activations.py) against their CPU twins
(kernels/cpu/activations.py), in Numba's CUDA simulator: sizes of one, sizes that do not fill
a block of 128 threads and one that needs two blocks, special values (NaN, infinities, the
kinks of the masks), float32 and float64; then each op on the cuda backend against the same
op on the CPU table, its forward and its gradient. (That the float32 kernels hold no
float64 instruction, which the simulator cannot show, is checked on their PTX in
test_ptx.py.)"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minikeras as mk
from minikeras import backend, ops
from minikeras.autograd import readable_backward
from minikeras.kernels import cpu
from minikeras.kernels.cuda import activations as cuda_activations

# The simulator runs each kernel as Python threads: NaN and infinite inputs warn there.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 6.0, -3.0, 3.0, 1e-30, -1e-30]


def _inputs(rng, shape, dtype, special=False):
    x = np.asarray(rng.standard_normal(shape) * 4, dtype)     # shape () included
    if special:
        flat = x.reshape(-1)
        flat[:len(SPECIAL)] = SPECIAL[:flat.size]
    return x


# name, arguments after the arrays, and which arrays: "x" (the input), "g, x" or "g, y"
# (a gradient with the input, or with the output of the forward twin named last).
CASES = [
    ("relu", (), "x"), ("relu_grad", (), "g, x"),
    ("relu6", (), "x"), ("relu6_grad", (), "g, x"),
    ("hard_sigmoid", (), "x"), ("hard_sigmoid_grad", (), "g, x"),
    ("leaky_relu", (0.3,), "x"), ("leaky_relu_grad", (0.3,), "g, x"),
    ("sigmoid", (), "x"), ("sigmoid_grad", (), "g, y sigmoid"),
    ("tanh", (), "x"), ("tanh_grad", (), "g, y tanh"),
    ("erf", (), "x"),
    ("gelu", (True,), "x"), ("gelu", (False,), "x"),
    ("gelu_grad", (True,), "g, x"), ("gelu_grad", (False,), "g, x"),
]


def _args(case, rng, shape, dtype, special=False):
    name, extra, arrays = case
    x = _inputs(rng, shape, dtype, special)
    if arrays == "x":
        return (x, *extra)
    g = np.asarray(rng.standard_normal(shape), dtype)
    if arrays.startswith("g, y"):
        x = getattr(cpu, arrays.split()[-1])(x)
    return (g, x, *extra)


def _compare(case, args, rtol, atol):
    name = case[0]
    if name == "gelu_grad" and args[0].dtype == np.float32:
        # (1 + tanh u) and (1 + erf) cancel for x < -3: both devices lose the same
        # float32 digits, differently rounded
        atol = max(atol, 1e-5)
    with np.errstate(invalid="ignore", over="ignore"):
        ours = getattr(backend.kernels, name)(*args)
        twin = getattr(cpu, name)(*args)
    assert ours.dtype == twin.dtype and ours.shape == twin.shape, (name, ours.dtype, ours.shape)
    np.testing.assert_allclose(ours, twin, rtol=rtol, atol=atol, err_msg=f"{case}")


def _case_id(case):
    return case[0] + "".join(f"-{a}" for a in case[1])


def test_the_table_holds_our_kernels():
    for name in {c[0] for c in CASES}:
        assert getattr(backend.kernels, name) is getattr(cuda_activations, name), name


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_kernel_matches_its_cpu_twin_in_float32(case):
    rng = np.random.default_rng(len(case[0]))
    # one element; fifteen (a block of 128 threads, mostly idle); 130 with the special
    # values (two blocks: the second thread block's first threads do the last two)
    for shape, special in (((1,), False), ((3, 5), False), ((130,), True)):
        _compare(case, _args(case, rng, shape, np.float32, special), rtol=1e-5, atol=1e-6)


def test_kernels_match_their_cpu_twins_in_float64():
    """float64 arrays compile their own kernels; the numbers then agree to ~1e-15 (erf: the
    CUDA erf against the CPU's interpolated table)."""
    rng = np.random.default_rng(7)
    for case in CASES:
        _compare(case, _args(case, rng, (2, 4), np.float64, special=True), rtol=1e-12,
                 atol=1e-14)


@settings(max_examples=10, deadline=None)
@given(case=st.sampled_from(CASES), dtype=st.sampled_from([np.float32, np.float64]),
       shape=st.lists(st.integers(1, 5), min_size=0, max_size=3).map(tuple),
       seed=st.integers(0, 2**32 - 1), special=st.booleans())
def test_random_kernels_shapes_and_dtypes(case, dtype, shape, seed, special):
    args = _args(case, np.random.default_rng(seed), shape, dtype, special)
    tight = dtype == np.float64
    _compare(case, args, rtol=1e-12 if tight else 1e-5, atol=1e-14 if tight else 1e-6)


def test_other_dtypes_run_the_cpu_array_code():
    ints = np.arange(-4, 9)
    assert backend.kernels.relu6(ints).tolist() == np.clip(ints, 0, 6).tolist()
    half = np.linspace(-3, 3, 5).astype(np.float16)
    for name in ("sigmoid", "tanh", "erf"):
        out = getattr(backend.kernels, name)(half)
        assert out.dtype == np.float16
        np.testing.assert_array_equal(out, getattr(cpu, name)(half))
    g = np.ones(5, np.float32)      # dtypes that differ: the array code, which promotes
    np.testing.assert_array_equal(backend.kernels.leaky_relu_grad(g, half, 0.1),
                                  cpu.leaky_relu_grad(g, half, 0.1))
    assert backend.kernels.sigmoid(np.zeros((0, 3), np.float32)).shape == (0, 3)
    # a NumPy scalar (what arithmetic on a 0-d array gives) is a host array too
    assert float(backend.kernels.sigmoid(np.float32(0.0))) == 0.5


# op, its forward kernel, its gradient kernel (the op's backward_arrays twin)
OPS = [
    (ops.relu6, "_relu6_kernel", "_band_grad_kernel"),
    (ops.hard_sigmoid, "_hard_sigmoid_kernel", "_band_grad_kernel"),
    (lambda x: ops.leaky_relu(x, 0.1), "_leaky_relu_kernel", "_leaky_relu_grad_kernel"),
    (ops.sigmoid, "_sigmoid_kernel", "_sigmoid_grad_kernel"),
    (ops.tanh, "_tanh_kernel", "_tanh_grad_kernel"),
    (lambda x: ops.gelu(x, approximate=True), "_gelu_tanh_kernel", "_gelu_tanh_grad_kernel"),
    (lambda x: ops.gelu(x, approximate=False), "_gelu_erf_kernel", "_gelu_erf_grad_kernel"),
    (ops.erf, "_erf_kernel", None),
]


def _value_and_grad(fn, x, g, readable=False):
    t = mk.Variable(x)
    with mk.GradientTape() as tape:
        loss = ops.sum(fn(t) * mk.Tensor(g))
    if readable:
        with readable_backward():
            (grad,) = tape.gradient(loss, [t])
    else:
        (grad,) = tape.gradient(loss, [t])
    return loss.numpy(), grad.numpy()


@pytest.mark.parametrize("fn,forward,gradient", OPS, ids=[o[1][1:-7] for o in OPS])
def test_op_runs_its_kernels_and_gives_the_numpy_answer(fn, forward, gradient, monkeypatch):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((2, 3)) * 4).astype(np.float32)
    x[0, 0] = 0.0
    g = rng.standard_normal((2, 3)).astype(np.float32)
    launched = []
    real_launch = cuda_activations.launch

    def recording_launch(kernel, *args, **kwargs):
        launched.append(kernel.py_func.__name__)
        return real_launch(kernel, *args, **kwargs)
    monkeypatch.setattr(cuda_activations, "launch", recording_launch)
    value, grad = _value_and_grad(fn, x, g)
    assert launched == [forward] + ([gradient] if gradient else []), launched
    with monkeypatch.context() as m:          # the same op on the CPU's table
        m.setattr(backend, "kernels", cpu)
        cpu_value, cpu_grad = _value_and_grad(fn, x, g)
        _, readable_grad = _value_and_grad(fn, x, g, readable=True)
    np.testing.assert_allclose(value, cpu_value, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grad, cpu_grad, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grad, readable_grad, rtol=1e-5, atol=1e-6)
