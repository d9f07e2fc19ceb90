"""The cuda backend inside Numba's CUDA simulator: the same dispatch code as on a GPU, the
kernels run as Python threads on NumPy arrays. Shapes stay tiny: each simulated thread costs
about a millisecond."""
import numpy as np
import pytest

import minikeras as mk
from minikeras import backend, ops
from minikeras.kernels import cpu as cpu_kernels


def test_backend_is_cuda_in_simulator_mode():
    assert mk.config.backend() == "cuda"
    assert backend.mode == "cudasim"
    assert backend.xp is np
    assert backend.kernels.__name__ == "minikeras.kernels.cuda"
    assert backend.kernels.relu.__module__ == "minikeras.kernels.cuda.activations"


@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 1, 4)])
def test_relu_kernel_matches_cpu_twin(shape):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    np.testing.assert_array_equal(backend.kernels.relu(x), cpu_kernels.relu(x))


@pytest.mark.parametrize("shape", [(1,), (7,), (3, 5), (2, 1, 4)])
def test_relu_grad_kernel_matches_cpu_twin(shape):
    rng = np.random.default_rng(2)
    g = rng.standard_normal(shape).astype(np.float32)
    x = rng.standard_normal(shape).astype(np.float32)
    x.reshape(-1)[0] = 0.0      # the mask cuts at 0 itself
    np.testing.assert_array_equal(backend.kernels.relu_grad(g, x), cpu_kernels.relu_grad(g, x))
    np.testing.assert_array_equal(cpu_kernels.relu_grad(g, x), g * (x > 0))


@pytest.mark.parametrize("shape,axis", [((3, 5), -1), ((4, 3), 0), ((2, 3, 4), 1), ((1, 6), -1),
                                        ((2, 3, 4), (0, 2)), ((2, 3, 4), (1, 2))])
def test_softmax_kernel_matches_cpu_twin(shape, axis):
    x = (np.random.default_rng(1).standard_normal(shape) * 5).astype(np.float32)
    np.testing.assert_allclose(backend.kernels.softmax(x, axis), cpu_kernels.softmax(x, axis),
                               rtol=1e-5, atol=1e-7)


def test_softmax_kernel_is_stable_for_large_logits():
    x = np.array([[1000.0, 1001.0, 999.0]], dtype=np.float32)
    out = backend.kernels.softmax(x, -1)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out.sum(), 1.0, rtol=1e-6)


def test_ops_run_their_kernels_and_differentiate():
    x = mk.Tensor(np.array([[-1.0, 2.0, 0.5], [3.0, -0.5, 1.0]], np.float32), requires_grad=True)
    y = ops.softmax(ops.relu(x), axis=-1)
    ref = cpu_kernels.softmax(np.maximum(x.numpy(), 0), -1)
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-5)
    ops.sum(y * mk.Tensor(np.array([1.0, 0.0, 0.0], np.float32))).backward()
    assert x.grad is not None and x.grad.shape == (2, 3)
    assert x.grad.numpy()[0, 0] == 0.0  # relu cut the negative input


def test_small_training_step_through_the_cuda_backend():
    rng = np.random.default_rng(2)
    x = mk.Tensor(rng.standard_normal((4, 8)).astype(np.float32))
    w = mk.Variable(rng.standard_normal((8, 3)).astype(np.float32) * 0.1)
    labels = np.array([0, 2, 1, 2])
    with mk.GradientTape() as tape:
        probs = ops.softmax(ops.relu(x @ w))
        loss = -ops.mean(ops.log(ops.take_along_axis(probs, mk.Tensor(labels[:, None]), axis=1)))
    (g,) = tape.gradient(loss, [w])
    before = loss.item()
    w.assign_sub(g * 0.5)
    with mk.no_grad():
        probs = ops.softmax(ops.relu(x @ w))
        after = -np.log(probs.numpy()[np.arange(4), labels]).mean()
    assert after < before


def test_keras_model_fits_through_the_cuda_backend():
    from minikeras import layers
    rng = np.random.default_rng(3)
    x = rng.standard_normal((8, 5)).astype(np.float32)
    y = rng.integers(0, 3, size=8)
    model = mk.Sequential([mk.Input((5,)), layers.Dense(4, activation="relu"),
                           layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    assert len(history.history["loss"]) == 2
    assert model.predict(x, verbose=0).shape == (8, 3)


@pytest.mark.parametrize("name,hp", [("SGD", {}), ("SGD", {"momentum": 0.9}),
                                     ("SGD", {"momentum": 0.9, "nesterov": True}),
                                     ("Adam", {}), ("Adam", {"amsgrad": True})])
def test_optimizer_kernels_match_their_cpu_twins(name, hp):
    """The update kernels of the CUDA table against the CPU (SGD's loop, Adam's NumPy
    formula), two steps on a tiny weight. SGD's kernels and loops call one rule of an
    element (kernels/cpu/updates.py), which the simulator runs as Python: the same bits.
    (The simulator computes math.sqrt in float64, so Adam may differ in the last bit from
    float32 hardware.)"""
    from minikeras import optim
    from minikeras.tensor import Tensor, Variable
    assert backend.kernels.sgd_update.__module__ == "minikeras.kernels.cuda.updates"
    assert backend.kernels.adam_update.__module__ == "minikeras.kernels.cuda.updates"
    rng = np.random.default_rng(5)
    w = rng.standard_normal((3, 4)).astype(np.float32)
    grads = [rng.standard_normal((3, 4)).astype(np.float32) for _ in range(2)]
    results = []
    for table in (backend.kernels, cpu_kernels):
        with pytest.MonkeyPatch.context() as m:
            m.setattr(backend, "kernels", table)
            m.setattr(optim.SGD, "LOOP_FROM_SIZE", 0)  # the kernel on this tiny weight too
            v = Variable(w.copy())
            opt = getattr(optim, name)(learning_rate=0.1, **hp)
            for g in grads:
                opt.apply([Tensor(g)], [v])
            results.append(v.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6, atol=1e-7)
    if name == "SGD":
        np.testing.assert_array_equal(results[0], results[1])
    assert not np.array_equal(results[0], w)


def test_adam_runs_its_cuda_kernel_as_its_fused_step():
    from minikeras import optim
    from minikeras.tensor import Tensor, Variable
    v = Variable(np.ones((2, 3), np.float32))
    opt = optim.Adam(learning_rate=0.1)
    opt.build([v])
    assert opt.fused_update_step(Tensor(np.ones((2, 3), np.float32)), v, 0.1) is True
    assert np.all(v.numpy() < 1.0)
