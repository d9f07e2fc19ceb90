"""``Layer``: the base class of every layer and model.

A layer is a callable object with weights. The first call **builds** it: ``build(input_shape)``
creates the weights once the input's shape is known (a Dense layer learns how many input
features it has from its first input). Every call then runs ``call(inputs)``, which is
written with ops, so the tape records it like any other computation.

What ``Layer.__call__`` adds around ``call``:

* inputs converted to Tensors, the layer built on first use;
* the input checked against what the built layer expects (an error names the layer, the
  expected and the received shape);
* the ``training`` flag passed down to sub-layers when the caller does not give it;
* weight regularization losses collected in ``layer.losses``;
* symbolic inputs (``keras.Input``) recorded as a node of a functional model.
"""
import inspect
import sys
import warnings

import numpy as np

from .. import backend, constraints, initializers, regularizers
from ..autograd.function import call_site
from ..ops.core import cast
from ..tensor import Tensor, Variable
from .names import snake_case, unique_name
from .structure import accepts, flatten, format_shape, map_structure, shape_of
from .symbolic import KerasTensor, infer_output_shape, symbolic_call

class _CallContext:
    """The ``training`` flag of the outermost call, seen by the layers inside it, and how
    many layer calls are under way (0 outside any)."""
    training = None
    depth = 0


_context = _CallContext()
_MISSING = object()  # no positional input: see Layer.__call__


