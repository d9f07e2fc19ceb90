"""Recurrent layers: the RNN wrapper, SimpleRNN, LSTM, GRU and their cells.

``RNN(cell)`` loops a cell (see :mod:`.rnn_cells`) over the time axis of a (batch, timesteps,
features) input: at step t, ``output_t, states = cell.call(x_t, states)``. The options are
Keras's:

* ``return_sequences``: every step's output (batch, timesteps, units), else the last one;
* ``return_state``: also the final states, ``(output, *states)``;
* ``go_backwards``: the steps run from the last to the first, and the returned sequence is
  in that processing order (reversed), as in Keras;
* masks, (batch, timesteps) booleans given as ``mask=`` or carried by the input
  (``_keras_mask``, e.g. from ``Embedding(mask_zero=True)``): at a masked step the states
  are carried over unchanged and the output repeats the previous output (the previous h,
  which is the initial state at a leading masked step), or is zeros with
  ``zero_output_for_mask=True``. With ``unroll=True`` Keras repeats the previous output
  instead, zeros before the first real step, whatever ``zero_output_for_mask`` says; that
  is followed too (``unroll`` changes nothing else here: the loop is a Python loop anyway);
* ``stateful``: the final states of one batch start the next one (``reset_state()``).

LSTM and GRU take a fused whole-sequence op (``ops.lstm_sequence`` / ``ops.gru_sequence``,
with the backward through time written by hand) where Keras would take cuDNN: use_cudnn
"auto" or True, tanh and sigmoid activations, no recurrent dropout, unroll False (input
dropout is applied to the whole sequence first, one mask for every step, as Keras does).
Otherwise (and always with ``use_cudnn=False``) the cell loop runs; both compute the same
numbers. The fused backward is array code and cannot be differentiated again, so under
nested GradientTapes (a gradient of a gradient) "auto" takes the cell loop too.
"""
from .. import activations, backend, ops
from ..tensor import Tensor, Variable
from .core import _serialize
from .input_layer import KerasTensor
from .layer import Layer
from .nested import layer_from_config, prefix_weight_paths, serialize_layer
from .rnn_cells import DropoutRNNCell, GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from .structure import accepts as _accepts, flatten as _flatten, format_shape as _fmt

__all__ = ["RNN", "SimpleRNN", "LSTM", "GRU", "SimpleRNNCell", "LSTMCell", "GRUCell",
           "StackedRNNCells"]


def _pack(structure, flat):
    """The flat list of state tensors in the nesting of ``structure`` (a state_size)."""
    it = iter(flat)
    return [[next(it) for _ in s] if isinstance(s, (list, tuple)) else next(it)
            for s in structure]


def _where(mask, new, old):
    """new where the step is real, old where it is masked, for nested states."""
    if isinstance(new, (list, tuple)):
        return [_where(mask, n, o) for n, o in zip(new, old)]
    return ops.where(mask, new, old)


def _state_width(size, cell):
    """One entry of a cell's ``state_size`` as an int: a state here is (batch, width)."""
    try:
        return int(size)
    except TypeError:
        pass
    dims = list(size) if hasattr(size, "__iter__") else None
    if dims is not None and len(dims) == 1:
        return int(dims[0])
    raise ValueError(
        f"RNN: the cell {type(cell).__name__} has a state of shape {size!r} per sample; "
        "minikeras's RNN carries states of one axis, (batch, units), so each entry of "
        "state_size must be an int (or a shape of one axis). Flatten the state in the cell "
        "(ops.reshape to (batch, -1) and back), or use real Keras 3 for nested shapes.")


