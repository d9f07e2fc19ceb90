"""Layer wrappers: Bidirectional, TimeDistributed.

``Bidirectional(LSTM(8))`` runs two copies of a recurrent layer over the same sequences, one
forwards and one backwards (``go_backwards=True``), and merges their outputs. Its sub-layers
are rebuilt from the given layer's config and named ``forward_<name>`` and
``backward_<name>``, so the weights are ``bidirectional/forward_lstm/lstm_cell/kernel`` and
so on, as in Keras.

``TimeDistributed(Dense(4))`` applies one layer to every time step of (batch, timesteps,
...) inputs by folding the time axis into the batch axis: one call on (batch·timesteps, ...)
instead of a loop over steps.
"""
from .. import ops
from .layer import Layer
from .nested import layer_from_config, prefix_weight_paths, serialize_layer
from .structure import accepts, format_shape

__all__ = ["Bidirectional", "TimeDistributed", "Wrapper"]

_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


class Wrapper(Layer):
    """A layer around one other layer (``self.layer``), which it builds and serializes."""

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `{type(self).__name__}` layer with a "
                             f"`keras.layers.Layer` instance. Received: {layer}")
        super().__init__(**kwargs)
        self.layer = layer

    def get_config(self):
        config = super().get_config()
        config["layer"] = serialize_layer(self.layer)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["layer"] = layer_from_config(config["layer"])
        return super().from_config(config)


def _renamed(layer, name, **changes):
    """A fresh copy of ``layer`` (new weights) from its config, under ``name``."""
    config = layer.get_config()
    config.update(name=name, **changes)
    return type(layer).from_config(config)


def _strip(name, prefix):
    return name[len(prefix):] if name.startswith(prefix) else name


