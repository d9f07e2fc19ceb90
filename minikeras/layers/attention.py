"""Attention layers: MultiHeadAttention, Attention (Luong), AdditiveAttention (Bahdanau),
and EinsumDense (from ``einsum_dense.py``), the projection MultiHeadAttention is built of.

Every attention layer computes the same three steps::

    scores  = score(query, key)              (batch, [heads,] T, S)
    weights = softmax(scores) over S         with masked positions pushed to -1e9 first
    output  = weights @ value                (batch, T, features)

T is the length of the target (query) sequence, S of the source (key/value) sequence.
A mask is True where attending is allowed. MultiHeadAttention combines (logical and)
``attention_mask`` (B, T, S), the query's mask (B, T) as (B, T, 1), the value's and the
key's (B, S) as (B, 1, S), and the causal mask (1, T, S), lower-triangular: target step i
sees source steps j <= i. Attention and AdditiveAttention mask the scores with the value's
mask and the causal mask, and zero the output at the query's masked steps.
"""
import math

import numpy as np

from .. import constraints, initializers, ops, regularizers
from .. import random as mk_random
from ..tensor import Tensor
from .activation_layers import Softmax
from .core import Dropout
from .einsum_dense import EinsumDense, _copy
from .input_layer import KerasTensor, symbolic_call
from .layer import Layer, get_mask

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _projection_equation(free, bound, out):
    """``einsum`` equation and bias axes of a projection: ``free`` axes kept (batch and
    sequence), ``bound`` axes contracted with the kernel, ``out`` axes made by it. For
    the query of (B, T, dim): ``"abc,cde->abde"``, bias ``"de"`` (heads, key_dim)."""
    f, b = _LETTERS[:free], _LETTERS[free:free + bound]
    o = _LETTERS[free + bound:free + bound + out]
    return f"{f}{b},{b}{o}->{f}{o}", o


def _attention_equations(rank, attention_axes):
    """The two einsums of attention on projected tensors of ``rank`` axes,
    (batch, <other axes>, <attention axes>, heads, channels):

    * scores: key, query -> (batch, <other axes>, heads, <query attention axes>,
      <key attention axes>), the dot product over the channels;
    * combine: scores, value -> the query's layout, the weighted sum over the key axes.

    Letters a.. name the query's axes; the key's attention axes get letters of their own.
    """
    target = _LETTERS[:rank]
    batch = [i for i in range(rank) if i not in attention_axes and i != rank - 1]
    extra = iter(_LETTERS[rank:])
    source = "".join(next(extra) if i in attention_axes else target[i] for i in range(rank))
    product = ("".join(target[i] for i in batch) + "".join(target[i] for i in attention_axes)
               + "".join(source[i] for i in attention_axes))
    return f"{source},{target}->{product}", f"{product},{source}->{target}", len(product)


def _as_bool(mask):
    mask = mask if isinstance(mask, Tensor) else ops.convert_to_tensor(mask)
    return mask if mask.dtype == np.bool_ else ops.cast(mask, "bool")


def _causal_mask(t, s):
    """(1, t, s), True where target step i may see source step j: j <= i."""
    return ops.expand_dims(ops.greater_equal(ops.expand_dims(ops.arange(t), 1),
                                             ops.arange(s)), 0)


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"Received an invalid value for `{name}`, expected a positive "
                         f"integer. Received: {name}={value}")
    return int(value)


class _Inputs(tuple):
    """(query, value, key) carried as one structure through the functional API, whose
    nodes map only a layer's first argument from symbolic to real tensors."""


