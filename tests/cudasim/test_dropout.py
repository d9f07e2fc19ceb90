"""The dropout keep-mask kernel (kernels/cuda/dropout.py) gives the CPU's mask bit for bit,
in Numba's simulator, and ``random.dropout`` on the cuda backend runs it."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minikeras as mk
from minikeras import debug
from minikeras.kernels import cpu as cpu_kernels
from minikeras.kernels.cuda import dropout as cuda_dropout


@pytest.mark.parametrize("shape,keep,seed,step", [
    ((1,), 0.5, 0, 0),                  # a size of one
    ((7,), 0.9, 3, 1),                  # less than a block
    ((3, 5), 0.5, -4, 2**33 + 1),       # a negative seed, a step past 32 bits
    ((2, 1, 3), 0.2, 2**40 + 7, 12),
    ((300,), 0.7, 123, 4),              # more than one block of 128 threads
    ((0, 4), 0.5, 1, 1),                # empty
])
def test_the_kernel_gives_the_cpu_mask_bit_for_bit(shape, keep, seed, step):
    got = cuda_dropout.dropout_mask(shape, keep, seed, step)
    expected = cpu_kernels.dropout_mask(shape, keep, seed, step)
    assert got.dtype == bool and got.shape == shape
    np.testing.assert_array_equal(got, expected)


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 40), keep=st.floats(0.01, 0.99), seed=st.integers(-2**63, 2**64),
       step=st.integers(0, 2**64))
def test_any_seed_and_step_give_the_cpu_mask(n, keep, seed, step):
    np.testing.assert_array_equal(cuda_dropout.dropout_mask((n,), keep, seed, step),
                                  cpu_kernels.dropout_mask((n,), keep, seed, step))


def test_random_dropout_runs_the_kernel_and_masks_the_gradient():
    x = mk.Tensor(np.arange(1, 13, dtype=np.float32).reshape(3, 4), requires_grad=True)
    with debug.trace() as t:
        y = mk.random.dropout(x, 0.5, seed=mk.random.SeedGenerator(11))
    launched = [e.name.split(":")[-1] for e in t.all_events() if e.kind == "cuda"]
    assert launched == ["_dropout_mask_kernel"]
    kept = cpu_kernels.dropout_mask((3, 4), 0.5, 11, 0)
    np.testing.assert_array_equal(y.numpy(), np.where(kept, x.numpy() * 2, 0))
    mk.ops.sum(y).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.where(kept, 2.0, 0.0))


def test_the_dropout_layer_masks_whole_channels_with_noise_shape():
    layer = mk.layers.Dropout(0.5, noise_shape=(2, 1, 3), seed=8)
    y = layer(np.ones((2, 4, 3), np.float32), training=True).numpy()
    kept = cpu_kernels.dropout_mask((2, 1, 3), 0.5, 8, 0)
    np.testing.assert_array_equal(y, np.broadcast_to(np.where(kept, 2.0, 0.0), (2, 4, 3)))
