"""Fused recurrent kernels: whole-sequence LSTM and GRU, forward and backward through time.

The layout that makes a recurrent net fast in NumPy:

* time is the leading axis and the gates the next one inside the kernels: the gate buffer
  is (T, G, B, u), so at step t each gate is one contiguous (B, u) block. (In Keras's
  (B, G*u) layout a gate is a strided column slice, and NumPy's elementwise functions run
  several times slower on those than on contiguous blocks.);
* the input projection of every step is computed before the loop, (T, 1, B, D) @ (1, G, D, u),
  so only the recurrent product h @ U is left inside it;
* the gate activations of every step stay in the (T, G, B, u) buffer, which the backward
  reads; the elementwise chain writes into preallocated buffers (``out=``);
* the backward loop does only what is sequential (the recurrent gradient dZ_t Uᵀ and the
  elementwise gate derivatives) and keeps the gate gradients of every step; the weight
  gradients are then big GEMMs after the loop: dW = Xᵀ dZ, dU = H_prevᵀ dZ, db = Σ dZ.

Masks follow Keras's default (``zero_output_for_mask=False``): at a masked step of a row the
states are carried over unchanged and the output repeats the previous state (the initial
state before the first kept step), so outputs[t] always equals the state after step t.

The code is written once for NumPy and CuPy arrays (``xp = array_module(x)``). Every scalar
is a Python float, so float32 stays float32.
"""
from ..arrays import array_module
from .activations import sigmoid

__all__ = ["lstm_sequence_forward", "lstm_sequence_backward",
           "gru_sequence_forward", "gru_sequence_backward", "release_sequence_buffers"]


# ------------------------------------------------------------------------- step buffers
# The (T, ...) step buffers are reused from one call to the next. A fresh array of a few
# megabytes comes from the operating system as untouched pages, and the first write to each
# 4 KiB page is a page fault: about 1,500 of them per LSTM forward at B=64, T=32, u=128,
# which took as long as the arithmetic. A buffer comes back here once the op's node has run
# its backward (or was never recorded): :func:`release_sequence_buffers`. (CuPy has a
# memory pool of its own; the reuse is harmless there.)
_spare = []                 # buffers handed back, newest last
_SPARE_LIMIT = 16           # enough for two layers' forward and backward buffers
_POOLED = ("xs", "gates", "cells", "tanh_cells", "hs", "kept")


def _empty(xp, shape, dtype):
    """An uninitialised array: a spare buffer of that shape and dtype, or a new one."""
    for k in range(len(_spare) - 1, -1, -1):
        a = _spare[k]
        if a.shape == shape and a.dtype == dtype and array_module(a) is xp:
            return _spare.pop(k)
    return xp.empty(shape, dtype=dtype)


def _give_back(*arrays):
    _spare.extend(arrays)
    del _spare[:-_SPARE_LIMIT]


def release_sequence_buffers(saved):
    """Hand the step buffers of a forward's ``saved`` back for reuse; ``saved`` must not be
    used afterwards (its buffers will be overwritten by a later call)."""
    _give_back(*[saved.pop(k) for k in _POOLED if k in saved])


# ------------------------------------------------------------------------------ layout
def _time_major(xp, x):
    """(B, T, D) → (T, B, D), contiguous, in a reused buffer."""
    out = _empty(xp, (x.shape[1], x.shape[0]) + x.shape[2:], x.dtype)
    out[...] = x.swapaxes(0, 1)
    return out


def _gate_major(xp, w, gates, order=None):
    """A (rows, G*u) weight in Keras's layout as G contiguous (rows, u) blocks, (G, rows, u),
    taken in ``order`` (the Keras block of each internal gate)."""
    rows = w.shape[0]
    blocks = w.reshape(rows, gates, -1).swapaxes(0, 1)
    return xp.ascontiguousarray(blocks if order is None else blocks[order])