# =========================================================================== MultiHeadAttention
class MultiHeadAttention(Layer):
    """Multi-head attention (Vaswani et al., 2017)::

        Q = query·W_q + b_q   (B, T, heads, key_dim)
        K = key·W_k + b_k     (B, S, heads, key_dim)
        V = value·W_v + b_v   (B, S, heads, value_dim)
        A = softmax(Q·Kᵀ / √key_dim, masked)             (B, heads, T, S)
        output = (A·V)·W_o + b_o                         (B, T, out_dim)

    with out_dim the query's feature size unless ``output_shape`` says otherwise. The four
    projections are EinsumDense sub-layers named ``query``, ``key``, ``value`` and
    ``attention_output``; their kernels are (dim, heads, key_dim) and, for the output,
    (heads, value_dim, out_dim), as in Keras. Called as ``mha(query, value, key=None, ...)``;
    ``key`` defaults to ``value`` (self-attention: ``mha(x, x)``).
    """

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self._num_heads = _positive_int(num_heads, "num_heads")
        self._key_dim = _positive_int(key_dim, "key_dim")
        self._value_dim = _positive_int(value_dim, "value_dim") if value_dim else self._key_dim
        if not 0 <= dropout <= 1:
            raise ValueError("Invalid value received for argument `dropout`. Expected a float "
                             f"value between 0 and 1. Received: dropout={dropout}")
        self._dropout, self._use_bias = float(dropout), use_bias
        if output_shape:
            if isinstance(output_shape, (int, np.integer)):
                output_shape = (int(output_shape),)
            try:
                output_shape = tuple(output_shape)
            except TypeError:
                raise ValueError(f"Invalid `output_shape`: {output_shape}. When specified, the "
                                 "`output_shape` should be of type tuple, list, or int.") from None
        self._output_shape = output_shape
        if isinstance(attention_axes, (int, np.integer)):
            attention_axes = (int(attention_axes),)
        elif attention_axes is not None and not isinstance(attention_axes, (list, tuple)):
            raise ValueError("`attention_axes` must be an int, list, or tuple. Received: "
                             f"attention_axes={attention_axes}")
        self._attention_axes = None if attention_axes is None else tuple(attention_axes)
        self._kernel_initializer = initializers.get(kernel_initializer)
        self._bias_initializer = initializers.get(bias_initializer)
        self._kernel_regularizer = regularizers.get(kernel_regularizer)
        self._bias_regularizer = regularizers.get(bias_regularizer)
        self._activity_regularizer = regularizers.get(activity_regularizer)
        self._kernel_constraint = constraints.get(kernel_constraint)
        self._bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(self._key_dim))

    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)

    # ------------------------------------------------------------------ build
    def _dense(self, free, bound, out_shape, name):
        equation, bias_axes = _projection_equation(free, bound, len(out_shape))
        return EinsumDense(equation, output_shape=(None,) * (free - 1) + tuple(out_shape),
                           bias_axes=bias_axes if self._use_bias else None, name=name,
                           dtype=self.dtype, kernel_initializer=_copy(self._kernel_initializer),
                           bias_initializer=_copy(self._bias_initializer),
                           kernel_regularizer=self._kernel_regularizer,
                           bias_regularizer=self._bias_regularizer,
                           activity_regularizer=self._activity_regularizer,
                           kernel_constraint=self._kernel_constraint,
                           bias_constraint=self._bias_constraint)

    def build(self, query_shape, value_shape, key_shape=None):
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        self._check_shapes(query_shape, value_shape, key_shape)
        rank = len(query_shape)
        heads = self._num_heads
        self._query_dense = self._dense(rank - 1, 1, (heads, self._key_dim), "query")
        self._query_dense.build(query_shape)
        self._key_dense = self._dense(len(key_shape) - 1, 1, (heads, self._key_dim), "key")
        self._key_dense.build(key_shape)
        self._value_dense = self._dense(len(value_shape) - 1, 1, (heads, self._value_dim),
                                        "value")
        self._value_dense.build(value_shape)
        # Attention axes of the projected tensors (rank + 1 axes): by default every axis
        # between the batch and the heads, i.e. the sequence axis of (B, T, dim).
        projected = rank + 1
        if self._attention_axes is None:
            axes = tuple(range(1, projected - 2))
        else:
            axes = tuple(a if a >= 0 else a + rank for a in self._attention_axes)
            if any(not 1 <= a <= rank - 2 for a in axes) or len(set(axes)) != len(axes):
                raise ValueError(f"Layer \"{self.name}\": attention_axes {self._attention_axes} "
                                 f"must be distinct axes of the query other than the batch "
                                 f"and the feature axis (1 to {rank - 2} for query shape "
                                 f"{query_shape}).")
        self._axes = axes
        self._dot_equation, self._combine_equation, score_rank = _attention_equations(
            projected, axes)
        self._softmax = Softmax(axis=tuple(range(score_rank - len(axes), score_rank)),
                                dtype=self.dtype)
        self._dropout_layer = Dropout(self._dropout, seed=self.seed, dtype=self.dtype)
        out = self._output_shape or (query_shape[-1],)
        self._output_dense = self._dense(rank - 1, 2, out, "attention_output")
        self._output_dense.build(query_shape[:-1] + (heads, self._value_dim))
        for sub in (self._query_dense, self._key_dense, self._value_dense, self._output_dense):
            for w in sub.weights:  # Keras's paths: multi_head_attention/query/kernel
                w.path = f"{self.name}/{sub.name}/{w.name}"
        self.input_spec_shape = (None,) * (rank - 1) + (query_shape[-1],)
        self.built = True

    query_dense = property(lambda self: self._query_dense)
    key_dense = property(lambda self: self._key_dense)
    value_dense = property(lambda self: self._value_dense)
    output_dense = property(lambda self: self._output_dense)

    def _check_shapes(self, query_shape, value_shape, key_shape):
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError("All dimensions of `value` and `key`, except the last one, must "
                             f"be equal. Received: value_shape={value_shape} and "
                             f"key_shape={key_shape}")
        if len(query_shape) < 3 or len(value_shape) != len(query_shape):
            raise ValueError(f"Layer \"{self.name}\" expects query and value of the same rank, "
                             "at least 3 (batch, sequence..., features). Received: "
                             f"query_shape={query_shape}, value_shape={value_shape}")
        if self.built:
            for what, shape, dense in (("query", query_shape, self._query_dense),
                                       ("value", value_shape, self._value_dense),
                                       ("key", key_shape, self._key_dense)):
                want = dense.kernel.shape[0]
                if shape[-1] != want:
                    raise ValueError(f"Layer \"{self.name}\" was built for {what} with last "
                                     f"dimension {want}, but received {what} of shape {shape}.")

    # ------------------------------------------------------------------ call
    def __call__(self, query, value=None, key=None, **kwargs):
        """Build from all three shapes and find the Keras masks of the three tensors, as
        Keras does for call arguments named ``x`` with a matching ``x_mask``."""
        if isinstance(query, _Inputs):
            query, value, key = query
        if value is None:
            raise ValueError(f"Layer \"{self.name}\" needs a `value` tensor: call it as "
                             "layer(query, value) or layer(query, value, key).")
        if any(isinstance(t, KerasTensor) for t in (query, value, key)):
            return symbolic_call(self, _Inputs((query, value, key)), (), kwargs)
        tensors = {"query": query, "value": value, "key": key}
        for name, t in tensors.items():
            if t is not None and kwargs.get(f"{name}_mask") is None and get_mask(t) is not None:
                kwargs[f"{name}_mask"] = get_mask(t)
        query, value = self._autocast(query), self._autocast(value)
        key = None if key is None else self._autocast(key)
        if not self.built:
            self.build(query.shape, value.shape, None if key is None else key.shape)
        return super().__call__(query, value, key=key, **kwargs)

    def _set_output_masks(self, inputs, outputs, previous_mask):
        """``call`` gives the output the query's mask itself (the attention scores get
        none), so nothing is left to do here."""

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False):
        """query (B, T, dim), value (B, S, dim_v), key (B, S, dim_k) or None (= value).
        ``query_mask`` (B, T), ``value_mask`` and ``key_mask`` (B, S) default to the masks
        the tensors carry (``_keras_mask``); ``attention_mask`` is anything that broadcasts
        to (B, T, S). Returns (B, T, out_dim), with the scores (B, heads, T, S) as well when
        ``return_attention_scores``. The output carries the query's mask."""
        if key is None:
            key = value
        self._check_shapes(query.shape, value.shape, key.shape)
        mask = self._attention_mask(query, value, key, query_mask, value_mask, key_mask,
                                    attention_mask, use_causal_mask)
        q = self._query_dense(query)              # (B, T, heads, key_dim)
        k = self._key_dense(key)                  # (B, S, heads, key_dim)
        v = self._value_dense(value)              # (B, S, heads, value_dim)
        output, scores = self._compute_attention(q, k, v, mask, training)
        output = self._output_dense(output)       # (B, T, out_dim)
        if query_mask is not None:
            output._keras_mask = _as_bool(query_mask)
        return (output, scores) if return_attention_scores else output

    def _compute_attention(self, query, key, value, attention_mask=None, training=None):
        """softmax(Q·Kᵀ/√key_dim) with the mask, dropout in training, then the weighted sum
        of V. Returns the output (query layout) and the weights before dropout."""
        query = query * self._inverse_sqrt_key_dim
        scores = ops.einsum(self._dot_equation, key, query)   # (B, heads, T, S)
        if attention_mask is not None:
            # (B, T, S) -> (B, 1, T, S): the head axis sits before the attention axes.
            for _ in range(scores.ndim - attention_mask.ndim):
                attention_mask = ops.expand_dims(attention_mask, -2 * len(self._axes) - 1)
        weights = self._softmax(scores, mask=attention_mask)
        dropped = self._dropout_layer(weights, training=training) if self._dropout else weights
        return ops.einsum(self._combine_equation, dropped, value), weights

    def _attention_mask(self, query, value, key, query_mask, value_mask, key_mask,
                        attention_mask, use_causal_mask):
        """The combined (B, T, S) boolean mask, or None; every mask's shape is checked."""
        target, source = query.shape[1:-1], value.shape[1:-1]
        auto = []
        for what, m, like, axis in (("query_mask", query_mask, query, -1),
                                    ("value_mask", value_mask, value, -2),
                                    ("key_mask", key_mask, key, -2)):
            if m is None:
                continue
            m = _as_bool(m)
            if m.shape != like.shape[:-1] or like.ndim != 3:
                raise ValueError(f"Layer \"{self.name}\": {what} must have the shape of "
                                 f"{what[:-5]} without its last axis, {like.shape[:-1]} (for "
                                 f"inputs of rank 3); received {what} of shape {m.shape} for "
                                 f"{what[:-5]} of shape {like.shape}.")
            auto.append(ops.expand_dims(m, axis))
        if use_causal_mask:
            if query.ndim != 3:
                raise ValueError(f"Layer \"{self.name}\": use_causal_mask needs query and value "
                                 f"of rank 3; received query of shape {query.shape}.")
            auto.append(_causal_mask(target[0], source[0]))
        if attention_mask is not None:
            attention_mask = _as_bool(attention_mask)
            expected = (query.shape[0],) + self._score_shape(target, source)
            try:
                fits = np.broadcast_shapes(attention_mask.shape, expected) == expected
            except ValueError:
                fits = False
            if not fits:
                raise ValueError(f"Layer \"{self.name}\": attention_mask of shape "
                                 f"{attention_mask.shape} does not broadcast to (batch, target, "
                                 f"source) = {expected} (query shape {query.shape}, value shape "
                                 f"{value.shape}).")
            auto.insert(0, attention_mask)
        if not auto:
            return None
        mask = auto[0]
        for m in auto[1:]:
            mask = ops.logical_and(mask, m)
        return mask

    def _score_shape(self, target, source):
        """The shape of the scores without batch and heads: the non-attention axes, then the
        target's and the source's attention axes (T, S for sequences)."""
        others = tuple(n for i, n in enumerate(target, 1) if i not in self._axes)
        return (others + tuple(target[a - 1] for a in self._axes)
                + tuple(source[a - 1] for a in self._axes))

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        query_shape = tuple(query_shape)
        value_shape = query_shape if value_shape is None else tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError("All dimensions of `value` and `key`, except the last one, must "
                             f"be equal. Received: value_shape={value_shape} and "
                             f"key_shape={key_shape}")
        if self._output_shape:
            return query_shape[:-1] + tuple(self._output_shape)
        return query_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            num_heads=self._num_heads, key_dim=self._key_dim, value_dim=self._value_dim,
            dropout=self._dropout, use_bias=self._use_bias, output_shape=self._output_shape,
            attention_axes=self._attention_axes,
            kernel_initializer=initializers.serialize(self._kernel_initializer),
            bias_initializer=initializers.serialize(self._bias_initializer),
            kernel_regularizer=regularizers.serialize(self._kernel_regularizer),
            bias_regularizer=regularizers.serialize(self._bias_regularizer),
            activity_regularizer=regularizers.serialize(self._activity_regularizer),
            kernel_constraint=constraints.serialize(self._kernel_constraint),
            bias_constraint=constraints.serialize(self._bias_constraint), seed=self.seed)
        return config


