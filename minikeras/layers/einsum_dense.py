"""EinsumDense: a dense layer whose product is any einsum of the input with one kernel.

``EinsumDense("abc,cde->abde", output_shape=(None, 4, 8), bias_axes="de")`` maps
(batch, T, c) to (batch, T, 4, 8) with a kernel of shape (c, 4, 8): the projection of
MultiHeadAttention onto its heads. The equation has three parts, input, kernel and output
subscripts; every kernel size is read from the input (a letter the input has) or from
``output_shape`` (a letter only the output has). ``output_shape`` lists the output sizes
after the batch axis and without the axes that ``...`` stands for; ``None`` means "the
same as the input's".
"""
import re

from .. import activations, constraints, initializers, ops, regularizers
from .layer import Layer

# The three forms Keras accepts: no ellipsis, "..." leading input and output, or "..."
# trailing them (after at least two named input axes).
_PLAIN = re.compile(r"^([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$")
_LEFT = re.compile(r"^\.\.\.([a-zA-Z]+),([a-zA-Z]+)->\.\.\.([a-zA-Z]+)$")
_RIGHT = re.compile(r"^([a-zA-Z]{2,})\.\.\.,([a-zA-Z]+)->([a-zA-Z]+)\.\.\.$")


def _split_equation(equation):
    """(input, kernel, output subscripts, where the ellipsis is: None, "left", "right")."""
    spec = equation.replace(" ", "")
    for pattern, side in ((_PLAIN, None), (_LEFT, "left"), (_RIGHT, "right")):
        found = pattern.match(spec)
        if found:
            return found.group(1), found.group(2), found.group(3), side
    raise ValueError(f"Invalid einsum equation '{equation}'. Equations must be in the form "
                     "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]....")


def analyze_einsum(equation, bias_axes, input_shape, output_shape, where="EinsumDense"):
    """The kernel shape, the bias shape (None without bias_axes) and the full output shape
    (batch axis included) of an EinsumDense layer on inputs of ``input_shape``."""
    ins, kern, outs, side = _split_equation(equation)
    input_shape = tuple(input_shape)
    elided = len(input_shape) - len(ins)
    if elided < 0 or (side is None and elided != 0):
        raise ValueError(f"{where}: the equation '{equation}' names {len(ins)} input axes, but "
                         f"the input has shape {input_shape} ({len(input_shape)} axes).")
    partial = [output_shape] if isinstance(output_shape, int) else list(output_shape)
    # The full output: the batch size, then the partial shape, with the elided input axes
    # inserted after the batch axis ("...x") or appended at the end ("x...").
    full = [input_shape[0]] + partial
    if side == "left":
        full[1:1] = input_shape[1:elided]
    elif side == "right":
        full += input_shape[len(input_shape) - elided:]
    first_named = elided if side == "left" else 0     # where the named axes start
    out_first = elided if side == "left" else 0
    if len(full) != len(outs) + elided:
        wanted = len(outs) - (0 if side == "left" else 1)
        raise ValueError(f"{where}: output_shape {tuple(partial)} does not fit the output "
                         f"subscripts '{outs}' of the equation '{equation}': expected {wanted} "
                         "size(s), the batch axis and the axes of '...' excluded.")
    in_size = {c: input_shape[first_named + i] for i, c in enumerate(ins)}
    out_pos = {c: out_first + i for i, c in enumerate(outs)}
    for c, pos in out_pos.items():
        if c in in_size:
            if full[pos] is not None and full[pos] != in_size[c]:
                raise ValueError("Input shape and output shape do not match at shared "
                                 f"dimension '{c}'. Input shape is {in_size[c]}, and output "
                                 f"shape is {full[pos]}.")
            full[pos] = in_size[c]
        elif c not in kern:
            raise ValueError(f"Dimension '{c}' was specified in the output '{outs}' but has no "
                             f"corresponding dim in the input spec '{ins}' or weight spec "
                             f"'{kern}'")
    kernel_shape = []
    for c in kern:
        if c in in_size:
            kernel_shape.append(in_size[c])
        elif c in out_pos:
            kernel_shape.append(full[out_pos[c]])
        else:
            raise ValueError(f"Weight dimension '{c}' did not have a match in either the input "
                             f"spec '{ins}' or the output spec '{outs}'. For this layer, the "
                             "weight must be fully specified.")
    if any(n is None for n in kernel_shape):
        raise ValueError(f"{where}: the kernel of '{equation}' needs known sizes, got kernel "
                         f"shape {tuple(kernel_shape)} from input shape {input_shape} and "
                         f"output_shape {tuple(partial)}.")
    bias_shape = None
    if bias_axes is not None:
        for c in bias_axes:
            if c not in outs:
                raise ValueError(f"Bias dimension '{c}' was requested, but is not part of the "
                                 f"output spec '{outs}'")
        # The bias covers the output from its first biased axis to the end (size 1 on the
        # unbiased axes in between), so that it broadcasts against the output.
        start = min(outs.index(c) for c in bias_axes)
        bias_shape = [full[out_pos[c]] if c in bias_axes else 1 for c in outs[start:]]
        if side == "right":
            bias_shape += [1] * elided
    return tuple(kernel_shape), None if bias_shape is None else tuple(bias_shape), tuple(full)


