"""BatchNormalization, LayerNormalization and GroupNormalization: forward against references
written here with plain loops (training and inference), the moving statistics after a few
steps, trainable=False, masks, gradients (inputs and weights) against finite differences in
float64 on hypothesis-drawn shapes, weights, config round trips, errors, and a model with
BatchNormalization that learns with fit."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minikeras as keras
from minikeras import layers
from minikeras.layers.layer import get_mask
from minikeras.tensor import Tensor
from minikeras.utils import check_gradients, check_layer_gradients

EPS = 1e-3


def rand(shape, seed=0, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, size=shape)


@st.composite
def shape_and_axis(draw, min_dims=2, max_dims=4, allow_batch_axis=True):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=min_dims, max_size=max_dims)))
    low = 0 if allow_batch_axis else 1
    axis = draw(st.integers(low, len(shape) - 1))
    if draw(st.booleans()):
        axis -= len(shape)  # the same axis, counted from the end
    return shape, axis


def randomize_weights(layer, seed):
    """Give every weight random values (variances positive), so a reference that ignored
    gamma, beta or the moving statistics would fail."""
    rng = np.random.default_rng(seed)
    values = []
    for w in layer.weights:
        low = 0.2 if "variance" in w.name else -1.5
        values.append(rng.uniform(low, 1.5, size=w.shape))
    layer.set_weights(values)


# ----------------------------------------------------------------------- references (loops)
def stats_over(x, same_group):
    """{key: (mean, biased variance)} where key = same_group(index): the elements whose
    indices give the same key share one statistic. Computed with explicit sums."""
    groups = {}
    for idx in np.ndindex(x.shape):
        groups.setdefault(same_group(idx), []).append(float(x[idx]))
    out = {}
    for key, vals in groups.items():
        mu = sum(vals) / len(vals)
        out[key] = (mu, sum((v - mu) ** 2 for v in vals) / len(vals))
    return out


def batch_norm_ref(x, axis, gamma, beta, mean=None, var=None, eps=EPS):
    """Per channel c = idx[axis]: (x - μ_c)/√(σ²_c + ε)·γ_c + β_c; with the batch's own
    statistics unless mean/var are given."""
    axis %= x.ndim
    stats = stats_over(x, lambda idx: idx[axis]) if mean is None else None
    out = np.empty(x.shape)
    for idx in np.ndindex(x.shape):
        c = idx[axis]
        mu, v = stats[c] if stats is not None else (mean[c], var[c])
        y = (x[idx] - mu) / math.sqrt(v + eps)
        out[idx] = y * (1.0 if gamma is None else gamma[c]) + (0.0 if beta is None else beta[c])
    return out


# ----------------------------------------------------------------------- BatchNormalization
@given(sa=shape_and_axis(), center=st.booleans(), scale=st.booleans(), seed=st.integers(0, 99))
def test_batch_norm_training_and_inference_match_the_reference(sa, center, scale, seed):
    shape, axis = sa
    layer = layers.BatchNormalization(axis=axis, center=center, scale=scale, dtype="float64")
    x = rand(shape, seed)
    layer.build(shape)
    randomize_weights(layer, seed)
    gamma = layer.gamma.numpy() if scale else None
    beta = layer.beta.numpy() if center else None
    mm, mv = layer.moving_mean.numpy().copy(), layer.moving_variance.numpy().copy()
    np.testing.assert_allclose(layer(x).numpy(), batch_norm_ref(x, axis, gamma, beta, mm, mv),
                               rtol=1e-10, atol=1e-12)  # inference: the moving statistics
    np.testing.assert_array_equal(layer.moving_mean.numpy(), mm)  # inference updates nothing
    np.testing.assert_allclose(layer(x, training=True).numpy(),
                               batch_norm_ref(x, axis, gamma, beta), rtol=1e-9, atol=1e-11)


def test_batch_norm_weights_names_shapes_and_order():
    layer = layers.BatchNormalization(name="bn")
    layer(np.zeros((2, 5, 3), "float32"))
    assert [w.path for w in layer.weights] == ["bn/gamma", "bn/beta", "bn/moving_mean",
                                               "bn/moving_variance"]
    assert [w.path for w in layer.trainable_weights] == ["bn/gamma", "bn/beta"]
    assert all(w.shape == (3,) for w in layer.weights)
    np.testing.assert_array_equal(layer.gamma.numpy(), 1.0)
    np.testing.assert_array_equal(layer.beta.numpy(), 0.0)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), 0.0)
    np.testing.assert_array_equal(layer.moving_variance.numpy(), 1.0)
    bare = layers.BatchNormalization(axis=1, center=False, scale=False, name="bare")
    bare(np.zeros((2, 5, 3), "float32"))
    assert [w.path for w in bare.weights] == ["bare/moving_mean", "bare/moving_variance"]
    assert bare.moving_mean.shape == (5,)


def test_batch_norm_moving_statistics_after_a_few_steps():
    layer = layers.BatchNormalization(momentum=0.8, dtype="float64")
    moving_mean, moving_var = np.zeros(3), np.ones(3)
    for step in range(4):
        x = rand((6, 2, 3), seed=step) * (step + 1) + step
        layer(x, training=True)
        flat = x.reshape(-1, 3)
        batch_mean = flat.sum(axis=0) / len(flat)
        batch_var = ((flat - batch_mean) ** 2).sum(axis=0) / len(flat)  # biased
        moving_mean = moving_mean * 0.8 + batch_mean * 0.2
        moving_var = moving_var * 0.8 + batch_var * 0.2
    np.testing.assert_allclose(layer.moving_mean.numpy(), moving_mean, rtol=1e-12)
    np.testing.assert_allclose(layer.moving_variance.numpy(), moving_var, rtol=1e-12)


def test_batch_norm_trainable_false_runs_in_inference_mode():
    layer = layers.BatchNormalization(dtype="float64")
    x = rand((5, 3), seed=3)
    layer(x, training=True)
    randomize_weights(layer, 4)
    layer.trainable = False
    before = [w.numpy().copy() for w in layer.weights]  # numpy() shares the buffer
    y = layer(x, training=True).numpy()
    ref = batch_norm_ref(x, -1, before[0], before[1], before[2], before[3])
    np.testing.assert_allclose(y, ref, rtol=1e-10)
    for w, b in zip(layer.weights, before):
        np.testing.assert_array_equal(w.numpy(), b)  # no moving-statistics update
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 4


@given(sa=shape_and_axis(max_dims=3), center=st.booleans(), scale=st.booleans(),
       training=st.booleans(), seed=st.integers(0, 99))
@settings(max_examples=10)
def test_batch_norm_gradients(sa, center, scale, training, seed):
    shape, axis = sa
    layer = layers.BatchNormalization(axis=axis, center=center, scale=scale, dtype="float64")
    layer.build(shape)
    randomize_weights(layer, seed)
    report = check_layer_gradients(layer, rand(shape, seed), training=training)
    assert report.ok, str(report)


def masked_batch_norm_ref(x, mask, gamma, beta, eps=EPS):
    """Channel-last statistics over the positions where mask is True (Keras adds
    keras.config.epsilon() = 1e-7 to the count), applied to every position."""
    channels = x.shape[-1]
    out = np.empty(x.shape)
    for c in range(channels):
        vals = [x[idx + (c,)] for idx in np.ndindex(mask.shape) if mask[idx]]
        count = len(vals) + 1e-7
        mu = sum(vals) / count
        var = sum((v - mu) ** 2 for v in vals) / count
        for idx in np.ndindex(mask.shape):
            out[idx + (c,)] = (x[idx + (c,)] - mu) / math.sqrt(var + eps) * gamma[c] + beta[c]
    return out, mu, var


@given(batch=st.integers(1, 3), steps=st.integers(2, 4), channels=st.integers(1, 3),
       seed=st.integers(0, 99))
def test_batch_norm_mask_restricts_the_statistics(batch, steps, channels, seed):
    rng = np.random.default_rng(seed)
    x = rand((batch, steps, channels), seed)
    mask = rng.random((batch, steps)) < 0.6
    mask[0, 0] = True  # at least one real step
    layer = layers.BatchNormalization(momentum=0.5, dtype="float64")
    layer.build(x.shape)
    randomize_weights(layer, seed)
    gamma, beta = layer.gamma.numpy(), layer.beta.numpy()
    mm, mv = layer.moving_mean.numpy().copy(), layer.moving_variance.numpy().copy()
    y = layer(x, training=True, mask=mask).numpy()
    ref, _, _ = masked_batch_norm_ref(x, mask, gamma, beta)
    np.testing.assert_allclose(y, ref, rtol=1e-9, atol=1e-10)
    real = x[mask]  # (count, channels)
    mu = real.sum(axis=0) / (len(real) + 1e-7)
    var = ((real - mu) ** 2).sum(axis=0) / (len(real) + 1e-7)
    np.testing.assert_allclose(layer.moving_mean.numpy(), mm * 0.5 + mu * 0.5, rtol=1e-9)
    np.testing.assert_allclose(layer.moving_variance.numpy(), mv * 0.5 + var * 0.5, rtol=1e-9)
    # the gradient with respect to x goes through the masked statistics too
    report = check_gradients(lambda a: layer(a, training=True, mask=mask), x)
    assert report.ok, str(report)


def test_batch_norm_mask_arrives_from_the_input_and_is_handed_on():
    x = Tensor(rand((2, 4, 3), 1))
    mask = np.array([[True, True, False, False], [True, True, True, False]])
    x._keras_mask = Tensor(mask)
    layer = layers.BatchNormalization(dtype="float64")
    y = layer(x, training=True)
    np.testing.assert_array_equal(get_mask(y).numpy(), mask)
    ref, _, _ = masked_batch_norm_ref(x.numpy(), mask, np.ones(3), np.zeros(3))
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-9, atol=1e-10)


def test_batch_norm_errors():
    with pytest.raises(ValueError, match=r'"bn_axis": axis 3 is out of bounds for input shape '
                                         r'\(2, 3, 4\).*Received: axis=3'):
        layers.BatchNormalization(axis=3, name="bn_axis")(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"axis -4 is out of bounds"):
        layers.BatchNormalization(axis=-4)(np.zeros((2, 3, 4)))
    layer = layers.BatchNormalization(name="bn_built")
    layer(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r'layer "bn_built" is incompatible with the layer: '
                                         r'expected axis -1 of input shape to have value 3, but '
                                         r'received input with shape \(2, 4\)'):
        layer(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r'"bn_built" is incompatible.*expected ndim=2, found '
                                         r'ndim=3'):
        layer(np.zeros((2, 1, 3)))
    with pytest.raises(ValueError, match=r"mask provided should be one dimension less than the "
                                         r"inputs. Received: mask.shape=\(2, 3\), "
                                         r"inputs.shape=\(2, 3\)"):
        layer(np.zeros((2, 3)), training=True, mask=np.ones((2, 3), bool))
    with pytest.raises(TypeError, match=r"`axis` must be an int.*\[1, 2\]"):
        layers.BatchNormalization(axis=[1, 2])


@pytest.mark.parametrize("clipping, start", [
    (None, 1.0), ({"rmin": 0.8, "rmax": 1.25, "dmax": 0.2}, 1.0),
    (None, 0.0),  # variances start at 0: σ_R is bounded below by √ε
])
def test_batch_renormalization_matches_a_hand_computation(clipping, start):
    layer = layers.BatchNormalization(renorm=True, renorm_clipping=clipping, momentum=0.8,
                                      renorm_momentum=0.6, dtype="float64", name="brn",
                                      moving_variance_initializer="ones" if start else "zeros")
    layer.build((6, 2))
    assert [w.path for w in layer.weights] == [
        "brn/gamma", "brn/beta", "brn/moving_mean", "brn/moving_variance", "brn/moving_stddev",
        "brn/renorm_mean", "brn/renorm_stddev"]
    gamma, beta = np.array([1.5, 0.5]), np.array([0.2, -0.3])
    layer.gamma.assign(gamma)
    layer.beta.assign(beta)
    clip = clipping or {}
    renorm_mean, renorm_std = np.zeros(2), np.full(2, start)
    moving_mean, moving_std = np.zeros(2), np.full(2, start)
    for step in range(3):
        x = rand((6, 2), seed=10 + step) * (step + 1) + step
        y = layer(x, training=True).numpy()
        for c in range(2):
            col = [x[i, c] for i in range(6)]
            mu = sum(col) / 6
            sigma = math.sqrt(sum((v - mu) ** 2 for v in col) / 6 + EPS)
            bounded = max(renorm_std[c], math.sqrt(EPS))
            r = min(max(sigma / bounded, clip.get("rmin", -np.inf)), clip.get("rmax", np.inf))
            d = min(max((mu - renorm_mean[c]) / bounded, -clip.get("dmax", np.inf)),
                    clip.get("dmax", np.inf))
            for i in range(6):
                expected = ((x[i, c] - mu) / sigma * r + d) * gamma[c] + beta[c]
                assert abs(y[i, c] - expected) < 1e-9
            renorm_mean[c] = renorm_mean[c] * 0.6 + mu * 0.4
            renorm_std[c] = renorm_std[c] * 0.6 + sigma * 0.4
            moving_mean[c] = moving_mean[c] * 0.8 + mu * 0.2
            moving_std[c] = moving_std[c] * 0.8 + sigma * 0.2
    np.testing.assert_allclose(layer.renorm_mean.numpy(), renorm_mean, rtol=1e-12)
    np.testing.assert_allclose(layer.renorm_stddev.numpy(), renorm_std, rtol=1e-12)
    np.testing.assert_allclose(layer.moving_stddev.numpy(), moving_std, rtol=1e-12)
    moving_var = np.maximum(moving_std ** 2 - EPS, 0)
    np.testing.assert_allclose(layer.moving_variance.numpy(), moving_var, rtol=1e-12)
    x = rand((4, 2), 99)  # inference: the moving mean and variance, as without renorm
    np.testing.assert_allclose(layer(x).numpy(),
                               batch_norm_ref(x, -1, gamma, beta, moving_mean, moving_var),
                               rtol=1e-10)


def test_batch_renormalization_corrections_are_constants_for_the_gradient():
    """r and d get no gradient: the gradient is that of plain batch normalization with
    gamma' = r·gamma (at the first step r = σ_B and d = μ_B, since μ_R = 0 and σ_R = 1)."""
    x = rand((5, 3), 4)
    renorm = layers.BatchNormalization(renorm=True, dtype="float64")
    plain = layers.BatchNormalization(dtype="float64")
    renorm.build(x.shape)
    plain.build(x.shape)
    sigma = np.sqrt(x.var(axis=0) + EPS)
    plain.gamma.assign(sigma)
    grads = []
    for layer in (renorm, plain):
        t = Tensor(x, requires_grad=True)
        with keras.GradientTape() as tape:
            tape.watch(t)
            loss = keras.ops.sum(layer(t, training=True) * Tensor(rand((5, 3), 5)))
        grads.append(tape.gradient(loss, t).numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-9, atol=1e-12)