# =========================================================================== Attention
class Attention(Layer):
    """Dot-product (Luong-style) attention on ``[query, value]`` or ``[query, value, key]``
    (key defaults to value), with no projections::

        "dot":    scores = query · keyᵀ (· scale)                          (B, T, S)
        "concat": scores = concat_score_weight · Σ_d tanh((scale ·)(q_d + k_d))
        output  = softmax(scores, masked) · value                          (B, T, dim_v)

    ``scale`` (a scalar, ones-initialized) exists with ``use_scale=True``, and
    ``concat_score_weight`` (a scalar, ones) with ``score_mode="concat"``. ``mask`` is
    ``[query_mask, value_mask]``: value steps where the mask is False get no weight, and
    the output is zero at query steps where the mask is False.
    """

    _score_modes = ("dot", "concat")

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.use_scale, self.score_mode = use_scale, score_mode
        if not 0 <= dropout <= 1:
            raise ValueError("Invalid value received for argument `dropout`. Expected a float "
                             f"value between 0 and 1. Received: dropout={dropout}")
        self.dropout, self.seed = float(dropout), seed
        self.seed_generator = mk_random.SeedGenerator(seed)
        if score_mode not in self._score_modes:
            raise ValueError("Invalid value for argument score_mode. Expected one of "
                             f"{{'dot', 'concat'}}. Received: score_mode={score_mode}")

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        self.scale = self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight((), "ones", name="scale")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight((), "ones", name="concat_score_weight")
        self.built = True

    def _calculate_scores(self, query, key):
        if self.score_mode == "dot":
            scores = ops.matmul(query, ops.swapaxes(key, -1, -2))
            return scores * self.scale if self.scale is not None else scores
        # (B, T, 1, dim) + (B, 1, S, dim): every query step meets every key step.
        pairs = ops.expand_dims(query, -2) + ops.expand_dims(key, -3)
        if self.scale is not None:
            pairs = self.scale * pairs
        return self.concat_score_weight * ops.sum(ops.tanh(pairs), axis=-1)

    def call(self, inputs, mask=None, training=False, return_attention_scores=False,
             use_causal_mask=False):
        self._validate_inputs(inputs, mask)
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        self._check_call_shapes(query, value, key)
        query_mask = mask[0] if mask else None
        value_mask = mask[1] if mask else None
        for what, m, like in (("query_mask", query_mask, query), ("value_mask", value_mask, value)):
            shape = None if m is None else tuple(m.shape if hasattr(m, "shape") else np.shape(m))
            if m is not None and shape != like.shape[:-1]:
                raise ValueError(f"Layer \"{self.name}\": {what} must have shape "
                                 f"{like.shape[:-1]} ({what[:-5]} of shape {like.shape} without "
                                 f"its last axis); received a mask of shape {shape}.")
        scores = self._calculate_scores(query, key)
        keep = None if value_mask is None else ops.expand_dims(_as_bool(value_mask), -2)
        if use_causal_mask:
            causal = _causal_mask(scores.shape[-2], scores.shape[-1])
            keep = causal if keep is None else ops.logical_and(keep, causal)
        if keep is not None:
            # Masked steps get -1e9: after the softmax their weight is 0 (to rounding).
            scores = scores - 1e9 * ops.cast(ops.logical_not(keep), scores.dtype)
        weights = ops.softmax(scores, axis=-1)
        dropped = weights
        if training and self.dropout > 0:
            dropped = mk_random.dropout(weights, self.dropout, seed=self.seed_generator)
        result = ops.matmul(dropped, value)
        if query_mask is not None:
            result = result * ops.cast(ops.expand_dims(_as_bool(query_mask), -1), result.dtype)
        return (result, weights) if return_attention_scores else result

    def _check_call_shapes(self, query, value, key):
        if query.ndim != 3 or value.ndim != 3 or key.ndim != 3:
            raise ValueError(f"Layer \"{self.name}\" expects query, value and key of shape "
                             "(batch, steps, features). Received: query shape "
                             f"{query.shape}, value shape {value.shape}, key shape {key.shape}")
        if key.shape[1] != value.shape[1]:
            raise ValueError(f"Layer \"{self.name}\": key and value must have the same number "
                             f"of steps. Received: value shape {value.shape}, key shape "
                             f"{key.shape}")
        if query.shape[-1] != key.shape[-1]:
            raise ValueError(f"Layer \"{self.name}\": query and key must have the same last "
                             f"dimension to compute the scores. Received: query shape "
                             f"{query.shape}, key shape {key.shape}")

    def compute_mask(self, inputs, previous_mask=None):
        self._validate_inputs(inputs, previous_mask)
        if previous_mask is None or previous_mask[0] is None:
            return None
        return _as_bool(previous_mask[0])

    def _set_output_masks(self, inputs, outputs, previous_mask):
        # The query's mask goes to the output only, not to the attention scores (Keras
        # pairs the masks with the outputs one by one).
        if isinstance(outputs, tuple):
            outputs = outputs[0]
        super()._set_output_masks(inputs, outputs, previous_mask)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0][:-1]) + (input_shape[1][-1],)

    def _validate_inputs(self, inputs, mask=None):
        name = type(self).__name__
        if not isinstance(inputs, list):
            raise ValueError(f"{name} layer must be called on a list of inputs, namely "
                             f"[query, value] or [query, value, key]. Received: inputs={inputs}.")
        if not 2 <= len(inputs) <= 3:
            raise ValueError(f"{name} layer accepts inputs list of length 2 or 3, namely "
                             "[query, value] or [query, value, key]. Received length: "
                             f"{len(inputs)}.")
        if mask is not None:
            if not isinstance(mask, list):
                raise ValueError(f"{name} layer mask must be a list, namely [query_mask, "
                                 f"value_mask]. Received: mask={mask}.")
            if not 2 <= len(mask) <= 3:
                raise ValueError(f"{name} layer accepts mask list of length 2 or 3. Received: "
                                 f"inputs={inputs}, mask={mask}.")

    def get_config(self):
        config = super().get_config()
        config.update(use_scale=self.use_scale, score_mode=self.score_mode,
                      dropout=self.dropout, seed=self.seed)
        return config


class AdditiveAttention(Attention):
    """Additive (Bahdanau-style) attention: as :class:`Attention`, with the scores

        scores[b, i, j] = Σ_d scale_d · tanh(query[b, i, d] + key[b, j, d])

    where ``scale`` is a weight of shape (dim,) (glorot_uniform), or 1 with
    ``use_scale=False``.
    """

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        self.scale = self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight((input_shape[0][-1],), "glorot_uniform", name="scale")
        self.built = True

    def _calculate_scores(self, query, key):
        pairs = ops.tanh(ops.expand_dims(query, -2) + ops.expand_dims(key, -3))
        return ops.sum(pairs * self.scale if self.scale is not None else pairs, axis=-1)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config


__all__ = ["AdditiveAttention", "Attention", "EinsumDense", "MultiHeadAttention"]