class RNN(Layer):
    """``RNN(cell, return_sequences=False, return_state=False, go_backwards=False,
    stateful=False, unroll=False, zero_output_for_mask=False)``; a list of cells is
    stacked (:class:`StackedRNNCells`). Called as ``layer(sequences, initial_state=None,
    mask=None, training=None)``."""

    _exact_ndim = False  # SimpleRNN, LSTM and GRU want exactly 3 axes; a generic RNN >= 3

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if not hasattr(cell, "call"):
            raise ValueError(f"Argument `cell` should have a `call` method. Received: cell={cell}")
        if not hasattr(cell, "state_size"):
            raise ValueError("The RNN cell should have a `state_size` attribute (single integer "
                             "or list of integers, one integer per RNN state). Received: "
                             f"cell={cell}")
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True
        self.states = None
        size = cell.state_size
        self.single_state = isinstance(size, int)
        self.state_size = [size] if self.single_state else list(size)
        self._flat_sizes = [_state_width(s, cell) for s in _flatten(self.state_size)]
        self._cell_takes_training = False

    # ------------------------------------------------------------------ building
    def build(self, sequences_shape, initial_state_shape=None):
        shape = tuple(sequences_shape)
        if len(shape) < 3 or (self._exact_ndim and len(shape) != 3):
            expected = "ndim=3" if self._exact_ndim else "min_ndim=3"
            raise ValueError(f"Input 0 of layer \"{self.name}\" is incompatible with the layer: "
                             f"expected {expected}, found ndim={len(shape)}. Full shape "
                             f"received: {_fmt(shape)}")
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell.build((shape[0],) + shape[2:])
            self.cell.built = True
            prefix_weight_paths(self.cell, self.name)
        self.input_spec_shape = (None, None) + shape[2:]
        self._cell_takes_training = _accepts(self.cell.call, "training")
        self.built = True

    # ------------------------------------------------------------------ states
    def get_initial_state(self, batch_size):
        """Zeros, one (batch_size, size) tensor per state (the cell's own if it has one)."""
        fn = getattr(self.cell, "get_initial_state", None)
        if fn is None:
            return [ops.zeros((batch_size, d), dtype=self.dtype) for d in self.state_size]
        state = fn(batch_size=batch_size)
        return list(state) if isinstance(state, (list, tuple)) else [state]

    def reset_state(self):
        """Set the carried states of a stateful layer back to zeros."""
        if self.states is not None:
            for v in self.states:
                v.assign(backend.xp.zeros(v.shape, dtype=v.dtype))

    reset_states = reset_state

    def _initial_states(self, initial_state, batch):
        if initial_state is None:
            if not self.stateful:
                return self.get_initial_state(batch)
            if self.states is None:
                self.states = [Variable(backend.xp.zeros((batch, d), dtype=self.dtype),
                                        trainable=False, name="rnn_state")
                               for d in self._flat_sizes]
                for v in self.states:
                    v.path = f"{self.name}/rnn_state"
            elif self.states[0].shape[0] != batch:
                raise ValueError(f"Layer \"{self.name}\" is stateful and keeps states for a batch "
                                 f"of {self.states[0].shape[0]}, but received a batch of {batch}. "
                                 "A stateful RNN needs the same batch size at every call (give "
                                 "keras.Input a batch_size, and fit a batch_size that divides "
                                 "the data).")
            # copies: the variables are overwritten after the call, the tape keeps these
            return _pack(self.state_size, [Tensor(v.data.copy()) for v in self.states])
        given = _flatten(list(initial_state) if isinstance(initial_state, (list, tuple))
                         else [initial_state])
        sizes = self._flat_sizes
        if len(given) != len(sizes):
            raise ValueError(f"Layer \"{self.name}\" expects {len(sizes)} initial state "
                             f"tensor(s) (cell.state_size={self.cell.state_size}), but it "
                             f"received {len(given)} initial state tensor(s).")
        states = []
        for i, (s, d) in enumerate(zip(given, sizes)):
            s = self._autocast(s)
            if tuple(s.shape) != (batch, d):
                raise ValueError(f"Layer \"{self.name}\": initial state {i} should have shape "
                                 f"(batch_size, state_size) = ({batch}, {d}), but received an "
                                 f"initial state of shape {_fmt(s.shape)}.")
            states.append(s)
        return _pack(self.state_size, states)

    def _check_mask(self, mask, batch, steps):
        """The mask as a (batch, timesteps) boolean array, or None when every step is real."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        if mask is None:
            return None
        m = mask.data if isinstance(mask, Tensor) else backend.xp.asarray(mask)
        if tuple(m.shape) != (batch, steps):
            raise ValueError(f"Layer \"{self.name}\" expects a mask of shape (batch_size, "
                             f"timesteps) = ({batch}, {steps}), but received a mask of shape "
                             f"{_fmt(m.shape)}.")
        m = m.astype(bool)
        return None if bool(m.all()) else m

    # ------------------------------------------------------------------ calling
    def __call__(self, *args, **kwargs):
        outputs = super().__call__(*args, **kwargs)
        if self.stateful and args and any(isinstance(x, KerasTensor) for x in _flatten(args[0])):
            self.reset_state()  # shape inference ran the layer on zeros: forget that run
        return outputs

    def call(self, sequences, initial_state=None, mask=None, training=None):
        batch, steps = sequences.shape[0], sequences.shape[1]
        mask = self._check_mask(mask, batch, steps)
        states = self._initial_states(initial_state, batch)
        try:
            outputs, last, states = self._run(sequences, states, mask, training)
        finally:
            _reset_dropout_masks(self.cell)
        if self.stateful:
            for variable, value in zip(self.states, _flatten(states)):
                variable.assign(value.data)
        output = outputs if self.return_sequences else last
        if self.return_state:
            return (output, *states)
        return output

    def _run(self, sequences, states, mask, training):
        """(outputs (batch, timesteps, units) or None, last output, final states)."""
        return self._cell_loop(sequences, states, mask, training)

    def _cell_loop(self, sequences, states, mask, training):
        steps = sequences.shape[1]
        pieces = ops.split(sequences, steps, axis=1) if steps > 1 else [sequences]
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        kwargs = {"training": training} if self._cell_takes_training else {}
        call, stacked = self.cell.call, isinstance(self.cell, StackedRNNCells)
        outputs = []
        for t in order:
            x_t = ops.squeeze(pieces[t], 1)
            out, new_states = call(x_t, states, **kwargs)
            if not isinstance(new_states, (list, tuple)):
                new_states = [new_states]
            if mask is not None:
                m = Tensor(mask[:, t:t + 1])
                if self.unroll:
                    # Keras's unrolled loop repeats the previous *output*: zeros before the
                    # first real step, and zero_output_for_mask is not consulted
                    out = ops.where(m, out, outputs[-1] if outputs else 0.0)
                elif self.zero_output_for_mask:
                    out = ops.where(m, out, 0.0)
                else:
                    # the previous output is the (last cell's) first state, as in Keras
                    prev = states[-1] if stacked else states[0]
                    prev = prev[0] if isinstance(prev, (list, tuple)) else prev
                    out = ops.where(m, out, prev)
                new_states = _where(m, list(new_states), states)
            states = list(new_states)
            outputs.append(out)
        sequence = ops.stack(outputs, axis=1) if self.return_sequences else None
        return sequence, outputs[-1], states

    # ------------------------------------------------------------------ masks and shapes
    def compute_mask(self, inputs, previous_mask):
        mask = previous_mask
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(self.state_size)
        return output_mask

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch, steps = sequences_shape[0], sequences_shape[1]
        out_size = getattr(self.cell, "output_size", None) or self._flat_sizes[0]
        output = (batch, steps, out_size) if self.return_sequences else (batch, out_size)
        if not self.return_state:
            return output
        states = [[(batch, d) for d in s] if isinstance(s, (list, tuple)) else (batch, s)
                  for s in self.state_size]
        return (output, *states)

    # ------------------------------------------------------------------ config
    def _rnn_config(self):
        return dict(return_sequences=self.return_sequences, return_state=self.return_state,
                    go_backwards=self.go_backwards, stateful=self.stateful, unroll=self.unroll,
                    zero_output_for_mask=self.zero_output_for_mask)

    def get_config(self):
        config = super().get_config()
        config.update(self._rnn_config())
        config["cell"] = serialize_layer(self.cell)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        cell = config.pop("cell")
        cell = layer_from_config(cell) if isinstance(cell, dict) else cell
        return cls(cell, **config)


def _reset_dropout_masks(cell):
    if isinstance(cell, DropoutRNNCell):
        cell.reset_dropout_mask()
        cell.reset_recurrent_dropout_mask()
    if isinstance(cell, StackedRNNCells):
        for c in cell.cells:
            _reset_dropout_masks(c)


# ---------------------------------------------------------------------- the named layers
_CELL_ARGS = ("units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
              "recurrent_initializer", "bias_initializer", "unit_forget_bias",
              "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
              "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
              "recurrent_dropout", "reset_after")


class _CellLayer(RNN):
    """What SimpleRNN, LSTM and GRU share: the cell built from the layer's arguments, the
    cell's settings readable on the layer (``lstm.units``), Keras's flat config."""

    _exact_ndim = True
    _cell_class = None
    _cell_name = None

    def __init__(self, cell_args, return_sequences, return_state, go_backwards, stateful,
                 unroll, use_cudnn, kwargs):
        cell = self._cell_class(dtype=kwargs.get("dtype"), trainable=kwargs.get("trainable", True),
                                name=self._cell_name,
                                implementation=kwargs.pop("implementation", 2), **cell_args)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, **kwargs)
        if use_cudnn is None:  # SimpleRNN: no fused path, no such argument
            return
        if use_cudnn not in ("auto", True, False):
            raise ValueError("Invalid valid received for argument `use_cudnn`. Expected one of "
                             f"{{'auto', True, False}}. Received: use_cudnn={use_cudnn}")
        self.use_cudnn = use_cudnn

    def _fused_ok(self, op_name):
        """Whether Keras would take cuDNN here, and the fused op exists. The choice depends
        on the layer's configuration only, so every tape records the same nodes; a second
        derivative needs the cell loop, made of ops (``use_cudnn=False``), and the fused
        op's error says so."""
        cell = self.cell
        return (self.use_cudnn in ("auto", True) and not cell.recurrent_dropout
                and cell.activation in (activations.tanh, ops.tanh)
                and cell.recurrent_activation in (activations.sigmoid, ops.sigmoid)
                and not self.unroll and hasattr(ops, op_name))

    def _run(self, sequences, states, mask, training):
        if self._fused_ok(self._fused_op):
            x = sequences
            if training and 0.0 < self.cell.dropout < 1.0:
                # the same input mask at every step, as the cell loop uses it
                x = x * ops.expand_dims(self.cell.get_dropout_mask(x[:, 0, :]), 1)
            if self.go_backwards:  # the fused ops run forwards: hand them the reversed steps
                x = ops.flip(x, axis=1)
                mask = None if mask is None else mask[:, ::-1]
            outputs, states = self._fused(x, states, None if mask is None else Tensor(mask))
            last = states[0]
            if self.zero_output_for_mask and mask is not None:
                outputs = ops.where(Tensor(mask[:, :, None]), outputs, 0.0)
                last = outputs[:, -1]
            return (outputs if self.return_sequences else None), last, states
        if self.use_cudnn is True:
            raise ValueError("use_cudnn=True was specified, but cuDNN is not supported for this "
                             "layer configuration with this backend. Pass use_cudnn='auto' to "
                             "fallback to a non-cuDNN implementation.")
        return self._cell_loop(sequences, states, mask, training)

    def get_config(self):
        config = Layer.get_config(self)
        config.update(self._rnn_config())
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype", "batch_input_shape"):
            cell_config.pop(key, None)
        config.update(cell_config)
        config["activity_regularizer"] = _serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config):
        # the config holds the cell's arguments, not a "cell" entry as RNN's does
        return Layer.from_config.__func__(cls, config)


