"""minikeras.losses: every loss class against the NumPy references of tests/cases/loss_cases.py
for each reduction, with and without sample weights; stability of the cross-entropies of
logits; label checks and their messages; get/config; numbers from Keras's documentation."""
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minikeras
from minikeras import GradientTape, losses, ops
from minikeras.tensor import Tensor
from minikeras.utils import check_gradients

from cases.loss_cases import SPECS, ref_bce, ref_cce, ref_scce

REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None]


def _ref_reduce(values, sample_weight, reduction):
    """Keras's reduction, in NumPy: align the ranks as Keras does ((batch,) losses with
    (batch, 1) weights become (batch, 1)), weight each sample (the leading axes), reduce."""
    weighted = values
    if sample_weight is not None:
        sw = sample_weight
        if sw.ndim == values.ndim + 1 and sw.shape[-1] == 1:
            if values.ndim == 1:
                values = values[:, None]
            else:
                sw = sw[..., 0]
        weighted = values * sw.reshape(sw.shape + (1,) * (values.ndim - sw.ndim))
    if reduction in (None, "none"):
        return weighted
    total = weighted.sum()
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        return total / sample_weight.sum()
    return total / weighted.size


def _draw_weights(d, batch):
    kind = d(st.sampled_from(["none", "vector", "column"]))
    if kind == "none":
        return None
    w = np.random.default_rng(d(st.integers(0, 2**32 - 1))).uniform(0.1, 2.0, size=batch)
    return w if kind == "vector" else w[:, None]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
@given(data=st.data())
def test_loss_class_matches_numpy(spec, reduction, data):
    y_true, y_pred = spec.draw(data.draw)
    sw = _draw_weights(data.draw, y_pred.shape[0])
    loss = spec.cls(reduction=reduction, dtype="float64", **spec.kwargs)
    got = loss(y_true, y_pred, sample_weight=sw)
    per_sample = spec.ref(y_true, y_pred)
    expected = _ref_reduce(per_sample, sw, reduction)
    assert got.dtype == np.float64 and got.shape == np.shape(expected)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
