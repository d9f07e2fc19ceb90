"""Cases for minikeras/ops/recurrent.py: the fused LSTM and GRU sequences, with and without a
bias and a mask, both GRU variants. The references are plain NumPy loops over time with
Keras's formulas and gate order (LSTM i, f, c, o; GRU z, r, h) and Keras's mask rule: a
masked step carries the states over and repeats the previous state as its output.

Each case returns one tensor, the outputs flattened per batch row followed by the final
states, so one gradient check covers every output. The fused ops have no second
derivative (their backward is array code), so ``second`` stays False."""
import numpy as np
from hypothesis import strategies as st

from minikeras import ops

from . import Case, values


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def lstm_reference(x, h, c, W, U, b=None, mask=None):
    """(outputs, h_last, c_last) of Keras's LSTM, one step at a time."""
    u = h.shape[1]
    outputs = []
    for t in range(x.shape[1]):
        z = x[:, t] @ W + h @ U + (0.0 if b is None else b)
        i = _sigmoid(z[:, :u])
        f = _sigmoid(z[:, u:2 * u])
        cand = np.tanh(z[:, 2 * u:3 * u])
        o = _sigmoid(z[:, 3 * u:])
        c_new = f * c + i * cand
        h_new = o * np.tanh(c_new)
        keep = True if mask is None else mask[:, t:t + 1].astype(bool)
        h = np.where(keep, h_new, h)
        c = np.where(keep, c_new, c)
        outputs.append(h)
    return np.stack(outputs, axis=1), h, c


def gru_reference(x, h, W, U, b=None, mask=None, reset_after=True):
    """(outputs, h_last) of Keras's GRU, one step at a time."""
    u = h.shape[1]
    outputs = []
    for t in range(x.shape[1]):
        a = x[:, t] @ W
        if b is not None:
            a = a + (b[0] if reset_after else b)
        if reset_after:
            m = h @ U + (0.0 if b is None else b[1])
            z = _sigmoid(a[:, :u] + m[:, :u])
            r = _sigmoid(a[:, u:2 * u] + m[:, u:2 * u])
            cand = np.tanh(a[:, 2 * u:] + r * m[:, 2 * u:])
        else:
            z = _sigmoid(a[:, :u] + h @ U[:, :u])
            r = _sigmoid(a[:, u:2 * u] + h @ U[:, u:2 * u])
            cand = np.tanh(a[:, 2 * u:] + (r * h) @ U[:, 2 * u:])
        h_new = z * h + (1.0 - z) * cand
        keep = True if mask is None else mask[:, t:t + 1].astype(bool)
        h = np.where(keep, h_new, h)
        outputs.append(h)
    return np.stack(outputs, axis=1), h


# ------------------------------------------------------------------------------ drawing
def draw_mask(d, B, T):
    """A (B, T) boolean mask, each row one of: all kept, leading steps off, trailing steps
    off, or any pattern (all off included)."""
    rows = []
    for _ in range(B):
        kind = d(st.sampled_from(["all", "leading", "trailing", "any"]))
        k = d(st.integers(1, T))
        if kind == "all":
            row = [True] * T
        elif kind == "leading":
            row = [False] * k + [True] * (T - k)
        elif kind == "trailing":
            row = [True] * (T - k) + [False] * k
        else:
            row = d(st.lists(st.booleans(), min_size=T, max_size=T))
        rows.append(row)
    return np.array(rows, dtype=bool)


def _sizes(d):
    return d(st.integers(1, 3)), d(st.integers(1, 4)), d(st.integers(1, 3)), d(st.integers(1, 3))


def _lstm_draw(with_bias, with_mask):
    def draw(d):
        B, T, D, u = _sizes(d)
        arrays = [values(d, (B, T, D), -1.5, 1.5), values(d, (B, u)), values(d, (B, u)),
                  values(d, (D, 4 * u), -1.0, 1.0), values(d, (u, 4 * u), -1.0, 1.0)]
        if with_bias:
            arrays.append(values(d, (4 * u,), -1.0, 1.0))
        if with_mask:
            arrays.append(draw_mask(d, B, T))
        return arrays
    return draw