def _keras_layout(xp, d, order=None):
    """(T, G, B, u) gate-major gradients → (T*B, G*u) in Keras's column layout (blocks put
    back in Keras's order), for the weight-gradient GEMMs."""
    T, G, B, u = d.shape
    out = _empty(xp, (T, B, G, u), d.dtype)
    for k, block in enumerate(range(G) if order is None else order):
        out[:, :, block] = d[:, k]
    return out.reshape(T * B, G * u), out


def _sum_gates(xp, blocks, out):
    """out ← Σ_k blocks[k] for a (G, B, u) stack, as G-1 contiguous adds (a reduction over
    the short leading axis is slower in NumPy)."""
    xp.add(blocks[0], blocks[1], out=out)
    for k in range(2, blocks.shape[0]):
        out += blocks[k]
    return out


def _skipped(xp, mask):
    """(T, B, 1) booleans, True where a row skips a step; None without a mask."""
    if mask is None:
        return None
    return xp.ascontiguousarray(~mask.astype(bool).T)[:, :, None]


def _from_previous_states(xp, h0, hs, d):
    """Σ_t h_{t-1}ᵀ @ d[t] with h_{-1} = h0, for d in (T*B, k): two GEMMs, without stacking
    h0 onto hs."""
    B, u = h0.shape
    out = xp.matmul(h0.T, d[:B])
    if hs.shape[0] > 1:
        out += xp.matmul(hs[:-1].reshape(-1, u).T, d[B:])
    return out


# ------------------------------------------------------------------------------------ LSTM
# Internal gate order i, f, o, c̃: the three sigmoid gates are adjacent, so one sigmoid call
# covers them. _LSTM_ORDER[k] is the Keras block (i, f, c, o) of internal gate k; the swap
# is its own inverse.
_LSTM_ORDER = [0, 1, 3, 2]


def _lstm_projection(xp, x, kernel, recurrent_kernel, bias):
    """What comes before the loop (the CUDA twin shares it): the weights gate-major in the
    internal order, (4, D, u) and (4, u, u), x time-major (T, B, D), and the gate buffer
    (T, 4, B, u) holding x_t W + b of every step."""
    B, T, D = x.shape
    u = recurrent_kernel.shape[0]
    W4 = _gate_major(xp, kernel, 4, _LSTM_ORDER)                # (4, D, u)
    U4 = _gate_major(xp, recurrent_kernel, 4, _LSTM_ORDER)      # (4, u, u)
    xs = _time_major(xp, x)
    gates = _empty(xp, (T, 4, B, u), kernel.dtype)
    xp.matmul(xs[:, None], W4[None], out=gates)                 # x_t W of every step
    if bias is not None:
        gates += bias.reshape(4, u)[_LSTM_ORDER][:, None, :]
    return xs, W4, U4, gates


def lstm_sequence_forward(x, h0, c0, kernel, recurrent_kernel, bias=None, mask=None):
    """LSTM over a whole sequence. x (B, T, D), h0 and c0 (B, u), kernel (D, 4u),
    recurrent_kernel (u, 4u), bias (4u,) or None, mask (B, T) or None, gates in Keras's
    order i, f, c, o. Returns ``(outputs (B, T, u), h_last, c_last, saved)``, ``saved``
    being what :func:`lstm_sequence_backward` needs."""
    xp = array_module(x)
    B, T, D = x.shape
    u = h0.shape[1]
    dt = kernel.dtype
    xs, W4, U4, gates = _lstm_projection(xp, x, kernel, recurrent_kernel, bias)
    skip = _skipped(xp, mask)
    cells, tanh_cells, hs = [_empty(xp, (T, B, u), dt) for _ in range(3)]
    rec = xp.empty((4, B, u), dtype=dt)
    tmp = xp.empty((B, u), dtype=dt)
    h, c = h0, c0
    for t in range(T):
        z = gates[t]
        xp.matmul(h, U4, out=rec)                      # h_{t-1} U, gate by gate
        z += rec
        sigmoid(z[:3], out=z[:3])                      # i, f, o
        xp.tanh(z[3], out=z[3])                        # c̃
        i, f, o, g = z
        xp.multiply(f, c, out=cells[t])                # c = f·c_prev + i·c̃
        xp.multiply(i, g, out=tmp)
        cells[t] += tmp
        xp.tanh(cells[t], out=tanh_cells[t])
        xp.multiply(o, tanh_cells[t], out=hs[t])       # h = o·tanh(c)
        if skip is not None:
            xp.copyto(cells[t], c, where=skip[t])
            xp.copyto(hs[t], h, where=skip[t])
        h, c = hs[t], cells[t]
    saved = dict(xs=xs, W4=W4, U4=U4, gates=gates, cells=cells, tanh_cells=tanh_cells, hs=hs,
                 h0=h0, c0=c0, skip=skip, has_bias=bias is not None)
    # a copy, never a view: hs is a step buffer that the next call reuses (with B or T of 1
    # the swapped array is already contiguous and ascontiguousarray would not copy)
    return xp.array(hs.swapaxes(0, 1), order="C"), hs[-1].copy(), cells[-1].copy(), saved


