"""The LSTM and GRU gate-step kernels (kernels/cuda/recurrent.py) against their CPU twins
(kernels/cpu/recurrent.py), in Numba's simulator: outputs, states, the saved step buffers and
every gradient; then the ops and two layers' ``fit`` on the cuda backend against NumPy.
Shapes stay tiny: one simulated thread costs about a millisecond."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minikeras as mk
from minikeras import backend, layers, ops
from minikeras.kernels import cpu as cpu_kernels
from minikeras.kernels.cuda import recurrent as cuda_recurrent
from minikeras.kernels.cuda.launch import launch

F32 = dict(rtol=2e-5, atol=2e-6)
F64 = dict(rtol=1e-11, atol=1e-12)


def _arrays(rng, B, T, D, u, gates, dtype, bias_shape, masked):
    draw = lambda *shape: rng.standard_normal(shape).astype(dtype)  # noqa: E731
    x, h0, c0 = draw(B, T, D), draw(B, u), draw(B, u)
    W, U = draw(D, gates * u), draw(u, gates * u) * 0.5
    b = None if bias_shape is None else draw(*bias_shape)
    mask = None
    if masked:
        mask = rng.random((B, T)) > 0.35
        mask[0, -1] = False                         # the last step skipped by one row at least
    return x, h0, c0, W, U, b, mask


def _same(got, want, tol):
    assert (got is None) == (want is None)
    if want is not None:
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, **tol)


def _same_saved(got, want, tol):
    assert set(got) == set(want)
    for key, value in want.items():
        if isinstance(value, np.ndarray):
            _same(got[key], value, tol)
        else:
            assert got[key] == value, key


def _output_grads(rng, B, T, u, dtype, which):
    draw = lambda *shape: rng.standard_normal(shape).astype(dtype)  # noqa: E731
    return [draw(*shape) if w else None for w, shape in zip(which, [(B, T, u), (B, u), (B, u)])]


def check_lstm(B, T, D, u, with_bias=True, masked=False, which=(True, True, True),
               dtype=np.float32, seed=0):
    tol = F32 if dtype == np.float32 else F64
    rng = np.random.default_rng(seed)
    x, h0, c0, W, U, b, mask = _arrays(rng, B, T, D, u, 4, dtype,
                                       (4 * u,) if with_bias else None, masked)
    got = cuda_recurrent.lstm_sequence_forward(x, h0, c0, W, U, b, mask)
    want = cpu_kernels.lstm_sequence_forward(x, h0, c0, W, U, b, mask)
    for g, w in zip(got[:3], want[:3]):
        _same(g, w, tol)
    _same_saved(got[3], want[3], tol)
    d_out, d_h, d_c = _output_grads(rng, B, T, u, dtype, which)
    grads = cuda_recurrent.lstm_sequence_backward(got[3], d_out, d_h, d_c)
    expected = cpu_kernels.lstm_sequence_backward(want[3], d_out, d_h, d_c)
    for g, w in zip(grads, expected):
        _same(g, w, tol)
    cpu_kernels.release_sequence_buffers(got[3])
    cpu_kernels.release_sequence_buffers(want[3])


def check_gru(B, T, D, u, reset_after=True, with_bias=True, masked=False, which=(True, True),
              dtype=np.float32, seed=0):
    tol = F32 if dtype == np.float32 else F64
    rng = np.random.default_rng(seed)
    bias_shape = ((2, 3 * u) if reset_after else (3 * u,)) if with_bias else None
    x, h0, _, W, U, b, mask = _arrays(rng, B, T, D, u, 3, dtype, bias_shape, masked)
    got = cuda_recurrent.gru_sequence_forward(x, h0, W, U, b, mask, reset_after)
    want = cpu_kernels.gru_sequence_forward(x, h0, W, U, b, mask, reset_after)
    for g, w in zip(got[:2], want[:2]):
        _same(g, w, tol)
    _same_saved(got[2], want[2], tol)
    d_out, d_h, _ = _output_grads(rng, B, T, u, dtype, tuple(which) + (False,))
    grads = cuda_recurrent.gru_sequence_backward(got[2], d_out, d_h)
    expected = cpu_kernels.gru_sequence_backward(want[2], d_out, d_h)
    for g, w in zip(grads, expected):
        _same(g, w, tol)
    cpu_kernels.release_sequence_buffers(got[2])
    cpu_kernels.release_sequence_buffers(want[2])


# (B, T, D, u): one of everything; fewer elements than a warp; B*u = 135, over a block of 128
SHAPES = [(1, 1, 1, 1), (2, 3, 2, 3), (3, 4, 2, 5), (3, 2, 1, 45)]


@pytest.mark.parametrize("shape", SHAPES)
def test_lstm_launchers_match_the_cpu(shape):
    check_lstm(*shape)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_launchers_match_the_cpu(shape, reset_after):
    check_gru(*shape, reset_after=reset_after)


@settings(max_examples=10, deadline=None)
@given(B=st.integers(1, 3), T=st.integers(1, 4), u=st.integers(1, 5), with_bias=st.booleans(),
       masked=st.booleans(), which=st.tuples(st.booleans(), st.booleans(), st.booleans()),
       seed=st.integers(0, 2**16))
def test_lstm_with_masks_no_bias_and_missing_gradients(B, T, u, with_bias, masked, which, seed):
    check_lstm(B, T, 2, u, with_bias, masked, which, seed=seed)


@settings(max_examples=10, deadline=None)
@given(B=st.integers(1, 3), T=st.integers(1, 4), u=st.integers(1, 5), reset_after=st.booleans(),
       with_bias=st.booleans(), masked=st.booleans(),
       which=st.tuples(st.booleans(), st.booleans()), seed=st.integers(0, 2**16))
def test_gru_with_masks_no_bias_and_missing_gradients(B, T, u, reset_after, with_bias, masked,
                                                      which, seed):
    check_gru(B, T, 2, u, reset_after, with_bias, masked, which, seed=seed)


def test_float64_matches_the_cpu_to_float64_precision():
    """The kernels compile for the arrays' dtype; ``one`` keeps float64 arithmetic float64."""
    check_lstm(2, 3, 2, 3, masked=True, dtype=np.float64)
    check_gru(2, 3, 2, 3, reset_after=True, masked=True, dtype=np.float64)
    check_gru(2, 3, 2, 3, reset_after=False, masked=True, dtype=np.float64)


