"""Fused recurrent sequence ops (LSTM, GRU) with a hand-written backward through time.

A recurrent layer built from primitive ops records some 40 nodes per time step; these ops
record one node for the whole sequence. The forward and the backward through time are array
code in ``kernels/cpu/recurrent.py`` (the input projection of all steps in one matmul before
the loop, only the recurrent product inside it, the weight gradients as big GEMMs after
it). Because that backward is array code and not recorded ops, it cannot be differentiated
again: second derivatives need the step-by-step cell built from ops (``use_cudnn=False`` on
the layer).

Masks follow Keras's default: at a masked step of a row the states are carried over and
the output repeats the previous state (``initial_h`` before the first kept step), so
``outputs[:, t]`` is always the h state after step t, and ``h_last`` is the state after the
last kept step.
"""
from .. import backend
from ..autograd import Function, OpError
from .core import convert_to_tensor

__all__ = ["lstm_sequence", "gru_sequence"]


def _no_second_derivative(op):
    return RuntimeError(
        f"ops.{op}: the fused {op} op has no backward written with ops: its backward "
        "through time is hand-written array code (backward_arrays), so it cannot be "
        "recorded and differentiated again (second derivatives: create_graph=True or an "
        "outer GradientTape), nor run inside readable_backward(). Build the recurrent layer "
        "with use_cudnn=False: it then runs the cell step by step with ops, which can be "
        "differentiated any number of times.")


def _release(node):
    """Drop a node's inputs and hand its step buffers back to the kernels for reuse: the
    backward can no longer run (or, for a node never recorded, never will)."""
    Function.release(node)
    saved, node.saved = getattr(node, "saved", None), None
    if saved is not None:
        backend.kernels.release_sequence_buffers(saved)


def _call(fn, args):
    """Run the op; when nothing recorded it (no gradient wanted), its buffers are free at once."""
    result = fn(*args)
    if result[0]._node is None:
        _release(fn)
    return result


class LstmSequence(Function):
    """The LSTM over a whole sequence (Keras's gate order i, f, c, o).

    Forward, for t = 1..T with h₀, c₀ the initial states::

        z_t = x_t W + h_{t-1} U + b             (B, 4u), split into z_i, z_f, z_c, z_o
        i = σ(z_i)   f = σ(z_f)   c̃ = tanh(z_c)   o = σ(z_o)
        c_t = f·c_{t-1} + i·c̃        h_t = o·tanh(c_t)        output_t = h_t

    at a masked step h_t = h_{t-1}, c_t = c_{t-1}. Outputs (outputs, h_T, c_T).

    Backward through time, from t = T down to 1, with dh and dc the gradients arriving at
    h_t and c_t (from output_t, from step t+1, and from h_T, c_T at the last step)::

        do = dh·tanh(c_t)               dc ← dc + dh·o·(1 - tanh²(c_t))
        di = dc·c̃    df = dc·c_{t-1}    dc̃ = dc·i
        dz_{i,f,o} = d{i,f,o}·σ(1-σ)    dz_c = dc̃·(1 - c̃²)
        dh_{t-1} = dz_t Uᵀ              dc_{t-1} = dc·f

    at a masked step dz_t = 0 and dh, dc pass to step t-1 unchanged. Then
    dW = Σ_t x_tᵀ dz_t,  dU = Σ_t h_{t-1}ᵀ dz_t,  db = Σ_t Σ_batch dz_t,  dx_t = dz_t Wᵀ,
    and dh₀, dc₀ are what reaches step 0. The mask gets no gradient.

    Rule: dL/dx = dz_t Wᵀ at each t; dL/dh0 = dh reaching step 0; dL/dc0 = dc reaching step 0; dL/dkernel = Σ_t x_tᵀ dz_t; dL/drecurrent_kernel = Σ_t h_{t-1}ᵀ dz_t; dL/dbias = Σ_t Σ_batch dz_t; dL/dmask = none   (the walk above, from g0 at each output_t, g1 at h_T, g2 at c_T)
    """

    n_outputs = 3

    def __init__(self, has_bias, has_mask):
        self.has_bias, self.has_mask = has_bias, has_mask

    def forward(self, x, h0, c0, kernel, recurrent_kernel, *rest):
        bias = rest[0] if self.has_bias else None
        mask = rest[-1] if self.has_mask else None
        out, h, c, self.saved = backend.kernels.lstm_sequence_forward(
            x, h0, c0, kernel, recurrent_kernel, bias, mask)
        return out, h, c

    def backward(self, d_outputs, d_h, d_c):
        raise _no_second_derivative("lstm_sequence")

    def backward_arrays(self, d_outputs, d_h, d_c):
        grads = list(backend.kernels.lstm_sequence_backward(
            self.saved, d_outputs, d_h, d_c, need_inputs=self.needs_grad[0]))
        if not self.has_bias:
            grads.pop()
        return tuple(grads) + ((None,) if self.has_mask else ())

    def release(self):
        _release(self)