def lstm_sequence_backward(saved, d_outputs=None, d_h_last=None, d_c_last=None,
                           need_inputs=True):
    """Backpropagation through time for :func:`lstm_sequence_forward`. The d_* arguments
    are the gradients of the three outputs (None where none arrived). Returns
    ``(d_inputs, d_h0, d_c0, d_kernel, d_recurrent_kernel, d_bias)`` in Keras's layout
    (d_bias None without a bias, d_inputs None unless ``need_inputs``)."""
    xs, U4, gates, cells = saved["xs"], saved["U4"], saved["gates"], saved["cells"]
    tanh_cells, h0, c0, skip = saved["tanh_cells"], saved["h0"], saved["c0"], saved["skip"]
    xp = array_module(xs)
    T, B, _ = xs.shape
    u = h0.shape[1]
    dt = gates.dtype
    dz_all = _empty(xp, gates.shape, dt)
    dh = xp.zeros((B, u), dtype=dt) if d_h_last is None else d_h_last.astype(dt, copy=True)
    dc = xp.zeros((B, u), dtype=dt) if d_c_last is None else d_c_last.astype(dt, copy=True)
    dys = None if d_outputs is None else d_outputs.swapaxes(0, 1)   # (T, B, u) view
    U4T = xp.ascontiguousarray(U4.swapaxes(1, 2))   # a transposed stack is slow in matmul
    dc_total, dh_prev, tmp = [xp.empty((B, u), dtype=dt) for _ in range(3)]
    sig = xp.empty((3, B, u), dtype=dt)
    rec = xp.empty((4, B, u), dtype=dt)
    for t in range(T - 1, -1, -1):
        if dys is not None:
            dh += dys[t]
        z, dz, tc = gates[t], dz_all[t], tanh_cells[t]
        i, f, o, g = z
        c_prev = cells[t - 1] if t else c0
        xp.multiply(dh, tc, out=dz[2])                 # dL/do = dh·tanh(c)
        xp.multiply(tc, tc, out=tmp)                   # dc += dh·o·(1 - tanh²(c))
        xp.subtract(1.0, tmp, out=tmp)
        tmp *= o
        tmp *= dh
        xp.add(dc, tmp, out=dc_total)
        xp.multiply(dc_total, g, out=dz[0])            # dL/di = dc·c̃
        xp.multiply(dc_total, c_prev, out=dz[1])       # dL/df = dc·c_prev
        xp.multiply(dc_total, i, out=dz[3])            # dL/dc̃ = dc·i
        xp.subtract(1.0, z[:3], out=sig)               # through σ: ·σ(1 - σ)
        sig *= z[:3]
        dz[:3] *= sig
        xp.multiply(g, g, out=tmp)                     # through tanh: ·(1 - c̃²)
        xp.subtract(1.0, tmp, out=tmp)
        dz[3] *= tmp
        dc_total *= f                                  # dc_prev = dc·f
        if skip is not None:                           # a skipped step passes dh, dc through
            xp.copyto(dz, 0.0, where=skip[t])
            xp.copyto(dc_total, dc, where=skip[t])
        xp.matmul(dz, U4T, out=rec)                    # dh_prev = Σ_gates dz Uᵀ
        _sum_gates(xp, rec, dh_prev)
        if skip is not None:
            xp.copyto(dh_prev, dh, where=skip[t])
        dh, dh_prev = dh_prev, dh
        dc, dc_total = dc_total, dc
    d_inputs, d_kernel, d_recurrent, d_bias = _lstm_weight_gradients(xp, saved, dz_all,
                                                                    need_inputs)
    return d_inputs, dh, dc, d_kernel, d_recurrent, d_bias