class Bidirectional(Layer):
    """``Bidirectional(layer, merge_mode="concat", weights=None, backward_layer=None)``.

    ``merge_mode``: "concat" (the last axes joined: 2·units), "sum", "mul", "ave", or None
    (the two outputs as a tuple). With ``return_sequences`` the backward output is flipped
    back into the input's time order before merging, and masked steps give zeros in both
    directions (``zero_output_for_mask`` is forced on, as in Keras). With ``return_state``
    the forward states follow the output, then the backward states. ``initial_state`` is a
    list: its first half starts the forward layer, its second half the backward layer.
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `Bidirectional` layer with a "
                             f"`keras.layers.Layer` instance. Received: {layer}")
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError("`backward_layer` need to be a `keras.layers.Layer` instance. "
                             f"Received: {backward_layer}")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Invalid merge mode. Received: {merge_mode}. Merge mode should be "
                             'one of {"sum", "mul", "ave", "concat", None}')
        super().__init__(**kwargs)
        self.forward_layer = _renamed(layer, "forward_" + _strip(layer.name, "forward_"))
        if backward_layer is None:
            self.backward_layer = _renamed(layer, "backward_" + _strip(layer.name, "backward_"),
                                           go_backwards=True)
        else:
            self.backward_layer = backward_layer
        self._verify_layer_config()
        for sub in (self.forward_layer, self.backward_layer):
            if hasattr(sub, "zero_output_for_mask"):
                sub.zero_output_for_mask = sub.return_sequences
        self.merge_mode = merge_mode
        self._initial_weights = list(weights) if weights else None
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True

    def _verify_layer_config(self):
        f, b = self.forward_layer, self.backward_layer
        if f.go_backwards == b.go_backwards:
            raise ValueError("Forward layer and backward layer should have different "
                             f"`go_backwards` value. Received: forward_layer.go_backwards "
                             f"{f.go_backwards}, backward_layer.go_backwards={b.go_backwards}")
        for attr in ("stateful", "return_sequences", "return_state"):
            if getattr(f, attr) != getattr(b, attr):
                raise ValueError("Forward layer and backward layer are expected to have the "
                                 f"same value for attribute \"{attr}\", got \"{getattr(f, attr)}\" "
                                 f"for forward layer and \"{getattr(b, attr)}\" for backward layer")

    @property
    def states(self):
        if self.forward_layer.states and self.backward_layer.states:
            return tuple(self.forward_layer.states + self.backward_layer.states)
        return None

    def build(self, sequences_shape, initial_state_shape=None):
        for sub in (self.forward_layer, self.backward_layer):
            if not sub.built:
                sub.build(tuple(sequences_shape))
                sub.built = True
                prefix_weight_paths(sub, self.name)
        self.input_spec_shape = self.forward_layer.input_spec_shape
        if self._initial_weights is not None:
            n = len(self._initial_weights) // 2
            self.forward_layer.set_weights(self._initial_weights[:n])
            self.backward_layer.set_weights(self._initial_weights[n:])
            self._initial_weights = None
        self.built = True

    def call(self, sequences, initial_state=None, mask=None, training=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        kwargs = {}
        if accepts(self.forward_layer.call, "training"):
            kwargs["training"] = training
        if accepts(self.forward_layer.call, "mask"):
            kwargs["mask"] = mask
        forward_state = backward_state = None
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [
                initial_state]
            if len(states) % 2:
                raise ValueError(f"Layer \"{self.name}\": `initial_state` must hold the states of "
                                 "the forward layer then those of the backward layer (an even "
                                 f"number of tensors); received {len(states)}.")
            half = len(states) // 2
            forward_state, backward_state = states[:half], states[half:]
        y = self.forward_layer(sequences, initial_state=forward_state, **kwargs)
        y_rev = self.backward_layer(sequences, initial_state=backward_state, **kwargs)
        states = ()
        if self.return_state:
            states = tuple(y[1:]) + tuple(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = ops.flip(y_rev, axis=1)  # back into the input's time order
        mode = self.merge_mode
        if mode == "concat":
            output = ops.concatenate([y, y_rev], axis=-1)
        elif mode == "sum":
            output = y + y_rev
        elif mode == "ave":
            output = (y + y_rev) / 2.0
        elif mode == "mul":
            output = y * y_rev
        else:
            output = (y, y_rev)
        if self.return_state:
            return (output + states) if mode is None else (output,) + states
        return output

    def compute_mask(self, inputs, previous_mask):
        mask = previous_mask
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        if self.return_sequences:
            output_mask = mask if self.merge_mode else [mask, mask]
        else:
            output_mask = None if self.merge_mode else [None, None]
        if not self.return_state:
            return output_mask
        n_states = 2 * len(self.forward_layer.state_size)
        head = output_mask if isinstance(output_mask, list) else [output_mask]
        return head + [None] * n_states

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        shape = self.forward_layer.compute_output_shape(sequences_shape)
        state_shapes = ()
        if self.return_state:
            shape, state_shapes = shape[0], tuple(shape[1:])
        if self.merge_mode == "concat":
            shape = tuple(shape[:-1]) + (shape[-1] * 2,)
        elif self.merge_mode is None:
            shape = (tuple(shape), tuple(shape))
        if not self.return_state:
            return shape
        head = shape if self.merge_mode is None else (shape,)
        return head + state_shapes + state_shapes

    def reset_state(self):
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    reset_states = reset_state

    def get_config(self):
        config = super().get_config()
        config["merge_mode"] = self.merge_mode
        config["layer"] = serialize_layer(self.forward_layer)
        config["backward_layer"] = serialize_layer(self.backward_layer)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["layer"] = layer_from_config(config["layer"])
        if config.get("backward_layer") is not None:
            config["backward_layer"] = layer_from_config(config["backward_layer"])
        return super().from_config(config)


class TimeDistributed(Wrapper):
    """``TimeDistributed(layer)``: the same layer (the same weights) applied to every time
    step of (batch, timesteps, ...) inputs. A mask (batch, timesteps) is handed to the inner
    layer, folded the same way, and passed on to the output."""

    def __init__(self, layer, **kwargs):
        super().__init__(layer, **kwargs)
        self.supports_masking = True

    def _child_shape(self, input_shape):
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 3:
            raise ValueError("`TimeDistributed` Layer should be passed an `input_shape` with at "
                             f"least 3 dimensions, received: {input_shape}")
        return (input_shape[0], *input_shape[2:])

    def build(self, input_shape):
        child = self._child_shape(tuple(input_shape))
        if not self.layer.built:
            self.layer.build(child)
            self.layer.built = True
            prefix_weight_paths(self.layer, self.name)
        self.built = True

    def call(self, inputs, training=None, mask=None):
        shape = inputs.shape
        self._child_shape(shape)
        batch, steps = shape[0], shape[1]
        kwargs = {}
        if mask is not None:
            mask_shape = tuple(mask.shape)
            if mask_shape[:2] != (batch, steps):
                raise ValueError("`TimeDistributed` Layer should be passed a `mask` of shape "
                                 f"({batch}, {steps}, ...), received: mask.shape="
                                 f"{format_shape(mask_shape)}")
            if accepts(self.layer.call, "mask"):
                kwargs["mask"] = ops.reshape(mask, (batch * steps,) + mask_shape[2:])
        if accepts(self.layer.call, "training"):
            kwargs["training"] = training
        folded = ops.reshape(inputs, (batch * steps,) + tuple(shape[2:]))
        y = self.layer(folded, **kwargs)
        return ops.reshape(y, (batch, steps) + tuple(y.shape[1:]))

    def compute_output_shape(self, input_shape):
        child = self.layer.compute_output_shape(self._child_shape(tuple(input_shape)))
        return (child[0], input_shape[1], *child[1:])
