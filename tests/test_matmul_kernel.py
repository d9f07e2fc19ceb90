"""The kernel table's ``matmul`` on the CPU, and the setting that picks the GPU's product.

The CPU twin is NumPy's matmul; it is checked here against sums of products written out
with einsum, on the shapes the ops give it. The CUDA kernel is tested in the simulator
(tests/cudasim/test_matmul.py)."""
import numpy as np
import pytest

import minikeras as mk
from minikeras import backend, ops
from minikeras.kernels import cpu as cpu_kernels


def _reference(a, b):
    """a @ b as explicit sums over k, the batch axes broadcast by einsum's ellipsis."""
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    out = np.einsum("...ik,...kj->...ij", a2, b2)
    if a.ndim == 1:
        out = out[..., 0, :]
    if b.ndim == 1:
        out = out[..., 0]
    return out


@pytest.mark.parametrize("shape_a,shape_b", [
    ((1, 1), (1, 1)), ((3, 5), (5, 4)), ((17, 3), (3, 18)), ((2, 3, 4), (2, 4, 5)),
    ((2, 3, 4), (4, 2)), ((3, 4), (2, 4, 1)), ((2, 1, 2, 3), (3, 3, 2)), ((4,), (4, 3)),
    ((2, 3, 4), (4,)), ((3,), (3,)),
])
def test_cpu_matmul_is_the_sum_of_products(shape_a, shape_b):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape_a).astype(np.float32)
    b = rng.standard_normal(shape_b).astype(np.float32)
    out = cpu_kernels.matmul(a, b)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, _reference(a, b), rtol=1e-5, atol=1e-5)


def test_matmul_op_calls_the_table():
    assert backend.kernels.matmul is cpu_kernels.matmul
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(ops.matmul(x, x.T).numpy(), x @ x.T)


def test_the_setting_is_accepted_on_the_cpu_and_changes_nothing():
    assert mk.config.matmul() == "cublas"
    x = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    try:
        mk.config.set_matmul("ours")
        assert mk.config.matmul() == "ours"
        ours = ops.matmul(x, x.T).numpy()
    finally:
        mk.config.set_matmul("cublas")
    np.testing.assert_array_equal(ours, ops.matmul(x, x.T).numpy())
    with pytest.raises(ValueError, match=r"set_matmul: unknown matmul 'fast'; expected 'cublas' "
                                         r"\(CuPy's matmul, i.e. cuBLAS: the default\) or 'ours'"):
        mk.config.set_matmul("fast")
    with pytest.raises(ValueError, match="unknown matmul None"):
        mk.config.set_matmul(None)
    assert mk.config.matmul() == "cublas"