def _lstm_weight_gradients(xp, saved, dz_all, need_inputs):
    """What comes after the backward loop (the CUDA twin shares it): from the gate gradients
    of every step, dz_all (T, 4, B, u), the big GEMMs. Returns ``(d_inputs, d_kernel,
    d_recurrent_kernel, d_bias)`` and hands dz_all back for reuse."""
    xs, W4, hs, h0 = saved["xs"], saved["W4"], saved["hs"], saved["h0"]
    T, B, D = xs.shape
    u = h0.shape[1]
    flat, buffer = _keras_layout(xp, dz_all, _LSTM_ORDER)      # (T*B, 4u), Keras's columns
    d_kernel = xp.matmul(xs.reshape(T * B, D).T, flat)
    d_recurrent = _from_previous_states(xp, h0, hs, flat)
    d_bias = flat.sum(axis=0) if saved["has_bias"] else None
    d_inputs = None
    if need_inputs:   # dx_t = dz_t Wᵀ, with the Keras-layout kernel rebuilt from W4
        kernel = W4[_LSTM_ORDER].swapaxes(0, 1).reshape(D, 4 * u)
        d_inputs = xp.ascontiguousarray(xp.matmul(flat, kernel.T).reshape(T, B, D)
                                        .swapaxes(0, 1))
    _give_back(dz_all, buffer)
    return d_inputs, d_kernel, d_recurrent, d_bias


# ------------------------------------------------------------------------------------- GRU
def _gru_projection(xp, x, kernel, recurrent_kernel, bias, reset_after):
    """What comes before the loop (the CUDA twin shares it): the weights gate-major, (3, D, u)
    and (3, u, u), x time-major, the gate buffer (T, 3, B, u) holding x_t W + b_in, and the
    recurrent bias (3, 1, u) (None unless ``reset_after`` with a bias)."""
    B, T, D = x.shape
    u = recurrent_kernel.shape[0]
    W3 = _gate_major(xp, kernel, 3)                             # (3, D, u)
    U3 = _gate_major(xp, recurrent_kernel, 3)                   # (3, u, u)
    xs = _time_major(xp, x)
    gates = _empty(xp, (T, 3, B, u), kernel.dtype)
    xp.matmul(xs[:, None], W3[None], out=gates)
    rec_bias = None
    if bias is not None:
        gates += (bias[0] if reset_after else bias).reshape(3, 1, u)
        rec_bias = bias[1].reshape(3, 1, u) if reset_after else None
    return xs, W3, U3, gates, rec_bias