@given(data=st.data())
def test_loss_function_gives_one_value_per_sample(spec, data):
    y_true, y_pred = spec.draw(data.draw)
    got = spec.fn(Tensor(y_true), Tensor(y_pred), **spec.kwargs)
    assert got.shape == y_pred.shape[:-1]
    np.testing.assert_allclose(got.numpy(), spec.ref(y_true, y_pred), rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("spec", [s for s in SPECS if s.grad], ids=lambda s: s.name)
@given(data=st.data())
def test_weighted_loss_gradients(spec, data):
    y_true, y_pred = spec.draw(data.draw)
    sw = np.linspace(0.5, 1.5, y_pred.shape[0])
    loss = spec.cls(dtype="float64", **spec.kwargs)
    report = check_gradients(lambda p: loss(y_true, p, sample_weight=sw), y_pred)
    assert report.ok, str(report)


def test_default_dtype_is_floatx_as_in_keras():
    """A Loss converts its inputs to its dtype (floatx, float32) like Keras does."""
    y = np.ones((2, 3))
    out = losses.MeanSquaredError()(y, y * 0.5)
    assert out.dtype == np.float32
    assert losses.MeanSquaredError(dtype="float64")(y, y * 0.5).dtype == np.float64


# ----------------------------------------------------------------------------- Keras's numbers
def test_numbers_from_keras_documentation():
    y_true, y_pred = [1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]
    scce = losses.SparseCategoricalCrossentropy()
    assert scce(y_true, y_pred).item() == pytest.approx(1.177, abs=1e-3)
    assert scce(y_true, y_pred, sample_weight=np.array([0.3, 0.7])).item() == pytest.approx(
        0.814, abs=1e-3)
    assert losses.SparseCategoricalCrossentropy(reduction="sum")(y_true, y_pred).item() == \
        pytest.approx(2.354, abs=1e-3)
    none = losses.SparseCategoricalCrossentropy(reduction=None)(y_true, y_pred).numpy()
    np.testing.assert_allclose(none, [0.0513, 2.303], atol=1e-3)
    one_hot = np.eye(3)[y_true]
    assert losses.CategoricalCrossentropy()(one_hot, y_pred).item() == pytest.approx(1.177,
                                                                                     abs=1e-3)
    np.testing.assert_allclose(
        losses.binary_crossentropy([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]).numpy(),
        [0.916, 0.714], atol=1e-3)
    assert ops.mean(losses.huber([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])).item() == \
        pytest.approx(0.155, abs=1e-3)
    assert ops.mean(losses.log_cosh([[0., 1.], [0., 0.]], [[1., 1.], [0., 0.]])).item() == \
        pytest.approx(0.108, abs=1e-3)
    np.testing.assert_allclose(
        losses.cosine_similarity([[0., 1.], [1., 1.], [1., 1.]],
                                 [[1., 0.], [1., 1.], [-1., -1.]]).numpy(), [0, -1, 1], atol=1e-6)


def test_default_names_and_signatures():
    assert losses.MeanSquaredError().name == "mean_squared_error"
    assert losses.Huber().name == "huber_loss"
    assert losses.LogCosh().name == "log_cosh"
    assert losses.KLDivergence().name == "kl_divergence"
    assert losses.SparseCategoricalCrossentropy().name == "sparse_categorical_crossentropy"
    bce = losses.BinaryCrossentropy()
    assert (bce.from_logits, bce.label_smoothing, bce.axis, bce.reduction) == (
        False, 0.0, -1, "sum_over_batch_size")
    assert losses.SparseCategoricalCrossentropy().ignore_class is None
    assert losses.Huber().delta == 1.0


# ----------------------------------------------------------------------------- stability
@pytest.mark.parametrize("scale", [1000.0, -1000.0])
def test_logits_of_a_thousand_give_finite_losses_and_gradients(scale):
    logits = Tensor(np.array([[scale, -scale, 0.0], [-scale, scale, 0.5 * scale]]),
                    requires_grad=True)
    cases = [
        (losses.BinaryCrossentropy(from_logits=True, dtype="float64"),
         np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])),
        (losses.CategoricalCrossentropy(from_logits=True, dtype="float64"), np.eye(3)[[1, 2]]),
        (losses.SparseCategoricalCrossentropy(from_logits=True, dtype="float64"),
         np.array([1, 2])),
        (losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1, dtype="float64"),
         np.eye(3)[[0, 0]]),
    ]
    for loss, labels in cases:
        with GradientTape() as tape:
            value = loss(labels, logits)
        grad = tape.gradient(value, logits)
        assert np.isfinite(value.numpy()).all(), type(loss).__name__
        assert np.isfinite(grad.numpy()).all(), type(loss).__name__
    # the exact values: a wrong logit of size s costs about s
    bce = losses.binary_crossentropy(np.array([[0.0]]), np.array([[1000.0]]), from_logits=True)
    assert bce.item() == pytest.approx(1000.0)
    cce = losses.sparse_categorical_crossentropy(np.array([1]), np.array([[1000.0, -1000.0]]),
                                                 from_logits=True)
    assert cce.item() == pytest.approx(2000.0)


def test_float32_logits_of_a_thousand():
    logits = Tensor(np.array([[1000.0, -1000.0], [-1000.0, 1000.0]], np.float32),
                    requires_grad=True)
    with GradientTape() as tape:
        value = losses.SparseCategoricalCrossentropy(from_logits=True)([1, 1], logits)
    assert value.dtype == np.float32 and value.item() == pytest.approx(1000.0)
    grad = tape.gradient(value, logits).numpy()
    np.testing.assert_allclose(grad, [[0.5, -0.5], [0.0, 0.0]], atol=1e-6)


def test_clipped_probabilities_stay_finite():
    y_pred = Tensor(np.array([[0.0, 1.0], [1.0, 0.0]]), requires_grad=True)
    with GradientTape() as tape:
        value = losses.CategoricalCrossentropy(dtype="float64")(np.eye(2), y_pred) + \
            losses.BinaryCrossentropy(dtype="float64")(np.eye(2), y_pred)
    assert np.isfinite(value.numpy())
    assert value.item() == pytest.approx(-np.log(1e-7) * 2, rel=1e-6)
    assert np.isfinite(tape.gradient(value, y_pred).numpy()).all()


