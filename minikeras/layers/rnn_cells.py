"""Recurrent cells: one time step of SimpleRNN, LSTM and GRU, and a stack of cells.

A cell is a layer whose ``call(inputs, states, training=None)`` takes one step of a batch of
sequences, ``inputs`` of shape (batch, features) and ``states`` a list of (batch, size)
tensors, and returns ``(output, new_states)``. ``state_size`` and ``output_size`` say how
big those are. The :class:`~minikeras.layers.RNN` layer loops a cell over time. Everything
here is written with ops, so the tape records each step and second derivatives work.

The formulas and weight layouts are Keras's (σ is ``recurrent_activation``, sigmoid by
default; act is ``activation``, tanh by default; ``[a | b]`` joins along the last axis):

* SimpleRNN:  h = act(x W + b + h₋ U),  kernel W (D, u), recurrent_kernel U (u, u), bias (u,)
* LSTM, gates in the order i, f, c, o:  z = x W + h₋ U + b split in four,
  i = σ(z_i), f = σ(z_f), c = f·c₋ + i·act(z_c), o = σ(z_o), h = o·act(c);
  W (D, 4u), U (u, 4u), b (4u,)
* GRU, gates in the order z, r, h:  z = σ(x W_z + h₋ U_z + b), r = σ(x W_r + h₋ U_r + b),
  reset_after=True:  hh = act(x W_h + b_h + r·(h₋ U_h + rb_h)),  bias (2, 3u): the input
  bias, then the recurrent bias;  reset_after=False:  hh = act(x W_h + b_h + (r·h₋) U_h),
  bias (3u,);  then h = z·h₋ + (1 - z)·hh.

Dropout (``dropout`` on the inputs, ``recurrent_dropout`` on h₋) uses one mask per sequence,
drawn at the first step and kept until the RNN layer resets it, as Keras does.
"""
from .. import activations, initializers, ops
from .. import random as mk_random
from .core import _serialize
from .layer import Layer
from .nested import layer_from_config, prefix_weight_paths, serialize_layer
from .structure import accepts

# The built-in activations, called straight as ops inside the time loop (the same math
# without the activation wrapper's conversions at every step).
_FAST = {activations.tanh: ops.tanh, activations.sigmoid: ops.sigmoid}


_SHARED_ARGS = ("units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
                "recurrent_initializer", "bias_initializer", "kernel_regularizer",
                "recurrent_regularizer", "bias_regularizer", "kernel_constraint",
                "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout", "seed")


def _base_args(arguments):
    """The arguments every cell shares (``_Cell``'s), picked from a cell constructor's
    ``locals()``."""
    return {k: arguments[k] for k in _SHARED_ARGS if k in arguments}


def _check_units(units):
    if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
        raise ValueError("Received an invalid value for argument `units`, expected a positive "
                         f"integer, got {units}.")
    return int(units)


def _rate(value):
    # Keras clips the rates into [0, 1] instead of refusing them.
    return min(1.0, max(0.0, float(value)))


class DropoutRNNCell:
    """What the cells share about dropout: masks drawn once and reused at every step.

    The RNN layer calls ``reset_dropout_mask``/``reset_recurrent_dropout_mask`` after each
    sequence, so the next batch draws new masks. ``dropout_mask_count`` (set by LSTM and GRU
    cells with ``recurrent_dropout``) asks for one mask per gate."""

    dropout_mask_count = None
    _dropout_mask = None
    _recurrent_dropout_mask = None

    def _create_dropout_mask(self, step_input, rate):
        ones = ops.ones_like(step_input)
        if self.dropout_mask_count is None:
            return mk_random.dropout(ones, rate, seed=self.seed_generator)
        return [mk_random.dropout(ones, rate, seed=self.seed_generator)
                for _ in range(self.dropout_mask_count)]

    def get_dropout_mask(self, step_input):
        if self._dropout_mask is None and self.dropout > 0:
            self._dropout_mask = self._create_dropout_mask(step_input, self.dropout)
        return self._dropout_mask

    def get_recurrent_dropout_mask(self, step_input):
        if self._recurrent_dropout_mask is None and self.recurrent_dropout > 0:
            self._recurrent_dropout_mask = self._create_dropout_mask(step_input,
                                                                     self.recurrent_dropout)
        return self._recurrent_dropout_mask

    def reset_dropout_mask(self):
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self):
        self._recurrent_dropout_mask = None