def _cell_args(arguments):
    """The cell's arguments among a layer constructor's ``locals()``."""
    return {k: arguments[k] for k in _CELL_ARGS + ("seed",) if k in arguments}


for _name in _CELL_ARGS:
    setattr(_CellLayer, _name, property(lambda self, n=_name: getattr(self.cell, n)))


class SimpleRNN(_CellLayer):
    """``SimpleRNN(units, activation="tanh", use_bias=True, ..., dropout=0.0,
    recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
    go_backwards=False, stateful=False, unroll=False)``: h = act(x W + b + h₋ U) over time."""

    _cell_class, _cell_name = SimpleRNNCell, "simple_rnn_cell"

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, seed=None, **kwargs):
        kwargs["activity_regularizer"] = activity_regularizer
        super().__init__(_cell_args(locals()), return_sequences, return_state, go_backwards,
                         stateful, unroll, None, kwargs)

    def _run(self, sequences, states, mask, training):
        return self._cell_loop(sequences, states, mask, training)

    def get_config(self):
        config = super().get_config()
        config.pop("seed")  # Keras's SimpleRNN config leaves the seed out (its cell keeps it)
        return config


class LSTM(_CellLayer):
    """``LSTM(units, activation="tanh", recurrent_activation="sigmoid", use_bias=True, ...,
    unit_forget_bias=True, ..., dropout=0.0, recurrent_dropout=0.0, seed=None,
    return_sequences=False, return_state=False, go_backwards=False, stateful=False,
    unroll=False, use_cudnn="auto")``. States [h, c]; weights ``lstm/lstm_cell/kernel``
    (D, 4u), ``recurrent_kernel`` (u, 4u), ``bias`` (4u,), gates i, f, c, o."""

    _cell_class, _cell_name, _fused_op = LSTMCell, "lstm_cell", "lstm_sequence"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False,
                 use_cudnn="auto", **kwargs):
        kwargs["activity_regularizer"] = activity_regularizer
        super().__init__(_cell_args(locals()), return_sequences, return_state, go_backwards,
                         stateful, unroll, use_cudnn, kwargs)

    def _fused(self, x, states, mask):
        cell = self.cell
        outputs, h, c = ops.lstm_sequence(x, states[0], states[1], cell.kernel,
                                          cell.recurrent_kernel, cell.bias, mask=mask)
        return outputs, [h, c]


class GRU(_CellLayer):
    """``GRU(units, activation="tanh", recurrent_activation="sigmoid", use_bias=True, ...,
    dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,
    return_state=False, go_backwards=False, stateful=False, unroll=False, reset_after=True,
    use_cudnn="auto")``. Weights ``gru/gru_cell/kernel`` (D, 3u), ``recurrent_kernel``
    (u, 3u), ``bias`` (2, 3u) with reset_after else (3u,), gates z, r, h."""

    _cell_class, _cell_name, _fused_op = GRUCell, "gru_cell", "gru_sequence"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, reset_after=True,
                 use_cudnn="auto", **kwargs):
        kwargs["activity_regularizer"] = activity_regularizer
        super().__init__(_cell_args(locals()), return_sequences, return_state, go_backwards,
                         stateful, unroll, use_cudnn, kwargs)

    def _fused(self, x, states, mask):
        cell = self.cell
        outputs, h = ops.gru_sequence(x, states[0], cell.kernel, cell.recurrent_kernel,
                                      cell.bias, mask=mask, reset_after=cell.reset_after)
        return outputs, [h]