def test_a_grid_smaller_than_the_elements_strides_over_them(monkeypatch):
    """One block of 32 threads for B*u = 45 elements: the grid-stride loop covers the rest."""
    monkeypatch.setattr(cuda_recurrent, "_grid", lambda n: (1, 32))
    check_lstm(3, 2, 2, 15, masked=True)
    check_gru(3, 2, 2, 15, reset_after=False, masked=True)


def test_large_pre_activations_saturate_without_overflow():
    x = np.full((1, 2, 1), 200.0, np.float32) * np.array([1, -1], np.float32)[None, :, None]
    h0 = np.zeros((1, 1), np.float32)
    W = np.ones((1, 4), np.float32)
    U = np.zeros((1, 4), np.float32)
    got = cuda_recurrent.lstm_sequence_forward(x, h0, h0, W, U)
    want = cpu_kernels.lstm_sequence_forward(x, h0, h0, W, U)
    assert np.all(np.isfinite(got[0]))
    np.testing.assert_allclose(got[0], want[0], **F32)


def test_reused_step_buffers_give_the_same_answer():
    """The CPU's release_sequence_buffers hands the launchers' buffers back; the next call
    reuses them (uninitialised) and must not depend on what they held."""
    for _ in range(2):
        check_lstm(2, 3, 2, 3, masked=True, seed=1)
        check_gru(2, 3, 2, 3, masked=True, seed=1)


# ------------------------------------------------------------------------------ the ops
def _run_op(table, fn, arrays):
    with pytest.MonkeyPatch.context() as m:
        m.setattr(backend, "kernels", table)
        tensors = [mk.Variable(a) for a in arrays]
        with mk.GradientTape() as tape:
            outputs = fn(*tensors)
            loss = sum(ops.sum(o * o) for o in outputs)
        grads = tape.gradient(loss, tensors)
    return [o.numpy() for o in outputs], [g.numpy() for g in grads]