class Layer:
    """``keras.layers.Layer(trainable=True, name=None, dtype=None, activity_regularizer=None)``.

    Subclasses write ``__init__`` (store the configuration), ``build(input_shape)`` (create
    weights with :meth:`add_weight`) and ``call(inputs, training=None)`` (the computation),
    and ``get_config`` for saving.
    """

    _supports_masking = None  # see ``supports_masking``; a subclass may set True

    def __init__(self, trainable=True, name=None, dtype=None, activity_regularizer=None,
                 input_shape=None, input_dim=None, batch_size=None, **kwargs):
        allowed = {"autocast", "input_length"}
        unknown = set(kwargs) - allowed
        if unknown:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) "
                            f"{sorted(unknown)}.")
        self.name = name or unique_name(snake_case(type(self).__name__))
        self._trainable = trainable
        self.dtype = dtype or backend.floatx()
        self.built = False
        self._trainable_weights = []
        self._non_trainable_weights = []
        self._layers = []
        self._own_losses = []
        self._regularized = []
        self.activity_regularizer = activity_regularizer
        self.input_spec_shape = None  # the shape a built layer accepts (None: anything)
        self._inbound = []            # functional-API nodes this layer was called in
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if input_shape is not None:  # Keras 3 warns the same: it still works, but not for long
            warnings.warn("Do not pass an `input_shape`/`input_dim` argument to a layer. When "
                          "using Sequential models, prefer using an `Input(shape)` object as "
                          "the first layer in the model instead.", UserWarning, stacklevel=3)
        self._input_shape_arg = (None if input_shape is None
                                 else (batch_size,) + tuple(input_shape))

    # ------------------------------------------------------------------ tracking
    def __setattr__(self, name, value):
        if isinstance(value, Layer) and name != "_parent" and "_layers" in self.__dict__:
            if value not in self._layers:
                self._layers.append(value)
        elif (isinstance(value, (list, tuple)) and value and "_layers" in self.__dict__
              and all(isinstance(v, Layer) for v in value)):
            for v in value:
                if v not in self._layers:
                    self._layers.append(v)
        object.__setattr__(self, name, value)

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        """Freezing a layer freezes its sub-layers too (their weights leave
        ``trainable_weights``)."""
        self._trainable = bool(value)
        for layer in self._layers:
            layer.trainable = value

    def add_weight(self, *args, shape=None, initializer=None, dtype=None, trainable=True,
                   regularizer=None, constraint=None, name=None, **kwargs):
        """``add_weight(shape=None, initializer=None, dtype=None, trainable=True,
        regularizer=None, constraint=None, name=None)``: create a weight (a
        :class:`~minikeras.Variable`) of this layer and track it.

        ``initializer`` is a name (``"glorot_uniform"``), an initializer object or a
        callable; the default is glorot_uniform for floats and zeros otherwise, as in Keras.
        """
        if args and isinstance(args[0], str):  # Keras 2's add_weight("name", shape=...)
            raise ValueError(f"`name` must be passed as a keyword argument. Received: "
                             f"add_weight({args[0]!r}, ...). Use: add_weight(shape=..., "
                             f"name={args[0]!r}).")
        if args:  # the arguments given by position, in the order above
            given = dict(zip(("shape", "initializer", "dtype", "trainable", "regularizer",
                              "constraint"), args))
            shape, initializer = given.get("shape", shape), given.get("initializer", initializer)
            dtype, trainable = given.get("dtype", dtype), given.get("trainable", trainable)
            regularizer = given.get("regularizer", regularizer)
            constraint = given.get("constraint", constraint)
        shape = tuple(int(s) for s in (shape or ()))
        dtype = dtype or self.dtype
        if initializer is None:
            initializer = "glorot_uniform" if np.dtype(dtype).kind == "f" else "zeros"
        init = initializers.get(initializer)
        value = init(shape, dtype=dtype)
        variable = Variable(value, dtype=dtype, trainable=trainable,
                            name=name or f"variable_{len(self.weights)}")
        variable.path = f"{self.name}/{variable.name}"
        if constraint is not None:
            variable.constraint = constraints.get(constraint)  # the optimizer applies it
        (self._trainable_weights if trainable else self._non_trainable_weights).append(variable)
        if regularizer is not None:
            self._regularized.append((variable, regularizers.get(regularizer)))
        return variable

    add_variable = add_weight

    def _all_layers(self):
        out = []
        for layer in self._layers:
            out.append(layer)
            out.extend(layer._all_layers())
        return out

    def _flagged_weights(self):
        """(weight, trainable?) for this layer's own weights, then each sub-layer's, depth
        first: Keras's order, which does not change when a layer is frozen. A weight is
        trainable when it was made trainable and its own layer is (freezing a layer freezes
        the layers inside it; one of them can be unfrozen again, as in Keras)."""
        out = [(v, self._trainable) for v in self._trainable_weights]
        out += [(v, False) for v in self._non_trainable_weights]
        for layer in self._layers:
            out.extend(layer._flagged_weights())
        return out

    @property
    def weights(self):
        """Every weight, layer by layer: each layer's trainable then non-trainable weights,
        then its sub-layers' (Keras's order, so ``get_weights``/``set_weights`` lists match
        Keras's and do not depend on which layers are frozen)."""
        return _unique([v for v, _ in self._flagged_weights()])

    @property
    def variables(self):
        return self.weights

    @property
    def trainable_weights(self):
        if not self._trainable:
            return []
        return _unique([v for v, trainable in self._flagged_weights() if trainable])

    @property
    def non_trainable_weights(self):
        trainable = {id(v) for v in self.trainable_weights}
        return _unique([v for v, _ in self._flagged_weights() if id(v) not in trainable])

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    def count_params(self):
        """The number of scalars in all weights (the layer must be built)."""
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer '{self.name}', but the "
                             "layer isn't built. You can build it manually via: "
                             f"`{self.name}.build(batch_input_shape)`.")
        return int(sum(w.size for w in self.weights))

    def get_weights(self):
        """Copies of the weights as NumPy arrays, in ``layer.weights`` order (copies, as in
        Keras: training afterwards does not change them, and changing them does not change
        the layer)."""
        return [np.array(w.numpy(), copy=True) for w in self.weights]

    def set_weights(self, weights):
        """Set the weights from NumPy arrays given in ``layer.weights`` order."""
        params = self.weights
        if len(weights) != len(params):
            raise ValueError(f"Layer {self.name} expects {len(params)} weights, but the given "
                             f"list has {len(weights)} element(s).")
        for p, w in zip(params, weights):
            w = np.asarray(w)
            if tuple(w.shape) != p.shape:
                raise ValueError(f"Layer {self.name} weight shape {p.shape} is not compatible "
                                 f"with provided weight shape {tuple(w.shape)} ({p.path}).")
        for p, w in zip(params, weights):
            p.assign(backend.asarray(np.asarray(w, dtype=p.dtype)))

    # ------------------------------------------------------------------ losses
    def add_loss(self, loss):
        """Add a loss term (a scalar Tensor) to ``layer.losses``, e.g. inside ``call``."""
        self._own_losses.append(loss)

    @property
    def losses(self):
        """The losses added in the last call plus weight regularization, of this layer and
        its sub-layers. They are added to the training loss by ``fit``."""
        out = list(self._own_losses)
        for variable, reg in self._regularized:
            out.append(reg(variable))
        for layer in self._layers:
            out.extend(layer.losses)
        return out

    def _clear_losses(self):
        self._own_losses = []
        for layer in self._layers:
            layer._clear_losses()

    # ------------------------------------------------------------------ build and call
    def build(self, input_shape=None):
        """Create the weights for inputs of ``input_shape``; the base class creates none."""
        self.built = True

    def _maybe_build(self, inputs):
        if self.built:
            return
        shapes = map_structure(shape_of, inputs)
        self._build_shapes = shapes if not isinstance(inputs, Tensor) else shape_of(inputs)
        self.build(self._build_shapes)
        self.built = True

    def call(self, inputs, *args, **kwargs):
        return inputs

    def __call__(self, inputs=_MISSING, *args, **kwargs):
        if inputs is _MISSING:  # the first argument given by name: lstm(sequences=x)
            inputs = _first_argument(self, kwargs)
        one_tensor = isinstance(inputs, Tensor)
        if (not one_tensor and any(isinstance(x, KerasTensor) for x in flatten(inputs))) or (
                (args or len(kwargs) > 1 or (kwargs and "training" not in kwargs))
                and any(isinstance(x, KerasTensor) for x in flatten([args, kwargs]))):
            return symbolic_call(self, inputs, args, kwargs)
        # the masks, read before autocast (which makes new tensors)
        if one_tensor:
            previous_mask = getattr(inputs, "_keras_mask", None)
            masked = previous_mask is not None
            inputs = self._autocast(inputs)
        else:
            previous_mask = map_structure(get_mask, inputs)
            masked = any(m is not None for m in flatten(previous_mask))
            inputs = map_structure(self._autocast, inputs)
        self._maybe_build(inputs)
        self._check_input(inputs)
        training = kwargs.get("training")
        outer = _context.training
        if training is None:
            training = outer
        if accepts(self.call, "training"):
            kwargs["training"] = training
        else:
            kwargs.pop("training", None)
        if (masked and "mask" not in kwargs and accepts(self.call, "mask")
                and not _more_tensor_arguments(args, kwargs)):
            # As Keras: the input's mask goes to `mask` only when the input is the call's
            # one tensor argument (an RNN given initial_state tensors gets none).
            kwargs["mask"] = previous_mask
        if _context.depth == 0:
            # An outermost call starts afresh: `losses` then holds this call's losses (and
            # the weight regularization), not every earlier call's, as in Keras.
            self._clear_losses()
        _context.training = training
        _context.depth += 1
        try:
            with call_site(sys._getframe(), self.name):   # the user's line and the layer's path
                outputs = self.call(inputs, *args, **kwargs)
        finally:
            _context.training = outer
            _context.depth -= 1
        if self.supports_masking and (masked or "mask" in kwargs
                                      or type(self).compute_mask is not Layer.compute_mask):
            # (the default compute_mask hands on the input's mask: nothing to do without one)
            self._set_output_masks(inputs, outputs, kwargs.get("mask", previous_mask))
        if self.activity_regularizer is not None:
            reg = regularizers.get(self.activity_regularizer)
            for out in flatten(outputs):
                self.add_loss(reg(out) / max(1, out.shape[0]) if out.ndim else reg(out))
        return outputs

    # ------------------------------------------------------------------ masks
    @property
    def supports_masking(self):
        """Whether the layer hands a mask on to its outputs (``compute_mask``). True for
        layers that set ``self.supports_masking = True`` or override ``compute_mask``."""
        flag = self._supports_masking
        if flag is None:
            return type(self).compute_mask is not Layer.compute_mask
        return flag

    @supports_masking.setter
    def supports_masking(self, value):
        self.__dict__["_supports_masking"] = bool(value)

    def compute_mask(self, inputs, previous_mask):
        """The mask of the output, given the input's mask (``previous_mask``): by default
        the same mask, which suits layers that keep the time axis (Dense, Dropout, ...)."""
        return previous_mask

    def _set_output_masks(self, inputs, outputs, previous_mask):
        """Attach ``compute_mask``'s result to the outputs as ``_keras_mask`` (outputs
        that already carry a mask keep theirs), as Keras does."""
        flat_outputs = [t for t in flatten(outputs) if isinstance(t, Tensor)]
        if not flat_outputs or all(get_mask(t) is not None for t in flat_outputs):
            return
        masks = self.compute_mask(inputs, previous_mask)
        # One mask per output, in order (a single mask goes to the first output only, as
        # in Keras: an RNN's states, an attention's scores get none).
        flat_masks = flatten(masks) if isinstance(masks, (list, tuple)) else [masks]
        for t, m in zip(flat_outputs, flat_masks):
            if m is not None and get_mask(t) is None:
                t._keras_mask = m if isinstance(m, Tensor) else Tensor(m)

    def _autocast(self, x):
        """Inputs as Tensors; float inputs cast to the layer's dtype, as Keras's autocast."""
        if x is None:
            return x
        if not isinstance(x, Tensor):
            x = Tensor(x)
        if x.dtype.kind == "f" and x.dtype != np.dtype(self.dtype):
            x = cast(x, self.dtype)
        return x

    def _check_input(self, inputs):
        """Compare the input with ``input_spec_shape`` (None entries match any size)."""
        spec = self.input_spec_shape
        if spec is None or not isinstance(inputs, Tensor):
            return
        shape = inputs.shape
        if len(spec) != len(shape) and spec[0] is not Ellipsis:
            raise ValueError(f"Input 0 of layer \"{self.name}\" is incompatible with the layer: "
                             f"expected ndim={len(spec)}, found ndim={len(shape)}. Full shape "
                             f"received: {format_shape(shape)}")
        for axis in range(1, len(spec) + 1):
            want = spec[-axis]
            if want is Ellipsis:
                break
            if want is not None and shape[-axis] != want:
                raise ValueError(
                    f"Input 0 of layer \"{self.name}\" is incompatible with the layer: expected "
                    f"axis {-axis} of input shape to have value {want}, but received input with "
                    f"shape {format_shape(shape)}")

    @property
    def output(self):
        """The symbolic output of this layer in a functional model (the layer must have been
        called exactly once on ``keras.Input`` tensors): ``keras.Model(model.input,
        model.get_layer("hidden").output)`` extracts features."""
        return self._single_node("output").outputs

    @property
    def input(self):
        """The symbolic input of this layer in a functional model (called exactly once)."""
        return self._single_node("input").inputs

    def _single_node(self, what):
        if not self._inbound:
            raise AttributeError(f"The layer \"{self.name}\" has never been called and thus has "
                                 f"no defined {what}.")
        if len(self._inbound) > 1:
            raise AttributeError(f"Layer \"{self.name}\" has multiple inbound nodes, hence the "
                                 f"notion of \"layer {what}\" is ill-defined.")
        return self._inbound[-1]

    def declares_output_shape(self):
        """True when this layer's class writes its own ``compute_output_shape``."""
        return type(self).compute_output_shape is not Layer.compute_output_shape

    def compute_output_shape(self, input_shape):
        """The output shape for ``input_shape`` (None for unknown sizes), found by running
        the layer on zeros when a subclass does not say."""
        return infer_output_shape(self, input_shape)

    # ------------------------------------------------------------------ config
    def get_config(self):
        """The arguments that recreate this layer (``from_config``)."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self._input_shape_arg is not None:
            config["batch_input_shape"] = self._input_shape_arg
        return config

    # ------------------------------------------- what saving calls (Keras's hooks)
    def get_build_config(self):
        """``{"input_shape": ...}``, the shape(s) the layer was built with on its first call
        (None before): a saved file keeps it so that ``build_from_config`` can build the
        layer again before its weights are read. Override both to save other build state."""
        shapes = getattr(self, "_build_shapes", None)
        return None if shapes is None else {"input_shape": shapes}

    def build_from_config(self, config):
        """Build the layer from what ``get_build_config`` returned."""
        shape = (config or {}).get("input_shape")
        if shape is not None and not self.built:
            self._build_shapes = shape
            self.build(shape)
            self.built = True

    def save_own_variables(self, store):
        """Write this layer's own weights (trainable, then non-trainable, in creation
        order) as ``store["0"]``, ``store["1"]``...: the layer's group of a weights file.
        Override it (with ``load_own_variables``) to save state that is not a weight."""
        for i, v in enumerate(self._trainable_weights + self._non_trainable_weights):
            store[str(i)] = backend.to_numpy(v.data)

    def load_own_variables(self, store):
        """Read back what ``save_own_variables`` wrote."""
        variables = self._trainable_weights + self._non_trainable_weights
        if len(store.keys()) != len(variables):
            raise ValueError(f"Layer '{self.name}' expected {len(variables)} variables, but "
                             f"received {len(store.keys())} variables during loading. "
                             f"Expected: {[v.name for v in variables]}")
        for i, v in enumerate(variables):
            v.assign(backend.asarray(np.asarray(store[str(i)], dtype=v.dtype)))

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        batch_input_shape = config.pop("batch_input_shape", None)
        if batch_input_shape is None:
            return cls(**config)
        config["input_shape"] = tuple(batch_input_shape[1:])
        with warnings.catch_warnings():  # a file's shape is not the user passing one
            warnings.filterwarnings("ignore", message="Do not pass an `input_shape`")
            return cls(**config)

    @property
    def path(self):
        return self.name

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"




def _first_argument(layer, kwargs):
    """Take the value of ``call``'s first parameter out of ``kwargs`` (``query=``,
    ``sequences=``, ``inputs=``), or raise the TypeError Python would."""
    try:
        params = [p for p in inspect.signature(layer.call).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    if params and params[0].name in kwargs:
        return kwargs.pop(params[0].name)
    name = params[0].name if params else "inputs"
    raise TypeError(f"Layer \"{layer.name}\" was called without its input: pass it first or "
                    f"as {name}=...")


def _more_tensor_arguments(args, kwargs):
    """True when a call passes tensors besides its first argument (``initial_state=[h, c]``)."""
    if not args and (not kwargs or kwargs.keys() <= {"training", "mask"}):
        return False
    rest = list(args) + [v for k, v in kwargs.items() if k not in ("training", "mask")]
    return any(isinstance(t, Tensor) for t in flatten(rest))


def get_mask(x):
    """The Keras mask a tensor carries (``x._keras_mask``: a boolean tensor of its leading
    axes, True where a step is real and False where it is padding), or None."""
    return getattr(x, "_keras_mask", None) if isinstance(x, Tensor) else None


def _unique(variables):
    """The list without repeats (a weight shared by two layers counts once), by identity:
    ``==`` on tensors compares values."""
    seen, out = set(), []
    for v in variables:
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out


__all__ = ["Layer"]
