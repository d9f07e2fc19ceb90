"""Convolution ops beyond the registry cases: the kernels (im2col/col2im adjoint, the
one-channel build, batch chunking), errors with their messages, data formats, float32, and
the forward's cols freed once the backward walk is past."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minikeras import ops
from minikeras.autograd import GradientTape
from minikeras.kernels.cpu import conv as kconv
from minikeras.ops.convolution import conv_nd
from minikeras.tensor import Tensor
from minikeras.utils import check_gradients

from cases.conv_cases import conv_ref, conv_transpose_ref, depthwise_ref


def rand(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@st.composite
def kernel_geometry(draw):
    ksize = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    strides = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    pads = tuple((draw(st.integers(0, 2)), draw(st.integers(-1, 2))) for _ in range(2))
    sizes = tuple(draw(st.integers((k - 1) * d + 2, 6)) for k, d in zip(ksize, dilation))
    return ksize, strides, dilation, pads, sizes


@given(geo=kernel_geometry(), c=st.integers(1, 3), groups=st.integers(1, 2),
       seed=st.integers(0, 99))
def test_col2im_is_the_adjoint_of_im2col(geo, c, groups, seed):
    """<im2col(x), r> == <x, col2im(r)> for every x and r: col2im adds each row back onto
    exactly the positions im2col read it from (negative after-pads crop)."""
    ksize, strides, dilation, pads, sizes = geo
    x = rand((2,) + sizes + (c * groups,), seed)
    cols = kconv.im2col(x, ksize, strides, dilation, pads, groups)
    r = rand(cols.shape, seed + 1)
    back = kconv.col2im(r, x.shape, ksize, strides, dilation, pads, groups)
    assert back.shape == x.shape
    np.testing.assert_allclose(np.sum(cols * r), np.sum(x * back), rtol=1e-10)


@given(geo=kernel_geometry(), c=st.integers(1, 3), groups=st.integers(1, 2),
       o=st.integers(1, 3), seed=st.integers(0, 99))
def test_input_grad_by_offset_equals_col2im_of_the_patch_gradients(geo, c, groups, o, seed):
    """The training form of dL/dx (one product per kernel offset) against the textbook
    col2im(g @ Wᵀ), and both against the adjoint identity <conv(x), g> = <x, dL/dx>."""
    ksize, strides, dilation, pads, sizes = geo
    x = rand((2,) + sizes + (c * groups,), seed)
    w = rand(ksize + (c, o * groups), seed + 1)
    y, _ = kconv.conv_forward(x, w, strides, dilation, pads, groups)
    g = rand(y.shape, seed + 2)
    plain = kconv.conv_input_grad(g, w, x.shape, strides, dilation, pads, groups)
    by_offset = kconv.conv_input_grad_by_offset(g, w, x.shape, strides, dilation, pads, groups)
    np.testing.assert_allclose(by_offset, plain, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.sum(y * g), np.sum(x * plain), rtol=1e-10)


@given(geo=kernel_geometry(), seed=st.integers(0, 99))
def test_one_channel_im2col_matches_the_strided_build(geo, seed):
    ksize, strides, dilation, pads, sizes = geo
    x = rand((2,) + sizes + (1,), seed)
    fast = kconv.im2col(x, ksize, strides, dilation, pads)          # kh·kw slice copies
    wide = kconv.im2col(np.concatenate([x, x], axis=-1), ksize, strides, dilation, pads)
    np.testing.assert_array_equal(fast, wide[:, 0::2])             # strided view, one copy


def test_batch_chunking_gives_the_same_results(monkeypatch):
    x, w = rand((5, 6, 6, 2)), rand((3, 3, 2, 4))
    g = rand((5, 6, 6, 4), 3)
    args = ((1, 1), (1, 1), ((1, 1), (1, 1)))
    y_whole, cols = kconv.conv_forward(x, w, *args)
    dx_whole = kconv.conv_input_grad(g, w, x.shape, *args)
    dw_whole = kconv.conv_kernel_grad(x, g, w.shape, *args, cols=cols)
    monkeypatch.setattr(kconv, "COLS_BUDGET", 2 * 36 * 18 * 8)  # two samples per chunk
    y_chunked, kept = kconv.conv_forward(x, w, *args)
    assert kept is None  # too large to keep: rebuilt for the kernel gradient
    np.testing.assert_allclose(y_chunked, y_whole, rtol=1e-12)
    np.testing.assert_allclose(kconv.conv_input_grad(g, w, x.shape, *args), dx_whole, rtol=1e-12)
    np.testing.assert_allclose(kconv.conv_kernel_grad(x, g, w.shape, *args), dw_whole,
                               rtol=1e-12)
    monkeypatch.setattr(kconv, "COLS_BUDGET", 1)  # one sample at a time
    report = check_gradients(lambda a, b: ops.conv(a, b, padding="same"), x[:3, :4, :4], w[:2])
    assert report.ok, str(report)


def test_float32_in_float32_out_with_bias():
    x = rand((2, 5, 5, 3)).astype("float32")
    w = rand((3, 3, 3, 4)).astype("float32")
    b = rand((4,)).astype("float32")
    xt = Tensor(x, requires_grad=True)
    wt, bt = Tensor(w, requires_grad=True), Tensor(b, requires_grad=True)
    with GradientTape() as tape:
        y = conv_nd(xt, wt, bt, padding="same")
        loss = ops.sum(y * y)
    grads = tape.gradient(loss, [xt, wt, bt])
    assert y.dtype == np.float32 and all(g.dtype == np.float32 for g in grads)
    np.testing.assert_allclose(y.numpy(), conv_ref(x, w, (1, 1), "same", (1, 1)) + b,
                               rtol=1e-4, atol=1e-4)


def test_cols_are_freed_after_the_backward_walk():
    x = Tensor(rand((2, 5, 5, 2)), requires_grad=True)
    w = Tensor(rand((3, 3, 2, 2)), requires_grad=True)
    y = ops.conv(x, w)
    node = y._node
    assert node.cols is not None
    ops.sum(y).backward()
    assert node.cols is None
    y2 = ops.conv(x, w)
    ops.sum(y2).backward(retain_graph=True)
    assert y2._node.cols is not None  # a retained graph keeps them for a second walk


@settings(max_examples=10)
@given(rank=st.integers(1, 2), seed=st.integers(0, 99), strides=st.integers(1, 2))
def test_channels_first_for_every_op(rank, seed, strides):
    sp = (4,) * rank
    x = rand((2,) + sp + (2,), seed)
    first = np.moveaxis(x, -1, 1)
    w = rand((2,) * rank + (2, 3), seed + 1)
    got = ops.conv(first, w, strides, "same", "channels_first").numpy()
    np.testing.assert_allclose(np.moveaxis(got, 1, -1),
                               conv_ref(x, w, (strides,) * rank, "same", (1,) * rank), atol=1e-12)
    wt = rand((2,) * rank + (3, 2), seed + 2)
    got = ops.conv_transpose(first, wt, strides, "same", data_format="channels_first").numpy()
    np.testing.assert_allclose(np.moveaxis(got, 1, -1),
                               conv_transpose_ref(x, wt, (strides,) * rank, "same", (1,) * rank),
                               atol=1e-12)
    wd = rand((2,) * rank + (2, 2), seed + 3)
    got = ops.depthwise_conv(first, wd, strides, "valid", "channels_first").numpy()
    np.testing.assert_allclose(np.moveaxis(got, 1, -1),
                               depthwise_ref(x, wd, (strides,) * rank, "valid", (1,) * rank),
                               atol=1e-12)


def test_conv_output_shapes():
    x = np.zeros((2, 7, 9, 4))
    assert ops.conv(x, np.zeros((3, 3, 4, 5))).shape == (2, 5, 7, 5)
    assert ops.conv(x, np.zeros((3, 3, 4, 5)), 2, "same").shape == (2, 4, 5, 5)
    assert ops.conv(x, np.zeros((3, 3, 2, 6)), dilation_rate=2).shape == (2, 3, 5, 6)  # 2 groups
    assert ops.conv_transpose(x, np.zeros((3, 3, 5, 4)), 2).shape == (2, 15, 19, 5)
    assert ops.conv_transpose(x, np.zeros((3, 3, 5, 4)), 2, "same").shape == (2, 14, 18, 5)
    assert ops.conv_transpose(x, np.zeros((3, 3, 5, 4)), 2, "same",
                              output_padding=0).shape == (2, 13, 17, 5)
    assert ops.depthwise_conv(x, np.zeros((2, 2, 4, 3))).shape == (2, 6, 8, 12)
    assert ops.separable_conv(x, np.zeros((2, 2, 4, 1)), np.zeros((1, 1, 4, 7))).shape == (
        2, 6, 8, 7)
    assert ops.conv(np.zeros((2, 7, 4)), np.zeros((3, 4, 2)), padding="causal").shape == (2, 7, 2)


def test_conv_errors():
    x = np.zeros((2, 5, 5, 3))
    with pytest.raises(ValueError, match=r"ops.conv: expected inputs of rank 3 .* or 4 .*got "
                                         r"shape \(2, 5\)"):
        ops.conv(np.zeros((2, 5)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"ops.conv: the kernel must have the rank of the inputs.*"
                                         r"kernel shape \(3, 3, 3\)"):
        ops.conv(x, np.zeros((3, 3, 3)))
    with pytest.raises(ValueError, match=r"The number of input channels must be evenly divisible "
                                         r"by kernel's in_channels. Received input channels 3 and "
                                         r"kernel in_channels 2."):
        ops.conv(x, np.zeros((3, 3, 2, 4)))
    with pytest.raises(ValueError, match=r"The number of filters must be evenly divisible by the "
                                         r"number of groups. Received: groups=3, filters=4."):
        ops.conv(x, np.zeros((3, 3, 1, 4)))
    with pytest.raises(ValueError, match=r"ops.conv: Computed output size would be negative.*"
                                         r"inputs shape=\(2, 5, 5, 3\).*kernel shape=\(6, 6, 3, "
                                         r"1\)"):
        ops.conv(x, np.zeros((6, 6, 3, 1)))
    with pytest.raises(ValueError, match=r"`padding` argument must be one of 'valid', 'same'\. "
                                         r"Received: padding=full"):
        ops.conv(x, np.zeros((3, 3, 3, 1)), padding="full")
    with pytest.raises(ValueError, match=r"ops.conv: The `data_format` argument must be one "
                                         r"of .*Received: data_format=NHWC"):
        ops.conv(x, np.zeros((3, 3, 3, 1)), data_format="NHWC")
    with pytest.raises(ValueError, match=r"ops.conv: The `strides` argument must be a tuple of "
                                         r"2 integers. Received strides=\(0, 1\), including "
                                         r"values \{0\} that do not satisfy `value > 0`"):
        ops.conv(x, np.zeros((3, 3, 3, 1)), strides=(0, 1))


def test_conv_transpose_and_depthwise_errors():
    x = np.zeros((2, 5, 5, 3))
    with pytest.raises(ValueError, match=r"ops.conv_transpose: The number of input channels must "
                                         r"match the kernel's input channels.*Received: input "
                                         r"channels=3, kernel input channels=2"):
        ops.conv_transpose(x, np.zeros((3, 3, 4, 2)), 1)
    with pytest.raises(ValueError, match=r"ops.conv_transpose: The `padding` argument must be one "
                                         r"of 'valid', 'same'. Received: padding=causal"):
        ops.conv_transpose(x, np.zeros((3, 3, 4, 3)), 1, padding="causal")
    with pytest.raises(ValueError, match=r"ops.conv_transpose: Computed output size would be "
                                         r"negative"):
        ops.conv_transpose(np.zeros((1, 1, 1)), np.zeros((2, 1, 1)), 1, "same", output_padding=0)
    with pytest.raises(ValueError, match=r"ops.depthwise_conv: the depthwise kernel must have "
                                         r"shape .*channels=3.*kernel shape \(3, 3, 2, 1\)"):
        ops.depthwise_conv(x, np.zeros((3, 3, 2, 1)))


def test_second_derivative_of_conv_transpose_with_output_padding():
    x, w = rand((1, 3, 2, 2)), rand((2, 3, 2, 2), 1)
    fn = lambda a, b: ops.conv_transpose(a, b, (2, 2), "same", output_padding=(1, 0))  # noqa: E731
    assert check_gradients(fn, x, w).ok
    assert check_gradients(fn, x, w, order=2, tolerance=1e-4).ok


def test_one_channel_conv_with_bias_folds_the_bias_into_the_matmul():
    """With one input channel the bias rides in the im2col matmul as a column of ones; the
    result and the gradients are those of the plain formula, and second derivatives (which
    go through ConvKernelGrad with the widened cols) still check."""
    from minikeras import layers
    from minikeras.utils import check_layer_gradients
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 5, 6, 1))
    layer = layers.Conv2D(3, 3, activation="relu", dtype="float64",
                          bias_initializer="random_normal")
    y = layer(x).numpy()
    w, b = layer.kernel.numpy(), layer.bias.numpy()
    ref = np.zeros((2, 3, 4, 3))
    for i in range(3):
        for j in range(4):
            ref[:, i, j] = np.tensordot(x[:, i:i + 3, j:j + 3, :], w, axes=3) + b
    np.testing.assert_allclose(y, np.maximum(ref, 0), rtol=1e-12, atol=1e-12)
    report = check_layer_gradients(layer, x)
    assert report.ok, str(report)
    with GradientTape() as tape:
        out = layer(x)
    g_b, = tape.gradient(out, [layer.bias])
    np.testing.assert_allclose(g_b.numpy(), (ref > 0).sum(axis=(0, 1, 2)), rtol=1e-12)
    linear = layers.Conv2D(2, 2, dtype="float64", bias_initializer="random_normal")
    linear(x)
    report = check_gradients(lambda t, k: ops.sum(ops.square(conv_nd(t, k, linear.bias))),
                             x, linear.kernel.numpy(), order=2)
    assert report.ok, str(report)
