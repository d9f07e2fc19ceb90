"""The LSTM and GRU on the GPU: the matrix products stay cuBLAS (``xp.matmul``), the
elementwise part of each time step is one of the kernels below.

What runs where. A sequence of a recurrent layer is three kinds of work:

* the input projection x_t W + b of every step (one matmul before the time loop) and the
  weight gradients (big matmuls after the backward loop): the CPU module's own array code
  (``kernels/cpu/recurrent.py``), which runs as cuBLAS calls on a GPU;
* at each step the recurrent product h_{t-1} U (in the backward dz_t Uᵀ): ``xp.matmul``;
* at each step the gate arithmetic (sigmoids, tanh, the cell update, the mask): here. On the
  CPU it is about fifteen NumPy calls per step, each one pass over a (B, u) block; as CuPy
  calls each would be a kernel launch of its own, so here one kernel does them in one pass.

The thread layout. The gate buffer is (T, G, B, u) (G = 4 gates for the LSTM, 3 for the
GRU; see the CPU module): at step t gate k is the contiguous (B, u) block ``gates[t, k]``.
One thread per (batch row b, unit j): thread n of a 1-D grid takes the element n = b*u + j
(a grid-stride loop, as in ``activations.py``, when B*u outruns the grid), reads the G gate
pre-activations ``gates[t, :, b, j]`` and the recurrent product ``rec[:, b, j]`` of that
element, and writes the activations back (the backward reads them) and the new states at
(b, j). No thread reads what another thread writes in the same launch, so there is no shared
memory and no ``cuda.syncthreads()``. The order between steps (h_t needs the whole h_{t-1},
through the matmul) is kept by the launches: kernel, matmul, kernel, ... run one after the
other on the device's stream.

A mask is one flag per (step, row), ``skip[t, b]``: True where row b skips step t. That
row's threads then carry the states over (forward), or give the step zero gate gradients
and pass dh, dc through unchanged (backward), as the CPU does.

The step buffers and ``saved`` are exactly the CPU's, from the CPU's buffer pool, so the
CPU's ``release_sequence_buffers`` hands them back. The kernels compile for the dtype they
are given: float32 for models, float64 for tight tests. The kernels that need the constant 1
take it as an argument, ``one``, in the arrays' dtype: a literal ``1.0`` is a float64 to Numba
and would turn float32 arithmetic into float64 on a GPU, while a float32 constant would round
float64 arithmetic to float32 in the simulator (there ``math.exp`` returns a Python float,
and NumPy computes a Python float with a float32 in float32).
"""
import math

from numba import cuda

from ..arrays import array_module
from ..cpu.recurrent import (_empty, _gru_projection, _gru_weight_gradients, _lstm_projection,
                             _lstm_weight_gradients, _skipped)
from .launch import THREADS_PER_BLOCK, WARP_SIZE, grid_1d, launch

__all__ = ["lstm_sequence_forward", "lstm_sequence_backward", "gru_sequence_forward",
           "gru_sequence_backward"]

_F4 = "float32[:, :, :, ::1]"
_F3 = "float32[:, :, ::1]"
_F2 = "float32[:, ::1]"
_SKIP = "boolean[:, ::1]"

#: The types each kernel is compiled for in the PTX test (tests/cudasim/test_ptx.py).
PTX_SIGNATURES = {
    "_lstm_forward_kernel": [f"void(float32, int64, {_F4}, {_F3}, {_F2}, {_F2}, {_SKIP}, "
                             f"{_F3}, {_F3}, {_F3})"],
    "_lstm_backward_kernel": [f"void(float32, int64, {_F4}, {_F3}, {_F3}, {_F2}, {_F3}, "
                              f"boolean, {_SKIP}, {_F2}, {_F2}, {_F4})"],
    "_carry_kernel": [f"void(int64, {_F3}, {_F2}, boolean, {_SKIP}, {_F2})"],
    "_gru_gates_kernel": [f"void(float32, int64, {_F4}, {_F3}, {_F2}, {_F3}, {_F3}, boolean)"],
    "_gru_output_kernel": [f"void(int64, {_F4}, {_F2}, {_F2}, {_SKIP}, {_F3}, boolean)"],
    "_gru_backward_kernel": [f"void(float32, int64, {_F4}, {_F3}, {_F2}, {_F3}, {_F3}, "
                             f"boolean, {_SKIP}, {_F2}, {_F4}, {_F4}, {_F2}, boolean)"],
    "_gru_reset_grad_kernel": [f"void(float32, int64, {_F4}, {_F2}, {_F3}, {_F2}, {_SKIP}, "
                               f"{_F4}, {_F2})"],
}


