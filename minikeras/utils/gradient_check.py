"""Check the tape's gradients against finite differences.

For a function f of some inputs, the *analytic* gradient comes from the tape (each op's
``backward``). The *numeric* gradient nudges one input element at a time::

    df/dx[j] ≈ (f(x + ε·e_j) - f(x - ε·e_j)) / (2ε)        (central difference)

whose error shrinks like ε², and which needs nothing but the forward pass. Everything runs in
float64, where ε = 1e-6 leaves both the truncation error (≈ε²) and the rounding error
(≈1e-16/ε) far below the tolerance.

When f returns a tensor rather than a scalar, both sides check the scalar ``Σ f(x)·r`` for a
fixed random ``r``: a random direction catches a wrong entry anywhere in the Jacobian.

``order=2`` checks second derivatives: the function checked is then x ↦ Σ (df/dx)·r', whose
gradient the tape computes by recording its own backward pass (nested GradientTapes).

``check_gradients(model, x, y)`` checks a whole model: the loss's gradient with respect to
each trainable weight, the model switched to float64 for the time of the check.
"""
import contextlib
import copy

import numpy as np

from .. import backend, losses, ops
from ..autograd import GradientTape
from ..layers.layer import Layer
from ..tensor import Tensor


class GradientCheckReport:
    """The result of :func:`check_gradients`: ``ok``, ``errors`` (the worst relative error
    per checked input, or None for inputs not checked) and a readable ``str()``."""

    def __init__(self, name, rows, tolerance, order):
        self.name, self.rows, self.tolerance, self.order = name, rows, tolerance, order

    @property
    def ok(self):
        return all(r["ok"] for r in self.rows if r["checked"])

    @property
    def errors(self):
        return [r["error"] if r["checked"] else None for r in self.rows]

    def __bool__(self):
        return self.ok

    def __str__(self):
        what = "gradient" if self.order == 1 else "second derivative"
        lines = [f"{what} check of {self.name}: {'ok' if self.ok else 'FAILED'} "
                 f"(tolerance {self.tolerance:g} on |analytic - numeric| / max(1, |numeric|))"]
        for i, r in enumerate(self.rows):
            head = f"  {r.get('name', f'input {i}')} shape {r['shape']} {r['dtype']}:"
            if not r["checked"]:
                lines.append(f"{head} not checked ({r['why']})")
                continue
            if r["error"] is None:
                lines.append(f"{head} empty")
                continue
            mark = "ok" if r["ok"] else "MISMATCH"
            sampled = f" ({r['sampled']} elements checked)" if r.get("sampled") else ""
            lines.append(f"{head} worst error {r['error']:.2e} at index {r['index']}: "
                         f"analytic {r['analytic']:.8g}, numeric {r['numeric']:.8g}  {mark}"
                         f"{sampled}")
        return "\n".join(lines)

    __repr__ = __str__


def _to_float64(x):
    if isinstance(x, Tensor):
        x = x.numpy()
    a = np.asarray(x)
    return a.astype(np.float64) if a.dtype.kind == "f" else a


def _scalarize(y, projection):
    """Σ y·r: one scalar that depends on every element of y (y itself if it has one)."""
    if projection is None:
        return _sum(y)
    return _sum(y * Tensor(projection))


def _sum(t):
    return ops.sum(t)


def _derivative_function(fn, checked, rng):
    """x ↦ Σ_i Σ (df/dx_i)·r_i, differentiable again because the inner backward is recorded
    by the outer tape."""
    state = {}

    def g(*xs):
        with GradientTape() as tape:
            ts = [x for x in xs]
            tape.watch([ts[i] for i in checked])
            y = fn(*ts)
            if "out" not in state:
                state["out"] = rng.standard_normal(y.shape) if y.size != 1 else None
            loss = _sum(y * Tensor(state["out"])) if state["out"] is not None else _sum(y)
        grads = tape.gradient(loss, [ts[i] for i in checked], unconnected_gradients="zero")
        if "r" not in state:
            state["r"] = [rng.standard_normal(ts[i].shape) for i in checked]
        total = None
        for gi, ri in zip(grads, state["r"]):
            term = _sum(gi * Tensor(ri))
            total = term if total is None else total + term
        return total
    return g