def test_batch_renormalization_clipping_errors():
    with pytest.raises(ValueError, match=r"Received invalid keys for `renorm_clipping` argument: "
                                         r"\{'rmax': 2, 'dmin': 0\}. Supported values"):
        layers.BatchNormalization(renorm=True, renorm_clipping={"rmax": 2, "dmin": 0})
    with pytest.raises(ValueError, match=r"rmax should be greater than rmin.*Received: "
                                         r"rmax=0.5, rmin=2"):
        layers.BatchNormalization(renorm=True, renorm_clipping={"rmax": 0.5, "rmin": 2})
    with pytest.raises(ValueError, match=r"dmax should be non-negative.*Received: dmax=-1"):
        layers.BatchNormalization(renorm=True, renorm_clipping={"dmax": -1})


def test_batch_norm_keeps_float32_and_output_shape():
    layer = layers.BatchNormalization()
    x = rand((4, 3), 0).astype("float32")
    assert layer(x, training=True).dtype == np.float32
    assert layer(x).dtype == np.float32
    assert layer.moving_mean.dtype == np.float32
    assert layer.compute_output_shape((None, 7, 3)) == (None, 7, 3)


# ----------------------------------------------------------------------- LayerNormalization
def layer_norm_ref(x, axes, gamma, beta, eps=EPS, rms=False):
    """Per sample (the positions outside ``axes``): standardize over ``axes``; gamma/beta
    indexed by the positions along ``axes`` (in the sorted order)."""
    axes = sorted(a % x.ndim for a in axes)
    kept = [i for i in range(x.ndim) if i not in axes]
    stats = stats_over(x, lambda idx: tuple(idx[i] for i in kept))
    out = np.empty(x.shape)
    for idx in np.ndindex(x.shape):
        mu, v = stats[tuple(idx[i] for i in kept)]
        w = tuple(idx[a] for a in axes)
        y = (x[idx] - (0.0 if rms else mu)) / math.sqrt(v + eps)
        out[idx] = y * (1.0 if gamma is None else gamma[w]) + (0.0 if beta is None else beta[w])
    return out


