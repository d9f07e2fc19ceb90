"""Optimizers against independent NumPy re-implementations of Keras 3's update formulas,
plus the bookkeeping around them: slots, iterations, schedules, clipping, weight decay,
None gradients, errors, config and a small convergence check."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import minikeras as mk
from minikeras import ops, optim, schedules
from minikeras.tensor import Tensor, Variable


# ----------------------------------------------------------------------------- the reference
class Ref:
    """One Keras optimizer written the plain way: fresh arrays, one formula per line.

    Scalars are cast to the weight's dtype, as Keras's ``ops.cast`` does, and the learning
    rate is first rounded to float32 (Keras keeps it in a float32 Variable).
    """

    def __init__(self, kind, lr, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, **hp):
        self.kind, self.hp = kind, hp
        self.lr = float(np.float32(lr))
        self.wd, self.clipnorm, self.clipvalue, self.gclip = (weight_decay, clipnorm, clipvalue,
                                                              global_clipnorm)
        self.slots = {}
        self.t = 0  # iterations
        self.u_product = 1.0

    def clip(self, grads):
        if self.clipnorm:
            out = []
            for g in grads:
                norm = np.sqrt(np.sum(g.astype(np.float64) ** 2))
                out.append((g * min(1.0, self.clipnorm / norm)).astype(g.dtype) if norm else g)
            return out
        if self.gclip:
            norm = np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in grads))
            return [(g * min(1.0, self.gclip / norm)).astype(g.dtype) for g in grads]
        if self.clipvalue:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def apply(self, weights, grads):
        grads = self.clip(grads)
        if self.kind == "nadam":
            d = weights[0].dtype.type
            b1 = d(self.hp.get("beta_1", 0.9))
            self.u_product = d(self.u_product) * b1 * (1 - d(0.5) * d(0.96) ** d(self.t + 1))
        out = []
        for i, (w, g) in enumerate(zip(weights, grads)):
            c = w.dtype.type
            if self.wd is not None:
                w = w - w * c(self.wd) * c(self.lr)
            out.append(self.step(i, w, g, c))
        self.t += 1
        return out

    def slot(self, i, name, like, value=0.0):
        return self.slots.setdefault((i, name), np.full_like(like, value))

    def step(self, i, w, g, c):
        hp, lr, t = self.hp, c(self.lr), c(self.t + 1)
        kind = self.kind
        if kind == "sgd":
            mu = hp.get("momentum", 0.0)
            if mu == 0:
                return w - lr * g
            m = c(mu) * self.slot(i, "m", w) - lr * g
            self.slots[i, "m"] = m
            return w + (c(mu) * m - lr * g if hp.get("nesterov") else m)
        if kind in ("adam", "adamw"):
            b1, b2 = c(hp.get("beta_1", 0.9)), c(hp.get("beta_2", 0.999))
            m = self.slot(i, "m", w) + (g - self.slot(i, "m", w)) * c(1 - float(b1))
            v = self.slot(i, "v", w) + (g * g - self.slot(i, "v", w)) * c(1 - float(b2))
            self.slots[i, "m"], self.slots[i, "v"] = m, v
            if hp.get("amsgrad"):
                v = np.maximum(self.slot(i, "vhat", w), v)
                self.slots[i, "vhat"] = v
            alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            return w - m * alpha / (np.sqrt(v) + c(hp.get("epsilon", 1e-7)))
        if kind == "rmsprop":
            rho, eps = c(hp.get("rho", 0.9)), c(hp.get("epsilon", 1e-7))
            v = rho * self.slot(i, "v", w) + c(1 - hp.get("rho", 0.9)) * g * g
            self.slots[i, "v"] = v
            if hp.get("centered"):
                a = rho * self.slot(i, "a", w) + c(1 - hp.get("rho", 0.9)) * g
                self.slots[i, "a"] = a
                inc = lr * g / np.sqrt(v - a * a + eps)
            else:
                inc = lr * g / np.sqrt(v + eps)
            if hp.get("momentum", 0.0) > 0:
                mom = c(hp["momentum"]) * self.slot(i, "mom", w) + inc
                self.slots[i, "mom"] = mom
                return w - mom
            return w - inc
        if kind == "adagrad":
            acc = self.slot(i, "acc", w, hp.get("initial_accumulator_value", 0.1)) + g * g
            self.slots[i, "acc"] = acc
            return w - lr * g / np.sqrt(acc + c(hp.get("epsilon", 1e-7)))
        if kind == "adadelta":
            rho, eps = c(hp.get("rho", 0.95)), c(hp.get("epsilon", 1e-7))
            one = c(1 - hp.get("rho", 0.95))
            ag = rho * self.slot(i, "ag", w) + one * g * g
            delta = -np.sqrt(self.slot(i, "ad", w) + eps) * g / np.sqrt(ag + eps)
            self.slots[i, "ag"] = ag
            self.slots[i, "ad"] = rho * self.slot(i, "ad", w) + one * delta * delta
            return w + lr * delta
        if kind == "adamax":
            b1, b2 = c(hp.get("beta_1", 0.9)), c(hp.get("beta_2", 0.999))
            m = self.slot(i, "m", w) + (g - self.slot(i, "m", w)) * c(1 - hp.get("beta_1", 0.9))
            u = np.maximum(b2 * self.slot(i, "u", w), np.abs(g))
            self.slots[i, "m"], self.slots[i, "u"] = m, u
            return w - lr * m / ((1 - b1 ** t) * (u + c(hp.get("epsilon", 1e-7))))
        if kind == "nadam":
            b1, b2 = c(hp.get("beta_1", 0.9)), c(hp.get("beta_2", 0.999))
            u_t = b1 * (1 - c(0.5) * c(0.96) ** t)
            u_next = b1 * (1 - c(0.5) * c(0.96) ** (t + 1))
            prod = c(self.u_product)
            m = self.slot(i, "m", w) + (g - self.slot(i, "m", w)) * (1 - b1)
            v = self.slot(i, "v", w) + (g * g - self.slot(i, "v", w)) * (1 - b2)
            self.slots[i, "m"], self.slots[i, "v"] = m, v
            m_hat = u_next * m / (1 - prod * u_next) + (1 - u_t) * g / (1 - prod)
            v_hat = v / (1 - b2 ** t)
            return w - m_hat * lr / (np.sqrt(v_hat) + c(hp.get("epsilon", 1e-7)))
        if kind == "lion":
            b1, b2 = c(hp.get("beta_1", 0.9)), c(hp.get("beta_2", 0.99))
            m = self.slot(i, "m", w)
            w = w - lr * np.sign(b1 * m + (1 - b1) * g)
            self.slots[i, "m"] = b2 * m + (1 - b2) * g
            return w
        raise AssertionError(kind)


CLASSES = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW,
           "rmsprop": optim.RMSprop, "adagrad": optim.Adagrad, "adadelta": optim.Adadelta,
           "adamax": optim.Adamax, "nadam": optim.Nadam, "lion": optim.Lion}

CASES = [
    ("sgd", {}), ("sgd", {"momentum": 0.9}), ("sgd", {"momentum": 0.8, "nesterov": True}),
    ("sgd", {"momentum": 0.9, "weight_decay": 0.05}), ("sgd", {"clipnorm": 0.5}),
    ("adam", {}), ("adam", {"amsgrad": True}), ("adam", {"beta_1": 0.5, "epsilon": 1e-3}),
    ("adam", {"global_clipnorm": 0.7}), ("adam", {"clipvalue": 0.3, "weight_decay": 0.1}),
    ("adamw", {}), ("adamw", {"weight_decay": 0.2, "amsgrad": True}),
    ("rmsprop", {}), ("rmsprop", {"momentum": 0.9}), ("rmsprop", {"centered": True}),
    ("rmsprop", {"centered": True, "momentum": 0.5, "rho": 0.8}),
    ("adagrad", {}), ("adagrad", {"initial_accumulator_value": 1.0, "clipnorm": 1.0}),
    ("adadelta", {}), ("adadelta", {"rho": 0.5, "weight_decay": 0.01}),
    ("adamax", {}), ("adamax", {"global_clipnorm": 0.5}),
    ("nadam", {}), ("nadam", {"beta_2": 0.9, "clipvalue": 0.5}),
    ("lion", {}), ("lion", {"beta_1": 0.5, "weight_decay": 0.1}),
]


def _ids(case):
    kind, kw = case
    return kind + "".join(f"-{k}={v}" for k, v in kw.items())


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
@settings(max_examples=6)
@given(shape=array_shapes(min_dims=0, max_dims=3, max_side=4),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**32 - 1))
def test_matches_keras_formula(case, shape, dtype, seed):
    kind, kwargs = case
    rng = np.random.default_rng(seed)
    lr = 1.0 if kind == "adadelta" else 0.05
    shapes = [shape, (3,)]
    start = [rng.normal(size=s).astype(dtype) for s in shapes]
    variables = [Variable(a, name=f"v{i}") for i, a in enumerate(start)]
    opt = CLASSES[kind](learning_rate=lr, **kwargs)
    if kind == "adamw":
        kwargs = {"weight_decay": 0.004, **kwargs}  # AdamW's default
    ref = Ref(kind, lr, **kwargs)
    expected = [a.copy() for a in start]
    for _ in range(4):
        grads = [rng.normal(size=s).astype(dtype) for s in shapes]
        opt.apply([Tensor(g) for g in grads], variables)
        expected = ref.apply(expected, grads)
    tol = dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    for v, e in zip(variables, expected):
        assert v.dtype == dtype
        np.testing.assert_allclose(v.numpy(), e, **tol)
    assert int(opt.iterations) == 4


# Final float32 weights printed by real Keras 3.15.1 (KERAS_BACKEND=numpy) for
# w0 = (arange(6) - 2.5) / 4 and the gradient (((arange(6) * (t + 2)) % 7) - 3) / 5 at step t,
# three steps. minikeras reproduces them bit for bit (same formulas, dtype and operation
# order); the test allows 2 ulp so that another C library's powf cannot make it flaky.
KERAS_3_15_GOLDEN = [
    ("SGD", {"momentum": 0.9, "nesterov": True}, [-0.38352999091148376, -0.359609991312027, -0.202689990401268, 0.010929994285106659, 0.4085799753665924, 0.6222000122070312]),  # noqa: E501
    ("Adam", {"amsgrad": True}, [-0.47500163316726685, -0.29580914974212646, -0.2337823361158371, 0.02483588457107544, 0.43110391497612, 0.6515741348266602]),  # noqa: E501
    ("AdamW", {}, [-0.47465670108795166, -0.29559412598609924, -0.2336781769990921, 0.02478490024805069, 0.4308594763278961, 0.651191771030426]),  # noqa: E501
    ("RMSprop", {"centered": True, "momentum": 0.5}, [-0.029662251472473145, -0.2009790539741516, -0.5736662745475769, -0.18235617876052856, 0.5512716770172119, 0.7405984401702881]),  # noqa: E501
    ("Adagrad", {}, [-0.5200207233428955, -0.371844083070755, -0.16953422129154205, 0.07029125094413757, 0.39810675382614136, 0.6261231303215027]),  # noqa: E501
    ("Adadelta", {}, [-0.6207091808319092, -0.37501755356788635, -0.12682116031646729, 0.12308340519666672, 0.3758231997489929, 0.6247371435165405]),  # noqa: E501
    ("Adamax", {}, [-0.4750001132488251, -0.3047976791858673, -0.2185063511133194, 0.038319624960422516, 0.4299405515193939, 0.6439356803894043]),  # noqa: E501
    ("Nadam", {}, [-0.497614324092865, -0.35332363843917847, -0.2036437690258026, 0.05407463759183884, 0.41209307312965393, 0.6340000629425049]),  # noqa: E501
    ("Lion", {}, [-0.47499996423721313, -0.32499998807907104, -0.17499999701976776, 0.07500000298023224, 0.42500001192092896, 0.625]),  # noqa: E501
    ("SGD", {"global_clipnorm": 0.5, "weight_decay": 0.1}, [-0.5719799399375916, -0.3690754175186157, -0.1330990195274353, 0.10331583768129349, 0.37465763092041016, 0.6110724806785583]),  # noqa: E501
]


@pytest.mark.parametrize("name, kwargs, expected", KERAS_3_15_GOLDEN,
                         ids=[_ids((c[0], c[1])) for c in KERAS_3_15_GOLDEN])
def test_same_float32_results_as_keras(name, kwargs, expected):
    w = Variable(((np.arange(6) - 2.5) / 4).astype(np.float32), name="w")
    opt = getattr(optim, name)(learning_rate=1.0 if name == "Adadelta" else 0.05, **kwargs)
    for t in range(3):
        grad = (((np.arange(6) * (t + 2)) % 7 - 3) / 5).astype(np.float32)
        opt.apply([Tensor(grad)], [w])
    np.testing.assert_array_max_ulp(w.numpy(), np.asarray(expected, np.float32), maxulp=2)


# ----------------------------------------------------------------------------- bookkeeping
def _var(values, dtype=np.float32, name="w"):
    return Variable(np.asarray(values, dtype=dtype), name=name)


@pytest.mark.parametrize("kind", sorted(CLASSES))
def test_updates_in_place_and_float32_stays_float32(kind):
    w = _var(np.ones((2, 3)))
    g = Tensor(np.full((2, 3), 0.5, np.float32))
    g_before = g.numpy().copy()
    opt = CLASSES[kind](momentum=0.9) if kind == "sgd" else CLASSES[kind]()
    opt.apply([g], [w])
    buffers = [v.data for v in opt.variables]
    w_buffer = w.data
    opt.apply([g], [w])
    assert w.data is w_buffer
    assert all(v.data is b for v, b in zip(opt.variables, buffers))
    assert w.dtype == np.float32
    assert all(v.dtype == np.float32 for v in opt.variables[1:])
    np.testing.assert_array_equal(g.numpy(), g_before)  # the gradient is left alone
    assert np.all(w.numpy() != 1.0)


def test_iterations_count_updates():
    w = _var([1.0, 2.0])
    opt = optim.SGD()
    assert isinstance(opt.iterations, Variable)
    assert opt.iterations.dtype == np.int64 and int(opt.iterations) == 0
    assert not opt.iterations.trainable
    for i in range(3):
        result = opt.apply_gradients([(Tensor([1.0, 1.0]), w)])
        assert int(opt.iterations) == i + 1
    assert result is opt.iterations
    np.testing.assert_allclose(w.numpy(), [1.0 - 3 * np.float32(0.01), 2.0 - 3 * np.float32(0.01)],
                               rtol=1e-6)


def test_slot_variables_follow_keras_order_and_names():
    kernel, bias = _var(np.ones((2, 2)), name="kernel"), _var(np.ones(2), name="bias")
    kernel.path, bias.path = "dense/kernel", "dense/bias"
    grads = [Tensor(np.ones((2, 2), np.float32)), Tensor(np.ones(2, np.float32))]

    adam = optim.Adam(amsgrad=True)
    adam.apply(grads, [kernel, bias])
    assert [v.name for v in adam.variables] == [
        "iteration", "learning_rate", "dense_kernel_momentum", "dense_kernel_velocity",
        "dense_bias_momentum", "dense_bias_velocity", "dense_kernel_velocity_hat",
        "dense_bias_velocity_hat"]
    assert adam.variables[2].path == "adam/dense_kernel_momentum"
    assert all(not v.trainable for v in adam.variables)

    rms = optim.RMSprop(momentum=0.5, centered=True)
    rms.apply(grads, [kernel, bias])
    assert [v.name for v in rms.variables][2:] == [
        "dense_kernel_velocity", "dense_bias_velocity", "dense_kernel_momentum",
        "dense_bias_momentum", "dense_kernel_average_gradient", "dense_bias_average_gradient"]

    nadam = optim.Nadam()
    nadam.apply(grads, [kernel, bias])
    assert nadam.variables[-1].name == "u_product" and nadam.variables[-1].shape == ()
    assert len(optim.SGD().variables) == 2
    sgd = optim.SGD()
    sgd.apply(grads, [kernel, bias])
    assert len(sgd.variables) == 2  # no momentum, no slots
    adagrad = optim.Adagrad()
    adagrad.build([kernel])
    np.testing.assert_allclose(adagrad.variables[2].numpy(), np.full((2, 2), 0.1))


def test_learning_rate_is_a_float32_variable_and_settable():
    opt = optim.Adam()
    assert isinstance(opt.learning_rate, Variable)
    assert opt.learning_rate.dtype == np.float32
    assert float(opt.learning_rate) == float(np.float32(0.001))
    assert opt.get_config()["learning_rate"] == 0.0010000000474974513
    opt.learning_rate = 0.5
    assert float(opt.learning_rate) == 0.5
    assert opt.variables[1] is opt.learning_rate

    w = _var([1.0])
    sgd = optim.SGD(learning_rate=0.1)
    sgd.apply([Tensor([1.0])], [w])
    sgd.learning_rate = 0.2
    sgd.apply([Tensor([1.0])], [w])
    np.testing.assert_allclose(w.numpy(), [1.0 - 0.1 - 0.2], rtol=1e-6)
    with pytest.raises(ValueError, match="`learning_rate` should be float"):
        optim.SGD(learning_rate="fast")


def test_schedule_as_learning_rate():
    schedule = schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    opt = optim.SGD(learning_rate=schedule)
    assert [v.name for v in opt.variables] == ["iteration"]  # no learning-rate variable
    w = _var([0.0])
    for step in range(3):
        assert float(opt.learning_rate) == pytest.approx(0.1 * 0.5 ** step)
        opt.apply([Tensor([1.0])], [w])
    np.testing.assert_allclose(w.numpy(), [-(0.1 + 0.05 + 0.025)], rtol=1e-6)
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.1
    # a plain function of no arguments is called at every step
    fn_opt = optim.SGD(learning_rate=lambda: 0.25)
    v = _var([0.0])
    fn_opt.apply([Tensor([1.0])], [v])
    np.testing.assert_allclose(v.numpy(), [-0.25])


def test_schedule_drives_weight_decay_too():
    schedule = schedules.PiecewiseConstantDecay([0], [0.5, 0.1])
    opt = optim.SGD(learning_rate=schedule, weight_decay=0.5)
    w = _var([2.0])
    opt.apply([Tensor([0.0])], [w])  # step 0: lr 0.5 -> w = 2 - 2*0.5*0.5
    np.testing.assert_allclose(w.numpy(), [1.5])
    opt.apply([Tensor([0.0])], [w])  # step 1: lr 0.1
    np.testing.assert_allclose(w.numpy(), [1.5 - 1.5 * 0.5 * 0.1], rtol=1e-6)


def test_none_gradients_skip_their_variable():
    a, b = _var([1.0], name="a"), _var([1.0], name="b")
    opt = optim.SGD(learning_rate=0.5)
    with pytest.warns(UserWarning, match=r"Gradients do not exist for variables \['b'\]"):
        opt.apply([Tensor([1.0]), None], [a, b])
    np.testing.assert_allclose(a.numpy(), [0.5])
    np.testing.assert_allclose(b.numpy(), [1.0])
    assert int(opt.iterations) == 1
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        opt.apply([None, None], [a, b])
    assert int(opt.iterations) == 1


def test_gradients_as_arrays_lists_and_other_dtypes():
    w = _var([1.0, 1.0])
    opt = optim.SGD(learning_rate=0.5)
    opt.apply([np.array([1.0, 2.0])], [w])  # a float64 array for a float32 weight
    opt.apply([[1.0, 0.0]], [w])
    assert w.dtype == np.float32
    np.testing.assert_allclose(w.numpy(), [0.0, 0.0])


def test_clipping():
    a, b = _var([3.0, 4.0], name="a"), _var([0.0], name="b")
    opt = optim.SGD(learning_rate=1.0, clipnorm=1.0)
    opt.apply([Tensor([3.0, 4.0]), Tensor([0.5])], [a, b])
    np.testing.assert_allclose(a.numpy(), [3.0 - 0.6, 4.0 - 0.8], rtol=1e-6)
    np.testing.assert_allclose(b.numpy(), [-0.5])  # norm below 1: unchanged

    a, b = _var([0.0, 0.0], name="a"), _var([0.0], name="b")
    opt = optim.SGD(learning_rate=1.0, global_clipnorm=1.0)
    opt.apply([Tensor([3.0, 0.0]), Tensor([4.0])], [a, b])  # joint norm 5
    np.testing.assert_allclose(a.numpy(), [-0.6, 0.0], rtol=1e-6)
    np.testing.assert_allclose(b.numpy(), [-0.8], rtol=1e-6)

    a = _var([0.0, 0.0])
    opt = optim.SGD(learning_rate=1.0, clipvalue=0.5)
    opt.apply([Tensor([3.0, -0.25])], [a])
    np.testing.assert_allclose(a.numpy(), [-0.5, 0.25])

    z = _var([1.0])
    optim.SGD(learning_rate=1.0, clipnorm=1.0).apply([Tensor([0.0])], [z])  # zero norm
    optim.SGD(learning_rate=1.0, global_clipnorm=1.0).apply([Tensor([0.0])], [z])
    np.testing.assert_array_equal(z.numpy(), [1.0])


def test_exclude_from_weight_decay():
    kernel, bias, other = _var([1.0], name="kernel"), _var([1.0], name="bias"), _var([1.0])
    opt = optim.SGD(learning_rate=0.5, weight_decay=1.0)
    opt.exclude_from_weight_decay(var_list=[other], var_names=["bias"])
    zero = [Tensor([0.0])] * 3
    opt.apply(zero, [kernel, bias, other])
    np.testing.assert_allclose(kernel.numpy(), [0.5])
    np.testing.assert_allclose(bias.numpy(), [1.0])
    np.testing.assert_allclose(other.numpy(), [1.0])
    with pytest.raises(ValueError, match="before the optimizer is built"):
        opt.exclude_from_weight_decay(var_names=["kernel"])


def test_gradient_accumulation_updates_every_n_calls():
    w = _var([0.0])
    opt = optim.SGD(learning_rate=1.0, gradient_accumulation_steps=2)
    opt.apply([Tensor([1.0])], [w])
    np.testing.assert_array_equal(w.numpy(), [0.0])
    assert int(opt.iterations) == 0
    opt.apply([Tensor([3.0])], [w])
    np.testing.assert_allclose(w.numpy(), [-2.0])  # the mean of 1 and 3
    assert int(opt.iterations) == 1


def test_exponential_moving_average_of_weights():
    w = _var([0.0])
    opt = optim.SGD(learning_rate=1.0, use_ema=True, ema_momentum=0.5)
    opt.apply([Tensor([-1.0])], [w])  # w = 1; first step: average = w
    opt.apply([Tensor([-1.0])], [w])  # w = 2; average = 0.5 * 1 + 0.5 * 2
    np.testing.assert_allclose(w.numpy(), [2.0])
    opt.finalize_variable_values([w])
    np.testing.assert_allclose(w.numpy(), [1.5])


def test_loss_scale_factor_unscales_gradients():
    w = _var([0.0])
    opt = optim.SGD(learning_rate=1.0, loss_scale_factor=4.0)
    assert float(opt.scale_loss(Tensor(2.0))) == 8.0
    opt.apply([Tensor([8.0])], [w])
    np.testing.assert_allclose(w.numpy(), [-2.0])


def test_constraints_run_after_the_update():
    w = _var([0.0, 0.0])
    w.constraint = lambda v: ops.maximum(v, 0.0)  # e.g. keras.constraints.NonNeg
    optim.SGD(learning_rate=1.0).apply([Tensor([1.0, -1.0])], [w])
    np.testing.assert_allclose(w.numpy(), [0.0, 1.0])


def test_a_keras_style_custom_optimizer():
    class SignSGD(optim.Optimizer):
        def __init__(self, learning_rate=0.1, **kwargs):
            super().__init__(learning_rate=learning_rate, **kwargs)

        def build(self, var_list):
            if self.built:
                return
            super().build(var_list)
            self.counts = [self.add_variable_from_reference(v, "count") for v in var_list]

        def update_step(self, gradient, variable, learning_rate):
            lr = ops.cast(learning_rate, variable.dtype)
            self.assign_sub(variable, ops.multiply(ops.sign(gradient), lr))
            self.assign_add(self.counts[self._get_variable_index(variable)], 1.0)

    w = _var([1.0, 1.0])
    opt = SignSGD()
    assert opt.name == "sign_sgd"
    opt.apply([Tensor([3.0, -0.5])], [w])
    np.testing.assert_allclose(w.numpy(), [0.9, 1.1], rtol=1e-6)
    np.testing.assert_allclose(opt.variables[-1].numpy(), [1.0, 1.0])


def test_add_variable_with_a_named_initializer():
    opt = optim.SGD()
    glorot = opt.add_variable((30, 20), initializer="glorot_uniform", name="kernel")
    limit = np.sqrt(6.0 / (30 + 20))
    values = glorot.numpy()
    assert values.shape == (30, 20) and values.dtype == np.float32
    assert np.all(np.abs(values) <= limit) and values.std() > limit / 4
    assert glorot.path == "SGD/kernel" and any(v is glorot for v in opt.variables)
    ones = opt.add_variable((2,), initializer="ones")
    np.testing.assert_array_equal(ones.numpy(), [1.0, 1.0])
    with pytest.raises(ValueError, match="unknown_init"):
        opt.add_variable((2,), initializer="unknown_init")


# ----------------------------------------------------------------------------- errors
def test_only_one_clip_option():
    with pytest.raises(ValueError, match="Only one of `clipnorm`, `clipvalue` and "
                                         "`global_clipnorm` can be set. Received: clipnorm=1.0, "
                                         "clipvalue=0.5, global_clipnorm=None"):
        optim.Adam(clipnorm=1.0, clipvalue=0.5)
    with pytest.raises(ValueError, match="Only one of"):
        optim.SGD(clipnorm=1.0, global_clipnorm=1.0)


def test_wrong_lengths_and_unknown_variables():
    a, b = _var([1.0], name="a"), _var([1.0], name="b")
    opt = optim.Adam()
    with pytest.raises(ValueError, match="received 1 gradients for 2 variables"):
        opt.apply([Tensor([1.0])], [a, b])
    with pytest.raises(ValueError, match="must already be built"):
        opt.apply([Tensor([1.0])])
    opt.apply([Tensor([1.0]), Tensor([1.0])], [a, b])
    opt.apply([Tensor([1.0]), Tensor([1.0])])  # the variables it was built with
    with pytest.raises(ValueError, match="Received a list of 1 gradients, but the optimizer is "
                                         "tracking 2 trainable variables"):
        opt.apply([Tensor([1.0])])
    with pytest.raises(ValueError, match="Unknown variable"):
        opt.apply([Tensor([1.0])], [_var([1.0], name="c")])
    with pytest.raises(ValueError, match=r"gradient for variable 'a' has shape \(2,\), "
                                         r"expected \(1,\)"):
        opt.apply([Tensor([1.0, 2.0]), Tensor([1.0])], [a, b])
    with pytest.raises(ValueError, match=r"\(gradient, variable\) pairs"):
        opt.apply_gradients([Tensor([1.0])])
    with pytest.raises(TypeError, match="can only update minikeras Variables"):
        optim.SGD().apply([np.ones(1)], [np.ones(1)])


def test_argument_errors():
    with pytest.raises(ValueError, match=r"Argument\(s\) not recognized: \{'lr': 0.1\}.*"
                                         "learning_rate"):
        optim.Adam(lr=0.1)
    with pytest.raises(ValueError, match="`weight_decay` must be a float"):
        optim.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="`momentum` must be a float between"):
        optim.SGD(momentum=1.5)
    with pytest.raises(ValueError, match="`beta_1` must be in the"):
        optim.Lion(beta_1=0.0)
    with pytest.raises(ValueError, match="`gradient_accumulation_steps` must be an integer >= 2"):
        optim.SGD(gradient_accumulation_steps=1)
    with pytest.warns(UserWarning, match="`decay` is no longer supported"):
        optim.SGD(decay=0.1)


# ----------------------------------------------------------------------------- get and config
def test_get_resolves_names_with_keras_defaults():
    adam = optim.get("adam")
    assert isinstance(adam, optim.Adam) and adam.name == "adam"
    assert float(adam.learning_rate) == pytest.approx(0.001)
    assert (adam.beta_1, adam.beta_2, adam.epsilon, adam.amsgrad) == (0.9, 0.999, 1e-7, False)
    sgd = optim.get("SGD")
    assert float(sgd.learning_rate) == pytest.approx(0.01) and sgd.momentum == 0.0
    assert not sgd.nesterov and sgd.name == "SGD"
    rms = optim.get("rmsprop")
    assert (rms.rho, rms.momentum, rms.epsilon, rms.centered) == (0.9, 0.0, 1e-7, False)
    assert optim.get("adamw").weight_decay == 0.004
    assert optim.get("adagrad").initial_accumulator_value == 0.1
    assert optim.get("adadelta").rho == 0.95
    lion = optim.get("lion")
    assert (lion.beta_1, lion.beta_2) == (0.9, 0.99)
    for name in ("adamax", "nadam"):
        opt = optim.get(name)
        assert (opt.beta_1, opt.beta_2, opt.epsilon) == (0.9, 0.999, 1e-7)
        assert float(opt.learning_rate) == pytest.approx(0.001)
    assert optim.get(adam) is adam and optim.get(None) is None
    assert isinstance(optim.get({"class_name": "SGD", "config": {"momentum": 0.5}}), optim.SGD)
    with pytest.raises(ValueError, match="Unknown optimizer: 'adamm'. Valid names: adadelta, "
                                         "adagrad, adam, adamax, adamw, lion, nadam, rmsprop, sgd"):
        optim.get("adamm")
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier"):
        optim.get(42)


@pytest.mark.parametrize("kind", sorted(CLASSES))
def test_config_round_trip(kind):
    opt = CLASSES[kind](learning_rate=0.25, clipnorm=2.0)
    config = opt.get_config()
    assert config["learning_rate"] == 0.25 and config["clipnorm"] == 2.0
    again = type(opt).from_config(config)
    assert again.get_config() == config
    restored = optim.deserialize(optim.serialize(opt))
    assert type(restored) is type(opt) and restored.get_config() == config


def test_config_with_a_schedule():
    schedule = schedules.CosineDecay(0.1, 100, alpha=0.1)
    opt = optim.Adam(learning_rate=schedule)
    config = opt.get_config()
    assert config["learning_rate"] == {
        "module": "keras.optimizers.schedules", "class_name": "CosineDecay",
        "config": schedule.get_config(), "registered_name": None}
    again = optim.Adam.from_config(config)
    assert isinstance(again._learning_rate, schedules.CosineDecay)
    assert again._learning_rate.get_config() == schedule.get_config()


def test_auto_names_and_save_load_state():
    first, second = optim.Adagrad(), optim.Adagrad()
    assert first.name.startswith("adagrad") and second.name != first.name
    assert optim.AdamW().name.startswith("adam_w")
    w = _var([1.0, 2.0])
    opt = optim.Adam()
    opt.apply([Tensor([1.0, 1.0])], [w])
    store = {}
    opt.save_own_variables(store)
    assert sorted(store) == ["0", "1", "2", "3"] and store["0"] == 1
    fresh = optim.Adam()
    fresh.build([w])
    fresh.load_own_variables(store)
    for a, b in zip(opt.variables, fresh.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.warns(UserWarning, match="Skipping variable loading"):
        optim.Adam().load_own_variables(store)


# ----------------------------------------------------------------------------- convergence
@pytest.mark.parametrize("kind", sorted(CLASSES))
def test_minimises_a_quadratic(kind):
    lr = {"sgd": 0.1, "adadelta": 1.0, "lion": 0.01}.get(kind, 0.05)
    target = np.array([1.0, -2.0, 0.5], np.float32)
    w = Variable(np.zeros(3, np.float32), name="w")
    opt = CLASSES[kind](learning_rate=lr)

    def loss_value():
        return ops.sum(ops.square(w - target))

    first = float(loss_value())
    for _ in range(50):
        with mk.GradientTape() as tape:
            loss = loss_value()
        opt.apply_gradients(zip(tape.gradient(loss, [w]), [w]))
    last = float(loss_value())
    # Adadelta starts with steps of about lr * sqrt(epsilon): it only creeps at first
    assert last < (0.95 if kind == "adadelta" else 0.5) * first, (kind, first, last)


def test_an_update_inside_an_open_tape_records_nothing():
    w = Variable(np.ones(2, np.float32), name="w")
    w.constraint = lambda v: ops.maximum(v, 0.0)  # ops run by the optimizer, too
    opt = optim.Adam()
    with mk.GradientTape(persistent=True) as tape:
        loss = ops.sum(ops.square(w))
        grads = tape.gradient(loss, [w])
        recorded = len(tape.nodes)
        opt.apply(grads, [w])
        assert len(tape.nodes) == recorded
    assert w.is_leaf and int(opt.iterations) == 1
