"""Layer health during training: ``model.fit(..., callbacks=[debug.LayerHealth(every=10)])``.

Every ``every`` batches the callback writes down, for each layer of the model:

* the mean and the standard deviation of the layer's output on that batch;
* its saturation, for layers whose activation has a limit: the share of tanh units
  within 0.01 of ±1, of sigmoid units within 0.01 of 0 or 1, and of ReLU units that are
  dead (zero for every sample of the batch). A saturated unit passes almost no gradient;
* for each trainable weight, the norm of its gradient, its own norm, and the
  update:weight ratio (the norm of the step the optimizer took over the weight's norm;
  about 1e-3 is the usual rule of thumb, much less learns nothing, much more is unstable).

To see those numbers, the callback wraps each layer's ``call`` and the optimizer's
``apply_gradients`` while ``fit`` runs, and takes the wrappers off at the end: a model
trained without it runs exactly as before. The records are in ``health.history``, one
dict per layer and recorded batch; with ``verbose=1`` a table is printed at each epoch's
end; ``debug.plot_layer_health(health)`` draws them.
"""
import functools

import numpy as np

from .. import backend
from ..callbacks import Callback
from ..layers.input_layer import InputLayer
from ..layers.structure import flatten
from ..tensor import Tensor

__all__ = ["LayerHealth"]

NEAR = 0.01   # how close to its limit a unit counts as saturated