def gru_sequence_forward(x, h0, kernel, recurrent_kernel, bias=None, mask=None,
                         reset_after=True):
    """GRU over a whole sequence. x (B, T, D), h0 (B, u), kernel (D, 3u), recurrent_kernel
    (u, 3u), gates in Keras's order z, r, h; bias (2, 3u) (input row, recurrent row) when
    ``reset_after``, else (3u,), or None; mask (B, T) or None. Returns
    ``(outputs (B, T, u), h_last, saved)``."""
    xp = array_module(x)
    B, T, D = x.shape
    u = h0.shape[1]
    dt = kernel.dtype
    xs, W3, U3, gates, rec_bias = _gru_projection(xp, x, kernel, recurrent_kernel, bias,
                                                  reset_after)
    skip = _skipped(xp, mask)
    hs = _empty(xp, (T, B, u), dt)
    # reset_after: h U_h + rb_h of every step (the reset gate multiplies it);
    # otherwise r ⊙ h_prev of every step (the recurrent kernel's h block multiplies it).
    kept = _empty(xp, (T, B, u), dt)
    rec = xp.empty((3 if reset_after else 2, B, u), dtype=dt)
    tmp = xp.empty((B, u), dtype=dt)
    h = h0
    for t in range(T):
        a = gates[t]
        if reset_after:
            xp.matmul(h, U3, out=rec)
            if rec_bias is not None:
                rec += rec_bias
            a[:2] += rec[:2]
            sigmoid(a[:2], out=a[:2])                  # z, r
            kept[t] = rec[2]
            xp.multiply(a[1], kept[t], out=tmp)        # r ⊙ (h U_h + rb_h)
        else:
            xp.matmul(h, U3[:2], out=rec)
            a[:2] += rec
            sigmoid(a[:2], out=a[:2])
            xp.multiply(a[1], h, out=kept[t])          # (r ⊙ h) U_h
            xp.matmul(kept[t], U3[2], out=tmp)
        a[2] += tmp
        z, hh = a[0], a[2]
        xp.tanh(hh, out=hh)
        xp.subtract(h, hh, out=hs[t])                  # h = z·h_prev + (1-z)·h̃
        hs[t] *= z                                     #   = h̃ + z·(h_prev - h̃)
        hs[t] += hh
        if skip is not None:
            xp.copyto(hs[t], h, where=skip[t])
        h = hs[t]
    saved = dict(xs=xs, W3=W3, U3=U3, gates=gates, kept=kept, hs=hs, h0=h0, skip=skip,
                 has_bias=bias is not None, reset_after=reset_after)
    return xp.array(hs.swapaxes(0, 1), order="C"), hs[-1].copy(), saved  # a copy (see LSTM)


