"""debug.trace() on the cuda backend (here in Numba's simulator): the CUDA kernels that ran,
with the grid and block their launchers chose."""
import numpy as np

import minikeras as keras
from minikeras import backend, debug, ops
from minikeras.kernels.cuda import activations, updates
from minikeras.kernels.cuda.launch import grid_1d


def _launches(t):
    return [e for e in t.all_events() if e.kind == "cuda"]


def test_the_trace_names_each_cuda_kernel_with_its_grid_and_block():
    n = 300                                     # more than one block, not a whole number of them
    w = keras.Variable(np.linspace(-1, 1, n, dtype="float32"))
    optimizer = keras.optimizers.Adam(0.01)
    kernels_before = (activations._relu_kernel, updates._adam_kernel)
    with debug.trace() as t:
        with keras.GradientTape() as tape:
            loss = ops.sum(ops.relu(w))
        grad, = tape.gradient(loss, [w])
        optimizer.apply_gradients([(grad, w)])
    assert (activations._relu_kernel, updates._adam_kernel) == kernels_before
    blocks, threads = grid_1d(n)
    launches = _launches(t)
    assert [e.name for e in launches] == ["kernels/cuda/activations.py:_relu_kernel",
                                          "kernels/cuda/reduction.py:_reduce_rows_kernel",
                                          "kernels/cuda/activations.py:_relu_grad_kernel",
                                          "kernels/cuda/updates.py:_adam_kernel"]
    total = launches.pop(1)             # the sum: one block for the one row of 300
    assert total.args["grid"] == (1, 1) and total.args["block"] == (128,)
    for e in launches:
        assert e.args["grid"] == (blocks,) and e.args["block"] == (threads,)
        assert str(e.args["inputs"]).startswith(f"({n},)")
    relu, = [e for e in t.all_events() if e.kind == "forward" and e.name == "Relu"]
    launcher, = relu.children
    assert launcher.name == "kernels/cuda/activations.py:relu"
    assert launcher.children == [launches[0]]
    update, = [e for e in t.all_events() if e.kind == "optimizer"]
    assert launches[2] in list(update.walk())
    assert f"[grid ({blocks},), block ({threads},)]" in str(t)
    assert backend.mode == "cudasim"