class GruSequence(Function):
    """The GRU over a whole sequence (Keras's gate order z, r, h).

    Forward, for t = 1..T, with a_t = x_t W + b_in split into a_z, a_r, a_h::

        reset_after=True (bias (2, 3u): b_in, b_rec):   m = h_{t-1} U + b_rec
            z = σ(a_z + m_z)   r = σ(a_r + m_r)   h̃ = tanh(a_h + r·m_h)
        reset_after=False (bias (3u,) = b_in):
            z = σ(a_z + h_{t-1} U_z)   r = σ(a_r + h_{t-1} U_r)   h̃ = tanh(a_h + (r·h_{t-1}) U_h)
        h_t = z·h_{t-1} + (1 - z)·h̃,     output_t = h_t

    at a masked step h_t = h_{t-1}. Outputs (outputs, h_T).

    Backward through time, with dh the gradient arriving at h_t::

        dz = dh·(h_{t-1} - h̃)·z(1-z)     dâ_h = dh·(1-z)·(1 - h̃²)   (â_h: the tanh's argument)
        reset_after=True:   dr = dâ_h·m_h·r(1-r);  dm = (dz, dr, dâ_h·r)
                            dh_{t-1} = dh·z + dm Uᵀ
        reset_after=False:  d(r·h) = dâ_h U_hᵀ;  dr = d(r·h)·h_{t-1}·r(1-r)
                            dh_{t-1} = dh·z + (dz, dr) U_{z,r}ᵀ + d(r·h)·r

    at a masked step every d is 0 and dh passes to step t-1 unchanged. With da = (dz, dr,
    dâ_h): dW = Σ_t x_tᵀ da_t, dx_t = da_t Wᵀ, db_in = Σ da; reset_after=True:
    dU = Σ_t h_{t-1}ᵀ dm_t, db_rec = Σ dm; reset_after=False: dU_{z,r} = Σ_t h_{t-1}ᵀ (dz, dr),
    dU_h = Σ_t (r·h_{t-1})ᵀ dâ_h.

    Rule: dL/dx = da_t Wᵀ at each t; dL/dh0 = dh reaching step 0; dL/dkernel = Σ_t x_tᵀ da_t; dL/drecurrent_kernel = dU above; dL/dbias = (db_in, db_rec) above; dL/dmask = none   (the walk above, from g0 at each output_t, g1 at h_T)
    """

    n_outputs = 2

    def __init__(self, has_bias, has_mask, reset_after):
        self.has_bias, self.has_mask, self.reset_after = has_bias, has_mask, reset_after

    def forward(self, x, h0, kernel, recurrent_kernel, *rest):
        bias = rest[0] if self.has_bias else None
        mask = rest[-1] if self.has_mask else None
        out, h, self.saved = backend.kernels.gru_sequence_forward(
            x, h0, kernel, recurrent_kernel, bias, mask, self.reset_after)
        return out, h

    def backward(self, d_outputs, d_h):
        raise _no_second_derivative("gru_sequence")

    def backward_arrays(self, d_outputs, d_h):
        grads = list(backend.kernels.gru_sequence_backward(
            self.saved, d_outputs, d_h, need_inputs=self.needs_grad[0]))
        if not self.has_bias:
            grads.pop()
        return tuple(grads) + ((None,) if self.has_mask else ())

    def release(self):
        _release(self)