def test_cosine_similarity_of_a_zero_vector_is_zero_with_zero_gradient():
    y_pred = Tensor(np.zeros((1, 3)), requires_grad=True)
    with GradientTape() as tape:
        value = losses.CosineSimilarity(dtype="float64")(np.array([[1.0, 2.0, 3.0]]), y_pred)
    assert value.item() == 0.0
    assert np.isfinite(tape.gradient(value, y_pred).numpy()).all()


# ----------------------------------------------------------------------------- label checks
def test_one_hot_labels_given_to_the_sparse_loss():
    with pytest.raises(ValueError) as err:
        losses.SparseCategoricalCrossentropy()(np.eye(10)[np.arange(32) % 10],
                                               np.full((32, 10), 0.1))
    message = str(err.value)
    assert "SparseCategoricalCrossentropy expects integer class indices of shape (32,)" in message
    assert "got y_true of shape (32, 10), which looks one-hot: use CategoricalCrossentropy" \
        in message


@pytest.mark.parametrize("labels", [np.arange(32) % 10, (np.arange(32) % 10)[:, None]])
def test_integer_labels_given_to_categorical_crossentropy(labels):
    with pytest.raises(ValueError, match="looks like integer class indices: use "
                                         "SparseCategoricalCrossentropy"):
        losses.CategoricalCrossentropy()(labels, np.full((32, 10), 0.1))


@pytest.mark.parametrize("bad", [10, -1])
def test_labels_out_of_range(bad):
    labels = np.array([0, 3, bad])
    with pytest.raises(ValueError, match=rf"label {bad} is out of range for y_pred with 10 "
                                         r"classes .*0\.\.9"):
        losses.SparseCategoricalCrossentropy(from_logits=True)(labels, np.zeros((3, 10)))


def test_non_integer_sparse_labels():
    with pytest.raises(ValueError, match="non-integer values such as 0.5"):
        losses.sparse_categorical_crossentropy(np.array([0.5, 1.0]), np.full((2, 3), 1 / 3))


def test_sparse_labels_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"integer class indices of shape \(4,\) for y_pred of "
                                         r"shape \(4, 3\); got y_true of shape \(5,\)"):
        losses.SparseCategoricalCrossentropy()(np.zeros(5, int), np.full((4, 3), 1 / 3))


def test_sparse_labels_as_a_column_and_as_floats_work():
    p = np.array([[0.2, 0.8], [0.6, 0.4]])
    a = losses.SparseCategoricalCrossentropy(dtype="float64")(np.array([[1], [0]]), p).item()
    b = losses.SparseCategoricalCrossentropy(dtype="float64")(np.array([1.0, 0.0]), p).item()
    assert a == pytest.approx(b) == pytest.approx(-np.log([0.8, 0.6]).mean())


def test_binary_crossentropy_shape_mismatch():
    with pytest.raises(ValueError, match=r"y_true of shape \(4, 2\) and y_pred of shape \(4, 3\)"):
        losses.BinaryCrossentropy()(np.zeros((4, 2)), np.full((4, 3), 0.5))


def test_labels_of_shape_batch_against_predictions_batch_by_one():
    """(batch,) labels against (batch, 1) predictions are aligned, never broadcast to
    (batch, batch)."""
    y = np.array([0.0, 1.0, 2.0])
    p = np.array([[0.5], [1.0], [1.0]])
    got = losses.MeanSquaredError(reduction=None, dtype="float64")(y, p)
    np.testing.assert_allclose(got.numpy(), [0.25, 0.0, 1.0])


def test_categorical_crossentropy_with_one_class_warns():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        losses.categorical_crossentropy(np.ones((2, 1)), np.ones((2, 1)))
    assert any("binary_crossentropy" in str(w.message) for w in caught)


# ----------------------------------------------------------------------------- options
def test_ignore_class_leaves_entries_out_of_the_mean():
    labels = np.array([0, 2, -1, 1, -1])
    probs = np.random.default_rng(0).uniform(0.1, 1.0, size=(5, 3))
    loss = losses.SparseCategoricalCrossentropy(ignore_class=-1, dtype="float64")
    valid = labels != -1
    per = ref_scce(np.where(valid, labels, 0), probs)
    assert loss(labels, probs).item() == pytest.approx(per[valid].mean())
    sw = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert loss(labels, probs, sample_weight=sw).item() == pytest.approx(
        (per * sw * valid).sum() / valid.sum())
    none = losses.SparseCategoricalCrossentropy(ignore_class=-1, reduction=None,
                                                dtype="float64")(labels, probs).numpy()
    np.testing.assert_allclose(none, np.where(valid, per, 0.0))
    everything_ignored = loss(np.full(5, -1), probs)
    assert everything_ignored.item() == 0.0


