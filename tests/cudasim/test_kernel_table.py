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


def test_a_launch_past_the_hardware_limits_is_refused_before_it_runs():
    import pytest
    from minikeras.kernels.cuda import activations
    from minikeras.kernels.cuda.launch import LaunchError, check_launch, launch
    with pytest.raises(LaunchError, match=r"_relu_kernel: block dimension x is 2048, more than "
                                          r"the 1024 a GPU allows"):
        launch(activations._relu_kernel, 1, 2048, None, None)
    with pytest.raises(LaunchError, match=r"a block of \(64, 32\) has 2048 threads; a GPU runs "
                                          r"at most 1024 threads per block"):
        check_launch("k", 1, (64, 32))
    with pytest.raises(LaunchError, match=r"block dimension z is 65, more than the 64"):
        check_launch("k", 1, (1, 1, 65))
    with pytest.raises(LaunchError, match=r"grid dimension y is 70000, more than the 65535"):
        check_launch("k", (1, 70000), 32)
    with pytest.raises(LaunchError, match=r"49153 bytes of shared memory per block; a GPU "
                                          r"gives a block at most 49152 bytes"):
        check_launch("k", 1, 32, shared_bytes=48 * 1024 + 1)
    with pytest.raises(LaunchError, match="every block dimension is a positive int"):
        check_launch("k", 1, 0)
    assert check_launch("k", (4, 2), (16, 16), shared_bytes=2 * 16 * 16 * 4) == ((4, 2), (16, 16))