# ------------------------------------------------------------------------------ checks
def _check(op, gates, inputs, states, kernel, recurrent_kernel, bias, bias_shape, mask):
    """Shape and dtype checks before any computation, each error naming the op and the
    shapes. ``gates`` is 4 (LSTM) or 3 (GRU); ``states`` maps names to state tensors."""
    g = f"{gates}*units"
    if inputs.ndim != 3:
        raise OpError(f"ops.{op}: inputs must have rank 3 (batch, timesteps, features); got "
                      f"shape {inputs.shape}.")
    B, T, D = inputs.shape
    if T < 1:
        raise OpError(f"ops.{op}: inputs must have at least one timestep; got shape "
                      f"{inputs.shape}.")
    rk = recurrent_kernel.shape
    if len(rk) != 2 or rk[1] != gates * rk[0]:
        raise OpError(f"ops.{op}: recurrent_kernel must have shape (units, {g}); got {rk}.")
    u = rk[0]
    if kernel.shape != (D, gates * u):
        raise OpError(f"ops.{op}: kernel must have shape (features, {g}) = "
                      f"{(D, gates * u)} for inputs of shape {inputs.shape} and units={u} "
                      f"(from recurrent_kernel {rk}); got {kernel.shape}.")
    for name, s in states.items():
        if s.shape != (B, u):
            raise OpError(f"ops.{op}: {name} must have shape (batch, units) = {(B, u)} for "
                          f"inputs of shape {inputs.shape} and units={u}; got {s.shape}.")
    if bias is not None and bias.shape != bias_shape:
        raise OpError(f"ops.{op}: bias must have shape {bias_shape} for units={u}; got "
                      f"{bias.shape}.")
    if mask is not None and mask.shape != (B, T):
        raise OpError(f"ops.{op}: mask must have shape (batch, timesteps) = {(B, T)} for "
                      f"inputs of shape {inputs.shape}; got {mask.shape}.")
    floats = dict(inputs=inputs, **states, kernel=kernel, recurrent_kernel=recurrent_kernel)
    if bias is not None:
        floats["bias"] = bias
    dtypes = {str(t.dtype) for t in floats.values()}
    if len(dtypes) != 1 or inputs.dtype.kind != "f":
        listed = ", ".join(f"{n} {t.dtype}" for n, t in floats.items())
        raise OpError(f"ops.{op}: inputs, states, kernels and bias must share one float "
                      f"dtype; got {listed}. Cast them first (ops.cast).")


def _tensors(*xs):
    return [None if x is None else convert_to_tensor(x) for x in xs]


# ------------------------------------------------------------------------------ public
def lstm_sequence(inputs, initial_h, initial_c, kernel, recurrent_kernel, bias=None, mask=None):
    """The LSTM over a whole sequence as one fused op; returns ``(outputs, h_last, c_last)``.

    inputs (B, T, D); initial_h, initial_c (B, u); kernel (D, 4u); recurrent_kernel (u, 4u);
    bias (4u,) or None; mask (B, T) booleans or None (False: the step is skipped, states
    carried over). Gates in Keras's order i, f, c, o; outputs (B, T, u) in processing order.
    See :class:`LstmSequence` for the math."""
    x, h0, c0, W, U, b, m = _tensors(inputs, initial_h, initial_c, kernel, recurrent_kernel,
                                     bias, mask)
    u = U.shape[0] if U.ndim else 0
    _check("lstm_sequence", 4, x, {"initial_h": h0, "initial_c": c0}, W, U, b, (4 * u,), m)
    args = [x, h0, c0, W, U] + [t for t in (b, m) if t is not None]
    return _call(LstmSequence(b is not None, m is not None), args)


def gru_sequence(inputs, initial_h, kernel, recurrent_kernel, bias=None, mask=None,
                 reset_after=True):
    """The GRU over a whole sequence as one fused op; returns ``(outputs, h_last)``.

    inputs (B, T, D); initial_h (B, u); kernel (D, 3u); recurrent_kernel (u, 3u); bias
    (2, 3u) when ``reset_after`` (row 0 input bias, row 1 recurrent bias), else (3u,), or
    None; mask (B, T) booleans or None. Gates in Keras's order z, r, h. See
    :class:`GruSequence` for the math."""
    x, h0, W, U, b, m = _tensors(inputs, initial_h, kernel, recurrent_kernel, bias, mask)
    u = U.shape[0] if U.ndim else 0
    bias_shape = (2, 3 * u) if reset_after else (3 * u,)
    _check("gru_sequence", 3, x, {"initial_h": h0}, W, U, b, bias_shape, m)
    args = [x, h0, W, U] + [t for t in (b, m) if t is not None]
    return _call(GruSequence(b is not None, m is not None, bool(reset_after)), args)