def check_gradients(fn, *inputs, eps=1e-6, tolerance=1e-5, order=1, seed=0, raise_on_failure=False,
                    loss=None, training=False, max_checks=1000):
    """Compare the tape's gradient of ``fn(*inputs)`` with central finite differences.

    ``fn`` may be a built model (or layer): ``check_gradients(model, x, y, loss=None)``
    checks the loss's gradient with respect to each trainable weight (see
    :func:`check_model_gradients`). ``inputs``: arrays, lists or Tensors. Float inputs are checked, in float64; integer
    inputs (indices, labels) are passed through unchanged. Returns a
    :class:`GradientCheckReport`; with ``raise_on_failure=True`` a failed check raises an
    AssertionError carrying the report. Example::

        >>> from minikeras import ops
        >>> report = check_gradients(lambda a, b: ops.sum(a * b), [1.0, 2.0], [3.0, 4.0])
        >>> report.ok
        True
    """
    if isinstance(fn, Layer):
        if len(inputs) != 2:
            raise TypeError(f"check_gradients(model, x, y): a model is checked on one batch x "
                            f"and its targets y; got {len(inputs)} data argument(s).")
        return check_model_gradients(fn, *inputs, loss=loss, training=training, eps=eps,
                                     tolerance=tolerance, max_checks=max_checks, seed=seed,
                                     raise_on_failure=raise_on_failure)
    if loss is not None:
        raise TypeError("check_gradients(fn, *inputs): loss= is for a model; for a function, "
                        "compute the loss inside fn.")
    if backend.xp is not np and backend.mode == "cuda":
        raise RuntimeError("check_gradients runs on the host: use the numpy backend (or the "
                           "CUDA simulator) for gradient checks.")
    rng = np.random.default_rng(seed)
    arrays = [_to_float64(x) for x in inputs]
    checked = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    name = getattr(fn, "__name__", "function")
    if order == 2:
        fn = _derivative_function(fn, checked, rng)
    elif order != 1:
        raise ValueError(f"check_gradients: order must be 1 or 2, got {order}.")

    # analytic: one backward pass through the tape
    tensors = [Tensor(a, requires_grad=(i in checked)) for i, a in enumerate(arrays)]
    with GradientTape() as tape:
        y = fn(*tensors)
        if not isinstance(y, Tensor):
            raise TypeError(f"check_gradients: {name} must return a Tensor, got {type(y).__name__}.")
        projection = None if y.size == 1 else rng.standard_normal(y.shape)
        scalar = _scalarize(y, projection)
    analytic = tape.gradient(scalar, [tensors[i] for i in checked], unconnected_gradients="zero")
    analytic = dict(zip(checked, (g.numpy().astype(np.float64) for g in analytic)))

    def f(values):
        ts = [Tensor(v) for v in values]
        return float(_scalarize(fn(*ts), projection).numpy().reshape(()))

    rows = []
    for i, a in enumerate(arrays):
        row = {"shape": a.shape, "dtype": a.dtype, "checked": i in checked, "why": "not a float input"}
        if i in checked:
            numeric = np.zeros_like(a)
            values = [b.copy() for b in arrays]
            x = values[i]
            for j in np.ndindex(a.shape):
                old = x[j]
                x[j] = old + eps
                up = f(values)
                x[j] = old - eps
                down = f(values)
                x[j] = old
                numeric[j] = (up - down) / (2 * eps)
            err = np.abs(analytic[i] - numeric) / np.maximum(1.0, np.abs(numeric))
            if err.size:
                k = np.unravel_index(int(np.argmax(err)), err.shape)
                row.update(error=float(err[k]), index=tuple(int(v) for v in k),
                           analytic=float(analytic[i][k]), numeric=float(numeric[k]),
                           ok=bool(err[k] <= tolerance))
            else:
                row.update(error=None, ok=True)
        rows.append(row)
    report = GradientCheckReport(name, rows, tolerance, order)
    if raise_on_failure and not report.ok:
        raise AssertionError(str(report))
    return report


def check_layer_gradients(layer, *inputs, training=False, eps=1e-6, tolerance=1e-5, seed=0,
                          raise_on_failure=False):
    """Gradient check of a layer with respect to its inputs **and its trainable weights**.

    The layer should compute in float64 (``dtype="float64"``); it is built on the first call.
    Each weight is nudged in place, element by element, and put back. Returns a
    :class:`GradientCheckReport` whose rows are the inputs, then the weights (named by
    ``weight.path``)."""
    rng = np.random.default_rng(seed)
    arrays = [_to_float64(x) for x in inputs]
    xs = [Tensor(a) for a in arrays]
    layer(*xs, training=training)  # build
    weights = layer.trainable_weights
    with GradientTape() as tape:
        tape.watch([x for x in xs if x.dtype.kind == "f"])
        y = layer(*xs, training=training)
        projection = None if y.size == 1 else rng.standard_normal(y.shape)
        scalar = _scalarize(y, projection)
    sources = [x for x in xs if x.dtype.kind == "f"] + list(weights)
    analytic = [g.numpy().astype(np.float64) for g in
                tape.gradient(scalar, sources, unconnected_gradients="zero")]

    def f():
        with_values = [Tensor(a) for a in arrays]
        return float(_scalarize(layer(*with_values, training=training), projection).numpy())

    rows = []
    for k, target in enumerate(sources):
        is_input = k < len(sources) - len(weights)
        buf = arrays[k] if is_input else target.data
        numeric = np.zeros(buf.shape)
        for j in np.ndindex(buf.shape):
            old = buf[j]
            buf[j] = old + eps
            up = f()
            buf[j] = old - eps
            down = f()
            buf[j] = old
            numeric[j] = (up - down) / (2 * eps)
        err = np.abs(analytic[k] - numeric) / np.maximum(1.0, np.abs(numeric))
        row = {"shape": buf.shape, "dtype": buf.dtype, "checked": True,
               "name": "input" if is_input else target.path}
        if err.size:
            i = np.unravel_index(int(np.argmax(err)), err.shape)
            row.update(error=float(err[i]), index=tuple(int(v) for v in i),
                       analytic=float(analytic[k][i]), numeric=float(numeric[i]),
                       ok=bool(err[i] <= tolerance))
        else:
            row.update(error=None, ok=True)
        rows.append(row)
    report = GradientCheckReport(f"layer {layer.name}", rows, tolerance, 1)
    if raise_on_failure and not report.ok:
        raise AssertionError(str(report))
    return report


