"""A convnet, an LSTM and an attention model train on the cuda backend under the simulator
with the losses they have on NumPy: the same model, from the same weights, three training
steps with the CUDA kernel table, then three with the CPU's table (in this process both work
on NumPy arrays, so the kernel table is the only difference). Each test also checks that our
kernels, not array code, did the model's work."""
import importlib

import numpy as np
import pytest

import minikeras as mk
from minikeras import backend, layers
from minikeras.kernels import cpu as cpu_kernels
from minikeras.kernels import cuda as cuda_kernels


def _convnet():
    """(6, 6, 1) -> Conv2D(2, 3, relu) -> MaxPooling2D(2) -> BatchNormalization -> 3 logits."""
    return mk.Sequential([mk.Input((6, 6, 1)), layers.Conv2D(2, 3, activation="relu"),
                          layers.MaxPooling2D(2), layers.BatchNormalization(),
                          layers.Flatten(), layers.Dense(3)])


def _lstm():
    """(T=5, 3) -> LSTM(4) -> 3 logits."""
    return mk.Sequential([mk.Input((5, 3)), layers.LSTM(4), layers.Dense(3)])


def _attention():
    """(T=4, d=8) -> self-attention with 2 heads of key_dim 4 -> a gelu feed-forward (as in
    a transformer block) -> average over time -> 3 logits."""
    inputs = mk.Input((4, 8))
    attended = layers.MultiHeadAttention(num_heads=2, key_dim=4)(inputs, inputs)
    hidden = layers.Dense(8, activation="gelu")(attended)
    outputs = layers.Dense(3)(layers.GlobalAveragePooling1D()(hidden))
    return mk.Model(inputs, outputs)


MODELS = {
    # name: (builder, input shape per sample, kernels that must have launched)
    "convnet": (_convnet, (6, 6, 1), {"_im2col_kernel", "_max_pool_kernel",
                                      "_max_pool_backward_kernel",
                                      "_standardize_forward_kernel",
                                      "_standardize_backward_kernel"}),
    "lstm": (_lstm, (5, 3), {"_lstm_forward_kernel", "_lstm_backward_kernel"}),
    "attention": (_attention, (4, 8), {"_gelu_erf_kernel", "_gelu_erf_grad_kernel"}),
}


def _three_steps(model, weights, x, y):
    model.set_weights(weights)
    model.compile(mk.optimizers.Adam(0.05),
                  mk.losses.SparseCategoricalCrossentropy(from_logits=True))
    return [float(model.train_on_batch(x, y)) for _ in range(3)]


@pytest.mark.parametrize("name", list(MODELS))
def test_model_fits_with_the_losses_of_numpy(name, monkeypatch):
    build, shape, expected_kernels = MODELS[name]
    rng = np.random.default_rng(11)
    x = rng.standard_normal((4,) + shape).astype(np.float32)
    y = rng.integers(0, 3, size=4)
    model = build()
    weights = [w.copy() for w in model.get_weights()]

    launched = []

    def recording(real_launch):
        def recording_launch(kernel, *args, **kwargs):
            launched.append(kernel.py_func.__name__)
            return real_launch(kernel, *args, **kwargs)
        return recording_launch
    for family in cuda_kernels.FAMILIES:        # every kernel module launches through launch
        module = importlib.import_module(f"minikeras.kernels.cuda.{family}")
        monkeypatch.setattr(module, "launch", recording(module.launch))
    assert backend.kernels is cuda_kernels
    cuda_losses = _three_steps(model, weights, x, y)
    assert expected_kernels <= set(launched), expected_kernels - set(launched)
    assert any("adam" in k for k in launched), set(launched)      # the optimizer's kernel

    with monkeypatch.context() as m:
        m.setattr(backend, "kernels", cpu_kernels)
        numpy_losses = _three_steps(model, weights, x, y)
    # float32: the kernels sum in another order than NumPy (a block tree against pairwise
    # sums), and three Adam steps at 0.05 through batch norm carry that last-bit difference
    np.testing.assert_allclose(cuda_losses, numpy_losses, rtol=1e-3, atol=1e-5)
    assert numpy_losses[2] < numpy_losses[0]        # it trains
    assert all(np.isfinite(cuda_losses))
