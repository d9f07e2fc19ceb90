"""The symbolic tensors of the functional API.

``x = keras.Input(shape=(64,))`` makes a :class:`KerasTensor`: a shape and a dtype, no values.
Calling a layer on it records a :class:`Node` (the layer, its symbolic inputs and outputs)
instead of computing; ``keras.Model(inputs, outputs)`` later replays those nodes in order
on real tensors.

To know the shape of a layer's output without values, the layer is run once on zeros
(``infer_output_shape``): a dimension that is unknown (None) is tried at two sizes, and the
output dimensions that change with it are unknown too. That also builds the layer.
"""
import numpy as np

from .. import backend
from ..autograd import no_grad
from ..tensor import Tensor
from .structure import flatten, map_structure


class KerasTensor:
    """A symbolic tensor: ``shape`` (None for unknown sizes, the batch first), ``dtype``,
    and where it came from (``node``: the call that produced it)."""

    def __init__(self, shape, dtype=None, name=None, node=None, index=0):
        self.shape = tuple(None if s is None else int(s) for s in shape)
        self.dtype = np.dtype(dtype or backend.floatx())
        self.name = name
        self.node = node
        self.index = index
        self._keras_mask = None  # a boolean KerasTensor when a masking layer made this one

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return (f"<KerasTensor shape={self.shape}, dtype={self.dtype}, "
                f"name={self.name or (self.node.layer.name if self.node else None)}>")

    def __array__(self, *args, **kwargs):
        raise TypeError("A KerasTensor is a placeholder of the functional API and has no "
                        "values. Build a keras.Model(inputs, outputs) and call it on data.")


class Node:
    """One call of a layer on symbolic inputs: the edge of a functional graph."""

    def __init__(self, layer, inputs, args, kwargs, outputs):
        self.layer, self.inputs, self.args, self.kwargs = layer, inputs, args, kwargs
        self.outputs = outputs

    @property
    def parents(self):
        """The nodes that made this call's symbolic tensors: its inputs, and any
        KerasTensor among its other arguments (``mha(query, value)``)."""
        return [t.node for t in flatten([self.inputs, list(self.args), self.kwargs])
                if isinstance(t, KerasTensor) and t.node]


def _placeholder(shape, dtype, sizes, fill=0):
    """Zeros of ``shape`` with an unknown batch size set to ``sizes[0]`` and any other
    unknown size (time steps, image sides) to ``sizes[1]``."""
    concrete = tuple((sizes[0] if i == 0 else sizes[1]) if s is None else s
                     for i, s in enumerate(shape))
    if int(np.prod(concrete, dtype=np.float64)) > MAX_PROBE_SIZE:
        raise ValueError(f"The symbolic shape {tuple(shape)} is too large for minikeras to "
                         f"infer the layer's output shape by running it on zeros of shape "
                         f"{concrete} (more than {MAX_PROBE_SIZE:,} values).")
    return Tensor(backend.xp.full(concrete, fill, dtype=dtype))


def _probe(t, sizes):
    """The zeros that stand for KerasTensor ``t`` in a probe run; a mask it carries comes
    along, all True, so that the layer's ``call(mask=...)`` sees one, as in Keras."""
    zeros = _placeholder(t.shape, t.dtype, sizes)
    if t._keras_mask is not None:
        zeros._keras_mask = _placeholder(t._keras_mask.shape, bool, sizes, fill=True)
    return zeros


def _run_on_zeros(layer, inputs, args, kwargs, sizes):
    def concrete(structure):
        return map_structure(lambda t: _probe(t, sizes) if isinstance(t, KerasTensor) else t,
                             structure)
    with no_grad():
        return layer(concrete(inputs), *concrete(list(args)), **concrete(dict(kwargs)))


# The largest array of zeros a shape inference makes (1 GiB of float32): beyond it a shape,
# say from a crafted model file, is refused rather than allocated.
MAX_PROBE_SIZE = 2**28

# Two runs on zeros tell which output sizes follow an unknown input size. The batch is tried
# at 2 and 3; an unknown time or image size at 31 and 37 (large enough for the usual
# kernels and strides), and once more at 97 and 101 if a layer refuses those.
_PROBES = (((2, 31), (3, 37)), ((2, 97), (3, 101)))


def _declared_shapes(layer, inputs):
    """``layer.compute_output_shape`` of the symbolic input shapes, when the layer has its
    own and it answers (it knows that a strided convolution of None steps has None
    steps, where two probes could agree by chance); else None."""
    if not layer.declares_output_shape():
        return None
    shapes = map_structure(lambda t: t.shape, inputs)
    try:
        out = layer.compute_output_shape(shapes)
    except Exception:  # a layer whose compute_output_shape needs more than shapes
        return None
    return out