@st.composite
def shape_and_axes(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=2, max_size=4)))
    rank = len(shape)
    axes = draw(st.lists(st.integers(1, rank - 1), min_size=1, max_size=rank - 1, unique=True))
    axes = sorted(axes)
    axes = [a - rank if draw(st.booleans()) else a for a in axes]  # negative ones too
    axis = axes[0] if len(axes) == 1 and draw(st.booleans()) else axes
    return shape, axis


@given(sa=shape_and_axes(), center=st.booleans(), scale=st.booleans(), rms=st.booleans(),
       seed=st.integers(0, 99))
@settings(max_examples=15)
def test_layer_norm_forward_and_gradients(sa, center, scale, rms, seed):
    shape, axis = sa
    layer = layers.LayerNormalization(axis=axis, center=center, scale=scale, rms_scaling=rms,
                                      dtype="float64")
    x = rand(shape, seed)
    layer.build(shape)
    randomize_weights(layer, seed)
    axes = axis if isinstance(axis, list) else [axis]
    assert (layer.gamma is not None) == (scale or rms)
    assert (layer.beta is not None) == (center and not rms)
    gamma = None if layer.gamma is None else layer.gamma.numpy()
    beta = None if layer.beta is None else layer.beta.numpy()
    expected = layer_norm_ref(x, axes, gamma, beta, rms=rms)
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(layer(x, training=True).numpy(), expected, rtol=1e-9, atol=1e-11)
    report = check_layer_gradients(layer, x)
    assert report.ok, str(report)


