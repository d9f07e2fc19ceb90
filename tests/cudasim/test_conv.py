"""The convolution kernels of the CUDA table (kernels/cuda/conv.py) against their CPU twins,
in Numba's simulator: im2col and col2im, then the convolutions built on them, then the ops.
Shapes stay tiny (one Python thread per CUDA thread), a few of them just over one block."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minikeras as mk
from minikeras import backend, debug, ops
from minikeras.kernels import cpu as cpu_kernels
from minikeras.kernels.cpu import conv as cpu_conv
from minikeras.kernels.cuda import conv as cuda_conv
from minikeras.kernels.cuda.launch import THREADS_PER_BLOCK

# (x shape, kernel size, strides, dilation, pads, groups)
CASES = [
    ((2, 5, 7, 3), (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1)), 1),    # odd sizes, "same" pads
    ((1, 7, 5, 2), (3, 2), (2, 2), (1, 1), ((0, 0), (0, 0)), 1),    # stride 2, valid
    ((2, 6, 5, 3), (2, 3), (2, 1), (1, 2), ((1, 0), (2, 1)), 1),    # dilation, uneven pads
    ((2, 4, 4, 4), (1, 1), (1, 1), (1, 1), ((0, 0), (0, 0)), 1),    # 1x1 kernel
    ((1, 5, 5, 2), (1, 1), (2, 2), (1, 1), ((0, 0), (0, 0)), 2),    # 1x1, stride 2, groups
    ((2, 5, 4, 4), (3, 3), (2, 1), (1, 1), ((1, 1), (1, 1)), 2),    # groups, padding
    ((1, 6, 6, 1), (3, 3), (2, 2), (1, 1), ((1, 0), (1, 0)), 1),    # one channel
    ((1, 7, 6, 2), (3, 3), (2, 2), (1, 1), ((2, -1), (2, -1)), 1),  # a cropping after-pad
    ((1, 1, 1, 1), (1, 1), (1, 1), (1, 1), ((0, 0), (0, 0)), 1),    # sizes of one
    ((1, 1, 5, 3), (1, 3), (1, 2), (1, 1), ((0, 0), (1, 1)), 1),    # a 1-D convolution
]
IDS = ["-".join(letter + "x".join(str(v) for v in values) for letter, values in
                zip("xksd", c[:4])) + f"-g{c[5]}" for c in CASES]


def _x(shape, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _w(x_shape, kernel_size, groups, filters=4, seed=1):
    return _x(tuple(kernel_size) + (x_shape[3] // groups, filters), seed=seed)


@pytest.mark.parametrize("shape,k,s,d,pads,groups", CASES, ids=IDS)
def test_im2col_and_col2im_match_their_cpu_twins(shape, k, s, d, pads, groups):
    x = _x(shape, np.float64)
    cols = cuda_conv.im2col(x, k, s, d, pads, groups)
    expected = cpu_conv.im2col(x, k, s, d, pads, groups)
    assert cols.shape == expected.shape and cols.dtype == x.dtype
    np.testing.assert_array_equal(cols, expected)         # copies: exactly the same numbers
    dcols = _x(cols.shape, np.float64, seed=2)
    dx = cuda_conv.col2im(dcols, shape, k, s, d, pads, groups)
    assert dx.shape == shape
    # the sums in the CPU's order: the same numbers to the last bit
    np.testing.assert_array_equal(dx, cpu_conv.col2im(dcols, shape, k, s, d, pads, groups))


def test_im2col_over_several_blocks_and_with_a_column_of_ones():
    x = _x((2, 5, 5, 1))
    cols = cuda_conv.im2col(x, (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1)), ones=True)
    assert cols.size > 3 * THREADS_PER_BLOCK
    np.testing.assert_array_equal(cols, cpu_conv.im2col(x, (3, 3), (1, 1), (1, 1),
                                                        ((1, 1), (1, 1)), ones=True))
    assert np.all(cols[:, -1] == 1)


def test_col2im_adds_in_float32_and_is_the_adjoint_of_im2col():
    shape, k, s, d, pads = (1, 5, 6, 2), (3, 3), (1, 2), (1, 1), ((1, 1), (1, 1))
    x = _x(shape)
    dcols = _x(cpu_conv.im2col(x, k, s, d, pads).shape, seed=3)
    dx = cuda_conv.col2im(dcols, shape, k, s, d, pads)
    assert dx.dtype == np.float32
    np.testing.assert_array_equal(dx, cpu_conv.col2im(dcols, shape, k, s, d, pads))
    # <im2col(x), c> = <x, col2im(c)>
    lhs = np.sum(cuda_conv.im2col(x, k, s, d, pads).astype(np.float64) * dcols)
    np.testing.assert_allclose(lhs, np.sum(x.astype(np.float64) * dx), rtol=1e-5)


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 2), h=st.integers(1, 6), w=st.integers(1, 6), c=st.integers(1, 3),
       kh=st.integers(1, 3), kw=st.integers(1, 3), sh=st.integers(1, 3), sw=st.integers(1, 3),
       dh=st.integers(1, 2), top=st.integers(0, 2), bottom=st.integers(0, 2))
def test_im2col_and_col2im_on_random_geometries(n, h, w, c, kh, kw, sh, sw, dh, top, bottom):
    pads = ((top, bottom), (bottom, top))
    if h + top + bottom < (kh - 1) * dh + 1 or w + top + bottom < kw:
        return                                     # no window fits
    x = _x((n, h, w, c))
    args = ((kh, kw), (sh, sw), (dh, 1), pads)
    cols = cuda_conv.im2col(x, *args)
    np.testing.assert_array_equal(cols, cpu_conv.im2col(x, *args))
    np.testing.assert_array_equal(cuda_conv.col2im(cols, x.shape, *args),
                                  cpu_conv.col2im(cols, x.shape, *args))


@pytest.mark.parametrize("dtype,rtol", [(np.float32, 1e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("shape,k,s,d,pads,groups", CASES, ids=IDS)
def test_convolutions_match_their_cpu_twins(shape, k, s, d, pads, groups, dtype, rtol):
    x, w = _x(shape, dtype), _w(shape, k, groups).astype(dtype)
    bias = _x((w.shape[3],), dtype, seed=4)
    y, cols = cuda_conv.conv_forward(x, w, s, d, pads, groups, bias=bias)
    y_cpu, cols_cpu = cpu_conv.conv_forward(x, w, s, d, pads, groups, bias=bias)
    np.testing.assert_allclose(y, y_cpu, rtol=rtol, atol=rtol)
    g = _x(y.shape, dtype, seed=5)
    for name in ("conv_input_grad", "conv_input_grad_by_offset"):
        dx = getattr(cuda_conv, name)(g, w, shape, s, d, pads, groups)
        assert dx.shape == shape, name
        np.testing.assert_allclose(dx, cpu_conv.conv_input_grad(g, w, shape, s, d, pads, groups),
                                   rtol=rtol, atol=rtol, err_msg=name)
    # the CPU's code with our im2col: for one input channel, cols has a column of ones too
    assert cols.shape == cols_cpu.shape
    ones = cols.ndim == 2 and cols.shape[1] == k[0] * k[1] * shape[3] + 1
    assert ones == (shape[3] == 1)
    dw_cpu = cpu_conv.conv_kernel_grad(x, g, w.shape, s, d, pads, groups)
    for given_cols in (cols, None):
        dw, db = cuda_conv.conv_kernel_grad(x, g, w.shape, s, d, pads, groups, cols=given_cols,
                                            with_bias=True)
        np.testing.assert_allclose(dw, dw_cpu, rtol=rtol, atol=rtol)
        if ones and given_cols is not None:    # the bias gradient comes with dW, as there
            np.testing.assert_allclose(db, g.reshape(-1, g.shape[-1]).sum(0), rtol=rtol,
                                       atol=rtol)
        else:
            assert db is None


def test_convolutions_a_chunk_of_samples_at_a_time(monkeypatch):
    shape, k, s, d, pads = (3, 4, 4, 2), (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1))
    x, w = _x(shape), _w(shape, k, 1)
    g = _x((3, 4, 4, 4), seed=5)
    whole = (cuda_conv.conv_forward(x, w, s, d, pads)[0],
             cuda_conv.conv_input_grad(g, w, shape, s, d, pads),
             cuda_conv.conv_kernel_grad(x, g, w.shape, s, d, pads))
    monkeypatch.setattr(cpu_conv, "COLS_BUDGET", 4 * 4 * 9 * 2 * 4)     # one sample's cols
    y, cols = cuda_conv.conv_forward(x, w, s, d, pads)
    assert cols is None
    chunked = (y, cuda_conv.conv_input_grad(g, w, shape, s, d, pads),
               cuda_conv.conv_kernel_grad(x, g, w.shape, s, d, pads))
    for a, b in zip(whole, chunked):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _on_cpu_table(fn):
    """fn() with the CPU kernel table in place of the CUDA one."""
    with pytest.MonkeyPatch.context() as m:
        m.setattr(backend, "kernels", cpu_kernels)
        return fn()


def _conv_and_grads(x, w, b, **kw):
    xt, wt, bt = (mk.Tensor(a, requires_grad=True) for a in (x, w, b))
    with mk.GradientTape() as tape:
        y = ops.relu(ops.conv(xt, wt, **kw) + bt) if b is not None else ops.conv(xt, wt, **kw)
        loss = ops.sum(y * y)
    grads = tape.gradient(loss, [xt, wt])
    return [y.numpy()] + [gr.numpy() for gr in grads]


@pytest.mark.parametrize("readable", [False, True], ids=["array-backward", "readable-backward"])
@pytest.mark.parametrize("kw", [dict(strides=2, padding="same"), dict(dilation_rate=2),
                                dict(strides=1, padding="valid")])
def test_conv_op_runs_our_kernels_and_matches_numpy(kw, readable):
    """The gradients of the walk's array form (conv_input_grad_by_offset) and of the
    readable rules (ConvInputGrad, ConvKernelGrad) both run our kernels."""
    x, w, b = _x((2, 5, 5, 2)), _w((2, 5, 5, 2), (3, 3), 1, filters=3), _x((3,), seed=7)
    with debug.trace() as t:
        if readable:
            with mk.autograd.readable_backward():
                got = _conv_and_grads(x, w, b, **kw)
        else:
            got = _conv_and_grads(x, w, b, **kw)
    launched = {e.name.split(":")[-1] for e in t.all_events() if e.kind == "cuda"}
    assert {"_im2col_kernel", "_col2im_kernel"} <= launched, launched
    # conv_forward is the CPU's code, run with our im2col and its kernel
    forward, = [e for e in t.all_events() if e.name == "kernels/cuda/conv.py:conv_forward"]
    inside = [e.name for e in forward.walk()]
    assert "kernels/cuda/conv.py:_im2col_kernel" in inside, inside
    assert "kernels/cpu/conv.py:im2col" not in inside, inside
    expected = _on_cpu_table(lambda: _conv_and_grads(x, w, b, **kw))
    for a, e in zip(got, expected):
        np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-5)


def test_conv1d_transpose_and_depthwise_ops_match_numpy():
    x1, w1 = _x((2, 7, 3)), _x((3, 3, 2), seed=1)
    x2, wt, wd = _x((1, 4, 5, 2)), _x((3, 3, 4, 2), seed=2), _x((2, 2, 2, 2), seed=3)

    def run():
        return [ops.conv(x1, w1, strides=2, padding="same").numpy(),
                ops.conv_transpose(x2, wt, strides=2, padding="same").numpy(),
                ops.depthwise_conv(x2, wd, padding="same").numpy()]
    for a, e in zip(run(), _on_cpu_table(run)):
        np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-5)