def gru_sequence_backward(saved, d_outputs=None, d_h_last=None, need_inputs=True):
    """Backpropagation through time for :func:`gru_sequence_forward`. Returns
    ``(d_inputs, d_h0, d_kernel, d_recurrent_kernel, d_bias)`` in Keras's layout (d_bias
    None without a bias, d_inputs None unless ``need_inputs``)."""
    xs, U3, gates, kept = saved["xs"], saved["U3"], saved["gates"], saved["kept"]
    hs, h0, skip, reset_after = saved["hs"], saved["h0"], saved["skip"], saved["reset_after"]
    xp = array_module(xs)
    T, B, _ = xs.shape
    u = h0.shape[1]
    dt = gates.dtype
    da_all = _empty(xp, gates.shape, dt)   # gradients of the input-side pre-activations
    if reset_after:
        dm_all = _empty(xp, gates.shape, dt)   # ... and of m = h U + rb (they differ in h's)
        rec = xp.empty((3, B, u), dtype=dt)
    else:
        d_rh = xp.empty((B, u), dtype=dt)
        rec = xp.empty((2, B, u), dtype=dt)
    U3T = xp.ascontiguousarray(U3.swapaxes(1, 2))
    dh = xp.zeros((B, u), dtype=dt) if d_h_last is None else d_h_last.astype(dt, copy=True)
    dys = None if d_outputs is None else d_outputs.swapaxes(0, 1)
    dh_prev, tmp = xp.empty((B, u), dtype=dt), xp.empty((B, u), dtype=dt)
    sig = xp.empty((2, B, u), dtype=dt)
    for t in range(T - 1, -1, -1):
        if dys is not None:
            dh += dys[t]
        a, da = gates[t], da_all[t]
        z, r, hh = a
        h_prev = hs[t - 1] if t else h0
        xp.subtract(h_prev, hh, out=da[0])             # dL/dz = dh·(h_prev - h̃)
        da[0] *= dh
        xp.subtract(1.0, z, out=da[2])                 # dL/dâ_h = dh·(1-z)·(1 - h̃²)
        da[2] *= dh
        xp.multiply(hh, hh, out=tmp)
        xp.subtract(1.0, tmp, out=tmp)
        da[2] *= tmp
        if reset_after:                                # dL/dr = dâ_h·(h U_h + rb_h)
            xp.multiply(da[2], kept[t], out=da[1])
        else:                                          # dL/dr = (dâ_h U_hᵀ)·h_prev
            xp.matmul(da[2], U3T[2], out=d_rh)
            xp.multiply(d_rh, h_prev, out=da[1])
        xp.subtract(1.0, a[:2], out=sig)               # through σ: ·σ(1 - σ)
        sig *= a[:2]
        da[:2] *= sig
        if skip is not None:
            xp.copyto(da, 0.0, where=skip[t])
        if reset_after:                                # dh_prev = dh·z + Σ_gates dm Uᵀ
            dm = dm_all[t]
            dm[:2] = da[:2]
            xp.multiply(da[2], r, out=dm[2])
            xp.matmul(dm, U3T, out=rec)
            _sum_gates(xp, rec, dh_prev)
        else:                                          # ... + (dz, dr) U_{z,r}ᵀ + d(r·h)·r
            xp.matmul(da[:2], U3T[:2], out=rec)
            _sum_gates(xp, rec, dh_prev)
            d_rh *= r
            dh_prev += d_rh
        xp.multiply(dh, z, out=tmp)
        dh_prev += tmp
        if skip is not None:
            xp.copyto(dh_prev, dh, where=skip[t])
        dh, dh_prev = dh_prev, dh
    d_inputs, d_kernel, d_recurrent, d_bias = _gru_weight_gradients(
        xp, saved, da_all, dm_all if reset_after else None, need_inputs)
    return d_inputs, dh, d_kernel, d_recurrent, d_bias


def _gru_weight_gradients(xp, saved, da_all, dm_all, need_inputs):
    """What comes after the backward loop (the CUDA twin shares it): from the gradients of
    the input-side pre-activations da_all (T, 3, B, u) and, with ``reset_after``, of
    m = h U + rb, dm_all, the big GEMMs. Returns ``(d_inputs, d_kernel,
    d_recurrent_kernel, d_bias)`` and hands the step buffers back for reuse."""
    xs, W3, kept, hs, h0 = saved["xs"], saved["W3"], saved["kept"], saved["hs"], saved["h0"]
    T, B, D = xs.shape
    u = h0.shape[1]
    flat, buffer = _keras_layout(xp, da_all)                   # (T*B, 3u), Keras's columns
    d_kernel = xp.matmul(xs.reshape(T * B, D).T, flat)
    if saved["reset_after"]:
        flat_m, buffer_m = _keras_layout(xp, dm_all)
        d_recurrent = _from_previous_states(xp, h0, hs, flat_m)
        d_bias = xp.stack([flat.sum(axis=0), flat_m.sum(axis=0)])
        _give_back(dm_all, buffer_m)
    else:
        d_recurrent = xp.concatenate(
            [_from_previous_states(xp, h0, hs, flat[:, :2 * u]),
             xp.matmul(kept.reshape(T * B, u).T, flat[:, 2 * u:])], axis=1)
        d_bias = flat.sum(axis=0)
    if not saved["has_bias"]:
        d_bias = None
    d_inputs = None
    if need_inputs:
        kernel = W3.swapaxes(0, 1).reshape(D, 3 * u)
        d_inputs = xp.ascontiguousarray(xp.matmul(flat, kernel.T).reshape(T, B, D)
                                        .swapaxes(0, 1))
    _give_back(da_all, buffer)
    return d_inputs, d_kernel, d_recurrent, d_bias