def test_layer_norm_weights_and_shapes():
    layer = layers.LayerNormalization(axis=[1, 2], name="ln")
    layer(np.zeros((2, 3, 4, 5), "float32"))
    assert [w.path for w in layer.weights] == ["ln/gamma", "ln/beta"]
    assert layer.gamma.shape == (3, 4) and layer.beta.shape == (3, 4)
    assert layers.LayerNormalization().compute_output_shape((None, 6)) == (None, 6)


def test_layer_norm_errors():
    with pytest.raises(ValueError, match=r'"ln_axis": axis 2 is out of bounds for input shape '
                                         r'\(2, 3\)'):
        layers.LayerNormalization(axis=2, name="ln_axis")(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"Axis|axis 5 is out of bounds"):
        layers.LayerNormalization(axis=5).compute_output_shape((None, 3))
    with pytest.raises(TypeError, match=r"Expected an int or a list/tuple of ints for the "
                                        r"argument 'axis', but received: 'last'"):
        layers.LayerNormalization(axis="last")
    layer = layers.LayerNormalization(name="ln_built")
    layer(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r'"ln_built" is incompatible.*axis -1 of input shape '
                                         r'to have value 3.*\(2, 5\)'):
        layer(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"repeated axis"):
        layers.LayerNormalization(axis=[1, -1])(np.zeros((2, 3)))


