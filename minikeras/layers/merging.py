"""Merging layers: combine a list of tensors into one.

    Add, Subtract, Multiply, Average, Maximum, Minimum   elementwise, with broadcasting
    Concatenate(axis=-1)                                 joined along an axis
    Dot(axes, normalize=False)                           a dot product per sample

plus Keras's functional forms ``add([a, b])``, ``concatenate([a, b], axis=1)``, ... which
make the layer and call it at once. None of these layers has weights.

Every one takes a *list* of tensors (``layers.Add()([a, b])``, never ``Add()(a, b)``). The
elementwise layers broadcast as Keras does: sizes of 1 stretch, and an input of lower rank
gets new axes of size 1 right after the batch axis, which is NumPy's right-aligned
broadcasting of the per-sample shapes. The shapes are checked on every call, and on the
symbolic shapes (None for unknown sizes) when the layer is called on ``keras.Input``s, so a
mismatch is reported with the shapes the user wrote.
"""
from .. import backend, ops
from .layer import Layer, get_mask
from .structure import shape_of
from .symbolic import KerasTensor


def _shapes(inputs):
    return [tuple(shape_of(x)) for x in inputs]


class Merge(Layer):
    """The base of the elementwise merging layers: it checks the list of inputs, lifts
    lower-rank inputs to the highest rank, and applies ``_merge_function`` to the list."""

    def _error(self, message):
        return ValueError(f"Layer \"{self.name}\": {message}")

    def __call__(self, inputs, *args, **kwargs):
        if not isinstance(inputs, (list, tuple)):
            raise self._error("A merge layer should be called on a list of inputs. Received: "
                              f"inputs with shape {tuple(shape_of(inputs))} (not a list of "
                              "tensors)")
        if any(isinstance(x, KerasTensor) for x in inputs):
            self.compute_output_shape(_shapes(inputs))   # validate the symbolic shapes
        return super().__call__(inputs, *args, **kwargs)

    # ------------------------------------------------------------------ shapes
    def _check_count(self, input_shape):
        if len(input_shape) < 1:
            raise self._error("A merge layer should be called on a list of at least 1 input. "
                              f"Received {len(input_shape)} inputs. Full input_shape "
                              f"received: {input_shape}")

    def _broadcast(self, shape1, shape2):
        """The per-sample shape of an elementwise op on shapes ``shape1`` and ``shape2``
        (aligned from the right; None is unknown), or Keras's error."""
        if len(shape1) < len(shape2):
            shape1, shape2 = shape2, shape1
        out = list(shape1[:len(shape1) - len(shape2)])
        for a, b in zip(shape1[len(shape1) - len(shape2):], shape2):
            if a is None or b is None:
                out.append(None)
            elif a == 1 or b == 1 or a == b:
                out.append(b if a == 1 else a)
            else:
                raise self._error(f"Inputs have incompatible shapes. Received shapes {shape1} "
                                  f"and {shape2}")
        return tuple(out)

    def compute_output_shape(self, input_shape):
        input_shape = [tuple(s) for s in input_shape]
        self._check_count(input_shape)
        batch_sizes = {s[0] for s in input_shape if s} - {None}
        if len(batch_sizes) > 1:
            raise self._error("Cannot merge tensors with different batch sizes. Received "
                              f"tensors with shapes {input_shape}")
        out = input_shape[0][1:]
        for shape in input_shape[1:]:
            out = self._broadcast(out, shape[1:])
        batch = batch_sizes.pop() if batch_sizes else None
        return (batch,) + out

    # ------------------------------------------------------------------ call
    def call(self, inputs):
        self.compute_output_shape(_shapes(inputs))
        rank = max(x.ndim for x in inputs)
        lifted = []
        for x in inputs:
            while x.ndim < rank:           # (batch, 3) -> (batch, 1, 3)
                x = ops.expand_dims(x, 1)
            lifted.append(x)
        masks = [_feature_mask(get_mask(x), y) for x, y in zip(inputs, lifted)]
        return self._merge_function(lifted, masks)

    def _merge_function(self, inputs, masks):
        """The merge of ``inputs``; ``masks[i]`` is input i's mask with a trailing axis of
        1 (or None), for the layers whose result at a padded step depends on it."""
        raise NotImplementedError

    def compute_mask(self, inputs, previous_mask=None):
        """When every input has a mask, a step is real where it is real in any of them
        (a logical or); when one input has none, the output has none (Keras)."""
        if not previous_mask or any(m is None for m in previous_mask):
            return None
        out = previous_mask[0]
        for m in previous_mask[1:]:
            out = ops.logical_or(out, m)
        return out


def _feature_mask(mask, x):
    """A (batch, steps) mask as (batch, steps, 1), to select whole steps of ``x``."""
    if mask is None or mask.ndim != x.ndim - 1:
        return None
    return ops.expand_dims(mask, -1)


