"""The CUDA kernel table says, entry by entry, what runs on the device: one of our Numba
CUDA kernels (``CUDA_KERNELS``) or the CPU's array code reused there (``ARRAY_CODE``)."""
from minikeras import backend
from minikeras.kernels import cpu as cpu_kernels
from minikeras.kernels import cuda as cuda_kernels


def test_backend_picked_the_cuda_table():
    assert backend.kernels is cuda_kernels


def test_cuda_kernels_are_ours():
    for name in cuda_kernels.CUDA_KERNELS:
        fn = getattr(cuda_kernels, name)
        assert fn.__module__.startswith("minikeras.kernels.cuda."), (name, fn.__module__)
        assert fn is not getattr(cpu_kernels, name, None), name


def test_array_code_is_the_cpu_function_itself():
    for name in cuda_kernels.ARRAY_CODE:
        assert getattr(cuda_kernels, name) is getattr(cpu_kernels, name), name


def test_both_tables_have_the_same_names():
    names = cuda_kernels.CUDA_KERNELS + cuda_kernels.ARRAY_CODE
    assert len(names) == len(set(names))
    # adam_update: on the CPU Adam runs its NumPy formula (optim/rules.py).
    assert set(names) - set(cpu_kernels.__all__) == {"adam_update"}
    assert set(cpu_kernels.__all__) <= set(names)