def _copy(initializer):
    """A fresh instance with the same configuration, so two layers never share one (as
    Keras does for the sub-layers of MultiHeadAttention)."""
    if hasattr(initializer, "get_config") and hasattr(type(initializer), "from_config"):
        return type(initializer).from_config(initializer.get_config())
    return initializer


class EinsumDense(Layer):
    """``y = activation(einsum(equation, x, kernel) + bias)``.

    ``equation`` is ``"<input>,<kernel>-><output>"`` (optionally with ``...`` leading or
    trailing the input and the output); ``bias_axes`` names the output letters that get a
    bias (e.g. ``"de"``), or None for no bias.

    Like Keras's, the layer does not hand a Keras mask on to its output.
    """

    def __init__(self, equation, output_shape, activation=None, bias_axes=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        _split_equation(equation)   # a malformed equation is refused at once
        self.equation = equation
        self.partial_output_shape = ((output_shape,) if isinstance(output_shape, int)
                                     else tuple(output_shape))
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.full_output_shape = None

    def build(self, input_shape):
        kernel_shape, bias_shape, full = analyze_einsum(
            self.equation, self.bias_axes, input_shape, self.partial_output_shape,
            where=f"Layer \"{self.name}\"")
        self.full_output_shape = full
        self.kernel = self.add_weight(kernel_shape, self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = (None if bias_shape is None else
                     self.add_weight(bias_shape, self.bias_initializer, name="bias",
                                     regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint))
        # The contracted input axes are fixed by the kernel; the others may change size.
        ins, kern, _, side = _split_equation(self.equation)
        named = tuple(n if c in kern else None
                      for c, n in zip(ins, input_shape[len(input_shape) - len(ins):]
                                      if side == "left" else input_shape[:len(ins)]))
        if side == "left":
            self.input_spec_shape = (Ellipsis,) + named
        elif side is None:
            self.input_spec_shape = (None,) + named[1:]
        else:
            self.input_spec_shape = (None,) + named[1:] + (None,) * (len(input_shape) - len(ins))
        self.built = True

    def call(self, inputs):
        y = ops.einsum(self.equation, inputs, self.kernel)
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y) if self.activation is not None else y

    def compute_output_shape(self, input_shape):
        return analyze_einsum(self.equation, self.bias_axes, input_shape,
                              self.partial_output_shape, where=f"Layer \"{self.name}\"")[2]

    def get_config(self):
        config = super().get_config()
        config.update(
            output_shape=self.partial_output_shape, equation=self.equation,
            activation=activations.serialize(self.activation), bias_axes=self.bias_axes,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            activity_regularizer=regularizers.serialize(self.activity_regularizer),
            kernel_constraint=constraints.serialize(self.kernel_constraint),
            bias_constraint=constraints.serialize(self.bias_constraint))
        return config