# inline="always": compiled into each kernel that calls it (a device function compiled on
# its own would need a GPU to know its compute capability, even for the PTX test).
@cuda.jit(device=True, inline="always")
def _sigmoid(a, one):
    """σ(a) = 1 / (1 + e^(-a)), written e^a / (1 + e^a) for a < 0 so that e^x never overflows."""
    if a >= 0:
        return one / (one + math.exp(-a))
    e = math.exp(a)
    return e / (one + e)


# ------------------------------------------------------------------------------------ LSTM
# Internal gate order i, f, o, c̃ (the CPU's): gates[t, 0..3] are i, f, o, g = c̃.
@cuda.jit
def _lstm_forward_kernel(one, t, gates, rec, h0, c0, skip, cells, tanh_cells, hs):
    B, u = h0.shape
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for n in range(start, B * u, stride):
        b, j = n // u, n % u
        i = _sigmoid(gates[t, 0, b, j] + rec[0, b, j], one)
        f = _sigmoid(gates[t, 1, b, j] + rec[1, b, j], one)
        o = _sigmoid(gates[t, 2, b, j] + rec[2, b, j], one)
        g = math.tanh(gates[t, 3, b, j] + rec[3, b, j])
        gates[t, 0, b, j] = i
        gates[t, 1, b, j] = f
        gates[t, 2, b, j] = o
        gates[t, 3, b, j] = g
        c_prev = c0[b, j] if t == 0 else cells[t - 1, b, j]
        h_prev = h0[b, j] if t == 0 else hs[t - 1, b, j]
        c = f * c_prev + i * g
        tc = math.tanh(c)
        tanh_cells[t, b, j] = tc
        if skip[t, b]:                      # a skipped step carries both states over
            cells[t, b, j] = c_prev
            hs[t, b, j] = h_prev
        else:
            cells[t, b, j] = c
            hs[t, b, j] = o * tc


@cuda.jit
def _lstm_backward_kernel(one, t, gates, cells, tanh_cells, c0, d_outputs, has_dy, skip, dh,
                          dc, dz_all):
    # dh, dc: the gradients reaching h_t and c_t from later steps, updated in place; each
    # thread reads and writes only its own (b, j) element of them.
    B, u = dh.shape
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for n in range(start, B * u, stride):
        b, j = n // u, n % u
        if has_dy:
            dh[b, j] += d_outputs[b, t, j]
        i, f, o, g = gates[t, 0, b, j], gates[t, 1, b, j], gates[t, 2, b, j], gates[t, 3, b, j]
        tc = tanh_cells[t, b, j]
        c_prev = c0[b, j] if t == 0 else cells[t - 1, b, j]
        d_h = dh[b, j]
        d_c = dc[b, j] + d_h * o * (one - tc * tc)        # through h = o·tanh(c)
        if skip[t, b]:                                      # no gate gradient; dc passes
            for k in range(4):
                dz_all[t, k, b, j] = 0.0
        else:
            dz_all[t, 0, b, j] = d_c * g * (i * (one - i))            # di·σ'
            dz_all[t, 1, b, j] = d_c * c_prev * (f * (one - f))       # df·σ'
            dz_all[t, 2, b, j] = d_h * tc * (o * (one - o))           # do·σ'
            dz_all[t, 3, b, j] = d_c * i * (one - g * g)              # dc̃·tanh'
            dc[b, j] = d_c * f                                         # dc_{t-1}


@cuda.jit
def _carry_kernel(t, rec, direct, has_direct, skip, dh):
    """dh ← the gradient reaching h_{t-1}: Σ_k rec[k] (rec = dz_t Uᵀ gate by gate), plus
    ``direct`` (the GRU's terms that bypass U), or dh itself where the row skipped step t."""
    B, u = dh.shape
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for n in range(start, B * u, stride):
        b, j = n // u, n % u
        if not skip[t, b]:
            total = rec[0, b, j]
            for k in range(1, rec.shape[0]):
                total += rec[k, b, j]
            if has_direct:
                total += direct[b, j]
            dh[b, j] = total


