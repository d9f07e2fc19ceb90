"""The fused softmax cross-entropy kernels (kernels/cuda/crossentropy.py) against their CPU
twins (kernels/cpu/crossentropy.py) under the simulator, and the loss that runs them."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minikeras as mk
from minikeras import backend, debug
from minikeras.kernels import cpu as cpu_kernels
from minikeras.kernels.cuda import crossentropy, reduction


def _inputs(rows, classes, seed, dtype=np.float32):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((rows, classes)) * 3).astype(dtype)
    labels = rng.integers(0, classes, rows).astype(np.int32)
    scale = rng.uniform(0.1, 2.0, rows).astype(dtype)
    return x, labels, scale


def _check(x, labels, scale, rtol=1e-5, atol=1e-6):
    losses, probs = backend.kernels.sparse_softmax_cross_entropy(x, labels)
    want_losses, want_probs = cpu_kernels.sparse_softmax_cross_entropy(x, labels)
    assert losses.dtype == want_losses.dtype and probs.dtype == want_probs.dtype
    np.testing.assert_allclose(losses, want_losses, rtol=rtol, atol=atol)
    np.testing.assert_allclose(probs, want_probs, rtol=rtol, atol=atol)
    grad = backend.kernels.sparse_softmax_cross_entropy_grad(probs, labels, scale)
    want = cpu_kernels.sparse_softmax_cross_entropy_grad(want_probs, labels, scale)
    np.testing.assert_allclose(grad, want, rtol=rtol, atol=atol)


def test_the_backend_runs_our_kernels():
    assert backend.kernels.sparse_softmax_cross_entropy is \
        crossentropy.sparse_softmax_cross_entropy
    assert backend.kernels.sparse_softmax_cross_entropy_grad is \
        crossentropy.sparse_softmax_cross_entropy_grad


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 6), st.integers(1, 12), st.integers(0, 2**32 - 1))
def test_matches_the_cpu_twin_on_random_rows(rows, classes, seed):
    _check(*_inputs(rows, classes, seed))


@pytest.mark.parametrize("rows,classes", [(1, 1), (1, 5), (4, 1)])
def test_a_single_row_and_a_single_class(rows, classes):
    _check(*_inputs(rows, classes, 1))


def test_more_classes_than_a_block_and_float64():
    _check(*_inputs(2, reduction.THREADS + 5, 2))
    _check(*_inputs(3, 7, 3, np.float64), rtol=1e-12, atol=1e-15)


def test_a_label_out_of_range_gives_nan_and_nothing_read_outside_the_row():
    x, labels, scale = _inputs(3, 4, 4)
    labels[1], labels[2] = 4, -1
    losses, probs = backend.kernels.sparse_softmax_cross_entropy(x, labels)
    assert np.isfinite(losses[0]) and np.isnan(losses[1:]).all()
    np.testing.assert_allclose(probs, cpu_kernels.softmax(x, 1), rtol=1e-5)
    grad = backend.kernels.sparse_softmax_cross_entropy_grad(probs, labels, scale)
    np.testing.assert_allclose(grad[1:], probs[1:] * scale[1:, None], rtol=1e-6)


def test_the_loss_gives_the_cpu_numbers_and_gradient():
    x, labels, _ = _inputs(4, 5, 5)
    logits = mk.Tensor(x, requires_grad=True)
    loss_fn = mk.losses.SparseCategoricalCrossentropy(from_logits=True)
    with debug.trace() as t:
        loss = loss_fn(labels, logits)
        loss.backward()
    assert [e.name for e in t.all_events() if e.kind == "cuda"] == [
        "kernels/cuda/crossentropy.py:_cross_entropy_rows_kernel",
        "kernels/cuda/reduction.py:_reduce_rows_kernel",           # the mean's sum
        "kernels/cuda/crossentropy.py:_cross_entropy_grad_kernel"]
    p = cpu_kernels.softmax(x, 1)
    want = -np.log(p[np.arange(4), labels]).mean()
    np.testing.assert_allclose(loss.numpy(), want, rtol=1e-5)
    onehot = np.eye(5, dtype=np.float32)[labels]
    np.testing.assert_allclose(logits.grad.numpy(), (p - onehot) / 4, rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="label 5 is out of range"):
        loss_fn(np.array([0, 1, 5, 2]), logits)