def test_ignore_class_gradient_is_finite_and_zero_on_ignored_rows():
    labels = np.array([0, 255, 1])
    probs = Tensor(np.array([[0.5, 0.5], [0.0, 0.0], [0.3, 0.7]]), requires_grad=True)
    with GradientTape() as tape:
        value = losses.SparseCategoricalCrossentropy(ignore_class=255, dtype="float64")(
            labels, probs)
    grad = tape.gradient(value, probs).numpy()
    assert np.isfinite(grad).all() and (grad[1] == 0).all()


def test_class_axis_of_categorical_losses():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(2, 4, 3))                    # classes on axis 1
    labels = rng.integers(0, 4, size=(2, 3))
    hot = np.moveaxis(np.eye(4)[labels], -1, 1)
    cce = losses.CategoricalCrossentropy(from_logits=True, axis=1, reduction=None,
                                         dtype="float64")(hot, logits)
    np.testing.assert_allclose(cce.numpy(), ref_cce(hot, logits, from_logits=True, axis=1))
    scce = losses.sparse_categorical_crossentropy(labels, Tensor(logits), from_logits=True,
                                                  axis=1)
    np.testing.assert_allclose(scce.numpy(), cce.numpy())


def test_binary_crossentropy_reduces_over_axis():
    rng = np.random.default_rng(2)
    t, p = (rng.random((2, 3, 4)) < 0.5) * 1.0, rng.uniform(0.1, 0.9, (2, 3, 4))
    got = losses.binary_crossentropy(t, p, axis=1)
    np.testing.assert_allclose(got.numpy(), ref_bce(t, p, axis=1))


def test_temporal_losses_with_one_weight_per_sample():
    """(batch, steps) losses with (batch,) weights: each weight covers its whole row."""
    rng = np.random.default_rng(3)
    t, p = rng.normal(size=(3, 3, 2)), rng.normal(size=(3, 3, 2))
    sw = np.array([1.0, 0.0, 2.0])
    got = losses.MeanSquaredError(reduction="sum", dtype="float64")(t, p, sample_weight=sw)
    expected = (((t - p) ** 2).mean(-1) * sw[:, None]).sum()
    assert got.item() == pytest.approx(expected)


def test_sample_weight_that_does_not_fit():
    with pytest.raises(ValueError, match=r"sample_weight of shape \(3,\) does not match the "
                                         r"per-sample losses of shape \(4,\)"):
        losses.MeanSquaredError()(np.zeros((4, 2)), np.ones((4, 2)), sample_weight=np.ones(3))


def test_invalid_reduction():
    with pytest.raises(ValueError, match="Invalid value for argument `reduction`"):
        losses.MeanSquaredError(reduction="average")


def test_mean_with_sample_weight_all_zero_weights_is_zero():
    loss = losses.MeanSquaredError(reduction="mean_with_sample_weight")
    assert loss(np.ones((2, 2)), np.zeros((2, 2)), sample_weight=np.zeros(2)).item() == 0.0


# ----------------------------------------------------------------------------- get, config
def test_get_resolves_names_like_keras():
    assert losses.get("mse") is losses.mean_squared_error
    assert losses.get("MSE") is losses.mean_squared_error
    assert losses.get("categorical_crossentropy") is losses.categorical_crossentropy
    assert isinstance(losses.get("CategoricalCrossentropy"), losses.CategoricalCrossentropy)
    assert isinstance(losses.get(losses.Huber), losses.Huber)
    obj = losses.Huber(delta=2.0)
    assert losses.get(obj) is obj
    assert losses.get(None) is None
    from_dict = losses.get({"class_name": "CategoricalCrossentropy",
                            "config": {"from_logits": True}})
    assert isinstance(from_dict, losses.CategoricalCrossentropy) and from_dict.from_logits
    for alias, fn in [("mae", "mean_absolute_error"), ("mape", "mean_absolute_percentage_error"),
                      ("msle", "mean_squared_logarithmic_error"), ("kld", "kl_divergence"),
                      ("bce", "binary_crossentropy")]:
        assert losses.get(alias) is getattr(losses, fn)