# ------------------------------------------------------------------------------------- GRU
# Gate order z, r, h (Keras's): gates[t, 0..2] hold x_t W + b_in, then z, r and h̃.
@cuda.jit
def _gru_gates_kernel(one, t, gates, rec, h0, hs, kept, reset_after):
    """z and r; and what the h̃ gate needs of the recurrent side, kept for the backward:
    m_h = h U_h + rb_h (reset_after) or r·h_{t-1} (reset_after=False, which U_h multiplies
    next, in a matmul between this kernel and the next)."""
    B, u = h0.shape
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for n in range(start, B * u, stride):
        b, j = n // u, n % u
        z = _sigmoid(gates[t, 0, b, j] + rec[0, b, j], one)
        r = _sigmoid(gates[t, 1, b, j] + rec[1, b, j], one)
        gates[t, 0, b, j] = z
        gates[t, 1, b, j] = r
        if reset_after:
            kept[t, b, j] = rec[2, b, j]
        else:
            kept[t, b, j] = r * (h0[b, j] if t == 0 else hs[t - 1, b, j])


@cuda.jit
def _gru_output_kernel(t, gates, rec_h, h0, skip, hs, reset_after):
    """h̃ = tanh(a_h + r·m_h) (reset_after; rec_h = m_h) or tanh(a_h + (r·h) U_h) (rec_h is
    that product), then h_t = z·h_{t-1} + (1 - z)·h̃ = h̃ + z·(h_{t-1} - h̃)."""
    B, u = h0.shape
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for n in range(start, B * u, stride):
        b, j = n // u, n % u
        z, r = gates[t, 0, b, j], gates[t, 1, b, j]
        recurrent = r * rec_h[b, j] if reset_after else rec_h[b, j]
        hh = math.tanh(gates[t, 2, b, j] + recurrent)
        gates[t, 2, b, j] = hh
        h_prev = h0[b, j] if t == 0 else hs[t - 1, b, j]
        hs[t, b, j] = h_prev if skip[t, b] else hh + z * (h_prev - hh)


@cuda.jit
def _gru_backward_kernel(one, t, gates, kept, h0, hs, d_outputs, has_dy, skip, dh, da_all,
                         dm_all, direct, reset_after):
    """The gate gradients of step t: dz, dâ_h and (reset_after) dr and dm; ``direct`` gets
    dh·z, the part of dh_{t-1} that bypasses U. With reset_after=False, dr needs
    d(r·h) = dâ_h U_hᵀ first: ``_gru_reset_grad_kernel`` writes it after that matmul."""
    B, u = dh.shape
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for n in range(start, B * u, stride):
        b, j = n // u, n % u
        if has_dy:
            dh[b, j] += d_outputs[b, t, j]
        d_h = dh[b, j]
        z, r, hh = gates[t, 0, b, j], gates[t, 1, b, j], gates[t, 2, b, j]
        h_prev = h0[b, j] if t == 0 else hs[t - 1, b, j]
        direct[b, j] = d_h * z
        if skip[t, b]:
            for k in range(3):
                da_all[t, k, b, j] = 0.0
                if reset_after:
                    dm_all[t, k, b, j] = 0.0
            continue
        dz = d_h * (h_prev - hh) * (z * (one - z))
        dah = d_h * (one - z) * (one - hh * hh)
        da_all[t, 0, b, j] = dz
        da_all[t, 2, b, j] = dah
        if reset_after:
            dr = dah * kept[t, b, j] * (r * (one - r))
            da_all[t, 1, b, j] = dr
            dm_all[t, 0, b, j] = dz
            dm_all[t, 1, b, j] = dr
            dm_all[t, 2, b, j] = dah * r


@cuda.jit
def _gru_reset_grad_kernel(one, t, gates, h0, hs, d_rh, skip, da_all, direct):
    """reset_after=False: dr = d(r·h)·h_{t-1}·r(1-r), and dh_{t-1} also gets d(r·h)·r."""
    B, u = h0.shape
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for n in range(start, B * u, stride):
        b, j = n // u, n % u
        if not skip[t, b]:
            r = gates[t, 1, b, j]
            h_prev = h0[b, j] if t == 0 else hs[t - 1, b, j]
            da_all[t, 1, b, j] = d_rh[b, j] * h_prev * (r * (one - r))
            direct[b, j] += d_rh[b, j] * r