@pytest.mark.parametrize("op", ["lstm", "gru", "gru_reset_before"])
def test_the_ops_run_the_kernels_and_their_gradients_match_numpy(op):
    assert backend.kernels.lstm_sequence_forward is cuda_recurrent.lstm_sequence_forward
    assert backend.kernels.gru_sequence_backward is cuda_recurrent.gru_sequence_backward
    rng = np.random.default_rng(7)
    B, T, D, u = 2, 3, 2, 3
    mask = mk.Tensor(np.array([[True, True, False], [False, True, True]]))
    if op == "lstm":
        x, h0, c0, W, U, b, _ = _arrays(rng, B, T, D, u, 4, np.float32, (4 * u,), False)
        arrays = [x, h0, c0, W, U, b]
        fn = lambda *a: ops.lstm_sequence(*a, mask=mask)  # noqa: E731
    else:
        reset_after = op == "gru"
        x, h0, _, W, U, b, _ = _arrays(rng, B, T, D, u, 3, np.float32,
                                       (2, 3 * u) if reset_after else (3 * u,), False)
        arrays = [x, h0, W, U, b]
        fn = lambda *a: ops.gru_sequence(*a, mask=mask, reset_after=reset_after)  # noqa: E731
    got = _run_op(backend.kernels, fn, arrays)
    want = _run_op(cpu_kernels, fn, arrays)
    for g, w in zip(got[0] + got[1], want[0] + want[1]):
        np.testing.assert_allclose(g, w, **F32)


# ------------------------------------------------------------------------------ fit
def _fit(model, table, x, y, weights):
    """Two steps of SGD from ``weights`` with ``table`` as the kernel table; returns the
    losses, the weights after and the names of the recurrent kernels launched."""
    launched = []

    def counting_launch(kernel, *args, **kwargs):
        launched.append(kernel.py_func.__name__)
        return launch(kernel, *args, **kwargs)

    with pytest.MonkeyPatch.context() as m:
        m.setattr(backend, "kernels", table)
        m.setattr(cuda_recurrent, "launch", counting_launch)
        model.set_weights(weights)
        model.compile(mk.optimizers.SGD(0.1), "mse")
        history = model.fit(x, y, epochs=1, batch_size=2, shuffle=False, verbose=0)
        return history.history["loss"], model.get_weights(), set(launched)


@pytest.mark.parametrize("recurrent", [
    lambda: [layers.LSTM(4, return_sequences=True, go_backwards=True), layers.LSTM(3)],
    lambda: [layers.GRU(4, return_sequences=True), layers.GRU(3, reset_after=False,
                                                               go_backwards=True)],
], ids=["lstm", "gru"])
def test_recurrent_layers_fit_two_steps_on_the_cuda_backend_as_on_numpy(recurrent):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((4, 3, 2)).astype(np.float32)
    x[1, 2] = 0.0                                   # a masked step (Masking below)
    x[3, 0] = 0.0
    y = rng.standard_normal((4, 2)).astype(np.float32)
    model = mk.Sequential([mk.Input((3, 2)), layers.Masking(0.0), *recurrent(),
                           layers.Dense(2)])
    start = model.get_weights()
    cuda_loss, cuda_weights, launched = _fit(model, backend.kernels, x, y, start)
    numpy_loss, numpy_weights, none = _fit(model, cpu_kernels, x, y, start)
    family = "_lstm" if isinstance(model.layers[1], layers.LSTM) else "_gru"
    assert {f"{family}_forward_kernel" if family == "_lstm" else "_gru_output_kernel",
            f"{family}_backward_kernel", "_carry_kernel"} <= launched and not none
    np.testing.assert_allclose(cuda_loss, numpy_loss, rtol=1e-5)
    for g, w, w0 in zip(cuda_weights, numpy_weights, start):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-6)
    assert any(not np.array_equal(g, w0) for g, w0 in zip(cuda_weights, start))