# ----------------------------------------------------------------------- GroupNormalization
def group_norm_ref(x, groups, axis, gamma, beta, eps=EPS):
    """Per sample and group of channels (channel c is in group c // (C/groups)): the
    statistics over the group's channels and every other non-batch axis."""
    axis %= x.ndim
    size = x.shape[axis] // groups
    stats = stats_over(x, lambda idx: (idx[0], idx[axis] // size))
    out = np.empty(x.shape)
    for idx in np.ndindex(x.shape):
        c = idx[axis]
        mu, v = stats[(idx[0], c // size)]
        y = (x[idx] - mu) / math.sqrt(v + eps)
        out[idx] = y * (1.0 if gamma is None else gamma[c]) + (0.0 if beta is None else beta[c])
    return out


@st.composite
def group_setup(draw):
    shape, axis = draw(shape_and_axis(allow_batch_axis=False))
    channels = shape[axis]
    divisors = [g for g in range(1, channels + 1) if channels % g == 0]
    return shape, axis, draw(st.sampled_from(divisors + [-1]))


@given(setup=group_setup(), center=st.booleans(), scale=st.booleans(), seed=st.integers(0, 99))
@settings(max_examples=15)
def test_group_norm_forward_and_gradients(setup, center, scale, seed):
    shape, axis, groups = setup
    layer = layers.GroupNormalization(groups=groups, axis=axis, center=center, scale=scale,
                                      dtype="float64")
    x = rand(shape, seed)
    layer.build(shape)
    randomize_weights(layer, seed)
    resolved = shape[axis] if groups == -1 else groups  # -1: one group per channel
    assert layer.groups == resolved
    gamma = layer.gamma.numpy() if scale else None
    beta = layer.beta.numpy() if center else None
    np.testing.assert_allclose(layer(x).numpy(), group_norm_ref(x, resolved, axis, gamma, beta),
                               rtol=1e-9, atol=1e-11)
    report = check_layer_gradients(layer, x, training=True)
    assert report.ok, str(report)


def test_group_norm_weights_and_errors():
    layer = layers.GroupNormalization(groups=2, name="gn")
    layer(np.zeros((1, 3, 3, 4), "float32"))
    assert [w.path for w in layer.weights] == ["gn/gamma", "gn/beta"]
    assert layer.gamma.shape == (4,)
    with pytest.raises(ValueError, match=r'"gn" is incompatible.*axis -1 of input shape to '
                                         r'have value 4'):
        layer(np.zeros((1, 3, 3, 6), "float32"))
    with pytest.raises(ValueError, match=r'"gn_div": the number of channels \(6\) must be a '
                                         r'multiple of the number of groups \(4\)'):
        layers.GroupNormalization(groups=4, name="gn_div")(np.zeros((2, 6)))
    with pytest.raises(ValueError, match=r'"group_normalization[_0-9]*": number of groups '
                                         r"\(32\) cannot be more than the number of channels "
                                         r"\(6\)"):
        layers.GroupNormalization()(np.zeros((2, 6)))
    with pytest.raises(ValueError, match=r"axis 2 is out of bounds for input shape \(2, 6\)"):
        layers.GroupNormalization(groups=1, axis=2)(np.zeros((2, 6)))
    with pytest.raises(ValueError, match=r"is the batch axis"):
        layers.GroupNormalization(groups=1, axis=0)(np.zeros((2, 6)))
    with pytest.raises(ValueError, match=r"invalid value for argument `groups`, expected a "
                                         r"positive integer.*Received: groups=0"):
        layers.GroupNormalization(groups=0)


# ----------------------------------------------------------------------- all three
def test_masks_are_handed_on():
    mask = np.array([[True, False, True], [True, True, False]])
    for layer in (layers.BatchNormalization(), layers.LayerNormalization(),
                  layers.GroupNormalization(groups=1)):
        x = Tensor(rand((2, 3, 2), 0).astype("float32"))
        x._keras_mask = Tensor(mask)
        assert layer.supports_masking
        np.testing.assert_array_equal(get_mask(layer(x)).numpy(), mask)


@pytest.mark.parametrize("make", [
    lambda: layers.BatchNormalization(renorm=True, renorm_clipping={"rmax": 3.0},
                                      renorm_momentum=0.5, name="brn_cfg"),
    lambda: layers.BatchNormalization(axis=1, momentum=0.9, epsilon=0.01, center=False,
                                      gamma_initializer=keras.initializers.RandomNormal(seed=3),
                                      gamma_regularizer="l2", beta_constraint="non_neg",
                                      name="bn_cfg"),
    lambda: layers.LayerNormalization(axis=[-2, -1], epsilon=0.1, rms_scaling=True,
                                      beta_regularizer=keras.regularizers.L1(0.5), name="ln_cfg"),
    lambda: layers.GroupNormalization(groups=-1, axis=1, scale=False, name="gn_cfg"),
])
def test_config_round_trip(make):
    layer = make()
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    x = rand((2, 3, 4), 5).astype("float32")
    layer(x)  # after build the config still round-trips (GroupNormalization resolves -1)
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config


def test_config_keys_are_keras_keys():
    common = {"name", "trainable", "dtype", "epsilon", "center", "scale", "beta_initializer",
              "gamma_initializer", "beta_regularizer", "gamma_regularizer", "beta_constraint",
              "gamma_constraint"}
    assert set(layers.BatchNormalization().get_config()) == common | {
        "axis", "momentum", "moving_mean_initializer", "moving_variance_initializer",
        "synchronized", "renorm", "renorm_clipping", "renorm_momentum"}
    assert set(layers.LayerNormalization().get_config()) == common | {"axis", "rms_scaling"}
    assert set(layers.GroupNormalization().get_config()) == common | {"groups", "axis"}


def test_a_model_with_batch_normalization_learns_with_fit():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(256, 4)) * [5.0, 0.1, 1.0, 20.0] + [3.0, -1.0, 0.0, 50.0])
    y = (x[:, 0] / 5 + x[:, 3] / 20 > 2.7).astype("int32")
    model = keras.Sequential([keras.Input((4,)), layers.BatchNormalization(),
                              layers.Dense(8, activation="relu"), layers.BatchNormalization(),
                              layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.02),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x.astype("float32"), y, epochs=10, batch_size=32, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.7 * losses[0], losses
    bn = model.layers[0]
    # the moving statistics have moved from (0, 1) towards the data's
    assert bn.moving_mean.numpy()[3] > 10 and bn.moving_variance.numpy()[3] > 10


# ----------------------------------------------------------------------- op errors
def test_normalization_op_errors():
    x = np.zeros((2, 3), "float32")
    with pytest.raises(ValueError, match=r"ops.moments: axis 2 is out of bounds for a tensor of "
                                         r"rank 2 \(valid axes: -2 to 1\)"):
        keras.ops.moments(x, axes=[0, 2])
    with pytest.raises(ValueError, match=r"ops.moments: repeated axis"):
        keras.ops.moments(x, axes=[1, -1])
    with pytest.raises(ValueError, match=r"ops.moments: needs a tensor of rank 1 or more"):
        keras.ops.moments(np.float32(1.0), axes=[])
    with pytest.raises(ValueError, match=r"ops.batch_normalization: `variance` must be a vector "
                                         r"of shape \(3,\), the size of axis 1 of x \(shape "
                                         r"\(2, 3\)\); got shape \(2,\)"):
        keras.ops.batch_normalization(x, np.zeros(3), np.ones(2), axis=-1)
    with pytest.raises(ValueError, match=r"ops.batch_normalization: axis 2 is out of bounds"):
        keras.ops.batch_normalization(x, np.zeros(3), np.ones(3), axis=2)
    with pytest.raises(ValueError, match=r"ops.batch_normalization: needs a tensor of rank 1"):
        keras.ops.batch_normalization(np.float32(1.0), np.zeros(1), np.ones(1), axis=0)


def test_per_sample_normalization_op_errors():
    x = np.zeros((2, 3, 4), "float32")
    with pytest.raises(ValueError, match=r"ops.layer_normalization: `gamma` of shape \(5,\) "
                                         r"does not fit the normalized axes \(1, 2\) of x "
                                         r"\(shape \(2, 3, 4\)\): expected 5 to be the product "
                                         r"of their sizes, 12"):
        keras.ops.layer_normalization(x, gamma=np.ones(5), axis=[1, 2])
    with pytest.raises(ValueError, match=r"ops.layer_normalization: axis 3 is out of bounds"):
        keras.ops.layer_normalization(x, axis=3)
    with pytest.raises(ValueError, match=r"ops.rms_normalization: axis -4 is out of bounds"):
        keras.ops.rms_normalization(x, axis=-4)


def test_unknown_channel_size_is_an_error():
    with pytest.raises(ValueError, match=r'"bn_none": axis 1 of the input must have a known size '
                                         r'to build the layer; got input shape \(None, None\)'):
        layers.BatchNormalization(name="bn_none").build((None, None))


def test_normalization_ops_keep_float32_with_float64_statistics():
    x = rand((4, 3), 1).astype("float32")
    y = keras.ops.batch_normalization(x, np.zeros(3), np.ones(3), axis=1,
                                      offset=np.zeros(3), scale=np.ones(3))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), x / math.sqrt(1 + EPS), rtol=1e-6)
    mean, var = keras.ops.moments(x, axes=0, synchronized=True)  # one device: no effect
    assert mean.dtype == var.dtype == np.float32
    np.testing.assert_allclose(var.numpy(), x.astype("float64").var(axis=0), rtol=1e-5)