def test_get_unknown_name_lists_valid_names():
    with pytest.raises(ValueError) as err:
        losses.get("mean_sqared_error")
    message = str(err.value)
    assert "Could not interpret loss identifier: 'mean_sqared_error'" in message
    assert "Did you mean 'mean_squared_error'" in message
    assert "sparse_categorical_crossentropy" in message and "Huber" in message


def test_get_loss_wraps_functions_and_resolves_crossentropy():
    wrapped = losses.get_loss("mse")
    assert isinstance(wrapped, losses.LossFunctionWrapper) and wrapped.name == "mse"
    value = wrapped(np.ones((4, 2)), np.zeros((4, 2)), sample_weight=np.array([1, 1, 0, 0]))
    assert value.item() == pytest.approx(0.5)
    assert losses.get_loss("crossentropy", (8,), (8, 3)).fn is \
        losses.sparse_categorical_crossentropy
    assert losses.get_loss("ce", (8, 3), (8, 3)).fn is losses.categorical_crossentropy
    assert losses.get_loss("crossentropy", (8, 1), (8, 1)).fn is losses.binary_crossentropy
    obj = losses.BinaryCrossentropy()
    assert losses.get_loss(obj) is obj


CONFIGURED = [
    losses.MeanSquaredError(reduction="sum"), losses.Huber(delta=0.3, name="h"),
    losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
    losses.CategoricalCrossentropy(label_smoothing=0.2, axis=1),
    losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=3),
    losses.CosineSimilarity(axis=0), losses.KLDivergence(reduction=None), losses.Poisson(),
    losses.Hinge(), losses.SquaredHinge(), losses.CategoricalHinge(), losses.LogCosh(),
    losses.MeanAbsoluteError(), losses.MeanAbsolutePercentageError(),
    losses.MeanSquaredLogarithmicError(),
    losses.LossFunctionWrapper(losses.huber, name="wrapped", delta=0.5),
]


@pytest.mark.parametrize("loss", CONFIGURED, ids=lambda obj: type(obj).__name__)
def test_config_round_trip(loss):
    config = loss.get_config()
    assert config["name"] == loss.name and config["reduction"] == loss.reduction
    again = type(loss).from_config(config)
    assert again.get_config() == config
    restored = losses.deserialize(losses.serialize(loss))
    assert type(restored) is type(loss) and restored.get_config() == config


def test_config_keys_of_crossentropies():
    assert losses.BinaryCrossentropy().get_config() == {
        "name": "binary_crossentropy", "reduction": "sum_over_batch_size",
        "from_logits": False, "label_smoothing": 0.0, "axis": -1}
    assert losses.serialize(losses.mean_squared_error) == "mean_squared_error"


def test_custom_loss_subclass():
    class MyLoss(losses.Loss):
        def call(self, y_true, y_pred):
            return ops.mean(ops.abs(y_true - y_pred), axis=-1)

    loss = MyLoss(reduction="sum")
    assert loss.name.startswith("my_loss")
    assert loss(np.zeros((2, 2)), np.ones((2, 2))).item() == pytest.approx(2.0)
    with pytest.raises(NotImplementedError, match="must compute the per-sample losses"):
        losses.Loss()(np.zeros(2), np.zeros(2))


def test_resolve_crossentropy_and_namespace():
    assert losses.resolve_crossentropy((4, 1), (4, 1)) is losses.binary_crossentropy
    assert minikeras.losses is losses
    for name in losses.__all__:
        assert hasattr(losses, name), name