def _gru_draw(with_bias, with_mask, reset_after):
    def draw(d):
        B, T, D, u = _sizes(d)
        arrays = [values(d, (B, T, D), -1.5, 1.5), values(d, (B, u)),
                  values(d, (D, 3 * u), -1.0, 1.0), values(d, (u, 3 * u), -1.0, 1.0)]
        if with_bias:
            arrays.append(values(d, (2, 3 * u) if reset_after else (3 * u,), -1.0, 1.0))
        if with_mask:
            arrays.append(draw_mask(d, B, T))
        return arrays
    return draw


# ------------------------------------------------------------------------ fn and ref
def _split(arrays, with_bias, with_mask, n_fixed):
    fixed = list(arrays[:n_fixed])
    rest = list(arrays[n_fixed:])
    bias = rest.pop(0) if with_bias else None
    mask = rest.pop(0) if with_mask else None
    return fixed, bias, mask


def _lstm_fn(with_bias, with_mask):
    def fn(*a):
        (x, h, c, W, U), b, m = _split(a, with_bias, with_mask, 5)
        out, h_last, c_last = ops.lstm_sequence(x, h, c, W, U, bias=b, mask=m)
        B = out.shape[0]
        return ops.concatenate([ops.reshape(out, (B, -1)), h_last, c_last], axis=1)
    return fn


def _lstm_ref(with_bias, with_mask):
    def ref(*a):
        (x, h, c, W, U), b, m = _split(a, with_bias, with_mask, 5)
        out, h_last, c_last = lstm_reference(x, h, c, W, U, b, m)
        return np.concatenate([out.reshape(out.shape[0], -1), h_last, c_last], axis=1)
    return ref


def _gru_fn(with_bias, with_mask, reset_after):
    def fn(*a):
        (x, h, W, U), b, m = _split(a, with_bias, with_mask, 4)
        out, h_last = ops.gru_sequence(x, h, W, U, bias=b, mask=m, reset_after=reset_after)
        return ops.concatenate([ops.reshape(out, (out.shape[0], -1)), h_last], axis=1)
    return fn


def _gru_ref(with_bias, with_mask, reset_after):
    def ref(*a):
        (x, h, W, U), b, m = _split(a, with_bias, with_mask, 4)
        out, h_last = gru_reference(x, h, W, U, b, m, reset_after)
        return np.concatenate([out.reshape(out.shape[0], -1), h_last], axis=1)
    return ref


def _lstm_case(name, with_bias, with_mask):
    return Case(name, _lstm_fn(with_bias, with_mask), _lstm_ref(with_bias, with_mask),
                _lstm_draw(with_bias, with_mask), ("LstmSequence",), ops=("lstm_sequence",),
                rtol=1e-10, atol=1e-12)


def _gru_case(name, with_bias, with_mask, reset_after):
    return Case(name, _gru_fn(with_bias, with_mask, reset_after),
                _gru_ref(with_bias, with_mask, reset_after),
                _gru_draw(with_bias, with_mask, reset_after), ("GruSequence",),
                ops=("gru_sequence",), rtol=1e-10, atol=1e-12)


CASES = [
    _lstm_case("lstm_sequence", True, False),
    _lstm_case("lstm_sequence_masked", True, True),
    _lstm_case("lstm_sequence_no_bias", False, False),
    _lstm_case("lstm_sequence_no_bias_masked", False, True),
    _gru_case("gru_sequence", True, False, True),
    _gru_case("gru_sequence_masked", True, True, True),
    _gru_case("gru_sequence_no_bias", False, True, True),
    _gru_case("gru_sequence_reset_before", True, False, False),
    _gru_case("gru_sequence_reset_before_masked", True, True, False),
    _gru_case("gru_sequence_reset_before_no_bias", False, True, False),
]