class LayerHealth(Callback):
    """Record activation statistics, gradient and weight norms and update:weight ratios per
    layer every ``every`` training batches (see the module docstring).

    ``history``: a list of dicts, one per layer and recorded batch, with ``epoch``,
    ``batch``, ``step`` (batches since training began), ``layer``, ``mean``, ``std``,
    ``saturation`` (a share, or None for a layer without a bounded activation),
    ``saturation_kind`` ("dead relu", "tanh near ±1", "sigmoid near 0/1" or None) and
    ``weights``: a list of ``{"name", "grad_norm", "weight_norm", "update_ratio"}`` (the
    ratio None for a weight that was all zeros, a fresh bias)."""

    def __init__(self, every=1, verbose=1):
        super().__init__()
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise ValueError(f"LayerHealth(every=...) takes a whole number of batches, 1 or "
                             f"more; got {every!r}. every=10 records one batch in ten.")
        self.every, self.verbose = every, verbose
        self.history = []
        self._step, self._epoch, self._recording = 0, 0, False
        self._outputs, self._weights, self._undo = {}, {}, []

    # ---------------------------------------------------------------- attach and detach
    def on_train_begin(self, logs=None):
        model = self.model
        self._layers = [layer for layer in model.layers if not isinstance(layer, InputLayer)]
        for layer in self._layers:
            self._wrap(layer, "call", self._watch_call(layer))
        self._wrap(model.optimizer, "apply_gradients", self._watch_update(model.optimizer))

    def on_train_end(self, logs=None):
        for obj, name, had_own, old in reversed(self._undo):
            if had_own:
                setattr(obj, name, old)
            else:
                delattr(obj, name)
        self._undo = []

    def _wrap(self, obj, name, wrapper):
        """Put ``wrapper`` on ``obj`` as an instance attribute (over the class's method)."""
        had_own = name in vars(obj)
        self._undo.append((obj, name, had_own, vars(obj).get(name)))
        setattr(obj, name, wrapper)

    def _watch_call(self, layer):
        original = layer.call

        @functools.wraps(original)
        def call(*args, **kwargs):
            out = original(*args, **kwargs)
            if self._recording:
                first = next((t for t in flatten(out) if isinstance(t, Tensor)
                              and t.dtype.kind in "fiu"), None)
                if first is not None:
                    self._outputs[id(layer)] = backend.to_numpy(first.data)
            return out
        return call

    def _watch_update(self, optimizer):
        original = optimizer.apply_gradients

        @functools.wraps(original)
        def apply_gradients(grads_and_vars):
            pairs = list(grads_and_vars)
            if not self._recording:
                return original(pairs)
            before = {id(v): backend.to_numpy(v.data).astype(np.float64) for _, v in pairs}
            result = original(pairs)
            for g, v in pairs:
                old = before[id(v)]
                grad = None if g is None else backend.to_numpy(
                    g.data if isinstance(g, Tensor) else g).astype(np.float64)
                norm = float(np.linalg.norm(old))
                step = float(np.linalg.norm(backend.to_numpy(v.data).astype(np.float64) - old))
                self._weights[id(v)] = {
                    "name": v.path, "grad_norm": None if grad is None else float(np.linalg.norm(grad)),
                    "weight_norm": norm, "update_ratio": step / norm if norm else None}
            return result
        return apply_gradients

    # ---------------------------------------------------------------- recording
    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        self._recording = self._step % self.every == 0
        self._outputs, self._weights = {}, {}

    def on_train_batch_end(self, batch, logs=None):
        if self._recording:
            for layer in self._layers:
                self.history.append(self._record(layer, batch))
        self._recording = False
        self._step += 1

    def _record(self, layer, batch):
        a = self._outputs.get(id(layer))
        kind, share = _saturation(layer, a)
        return {"epoch": self._epoch, "batch": batch, "step": self._step, "layer": layer.name,
                "mean": None if a is None else float(a.mean()),
                "std": None if a is None else float(a.std()),
                "saturation": share, "saturation_kind": kind,
                "weights": [self._weights[id(w)] for w in layer.trainable_weights
                            if id(w) in self._weights]}

    def on_epoch_end(self, epoch, logs=None):
        if self.verbose:
            print(self.table(epoch))

    # ---------------------------------------------------------------- the table
    def table(self, epoch=None):
        """The last record of each layer (in ``epoch``, or the last epoch), as text."""
        rows = [r for r in self.history if epoch is None or r["epoch"] == epoch]
        if not rows:
            return "LayerHealth: nothing recorded yet."
        epoch = rows[-1]["epoch"]
        last = {}
        for r in rows:
            if r["epoch"] == epoch:
                last[r["layer"]] = r
        step = max(r["step"] for r in last.values())
        lines = [f"layer health, epoch {epoch + 1} (batch {step + 1} of training):",
                 f"{'layer':<16} {'act mean':>9} {'act std':>9} {'saturated':<22} "
                 f"{'weight':<22} {'grad norm':>10} {'weight norm':>11} {'update/weight':>13}"]
        for r in last.values():
            sat = "" if r["saturation"] is None else f"{r['saturation']:.1%} {r['saturation_kind']}"
            head = (f"{r['layer']:<16} {_num(r['mean']):>9} {_num(r['std']):>9} {sat:<22} ")
            if not r["weights"]:
                lines.append(head.rstrip())
            for k, w in enumerate(r["weights"]):
                start = head if k == 0 else " " * len(head)
                lines.append(f"{start}{w['name']:<22} {_num(w['grad_norm']):>10} "
                             f"{_num(w['weight_norm']):>11} {_num(w['update_ratio']):>13}")
        return "\n".join(lines)

    def __str__(self):
        return self.table()


def _num(v):
    return "-" if v is None else f"{v:.3g}"


def activation_name(layer):
    """The name of the layer's activation ("relu", "tanh", ...), or None."""
    if type(layer).__name__ == "ReLU":
        return "relu"
    fn = getattr(layer, "activation", None)
    return getattr(fn, "__name__", None) if fn is not None else None


def _saturation(layer, a):
    """(what is counted, its share) for a layer's output ``a``; (None, None) when the
    layer's activation has no limit."""
    name = activation_name(layer)
    if a is None or name not in ("relu", "tanh", "sigmoid"):
        return None, None
    if name == "relu":   # a unit (an output position) is dead when no sample lights it
        return "dead relu", float(np.all(a == 0, axis=0).mean())
    if name == "tanh":
        return "tanh near ±1", float((np.abs(a) > 1 - NEAR).mean())
    return "sigmoid near 0/1", float(((a < NEAR) | (a > 1 - NEAR)).mean())
