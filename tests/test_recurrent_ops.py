"""The fused LSTM and GRU sequence ops beyond the registry cases: the shape errors, float32
kept, Keras's mask rule, the refusal of second derivatives, and agreement with the same
recurrence built from primitive ops (matmul, sigmoid, tanh, where) on the tape."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minikeras import GradientTape, ops
from minikeras.autograd import no_grad, readable_backward
from minikeras.tensor import Tensor

from cases.recurrent_cases import draw_mask, gru_reference, lstm_reference


def rand(shape, seed, scale=1.0):
    return np.random.default_rng(seed).uniform(-scale, scale, size=shape)


def lstm_arrays(B=2, T=4, D=3, u=2, seed=0, dtype=np.float64):
    arrays = [rand((B, T, D), seed, 1.5), rand((B, u), seed + 1), rand((B, u), seed + 2),
              rand((D, 4 * u), seed + 3), rand((u, 4 * u), seed + 4), rand((4 * u,), seed + 5)]
    return [a.astype(dtype) for a in arrays]


def gru_arrays(B=2, T=4, D=3, u=2, seed=0, reset_after=True, dtype=np.float64):
    arrays = [rand((B, T, D), seed, 1.5), rand((B, u), seed + 1), rand((D, 3 * u), seed + 3),
              rand((u, 3 * u), seed + 4), rand((2, 3 * u) if reset_after else (3 * u,), seed + 5)]
    return [a.astype(dtype) for a in arrays]


# ----------------------------------------------------------------------------- errors
LSTM_ERRORS = [
    (0, (2, 4), r"ops.lstm_sequence: inputs must have rank 3 \(batch, timesteps, features\); "
                r"got shape \(2, 4\)"),
    (0, (2, 0, 3), r"at least one timestep; got shape \(2, 0, 3\)"),
    (4, (2, 6), r"recurrent_kernel must have shape \(units, 4\*units\); got \(2, 6\)"),
    (3, (4, 8), r"kernel must have shape \(features, 4\*units\) = \(3, 8\) for inputs of shape "
                r"\(2, 4, 3\) and units=2 .*; got \(4, 8\)"),
    (1, (3, 2), r"initial_h must have shape \(batch, units\) = \(2, 2\) .*got \(3, 2\)"),
    (2, (2, 3), r"initial_c must have shape \(batch, units\) = \(2, 2\) .*got \(2, 3\)"),
    (5, (6,), r"bias must have shape \(8,\) for units=2; got \(6,\)"),
]


@pytest.mark.parametrize("index, shape, message", LSTM_ERRORS)
def test_lstm_shape_errors(index, shape, message):
    arrays = lstm_arrays()
    arrays[index] = np.zeros(shape)
    with pytest.raises(ValueError, match=message):
        ops.lstm_sequence(*arrays)


GRU_ERRORS = [
    (0, (2, 4, 3, 1), r"ops.gru_sequence: inputs must have rank 3 .*got shape \(2, 4, 3, 1\)"),
    (3, (2, 8), r"ops.gru_sequence: recurrent_kernel must have shape \(units, 3\*units\); "
                r"got \(2, 8\)"),
    (2, (3, 3), r"kernel must have shape \(features, 3\*units\) = \(3, 6\) .*got \(3, 3\)"),
    (1, (2,), r"initial_h must have shape \(batch, units\) = \(2, 2\) .*got \(2,\)"),
    (4, (6,), r"bias must have shape \(2, 6\) for units=2; got \(6,\)"),
]


@pytest.mark.parametrize("index, shape, message", GRU_ERRORS)
def test_gru_shape_errors(index, shape, message):
    arrays = gru_arrays()
    arrays[index] = np.zeros(shape)
    with pytest.raises(ValueError, match=message):
        ops.gru_sequence(*arrays)


def test_gru_reset_before_bias_shape():
    x, h, W, U, _ = gru_arrays(reset_after=False)
    with pytest.raises(ValueError, match=r"ops.gru_sequence: bias must have shape \(6,\) for "
                                         r"units=2; got \(2, 6\)"):
        ops.gru_sequence(x, h, W, U, np.zeros((2, 6)), reset_after=False)


def test_mask_shape_errors():
    with pytest.raises(ValueError, match=r"ops.lstm_sequence: mask must have shape \(batch, "
                                         r"timesteps\) = \(2, 4\) .*got \(2, 3\)"):
        ops.lstm_sequence(*lstm_arrays(), mask=np.ones((2, 3), bool))
    with pytest.raises(ValueError, match=r"ops.gru_sequence: mask must have shape .*\(2, 4\) "
                                         r".*got \(4, 2\)"):
        ops.gru_sequence(*gru_arrays(), mask=np.ones((4, 2), bool))


def test_mixed_dtypes_are_refused():
    arrays = lstm_arrays()
    arrays[3] = arrays[3].astype(np.float32)
    with pytest.raises(ValueError, match=r"ops.lstm_sequence: inputs, states, kernels and bias "
                                         r"must share one float dtype; got .*kernel float32"):
        ops.lstm_sequence(*arrays)
    arrays = gru_arrays()
    arrays[0] = np.ones((2, 4, 3), np.int32)
    with pytest.raises(ValueError, match=r"ops.gru_sequence: .*share one float dtype; got "
                                         r"inputs int32"):
        ops.gru_sequence(*arrays)


# ---------------------------------------------------------------------------- float32
def _all_grads(fn, arrays):
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    with GradientTape() as tape:
        results = fn(*tensors)
        loss = sum(ops.sum(r * r) for r in results)
    return results, tape.gradient(loss, tensors)


@pytest.mark.parametrize("op", ["lstm", "gru", "gru_reset_before"])
def test_float32_stays_float32(op):
    if op == "lstm":
        arrays, fn = lstm_arrays(dtype=np.float32), ops.lstm_sequence
    else:
        ra = op == "gru"
        arrays = gru_arrays(reset_after=ra, dtype=np.float32)
        fn = lambda *a, mask: ops.gru_sequence(*a, mask=mask, reset_after=ra)  # noqa: E731
    mask = Tensor(np.array([[True, False, True, True], [False, True, True, False]]))
    results, grads = _all_grads(lambda *t: fn(*t, mask=mask), arrays)
    assert [r.dtype for r in results] == [np.float32] * len(results)
    assert [g.dtype for g in grads] == [np.float32] * len(grads)


# ------------------------------------------------------------------------------- masks
def test_lstm_mask_carries_states_and_repeats_outputs():
    x, h0, c0, W, U, b = lstm_arrays(B=4, T=5)
    mask = np.array([[True, True, False, True, True],      # a gap in the middle
                     [False, False, True, True, True],     # leading steps masked
                     [True, True, True, False, False],     # trailing steps masked
                     [False] * 5])                         # every step masked
    out, h, c = [r.numpy() for r in ops.lstm_sequence(x, h0, c0, W, U, b, mask=mask)]
    # the output at a masked step repeats the previous state (initial_h before any kept step)
    np.testing.assert_array_equal(out[0, 2], out[0, 1])
    np.testing.assert_array_equal(out[1, 0], h0[1])
    np.testing.assert_array_equal(out[1, 1], h0[1])
    np.testing.assert_array_equal(out[2, 3], out[2, 2])
    np.testing.assert_array_equal(out[2, 4], out[2, 2])
    np.testing.assert_array_equal(out[3], np.broadcast_to(h0[3], (5, 2)))
    # h_last is the state after the last kept step; c is carried the same way
    np.testing.assert_array_equal(h[2], out[2, 2])
    np.testing.assert_array_equal(h[3], h0[3])
    np.testing.assert_array_equal(c[3], c0[3])
    np.testing.assert_array_equal(h, out[:, -1])
    # skipping a step is the same as removing it from the sequence
    kept = [t for t in range(5) if mask[2, t]]
    _, h_short, c_short = lstm_reference(x[2:3, kept], h0[2:3], c0[2:3], W, U, b)
    np.testing.assert_allclose(h[2:3], h_short, rtol=1e-12)
    np.testing.assert_allclose(c[2:3], c_short, rtol=1e-12)
    # and a masked step's output before the first kept one is initial_h: leading gap
    _, h_lead, _ = lstm_reference(x[1:2, 2:], h0[1:2], c0[1:2], W, U, b)
    np.testing.assert_allclose(h[1:2], h_lead, rtol=1e-12)


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_mask_carries_state_and_repeats_outputs(reset_after):
    x, h0, W, U, b = gru_arrays(B=3, T=4, reset_after=reset_after)
    mask = np.array([[False, True, False, True], [True, True, False, False], [False] * 4])
    out, h = [r.numpy() for r in ops.gru_sequence(x, h0, W, U, b, mask, reset_after)]
    np.testing.assert_array_equal(out[0, 0], h0[0])
    np.testing.assert_array_equal(out[0, 2], out[0, 1])
    np.testing.assert_array_equal(out[1, 3], out[1, 1])
    np.testing.assert_array_equal(h[1], out[1, 1])
    np.testing.assert_array_equal(h[2], h0[2])
    _, h_short = gru_reference(x[0:1, [1, 3]], h0[0:1], W, U, b, reset_after=reset_after)
    np.testing.assert_allclose(h[0:1], h_short, rtol=1e-12)


def test_masked_steps_get_no_input_gradient_and_the_mask_none():
    x, h0, c0, W, U, b = lstm_arrays(B=2, T=3)
    mask = np.array([[True, False, True], [False, False, False]])
    xt = Tensor(x, requires_grad=True)
    with GradientTape() as tape:
        out, h, c = ops.lstm_sequence(xt, h0, c0, W, U, b, mask=mask)
        loss = ops.sum(out) + ops.sum(h) + ops.sum(c)
    (dx,) = tape.gradient(loss, [xt])
    dx = dx.numpy()
    np.testing.assert_array_equal(dx[0, 1], 0.0)
    np.testing.assert_array_equal(dx[1], 0.0)
    assert np.abs(dx[0, [0, 2]]).min() > 0.0


def test_a_float_mask_counts_as_booleans():
    arrays = lstm_arrays()
    m = np.array([[1, 0, 1, 1], [0, 1, 1, 0]])
    got = ops.lstm_sequence(*arrays, mask=m.astype(np.float64))
    want = ops.lstm_sequence(*arrays, mask=m.astype(bool))
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.numpy(), w.numpy())


# ------------------------------------------------------------------ second derivatives
def test_second_derivatives_are_refused_with_create_graph():
    x, h0, c0, W, U, b = lstm_arrays()
    Wt = Tensor(W, requires_grad=True)
    out, _, _ = ops.lstm_sequence(x, h0, c0, Wt, U, b)
    with pytest.raises(RuntimeError, match=r"ops.lstm_sequence: the fused lstm_sequence op has "
                                           r"no backward written with ops.*second derivatives"
                                           r".*use_cudnn=False"):
        ops.sum(out).backward(create_graph=True)
    out, _, _ = ops.lstm_sequence(x, h0, c0, Wt, U, b)
    with readable_backward():
        with pytest.raises(RuntimeError, match=r"readable_backward\(\).*use_cudnn=False"):
            ops.sum(out).backward()


def test_second_derivatives_are_refused_inside_an_outer_tape():
    x, h0, W, U, b = gru_arrays()
    Wt = Tensor(W, requires_grad=True)
    with GradientTape() as outer:
        with GradientTape() as inner:
            out, _ = ops.gru_sequence(x, h0, Wt, U, b)
            loss = ops.sum(out)
        with pytest.raises(RuntimeError, match=r"ops.gru_sequence: .*second derivatives.*"
                                               r"use_cudnn=False"):
            inner.gradient(loss, [Wt])
    del outer


# ------------------------------------------------------- agreement with primitive ops
def lstm_primitive(x, h, c, W, U, b=None, mask=None):
    u = h.shape[1]
    outs = []
    for t in range(x.shape[1]):
        z = ops.matmul(x[:, t], W) + ops.matmul(h, U)
        if b is not None:
            z = z + b
        i, f = ops.sigmoid(z[:, :u]), ops.sigmoid(z[:, u:2 * u])
        cand, o = ops.tanh(z[:, 2 * u:3 * u]), ops.sigmoid(z[:, 3 * u:])
        c_new = f * c + i * cand
        h_new = o * ops.tanh(c_new)
        if mask is not None:
            keep = mask[:, t:t + 1]
            h_new, c_new = ops.where(keep, h_new, h), ops.where(keep, c_new, c)
        h, c = h_new, c_new
        outs.append(h)
    return ops.stack(outs, axis=1), h, c


def gru_primitive(x, h, W, U, b=None, mask=None, reset_after=True):
    u = h.shape[1]
    outs = []
    for t in range(x.shape[1]):
        a = ops.matmul(x[:, t], W)
        if b is not None:
            a = a + (b[0] if reset_after else b)
        if reset_after:
            m = ops.matmul(h, U)
            if b is not None:
                m = m + b[1]
            z = ops.sigmoid(a[:, :u] + m[:, :u])
            r = ops.sigmoid(a[:, u:2 * u] + m[:, u:2 * u])
            cand = ops.tanh(a[:, 2 * u:] + r * m[:, 2 * u:])
        else:
            z = ops.sigmoid(a[:, :u] + ops.matmul(h, U[:, :u]))
            r = ops.sigmoid(a[:, u:2 * u] + ops.matmul(h, U[:, u:2 * u]))
            cand = ops.tanh(a[:, 2 * u:] + ops.matmul(r * h, U[:, 2 * u:]))
        h_new = z * h + (1.0 - z) * cand
        if mask is not None:
            h_new = ops.where(mask[:, t:t + 1], h_new, h)
        h = h_new
        outs.append(h)
    return ops.stack(outs, axis=1), h


def _gradients(fn, arrays, weights, used):
    """Gradients of Σ w·result over the results flagged in ``used`` for every float input."""
    tensors = [Tensor(a, requires_grad=a.dtype.kind == "f") if isinstance(a, np.ndarray)
               else a for a in arrays]
    floats = [t for t in tensors if t is not None and t.dtype.kind == "f"]
    with GradientTape() as tape:
        results = fn(*tensors)
        loss = sum(ops.sum(r * w) for r, w, u in zip(results, weights, used) if u)
    grads = tape.gradient(loss, floats, unconnected_gradients="zero")
    return [r.numpy() for r in results], [g.numpy() for g in grads]


def _compare(fused, primitive, arrays, d):
    out_shapes = [r.shape for r in fused(*[a if a is None else Tensor(a) for a in arrays])]
    seed = d(st.integers(0, 2**32 - 1))
    weights = [rand(s, seed + k) for k, s in enumerate(out_shapes)]
    used = d(st.lists(st.booleans(), min_size=len(out_shapes), max_size=len(out_shapes))
             .filter(any))
    got_r, got_g = _gradients(fused, arrays, weights, used)
    want_r, want_g = _gradients(primitive, arrays, weights, used)
    for g, w in zip(got_r + got_g, want_r + want_g):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-10)


@settings(max_examples=15)
@given(d=st.data())
def test_lstm_agrees_with_primitive_ops(d):
    B, T, D, u = (d.draw(st.integers(1, 3)), d.draw(st.integers(1, 5)), d.draw(st.integers(1, 3)),
                  d.draw(st.integers(1, 3)))
    arrays = lstm_arrays(B, T, D, u, seed=d.draw(st.integers(0, 1000)))
    if not d.draw(st.booleans()):
        arrays[5] = None
    arrays.append(draw_mask(d.draw, B, T) if d.draw(st.booleans()) else None)
    _compare(ops.lstm_sequence, lstm_primitive, arrays, d.draw)


@settings(max_examples=15)
@given(d=st.data(), reset_after=st.booleans())
def test_gru_agrees_with_primitive_ops(d, reset_after):
    B, T, D, u = (d.draw(st.integers(1, 3)), d.draw(st.integers(1, 5)), d.draw(st.integers(1, 3)),
                  d.draw(st.integers(1, 3)))
    arrays = gru_arrays(B, T, D, u, seed=d.draw(st.integers(0, 1000)), reset_after=reset_after)
    if not d.draw(st.booleans()):
        arrays[4] = None
    arrays.append(draw_mask(d.draw, B, T) if d.draw(st.booleans()) else None)

    def fused(*a):
        return ops.gru_sequence(*a, reset_after=reset_after)

    def primitive(*a):
        return gru_primitive(*a, reset_after=reset_after)
    _compare(fused, primitive, arrays, d.draw)


# ------------------------------------------------------------------------ the node
def test_backward_twice_gives_the_same_gradients_and_release_frees_the_buffers():
    x, h0, c0, W, U, b = lstm_arrays()
    Wt = Tensor(W, requires_grad=True)
    with GradientTape(persistent=True) as tape:
        out, h, c = ops.lstm_sequence(x, h0, c0, Wt, U, b)
        loss = ops.sum(out * out) + ops.sum(c)
    first = tape.gradient(loss, [Wt])[0].numpy()
    second = tape.gradient(loss, [Wt])[0].numpy()
    np.testing.assert_array_equal(first, second)
    node = out.node
    assert node.saved is not None
    Wt.grad = None
    loss.backward()
    assert node.saved is None
    np.testing.assert_allclose(Wt.grad.numpy(), first, rtol=1e-12)


def test_inputs_without_gradient_leave_the_weight_gradients_unchanged():
    x, h0, W, U, b = gru_arrays()
    Wt, xt = Tensor(W, requires_grad=True), Tensor(x, requires_grad=True)
    with GradientTape() as tape:
        out, _ = ops.gru_sequence(xt, h0, Wt, U, b)
        loss = ops.sum(out * out)
    dx, dW = tape.gradient(loss, [xt, Wt])
    with GradientTape() as tape:
        out, _ = ops.gru_sequence(x, h0, Wt, U, b)
        loss = ops.sum(out * out)
    (dW_only,) = tape.gradient(loss, [Wt])
    assert out.node.needs_grad[0] is False
    np.testing.assert_array_equal(dW.numpy(), dW_only.numpy())


def test_reused_step_buffers_never_leak_between_live_results():
    """The kernels reuse the step buffers of finished nodes: a later call must not change
    an earlier result, nor the saved state of a node still waiting for its backward."""
    a, b, c = lstm_arrays(seed=3), lstm_arrays(seed=7), lstm_arrays(seed=11)
    with no_grad():
        first = [r.numpy().copy() for r in ops.lstm_sequence(*c)]
        kept = ops.lstm_sequence(*c)
    Wa, Wb = Tensor(a[3], requires_grad=True), Tensor(b[3], requires_grad=True)
    with GradientTape() as tape_a:
        out_a, _, _ = ops.lstm_sequence(a[0], a[1], a[2], Wa, a[4], a[5])
        loss_a = ops.sum(out_a * out_a)
    with GradientTape() as tape_b:
        out_b, _, _ = ops.lstm_sequence(b[0], b[1], b[2], Wb, b[4], b[5])
        loss_b = ops.sum(out_b * out_b)
    tape_a.gradient(loss_a, [Wa])                  # a's buffers are handed back ...
    with no_grad():
        ops.lstm_sequence(*a)                      # ... and overwritten here
    (got,) = tape_b.gradient(loss_b, [Wb])
    Wp = Tensor(b[3], requires_grad=True)
    with GradientTape() as tape:
        out, _, _ = lstm_primitive(b[0], b[1], b[2], Wp, b[4], b[5])
        loss = ops.sum(out * out)
    (want,) = tape.gradient(loss, [Wp])
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-12)
    for r, f in zip(kept, first):
        np.testing.assert_array_equal(r.numpy(), f)