def check_model_gradients(model, x, y, loss=None, training=False, eps=1e-6, tolerance=1e-5,
                          max_checks=1000, seed=0, raise_on_failure=False):
    """Gradient check of a built model's loss on one batch with respect to each trainable
    weight, in float64.

    ``loss``: a loss name, object or function; None takes the loss given to ``compile``.
    The regularization losses of the layers are added, as in ``fit``. ``training=False``
    keeps dropout and noise layers still (a random forward cannot be differentiated by
    finite differences). Each weight is nudged in place, element by element; a weight of
    more than ``max_checks`` elements is checked at that many random elements. The model
    gets its own weights and dtypes back afterwards. Returns a :class:`GradientCheckReport`
    with one row per weight (``weight.path``, shape, worst relative error and its index)."""
    if not getattr(model, "built", False):
        raise ValueError(f"check_gradients(): the model {model.name!r} has not yet been built, "
                         "so it has no weights to check. Build it first by calling `build()` "
                         "or by calling the model on a batch of data.")
    spec = loss if loss is not None else getattr(model, "loss", None)
    if spec is None:
        raise ValueError("check_gradients(model, x, y): no loss to differentiate. Pass "
                         "loss=... (a name such as \"mse\", a Loss or a function) or compile "
                         "the model with a loss.")
    weights = model.trainable_weights
    if not weights:
        raise ValueError(f"check_gradients(): the model {model.name!r} has no trainable weight "
                         "to check.")
    rng = np.random.default_rng(seed)
    with _in_float64(model):
        xs, ys = _to_float64(x), _to_float64(y)
        loss_fn = _float64_loss(spec, ys.shape, model(Tensor(xs), training=training).shape)

        def f():
            total = loss_fn(Tensor(ys), model(Tensor(xs), training=training))
            for extra in model.losses:
                total = total + extra
            return total

        with GradientTape() as tape:
            value = f()
        analytic = [g.numpy() for g in tape.gradient(value, weights, unconnected_gradients="zero")]
        rows = []
        for w, grad in zip(weights, analytic):
            buf = w.data
            cells = list(np.ndindex(buf.shape))
            if len(cells) > max_checks:
                cells = [cells[i] for i in sorted(rng.choice(len(cells), max_checks, replace=False))]
            numeric = {}
            for j in cells:
                old = buf[j]
                buf[j] = old + eps
                up = float(f().numpy())
                buf[j] = old - eps
                down = float(f().numpy())
                buf[j] = old
                numeric[j] = (up - down) / (2 * eps)
            rows.append(_worst_row(w.path, buf, grad, numeric, tolerance))
            if len(cells) < buf.size:
                rows[-1]["sampled"] = len(cells)
    report = GradientCheckReport(f"model {model.name}", rows, tolerance, 1)
    if raise_on_failure and not report.ok:
        raise AssertionError(str(report))
    return report


def _worst_row(name, buf, analytic, numeric, tolerance):
    """The report's row of one weight: the worst relative error over the checked cells."""
    row = {"name": name, "shape": buf.shape, "dtype": buf.dtype, "checked": True,
           "error": None, "ok": True}
    errors = {j: abs(analytic[j] - n) / max(1.0, abs(n)) for j, n in numeric.items()}
    if errors:
        k = max(errors, key=errors.get)
        row.update(error=float(errors[k]), index=tuple(int(i) for i in k),
                   analytic=float(analytic[k]), numeric=float(numeric[k]),
                   ok=bool(errors[k] <= tolerance))
    return row


def _float64_loss(spec, y_shape, pred_shape):
    """The Loss ``compile(loss=spec)`` would use, as a copy that computes in float64."""
    fn = copy.copy(losses.get_loss(spec, tuple(y_shape), tuple(pred_shape)))
    fn._dtype = "float64"
    return fn


@contextlib.contextmanager
def _in_float64(model):
    """For the time of the block, every layer of ``model`` computes in float64 on float64
    copies of its weights; afterwards the layers get their dtypes and their very arrays
    back."""
    if backend.xp is not np and backend.mode == "cuda":
        raise RuntimeError("check_gradients runs on the host: use the numpy backend (or the "
                           "CUDA simulator) for gradient checks.")
    layers = [model] + model._all_layers()
    dtypes = [layer.dtype for layer in layers]
    arrays = [(w, w.data) for w in model.weights]
    try:
        for layer in layers:
            layer.dtype = "float64"
        for w, data in arrays:
            if data.dtype.kind == "f":
                w.data = data.astype(np.float64)
        yield
    finally:
        for layer, dtype in zip(layers, dtypes):
            layer.dtype = dtype
        for w, data in arrays:
            w.data = data