class _Cell(Layer, DropoutRNNCell):
    """The arguments and weights the three built-in cells share."""

    _n_gates = 1

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 **kwargs):
        units = _check_units(units)
        self.implementation = kwargs.pop("implementation", 2)
        super().__init__(**kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self._act = _FAST.get(self.activation, self.activation)
        self._rec_act = _FAST.get(self.recurrent_activation, self.recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = kernel_initializer
        self.recurrent_initializer = recurrent_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = kernel_regularizer
        self.recurrent_regularizer = recurrent_regularizer
        self.bias_regularizer = bias_regularizer
        self.kernel_constraint = kernel_constraint
        self.recurrent_constraint = recurrent_constraint
        self.bias_constraint = bias_constraint
        self.dropout = _rate(dropout)
        self.recurrent_dropout = _rate(recurrent_dropout)
        if self.recurrent_dropout != 0.0:
            self.implementation = 1  # one mask per gate, as Keras
        if self.implementation == 1 and self._n_gates > 1:
            self.dropout_mask_count = self._n_gates
        self.seed = seed
        self.seed_generator = mk_random.SeedGenerator(seed)
        self.output_size = units

    def _bias_shape(self):
        return (self._n_gates * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    def build(self, input_shape):
        n = self._n_gates * self.units
        self.kernel = self.add_weight((input_shape[-1], n), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, name="kernel")
        self.recurrent_kernel = self.add_weight((self.units, n), self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint,
                                                name="recurrent_kernel")
        self.bias = (self.add_weight(self._bias_shape(), self._bias_initializer(),
                                     regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint, name="bias")
                     if self.use_bias else None)
        self.built = True

    def get_initial_state(self, batch_size=None):
        sizes = self.state_size if isinstance(self.state_size, list) else [self.state_size]
        return [ops.zeros((batch_size, d), dtype=self.dtype) for d in sizes]

    def _masked(self, training, inputs, h):
        """The step's input and previous output after dropout (lists of per-gate tensors
        when there is one mask per gate)."""
        if training:
            if 0.0 < self.dropout < 1.0:
                m = self.get_dropout_mask(inputs)
                inputs = [inputs * k for k in m] if isinstance(m, list) else inputs * m
            if 0.0 < self.recurrent_dropout < 1.0:
                m = self.get_recurrent_dropout_mask(h)
                h = [h * k for k in m] if isinstance(m, list) else h * m
        return inputs, h

    def _config(self):
        return dict(units=self.units, activation=activations.serialize(self.activation),
                    recurrent_activation=activations.serialize(self.recurrent_activation),
                    use_bias=self.use_bias,
                    kernel_initializer=_serialize(self.kernel_initializer),
                    recurrent_initializer=_serialize(self.recurrent_initializer),
                    bias_initializer=_serialize(self.bias_initializer),
                    kernel_regularizer=_serialize(self.kernel_regularizer),
                    recurrent_regularizer=_serialize(self.recurrent_regularizer),
                    bias_regularizer=_serialize(self.bias_regularizer),
                    kernel_constraint=_serialize(self.kernel_constraint),
                    recurrent_constraint=_serialize(self.recurrent_constraint),
                    bias_constraint=_serialize(self.bias_constraint),
                    dropout=self.dropout, recurrent_dropout=self.recurrent_dropout,
                    seed=self.seed)

    def get_config(self):
        config = super().get_config()
        config.update(self._config())
        return config


def _per_gate(x, weight, n, units):
    """x @ weight where x is a list of n per-gate inputs: each meets its own column block."""
    return ops.concatenate([ops.matmul(x[k], weight[:, k * units:(k + 1) * units])
                            for k in range(n)], axis=-1)


def _project(x, weight, n, units):
    return _per_gate(x, weight, n, units) if isinstance(x, list) else ops.matmul(x, weight)


class SimpleRNNCell(_Cell):
    """``SimpleRNNCell(units, activation="tanh", use_bias=True, ..., dropout=0.0,
    recurrent_dropout=0.0, seed=None)``: h = act(x W + b + h₋ U); the output is h."""

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 **kwargs):
        super().__init__(**_base_args(locals()), **kwargs)
        self.state_size = self.units

    def call(self, inputs, states, training=None):
        nested = isinstance(states, (list, tuple))
        h_prev = states[0] if nested else states
        x, h_prev = self._masked(training, inputs, h_prev)
        z = ops.matmul(x, self.kernel)
        if self.bias is not None:
            z = z + self.bias
        h = self._act(z + ops.matmul(h_prev, self.recurrent_kernel))
        return h, ([h] if nested else h)

    def get_config(self):
        config = super().get_config()
        config.pop("recurrent_activation")
        return config


class LSTMCell(_Cell):
    """``LSTMCell(units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
    ..., unit_forget_bias=True, ..., dropout=0.0, recurrent_dropout=0.0, seed=None)``.

    States [h, c]; gates i, f, c, o in that order along the last axis of kernel (D, 4u),
    recurrent_kernel (u, 4u) and bias (4u,). ``unit_forget_bias`` starts the forget gate's
    bias at 1 (the other slices come from ``bias_initializer``)."""

    _n_gates = 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(**_base_args(locals()), **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = [self.units, self.units]

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, u = initializers.get(self.bias_initializer), self.units

        def forget_bias_one(shape, dtype=None):
            return ops.concatenate([base((u,), dtype=dtype), ops.ones((u,), dtype=dtype),
                                    base((2 * u,), dtype=dtype)], axis=0)
        return forget_bias_one

    def call(self, inputs, states, training=None):
        h_prev, c_prev = states[0], states[1]
        x, h_in = self._masked(training, inputs, h_prev)
        z = _project(x, self.kernel, 4, self.units) + _project(h_in, self.recurrent_kernel, 4,
                                                                 self.units)
        if self.bias is not None:
            z = z + self.bias
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)
        sig = self._rec_act
        c = sig(z_f) * c_prev + sig(z_i) * self._act(z_c)
        h = sig(z_o) * self._act(c)
        return h, [h, c]

    def get_config(self):
        config = super().get_config()
        config["unit_forget_bias"] = self.unit_forget_bias
        return config


class GRUCell(_Cell):
    """``GRUCell(units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
    ..., dropout=0.0, recurrent_dropout=0.0, reset_after=True, seed=None)``.

    Gates z (update), r (reset), h (candidate) along the last axis of kernel (D, 3u) and
    recurrent_kernel (u, 3u); bias (2, 3u) with ``reset_after`` (input and recurrent
    biases), else (3u,)."""

    _n_gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, reset_after=True,
                 seed=None, **kwargs):
        super().__init__(**_base_args(locals()), **kwargs)
        self.reset_after = bool(reset_after)
        self.state_size = self.units

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def call(self, inputs, states, training=None):
        nested = isinstance(states, (list, tuple))
        h_prev = states[0] if nested else states
        u = self.units
        x, h_in = self._masked(training, inputs, h_prev)
        h_list = h_in if isinstance(h_in, list) else [h_in] * 3
        input_bias = recurrent_bias = None
        if self.bias is not None:
            input_bias, recurrent_bias = ((self.bias[0], self.bias[1]) if self.reset_after
                                          else (self.bias, None))
        xz = _project(x, self.kernel, 3, u)
        if input_bias is not None:
            xz = xz + input_bias
        x_z, x_r, x_h = ops.split(xz, 3, axis=-1)
        if self.reset_after:
            inner = _project(h_in, self.recurrent_kernel, 3, u)
            if recurrent_bias is not None:
                inner = inner + recurrent_bias
            h_z, h_r, h_h = ops.split(inner, 3, axis=-1)
        else:
            # only the z and r blocks meet h₋ here; the candidate's block meets r·h₋ below
            inner = _project(h_list[:2] if isinstance(h_in, list) else h_in,
                             self.recurrent_kernel[:, :2 * u], 2, u)
            h_z, h_r = ops.split(inner, 2, axis=-1)
        z = self._rec_act(x_z + h_z)
        r = self._rec_act(x_r + h_r)
        if self.reset_after:
            recurrent_h = r * h_h
        else:
            recurrent_h = ops.matmul(r * h_list[2], self.recurrent_kernel[:, 2 * u:])
        hh = self._act(x_h + recurrent_h)
        h = z * h_prev + (1.0 - z) * hh
        return h, ([h] if nested else h)

    def get_config(self):
        config = super().get_config()
        config["reset_after"] = self.reset_after
        return config


class StackedRNNCells(Layer):
    """``StackedRNNCells(cells)``: several cells acting as one, each step feeding the output
    of one cell to the next. ``state_size`` is the list of the cells' state sizes and the
    states are nested the same way: one entry (a tensor or a list) per cell."""

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        for cell in cells:
            if not hasattr(cell, "call"):
                raise ValueError("All cells must have a `call` method. Received cell without a "
                                 f"`call` method: {cell}")
            if not hasattr(cell, "state_size"):
                raise ValueError("All cells must have a `state_size` attribute. Received cell "
                                 f"without a `state_size`: {cell}")
        self.cells = list(cells)

    @property
    def state_size(self):
        return [c.state_size for c in self.cells]

    @property
    def output_size(self):
        return _output_size(self.cells[-1])

    def get_initial_state(self, batch_size=None):
        out = []
        for cell in self.cells:
            if hasattr(cell, "get_initial_state"):
                out.append(cell.get_initial_state(batch_size=batch_size))
            else:
                sizes = cell.state_size
                out.append(ops.zeros((batch_size, sizes), dtype=self.dtype)
                           if isinstance(sizes, int) else
                           [ops.zeros((batch_size, d), dtype=self.dtype) for d in sizes])
        return out

    def build(self, input_shape):
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell.build(input_shape)
                cell.built = True
                prefix_weight_paths(cell, self.name)
            input_shape = (input_shape[0], _output_size(cell))
        self.built = True

    def call(self, inputs, states, training=None):
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            was_list = isinstance(cell_states, (list, tuple))
            cell_states = list(cell_states) if was_list else [cell_states]
            kwargs = {"training": training} if accepts(cell.call, "training") else {}
            inputs, cell_states = cell.call(inputs, cell_states, **kwargs)
            if not isinstance(cell_states, (list, tuple)):
                cell_states = [cell_states]
            new_states.append(cell_states[0] if len(cell_states) == 1 and not was_list
                              else list(cell_states))
        return inputs, new_states

    def get_config(self):
        config = super().get_config()
        config["cells"] = [serialize_layer(c) for c in self.cells]
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        cells = [layer_from_config(c) for c in config.pop("cells")]
        return cls(cells, **config)


def _output_size(cell):
    size = getattr(cell, "output_size", None)
    if size is not None:
        return size
    s = cell.state_size
    return s[0] if isinstance(s, (list, tuple)) else s
