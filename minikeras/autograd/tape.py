"""``GradientTape``: record inside a ``with`` block, then ``tape.gradient(target, sources)``
walks back through what this tape recorded (the TensorFlow/Keras front end of the walk)."""
import contextlib

from .. import backend
from ..tensor import Tensor, _check_float
from .function import no_grad, state
from .walk import backward_walk

# ------------------------------------------------------------------------------- GradientTape
class GradientTape:
    """Record operations for automatic differentiation, as ``tf.GradientTape`` /
    ``keras`` custom training loops do::

        with minikeras.GradientTape() as tape:
            loss = loss_fn(y, model(x))
        grads = tape.gradient(loss, model.trainable_weights)

    Trainable Variables are watched automatically; other tensors need ``tape.watch(x)``.
    ``gradient`` walks back through the operations recorded on this tape only: a value
    computed before the ``with`` block counts as a constant, as in TensorFlow.
    A non-persistent tape may compute gradients once and then releases its nodes;
    ``persistent=True`` keeps them for several ``gradient`` calls (``del tape`` frees them).
    Gradients computed while an outer tape is recording are recorded by it, so nesting two
    tapes gives second derivatives.

    ``tape.nodes`` lists the recorded operations, in order, for inspection.
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        if not watch_accessed_variables:
            raise NotImplementedError(
                "GradientTape(watch_accessed_variables=False) is not supported: trainable "
                "Variables are always watched. Use minikeras.no_grad() around the ops to skip.")
        self.persistent = persistent
        self._nodes = []
        self._recording = False
        self._watched = []

    def __enter__(self):
        if self._recording:
            raise RuntimeError("this GradientTape is already recording; open a new one.")
        self._recording = True
        state.tapes.append(self)
        return self

    def __exit__(self, *exc):
        self._recording = False
        if self in state.tapes:
            state.tapes.remove(self)
        for t in self._watched:
            t._watchers -= 1
            if t._watchers == 0:
                t.requires_grad = False
        self._watched = []
        return False

    def watch(self, tensor):
        """Record the ops applied to ``tensor`` (a float Tensor, or a list of them)."""
        if isinstance(tensor, (list, tuple)):
            for t in tensor:
                self.watch(t)
            return
        if not isinstance(tensor, Tensor):
            raise TypeError(f"GradientTape.watch() takes a Tensor or Variable, got "
                            f"{type(tensor).__name__}. Convert it with ops.convert_to_tensor().")
        _check_float(tensor, "GradientTape.watch()")
        if self._recording and (tensor._watchers or not tensor.requires_grad):
            # Only tensors that a tape switched on are switched off again on exit.
            tensor._watchers += 1
            tensor.requires_grad = True
            self._watched.append(tensor)

    @contextlib.contextmanager
    def stop_recording(self):
        """Temporarily run ops inside the tape's block without recording them."""
        with no_grad():
            yield

    @property
    def nodes(self):
        """The recorded operations (Function nodes), oldest first."""
        return list(self._nodes or ())

    def reset(self):
        """Forget everything recorded so far."""
        self._nodes = []

    def gradient(self, target, sources, output_gradients=None, unconnected_gradients="none"):
        """d(target)/d(source) for each source.

        ``target``: a Tensor (or a list, whose gradients add up). A target that is not a
        scalar is treated as its sum, as TensorFlow does, unless ``output_gradients`` gives
        dL/dtarget explicitly. ``sources``: a Tensor, a list/tuple or a dict of them; the
        result has the same structure. A source the target does not depend on gets None
        (``unconnected_gradients="zero"`` gives zeros instead).
        """
        if self._nodes is None:
            raise RuntimeError(
                "A non-persistent GradientTape can compute gradients only once: its nodes were "
                "released after the first gradient() call. Use GradientTape(persistent=True) "
                "to call gradient() several times.")
        if unconnected_gradients not in ("none", "zero"):
            raise ValueError(f"unconnected_gradients must be 'none' or 'zero', got "
                             f"{unconnected_gradients!r}.")
        targets = list(target) if isinstance(target, (list, tuple)) else [target]
        seeds = self._seeds(targets, output_gradients)
        flat, rebuild = _flatten(sources)
        keep = set()
        for s in flat:
            if not isinstance(s, Tensor):
                raise TypeError(f"GradientTape.gradient(): sources must be Tensors or "
                                f"Variables, got {type(s).__name__}.")
            if s.data.dtype.kind not in "fc":
                raise TypeError(f"GradientTape.gradient(): cannot differentiate with respect to "
                                f"a tensor of integer dtype {s.dtype} (shape {s.shape}); only "
                                "float tensors have gradients. Cast it to float first.")
            keep.add(id(s))
        live, live_seeds = [], []
        for t, g in zip(targets, seeds):
            if t.requires_grad:
                live.append(t)
                live_seeds.append(g)
        # Gradients computed while another tape records are recorded by it (second order).
        outer_recording = bool(state.tapes)
        grads = {}
        if live:
            # Only what this tape recorded is walked, newest first, as in TensorFlow.
            grads = backward_walk(live, live_seeds, keep=keep,
                                  retain_graph=self.persistent or outer_recording,
                                  create_graph=outer_recording, order=self._nodes[::-1])
        result = []
        for s in flat:
            entry = grads.get(id(s))
            if entry is not None:
                result.append(entry[1])
            elif unconnected_gradients == "zero":
                result.append(Tensor._wrap(backend.xp.zeros_like(s.data)))
            else:
                result.append(None)
        if not self.persistent:
            self._nodes = None
        return rebuild(result)

    @staticmethod
    def _seeds(targets, output_gradients):
        """dL/dtarget for each target: ones (a non-scalar target counts as its sum), or the
        given ``output_gradients``."""
        for t in targets:
            if not isinstance(t, Tensor):
                raise TypeError(f"GradientTape.gradient(): the target must be a Tensor, got "
                                f"{type(t).__name__}.")
        if output_gradients is None:
            return [Tensor._wrap(backend.xp.ones_like(t.data)) for t in targets]
        og = list(output_gradients) if isinstance(output_gradients, (list, tuple)) else [output_gradients]
        if len(og) != len(targets):
            raise ValueError(f"output_gradients has {len(og)} entries for {len(targets)} targets.")
        seeds = []
        for t, g in zip(targets, og):
            g = g if isinstance(g, Tensor) else Tensor(g, dtype=t.dtype)
            if g.data.shape != t.data.shape:
                raise ValueError(f"output_gradients: shape {g.shape} does not match the "
                                 f"target's shape {t.shape}.")
            seeds.append(g)
        return seeds

    def __repr__(self):
        n = "released" if self._nodes is None else f"{len(self._nodes)} nodes"
        return f"<GradientTape persistent={self.persistent} recording={self._recording} {n}>"


def _first(results):
    return results[0]


def _flatten(sources):
    """A flat list of the sources and a function that puts results back in their shape."""
    if isinstance(sources, Tensor):
        return [sources], _first
    if isinstance(sources, list):
        return sources, list
    if isinstance(sources, tuple):
        return list(sources), tuple
    if isinstance(sources, dict):
        keys = list(sources)
        return [sources[k] for k in keys], lambda r: dict(zip(keys, r))
    raise TypeError(f"GradientTape.gradient(): sources must be a Tensor, a list, a tuple or a "
                    f"dict of Tensors, got {type(sources).__name__}.")