def _merge_with_masks(op, inputs, masks):
    """``op`` over the inputs, where a padded step of one input takes the other side's
    value (so that a padding value never wins a maximum or a minimum), as Keras does."""
    out, out_mask = inputs[0], masks[0]
    for x, mask in zip(inputs[1:], masks[1:]):
        if mask is not None:
            x = ops.where(mask, x, out)
        if out_mask is not None:
            out = ops.where(out_mask, out, x)
        out_mask = ops.logical_or(out_mask, mask) if (
            mask is not None and out_mask is not None) else None
        out = op(out, x)
    return out


class Add(Merge):
    """The sum of the inputs: ``Add()([a, b, c]) = a + b + c``."""

    def _merge_function(self, inputs, masks):
        out = inputs[0]
        for x in inputs[1:]:
            out = ops.add(out, x)
        return out


class Subtract(Merge):
    """The difference of exactly two inputs: ``Subtract()([a, b]) = a - b``."""

    def _check_count(self, input_shape):
        if len(input_shape) != 2:
            raise self._error("A `Subtract` layer should be called on exactly 2 inputs. "
                              f"Received: input_shape={input_shape}")

    def _merge_function(self, inputs, masks):
        return ops.subtract(inputs[0], inputs[1])


class Multiply(Merge):
    """The elementwise product of the inputs. With masks, a padded step counts as 1 in the
    product, and when every input has a mask, a step padded in all of them is 0 (Keras)."""

    def _merge_function(self, inputs, masks):
        out, any_real = None, None
        for x, mask in zip(inputs, masks):
            if mask is not None:
                x = ops.where(mask, x, 1.0)
                any_real = mask if any_real is None else ops.logical_or(any_real, mask)
            out = x if out is None else ops.multiply(out, x)
        if all(m is not None for m in masks):
            out = ops.where(any_real, out, 0.0)
        return out


class Average(Merge):
    """The elementwise mean of the inputs: (a + b + ...) / n."""

    def _merge_function(self, inputs, masks):
        out = inputs[0]
        for x in inputs[1:]:
            out = ops.add(out, x)
        return out / len(inputs)


class Maximum(Merge):
    """The elementwise maximum of the inputs."""

    def _merge_function(self, inputs, masks):
        return _merge_with_masks(ops.maximum, inputs, masks)


class Minimum(Merge):
    """The elementwise minimum of the inputs."""

    def _merge_function(self, inputs, masks):
        return _merge_with_masks(ops.minimum, inputs, masks)