def symbolic_call(layer, inputs, args, kwargs):
    """Call ``layer`` on KerasTensors: infer the output shape(s), record a Node."""
    kwargs = {k: v for k, v in kwargs.items() if k != "training"}
    inner_unknown = any(s is None for t in flatten(inputs) if isinstance(t, KerasTensor)
                        for s in t.shape[1:])
    probes = _PROBES if inner_unknown else (((2, 2), (3, 3)),)
    for i, (first, second) in enumerate(probes):
        try:
            out_a = _run_on_zeros(layer, inputs, args, kwargs, first)
            out_b = _run_on_zeros(layer, inputs, args, kwargs, second)
            break
        except ValueError as error:
            if i < len(probes) - 1:
                continue
            # No probe size fits (Reshape((-1, 4)) of 6 features per step, a kernel of 100
            # steps): the layer's own compute_output_shape says it, when it has one.
            declared = _declared_shapes(layer, inputs) if inner_unknown else None
            if declared is None:
                raise _in_symbolic_shapes(error, inputs, (first, second)) from None
            layer._clear_losses()
            return _record_node(layer, inputs, args, kwargs, _flatten_shapes(declared),
                                [_output_dtype(layer, inputs)] * len(_flatten_shapes(declared)),
                                structure=declared)
    layer._clear_losses()  # the probes' activity losses are not the model's
    flat_a, flat_b = flatten(out_a), flatten(out_b)
    shapes = [tuple(None if p != q else p for p, q in zip(a.shape, b.shape))
              if a.ndim == b.ndim else (None,) * a.ndim for a, b in zip(flat_a, flat_b)]
    if inner_unknown:
        declared = _declared_shapes(layer, inputs)
        flat_declared = (_flatten_shapes(declared) if declared is not None else [])
        if len(flat_declared) == len(shapes) and all(
                len(d) == len(s) for d, s in zip(flat_declared, shapes)):
            shapes = [tuple(None if (d is None or s is None) else s for d, s in zip(ds, ss))
                      for ds, ss in zip(flat_declared, shapes)]
    outputs = _record_node(layer, inputs, args, kwargs, shapes, [a.dtype for a in flat_a],
                           structure=out_a)
    for t, a, b in zip(flatten(outputs), flat_a, flat_b):  # the masks the probes made
        mask_a, mask_b = getattr(a, "_keras_mask", None), getattr(b, "_keras_mask", None)
        if mask_a is not None and mask_b is not None:
            t._keras_mask = KerasTensor([p if p == q else None for p, q in
                                         zip(mask_a.shape, mask_b.shape)], dtype=bool)
    return outputs


def _in_symbolic_shapes(error, inputs, probe_sizes):
    """``error`` with the shapes of the probe zeros in its message written as the user's
    symbolic shapes: ``(None, 4)``, never a batch of 2 the user did not give."""
    message = str(error)
    for t in flatten(inputs):
        if isinstance(t, KerasTensor):
            for sizes in probe_sizes:
                concrete = tuple((sizes[0] if i == 0 else sizes[1]) if d is None else d
                                 for i, d in enumerate(t.shape))
                message = message.replace(str(concrete), str(t.shape))
    try:
        return type(error)(message)
    except TypeError:  # an error class that takes other arguments
        return ValueError(message)


def _record_node(layer, inputs, args, kwargs, shapes, dtypes, structure):
    """KerasTensors of ``shapes`` arranged like ``structure``, and the Node that links them
    to the call."""
    outputs_flat = [KerasTensor(s, dtype=d) for s, d in zip(shapes, dtypes)]
    it = iter(outputs_flat)
    if isinstance(structure, tuple) and all(s is None or isinstance(s, int) for s in structure):
        outputs = next(it)          # a single shape
    else:
        outputs = map_structure(lambda _: next(it), structure)
    node = Node(layer, inputs, args, kwargs, outputs)
    for i, t in enumerate(outputs_flat):
        t.node, t.index = node, i
    layer._inbound.append(node)
    return outputs


def _output_dtype(layer, inputs):
    """The dtype of an output known only by its shape: the layer's own for float inputs."""
    first = next(t for t in flatten(inputs) if isinstance(t, KerasTensor))
    return layer.dtype if first.dtype.kind == "f" else first.dtype


def _flatten_shapes(shapes):
    """A shape or a structure of shapes as a list of tuples."""
    if isinstance(shapes, tuple) and all(s is None or isinstance(s, int) for s in shapes):
        return [shapes]
    if isinstance(shapes, (list, tuple)):
        return [s for part in shapes for s in _flatten_shapes(part)]
    if isinstance(shapes, dict):
        return [s for part in shapes.values() for s in _flatten_shapes(part)]
    return [tuple(shapes)]


def infer_output_shape(layer, input_shape):
    """The output shape of ``layer`` for ``input_shape`` (None = unknown), by running it on
    zeros; builds the layer if it is not built."""
    if isinstance(input_shape, list):
        inputs = [KerasTensor(s) for s in input_shape]
    else:
        inputs = KerasTensor(input_shape)
    out = symbolic_call(layer, inputs, (), {})
    layer._inbound.pop()
    return map_structure(lambda t: t.shape, out)