# ------------------------------------------------------------------------------ launchers
def _grid(n):
    """(blocks, threads) for n = B*u elements: a block of 128, or fewer (whole warps) when
    n is small."""
    return grid_1d(n, threads=min(THREADS_PER_BLOCK, max(1, -(-n // WARP_SIZE)) * WARP_SIZE))


def _skip_flags(xp, skip, T, B):
    """(T, B) booleans for the kernels: the CPU's (T, B, 1) mask, or all False."""
    return xp.zeros((T, B), dtype=bool) if skip is None else skip.reshape(T, B)


def _start(xp, g, shape, dt):
    """A gradient arriving at a last state, as a fresh C-contiguous array (zeros if none)."""
    return xp.zeros(shape, dtype=dt) if g is None else xp.array(g, dtype=dt, order="C")


def _output_grads(xp, d_outputs, dt):
    """(d_outputs (B, T, u) C-contiguous, True), or a one-element stand-in and False."""
    if d_outputs is None:
        return xp.zeros((1, 1, 1), dtype=dt), False
    return xp.ascontiguousarray(d_outputs, dtype=dt), True


def lstm_sequence_forward(x, h0, c0, kernel, recurrent_kernel, bias=None, mask=None):
    """The CPU's ``lstm_sequence_forward`` (same arguments, results and ``saved``): at each
    step h_{t-1} U by ``xp.matmul``, then one launch of ``_lstm_forward_kernel``."""
    xp = array_module(x)
    B, T, _ = x.shape
    u = h0.shape[1]
    xs, W4, U4, gates = _lstm_projection(xp, x, kernel, recurrent_kernel, bias)
    dt = gates.dtype
    h0, c0 = xp.ascontiguousarray(h0, dtype=dt), xp.ascontiguousarray(c0, dtype=dt)
    skip = _skipped(xp, mask)
    flags = _skip_flags(xp, skip, T, B)
    cells, tanh_cells, hs = [_empty(xp, (T, B, u), dt) for _ in range(3)]
    rec = xp.empty((4, B, u), dtype=dt)
    blocks, threads = _grid(B * u)
    one = dt.type(1)                                         # 1 in the arrays' dtype
    for t in range(T):
        xp.matmul(hs[t - 1] if t else h0, U4, out=rec)      # h_{t-1} U, gate by gate
        launch(_lstm_forward_kernel, blocks, threads, one, t, gates, rec, h0, c0, flags, cells,
               tanh_cells, hs)
    saved = dict(xs=xs, W4=W4, U4=U4, gates=gates, cells=cells, tanh_cells=tanh_cells, hs=hs,
                 h0=h0, c0=c0, skip=skip, has_bias=bias is not None)
    return xp.array(hs.swapaxes(0, 1), order="C"), hs[-1].copy(), cells[-1].copy(), saved


def lstm_sequence_backward(saved, d_outputs=None, d_h_last=None, d_c_last=None,
                           need_inputs=True):
    """The CPU's ``lstm_sequence_backward``: at each step, from the last, the gate gradients
    (``_lstm_backward_kernel``), dz_t Uᵀ by ``xp.matmul``, and dh_{t-1} (``_carry_kernel``)."""
    xs, gates, cells, tanh_cells = saved["xs"], saved["gates"], saved["cells"], saved["tanh_cells"]
    xp = array_module(xs)
    T, B, _ = xs.shape
    u = saved["h0"].shape[1]
    dt = gates.dtype
    dz_all = _empty(xp, gates.shape, dt)
    dh, dc = _start(xp, d_h_last, (B, u), dt), _start(xp, d_c_last, (B, u), dt)
    dys, has_dy = _output_grads(xp, d_outputs, dt)
    flags = _skip_flags(xp, saved["skip"], T, B)
    U4T = xp.ascontiguousarray(saved["U4"].swapaxes(1, 2))
    rec = xp.empty((4, B, u), dtype=dt)
    unused = xp.zeros((1, 1), dtype=dt)                      # the LSTM has no direct term
    blocks, threads = _grid(B * u)
    one = dt.type(1)                                         # 1 in the arrays' dtype
    for t in range(T - 1, -1, -1):
        launch(_lstm_backward_kernel, blocks, threads, one, t, gates, cells, tanh_cells,
               saved["c0"], dys, has_dy, flags, dh, dc, dz_all)
        xp.matmul(dz_all[t], U4T, out=rec)                   # dz_t Uᵀ, gate by gate
        launch(_carry_kernel, blocks, threads, t, rec, unused, False, flags, dh)
    d_inputs, d_kernel, d_recurrent, d_bias = _lstm_weight_gradients(xp, saved, dz_all,
                                                                    need_inputs)
    return d_inputs, dh, dc, d_kernel, d_recurrent, d_bias


def gru_sequence_forward(x, h0, kernel, recurrent_kernel, bias=None, mask=None,
                         reset_after=True):
    """The CPU's ``gru_sequence_forward``: at each step the recurrent matmul, the gates
    kernel, (reset_after=False: (r·h_{t-1}) U_h) and the output kernel."""
    xp = array_module(x)
    B, T, _ = x.shape
    u = h0.shape[1]
    xs, W3, U3, gates, rec_bias = _gru_projection(xp, x, kernel, recurrent_kernel, bias,
                                                  reset_after)
    dt = gates.dtype
    h0 = xp.ascontiguousarray(h0, dtype=dt)
    skip = _skipped(xp, mask)
    flags = _skip_flags(xp, skip, T, B)
    hs, kept = _empty(xp, (T, B, u), dt), _empty(xp, (T, B, u), dt)
    rec = xp.empty((3 if reset_after else 2, B, u), dtype=dt)
    rec_h = xp.empty((B, u), dtype=dt)
    blocks, threads = _grid(B * u)
    one = dt.type(1)                                         # 1 in the arrays' dtype
    for t in range(T):
        h = hs[t - 1] if t else h0
        if reset_after:
            xp.matmul(h, U3, out=rec)                        # m = h U + rb, gate by gate
            if rec_bias is not None:
                rec += rec_bias
        else:
            xp.matmul(h, U3[:2], out=rec)                    # h U_z, h U_r
        launch(_gru_gates_kernel, blocks, threads, one, t, gates, rec, h0, hs, kept, reset_after)
        if not reset_after:
            xp.matmul(kept[t], U3[2], out=rec_h)             # (r·h_{t-1}) U_h
        launch(_gru_output_kernel, blocks, threads, t, gates, rec[2] if reset_after else rec_h,
               h0, flags, hs, reset_after)
    saved = dict(xs=xs, W3=W3, U3=U3, gates=gates, kept=kept, hs=hs, h0=h0, skip=skip,
                 has_bias=bias is not None, reset_after=reset_after)
    return xp.array(hs.swapaxes(0, 1), order="C"), hs[-1].copy(), saved


def gru_sequence_backward(saved, d_outputs=None, d_h_last=None, need_inputs=True):
    """The CPU's ``gru_sequence_backward``: at each step, from the last, the gate gradients
    (``_gru_backward_kernel``; reset_after=False: d(r·h) by a matmul, then
    ``_gru_reset_grad_kernel``), the recurrent matmul and dh_{t-1} (``_carry_kernel``)."""
    xs, gates, kept, hs, h0 = saved["xs"], saved["gates"], saved["kept"], saved["hs"], saved["h0"]
    reset_after = saved["reset_after"]
    xp = array_module(xs)
    T, B, _ = xs.shape
    u = h0.shape[1]
    dt = gates.dtype
    da_all = _empty(xp, gates.shape, dt)
    dm_all = _empty(xp, gates.shape, dt) if reset_after else xp.zeros((1, 1, 1, 1), dtype=dt)
    dh = _start(xp, d_h_last, (B, u), dt)
    dys, has_dy = _output_grads(xp, d_outputs, dt)
    flags = _skip_flags(xp, saved["skip"], T, B)
    U3T = xp.ascontiguousarray(saved["U3"].swapaxes(1, 2))
    rec = xp.empty((3 if reset_after else 2, B, u), dtype=dt)
    direct, d_rh = xp.empty((B, u), dtype=dt), xp.empty((B, u), dtype=dt)
    blocks, threads = _grid(B * u)
    one = dt.type(1)                                         # 1 in the arrays' dtype
    for t in range(T - 1, -1, -1):
        launch(_gru_backward_kernel, blocks, threads, one, t, gates, kept, h0, hs, dys, has_dy,
               flags, dh, da_all, dm_all, direct, reset_after)
        if reset_after:
            xp.matmul(dm_all[t], U3T, out=rec)               # dm_t Uᵀ, gate by gate
        else:
            xp.matmul(da_all[t, 2], U3T[2], out=d_rh)        # d(r·h) = dâ_h U_hᵀ
            launch(_gru_reset_grad_kernel, blocks, threads, one, t, gates, h0, hs, d_rh, flags,
                   da_all, direct)
            xp.matmul(da_all[t, :2], U3T[:2], out=rec)       # (dz, dr) U_{z,r}ᵀ
        launch(_carry_kernel, blocks, threads, t, rec, direct, True, flags, dh)
    d_inputs, d_kernel, d_recurrent, d_bias = _gru_weight_gradients(
        xp, saved, da_all, dm_all if reset_after else None, need_inputs)
    return d_inputs, dh, d_kernel, d_recurrent, d_bias