class Concatenate(Merge):
    """The inputs joined along ``axis`` (default the last); every other axis must match."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def compute_output_shape(self, input_shape):
        input_shape = [tuple(s) for s in input_shape]
        if len(input_shape) < 1:
            raise self._error("A `Concatenate` layer should be called on a list of at least 1 "
                              f"input. Received: input_shape={input_shape}")
        mismatch = self._error("A `Concatenate` layer requires inputs with matching shapes "
                               "except for the concatenation axis. Received: "
                               f"input_shape={input_shape}")
        rank = len(input_shape[0])
        if any(len(s) != rank for s in input_shape):
            raise mismatch
        if not -rank <= self.axis < rank:
            raise self._error(f"The concatenation axis {self.axis} is out of range for inputs "
                              f"of rank {rank}. Received: input_shape={input_shape}")
        axis = self.axis % rank
        out = list(input_shape[0])
        for i in range(rank):
            sizes = [s[i] for s in input_shape]
            if i == axis:
                out[i] = None if None in sizes else sum(sizes)
            else:
                known = {n for n in sizes if n is not None}
                if len(known) > 1:
                    raise mismatch
                out[i] = known.pop() if known else None
        return tuple(out)

    def call(self, inputs):
        self.compute_output_shape(_shapes(inputs))
        return ops.concatenate(list(inputs), axis=self.axis)

    def compute_mask(self, inputs, previous_mask=None):
        """The masks joined like the inputs (an input without one counts as all real); a
        mask that lacks the feature axis is stretched over it first, and the result is
        True where any feature of the joined step is real (Keras)."""
        if previous_mask is None or all(m is None for m in previous_mask):
            return None
        full = []
        for x, m in zip(inputs, previous_mask):
            if m is None:
                full.append(ops.ones(x.shape, dtype="bool"))
            elif m.ndim < x.ndim:
                full.append(ops.broadcast_to(ops.expand_dims(m, -1), x.shape))
            else:
                full.append(m)
        return ops.any(ops.concatenate(full, axis=self.axis), axis=-1)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class Dot(Merge):
    """The dot product of two inputs per sample, summing ``x1``'s axis ``axes[0]`` against
    ``x2``'s axis ``axes[1]`` (an int means the same axis in both)::

        (batch, n) · (batch, n),  axes=1       -> (batch, 1)
        (batch, m, n) · (batch, k, n), axes=2  -> (batch, m, k)

    The output keeps ``x1``'s remaining axes, then ``x2``'s (without its batch axis); a
    result that would be (batch,) is (batch, 1). With ``normalize=True`` both inputs are
    L2-normalized along the summed axis first, so the result is the cosine similarity.
    """

    def compute_mask(self, inputs, previous_mask=None):
        return None

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axes, int):
            if not isinstance(axes, (list, tuple)):
                raise TypeError("Invalid type for argument `axes`: it should be a list or an "
                                f"int. Received: axes={axes}")
            if len(axes) != 2:
                raise ValueError("Invalid format for argument `axes`: it should contain two "
                                 f"elements. Received: axes={axes}")
            if not all(isinstance(a, int) for a in axes):
                raise ValueError("Invalid format for argument `axes`: list elements should be "
                                 f"integers. Received: axes={axes}")
        self.axes = axes
        self.normalize = normalize

    def _axes_for(self, shape1, shape2):
        pair = (self.axes, self.axes) if isinstance(self.axes, int) else tuple(self.axes)
        return tuple(a % len(s) if a < 0 else a for a, s in zip(pair, (shape1, shape2)))

    def compute_output_shape(self, input_shape):
        input_shape = [tuple(s) for s in input_shape]
        if len(input_shape) != 2:
            raise self._error("A `Dot` layer should be called on a list of 2 inputs. "
                              f"Received: input_shape={input_shape}")
        shape1, shape2 = input_shape
        if len(shape1) < 2 or len(shape2) < 2:
            raise self._error("Cannot do batch_dot on inputs with rank < 2. Received inputs "
                              f"with shapes {shape1} and {shape2}.")
        if None not in (shape1[0], shape2[0]) and shape1[0] != shape2[0]:
            raise self._error("Cannot do batch_dot on inputs with different batch sizes. "
                              f"Received inputs with shapes {shape1} and {shape2}.")
        a1, a2 = self._axes_for(shape1, shape2)
        if a1 >= len(shape1) or a2 >= len(shape2):
            raise self._error(f"Invalid `axes`={self.axes} for inputs of shapes {shape1} and "
                              f"{shape2}.")
        if a1 == 0 or a2 == 0:
            raise self._error("Cannot perform batch_dot over axis 0. If your inputs are not "
                              "batched, add a dummy batch dimension to your inputs using "
                              "keras.ops.expand_dims(x, 0)")
        n1, n2 = shape1[a1], shape2[a2]
        if None not in (n1, n2) and n1 != n2:
            raise self._error(f"Incompatible input shapes: axis values {n1} (at axis {a1}) != "
                              f"{n2} (at axis {a2}). Full input shapes: {shape1}, {shape2}")
        out = [n for i, n in enumerate(shape1) if i != a1]
        out += [n for i, n in enumerate(shape2) if i not in (0, a2)]
        return tuple(out) if len(out) > 1 else tuple(out) + (1,)

    def call(self, inputs):
        self.compute_output_shape(_shapes(inputs))
        x1, x2 = inputs
        a1, a2 = self._axes_for(x1.shape, x2.shape)
        if self.normalize:
            x1, x2 = _l2_normalize(x1, a1), _l2_normalize(x2, a2)
        # One einsum: "a" is the batch, "z" the summed axis, the other letters the kept axes.
        letters = iter("bcdefghijklmnopqrstuvwxyBCDEFGHIJKLMNOPQRSTUVWXYZ")
        s1 = ["a"] + ["z" if i == a1 else next(letters) for i in range(1, x1.ndim)]
        s2 = ["a"] + ["z" if i == a2 else next(letters) for i in range(1, x2.ndim)]
        kept = [c for c in s1 if c != "z"] + [c for c in s2[1:] if c != "z"]
        y = ops.einsum(f"{''.join(s1)},{''.join(s2)}->{''.join(kept)}", x1, x2)
        return ops.expand_dims(y, -1) if y.ndim == 1 else y

    def get_config(self):
        config = super().get_config()
        config.update(axes=self.axes, normalize=self.normalize)
        return config


def _l2_normalize(x, axis):
    """x / max(‖x‖₂, ε) along ``axis``, as Keras's ``normalize`` (ε = 1e-7). Written as
    sqrt(max(Σx², ε²)) so that an all-zero vector gets a zero gradient, not NaN."""
    eps = backend.epsilon()
    squares = ops.sum(ops.square(x), axis=axis, keepdims=True)
    return x / ops.sqrt(ops.maximum(squares, eps * eps))


# --------------------------------------------------------------------------- functional forms
def add(inputs, **kwargs):
    """``Add(**kwargs)(inputs)``: the sum of a list of tensors."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """``Subtract(**kwargs)(inputs)``: ``inputs[0] - inputs[1]``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """``Multiply(**kwargs)(inputs)``: the elementwise product of a list of tensors."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """``Average(**kwargs)(inputs)``: the elementwise mean of a list of tensors."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """``Maximum(**kwargs)(inputs)``: the elementwise maximum of a list of tensors."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """``Minimum(**kwargs)(inputs)``: the elementwise minimum of a list of tensors."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """``Concatenate(axis, **kwargs)(inputs)``: a list of tensors joined along ``axis``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, **kwargs):
    """``Dot(axes, **kwargs)(inputs)``: the per-sample dot product of two tensors (pass
    ``normalize=True`` for the cosine similarity)."""
    return Dot(axes=axes, **kwargs)(inputs)


__all__ = ["Add", "Average", "Concatenate", "Dot", "Maximum", "Minimum", "Multiply", "Subtract",
           "add", "average", "concatenate", "dot", "maximum", "minimum", "multiply", "subtract"]