@given(data=st.data())
def test_fused_mean_of_sparse_crossentropy_gives_the_bits_of_the_general_path(data):
    """SparseCategoricalCrossentropy(from_logits=True) without weights or masks computes the
    cross-entropies and their mean as one node; the loss and the gradient must be exactly
    those of Loss.__call__ (per-sample losses, ops.sum, a division)."""
    dtype = data.draw(st.sampled_from(["float32", "float64"]))
    batch = data.draw(st.integers(1, 6))
    steps = data.draw(st.sampled_from([(), (3,)]))
    classes = data.draw(st.integers(2, 7))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    logits = (rng.standard_normal((batch,) + steps + (classes,)) * 3).astype(dtype)
    labels = rng.integers(0, classes, (batch,) + steps)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, dtype=dtype)
    results = []
    for call in (loss.__call__, lambda t, p: losses.Loss.__call__(loss, t, p)):
        x = Tensor(logits, requires_grad=True)
        value = call(labels, x)
        value.backward()
        results.append((value.numpy(), x.grad.numpy()))
    (fused, fused_grad), (general, general_grad) = results
    assert fused.dtype == np.dtype(dtype) and fused.shape == ()
    np.testing.assert_array_equal(fused, general)
    np.testing.assert_array_equal(fused_grad, general_grad)
    np.testing.assert_allclose(fused, ref_scce(labels, logits, from_logits=True).mean(),
                               rtol=1e-5 if dtype == "float32" else 1e-12)


def test_fused_sparse_crossentropy_is_one_node_and_keeps_the_label_checks():
    logits = Tensor(np.zeros((4, 3), np.float32), requires_grad=True)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    with GradientTape() as tape:
        loss(np.array([0, 1, 2, 0]), logits)
    assert [n.name for n in tape.nodes] == ["SparseSoftmaxCrossEntropy"]
    with pytest.raises(ValueError, match="label 3 is out of range for y_pred with 3 classes"):
        loss(np.array([0, 1, 2, 3]), logits)
    with pytest.raises(ValueError, match="looks one-hot"):
        loss(np.eye(3, dtype=np.float32)[[0, 1, 2, 0]], logits)


@given(data=st.data())
def test_row_kernel_of_the_sparse_crossentropy_matches_the_array_formulas(data):
    """kernels.cpu.crossentropy: the compiled row loops against the NumPy formulas (what
    CuPy arrays run), forward and gradient, large logits and NaN included."""
    from minikeras.kernels.cpu import crossentropy as ce
    dtype = data.draw(st.sampled_from(["float32", "float64"]))
    rows, classes = data.draw(st.integers(1, 40)), data.draw(st.integers(1, 12))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x = (rng.standard_normal((rows, classes)) * data.draw(st.sampled_from([1, 50, 800])))
    x = x.astype(dtype)
    if data.draw(st.booleans()):
        x[rng.integers(0, rows), rng.integers(0, classes)] = np.nan
    labels = rng.integers(0, classes, rows).astype(np.int32)
    scale = rng.uniform(0.1, 2, rows).astype(dtype)
    with np.errstate(invalid="ignore"):
        losses, probs = ce.sparse_softmax_cross_entropy(x, labels)
        grad = ce.sparse_softmax_cross_entropy_grad(probs, labels, scale)
        with pytest.MonkeyPatch.context() as m:
            m.setattr(ce, "_fit", lambda a: False)
            ref_losses, ref_probs = ce.sparse_softmax_cross_entropy(x, labels)
            ref_grad = ce.sparse_softmax_cross_entropy_grad(ref_probs, labels, scale)
    tol = (dict(rtol=2e-6, atol=1e-6) if dtype == "float32"
           else dict(rtol=1e-13, atol=1e-13))
    assert losses.dtype == probs.dtype == grad.dtype == np.dtype(dtype)
    np.testing.assert_allclose(losses, ref_losses, **tol)
    np.testing.assert_allclose(probs, ref_probs, **tol)
    np.testing.assert_allclose(grad, ref_grad, **tol)
    assert np.array_equal(np.isnan(losses), np.isnan(ref_losses))


def test_loss_function_wrapper_config_names_its_function():
    wrapper = losses.LossFunctionWrapper(losses.mean_absolute_error, name="mae_loss")
    again = losses.LossFunctionWrapper.from_config(wrapper.get_config())
    assert again.fn is losses.mean_absolute_error and again.name == "mae_loss"
    with pytest.raises(ValueError, match="LossFunctionWrapper: unknown loss function "
                                         "'no_such_loss'; expected the name of a loss "
                                         "function of keras.losses"):
        losses.LossFunctionWrapper.from_config({"fn": "no_such_loss"})
