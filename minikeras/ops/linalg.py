"""Products of tensors: ``matmul``, ``dot`` and ``einsum``.

Two ideas carry all three backward passes:

* For ``Z = X @ Y`` (one matrix product), ``dL/dX = dL/dZ @ Yᵀ`` and ``dL/dY = Xᵀ @ dL/dZ``.
  The transposes are views (``swapaxes``), so the products go straight to BLAS without a
  copy. When batch axes were broadcast (a ``(k, m)`` weight used by every sample of a
  ``(b, n, k)`` batch) the gradient is summed back over them, exactly as for ``x + y``.
* An einsum is a sum of products of its operands, so the gradient for one operand is the
  einsum of the output gradient with *all the other* operands, written into that operand's
  subscripts: for ``"ab,bc->ac"`` it is ``"ac,bc->ab"`` for the first operand, which is
  ``dL/dZ @ Yᵀ`` again.

The backward methods call these same ops, so second derivatives work.
"""
import numpy as np

from .. import backend
from ..autograd import Function, OpError
from .core import broadcast_to, cast, convert_to_tensor, reshape, unbroadcast, unbroadcast_array
from .math import multiply
from .shapes import swapaxes

__all__ = ["matmul", "dot", "einsum"]


# --------------------------------------------------------------------------- helpers
def _matrix_t(x):
    """The batch of matrices ``x`` transposed (last two axes swapped): a view, no copy."""
    return swapaxes(x, -1, -2)


# --------------------------------------------------------------------------- matmul
class MatMul(Function):
    """Z = X @ Y with NumPy's rules: the last two axes are matrices, the leading axes are a
    batch (broadcast), a 1-D X is a row vector and a 1-D Y a column vector (their extra axis
    is dropped from Z).

        dL/dX = dL/dZ @ Yᵀ        dL/dY = Xᵀ @ dL/dZ

    each summed over the batch axes that were broadcast for that operand.

    Rule: dL/dx1 = unbroadcast(g @ x2ᵀ, x1); dL/dx2 = unbroadcast(x1ᵀ @ g, x2)   (a 1-D operand taken as a matrix)
    """

    def forward(self, x1, x2):
        return backend.kernels.matmul(x1, x2)

    def backward(self, g):
        x1, x2 = self.inputs
        n1, n2 = self.needs_grad
        # Give 1-D operands (and g) their matrix shape back, so one formula covers all cases.
        a = reshape(x1, (1, x1.shape[0])) if x1.ndim == 1 else x1
        b = reshape(x2, (x2.shape[0], 1)) if x2.ndim == 1 else x2
        g = reshape(g, _matrix_shape_of_grad(g.shape, x1.ndim, x2.ndim))
        g1 = reshape(unbroadcast(matmul(g, _matrix_t(b)), a), x1.shape) if n1 else None
        g2 = reshape(unbroadcast(matmul(_matrix_t(a), g), b), x2.shape) if n2 else None
        return g1, g2

    def backward_arrays(self, g):
        """The same two products on the arrays (``.swapaxes`` is a view, so each product
        goes straight to BLAS), by the kernel table's ``matmul`` as the forward."""
        x1, x2 = self.inputs[0].data, self.inputs[1].data
        n1, n2 = self.needs_grad
        a = x1.reshape(1, -1) if x1.ndim == 1 else x1
        b = x2.reshape(-1, 1) if x2.ndim == 1 else x2
        g = g.reshape(_matrix_shape_of_grad(g.shape, x1.ndim, x2.ndim))
        if n2 and b.ndim == 2 and a.ndim > 2:
            # One matrix shared by a whole batch (Dense on a sequence): stack the batch into
            # rows, so that the sum over the batch happens inside a single BLAS product.
            a = a.reshape(-1, a.shape[-1])
            g = g.reshape(-1, g.shape[-1])
        product = backend.kernels.matmul
        g1 = unbroadcast_array(product(g, b.swapaxes(-1, -2)), a).reshape(x1.shape) if n1 else None
        g2 = unbroadcast_array(product(a.swapaxes(-1, -2), g), b).reshape(x2.shape) if n2 else None
        return g1, g2


def _matrix_shape_of_grad(shape, ndim1, ndim2):
    """The shape of dL/dZ once 1-D operands are matrices again: a (1, m) row for a 1-D X,
    an (n, 1) column for a 1-D Y, (1, 1) for two vectors."""
    if ndim1 == 1 and ndim2 == 1:
        return (1, 1)
    if ndim1 == 1:
        return shape[:-1] + (1, shape[-1])
    if ndim2 == 1:
        return shape + (1,)
    return shape


def _check_matmul(s1, s2, opname="matmul"):
    if len(s1) == 0 or len(s2) == 0:
        which = "x1" if len(s1) == 0 else "x2"
        raise OpError(f"ops.{opname}: {which} is a scalar (shape ()), but {opname} needs tensors "
                      f"of rank 1 or more (got shapes {s1} and {s2}); use ops.multiply to "
                      "scale by a number.")
    k2_axis = "the length of the 1-D x2" if len(s2) == 1 else "the second-to-last axis of x2"
    k2 = s2[0] if len(s2) == 1 else s2[-2]
    if s1[-1] != k2:
        raise OpError(f"ops.{opname}: cannot multiply shapes {s1} and {s2}: the last axis of x1 "
                      f"({s1[-1]}) must equal {k2_axis} ({k2}).")
    b1, b2 = s1[:-2], s2[:-2]
    if not b1 or not b2:
        return  # at most one operand has batch axes: nothing to broadcast
    try:
        np.broadcast_shapes(b1, b2)
    except ValueError:
        raise OpError(f"ops.{opname}: cannot multiply shapes {s1} and {s2}: their batch axes "
                      f"{b1} and {b2} do not broadcast together (each pair of sizes, aligned "
                      "from the right, must be equal or contain a 1).") from None


def matmul(x1, x2):
    """The matrix product ``x1 @ x2`` (``keras.ops.matmul``), with NumPy's rules for 1-D
    operands and broadcast batch axes."""
    x1, x2 = convert_to_tensor(x1), convert_to_tensor(x2)
    _check_matmul(x1.shape, x2.shape)
    return MatMul()(x1, x2)


# --------------------------------------------------------------------------- dot
def dot(x1, x2):
    """``numpy.dot`` (``keras.ops.dot``): a product with a scalar is ``multiply``; otherwise
    it sums over the last axis of ``x1`` and the second-to-last axis of ``x2`` (the only axis
    when ``x2`` is 1-D). Up to 2-D ``x2`` this is ``matmul``; for a ``x2`` of rank 3 or more
    the batch axes are *not* broadcast but kept, as in NumPy: the result has shape
    ``x1.shape[:-1] + x2.shape[:-2] + x2.shape[-1:]`` (computed with ``einsum``)."""
    x1, x2 = convert_to_tensor(x1), convert_to_tensor(x2)
    if x1.ndim == 0 or x2.ndim == 0:
        return multiply(x1, x2)
    if x2.ndim <= 2:
        _check_matmul(x1.shape, x2.shape, "dot")
        return matmul(x1, x2)
    if x1.shape[-1] != x2.shape[-2]:
        raise OpError(f"ops.dot: cannot multiply shapes {x1.shape} and {x2.shape}: the last "
                      f"axis of x1 ({x1.shape[-1]}) must equal the second-to-last axis of x2 "
                      f"({x2.shape[-2]}).")
    letters = _free_letters(x1.ndim + x2.ndim - 1, used="")
    shared = letters[0]
    s1 = letters[1:x1.ndim] + shared
    rest = letters[x1.ndim:]
    s2 = rest[:x2.ndim - 2] + shared + rest[x2.ndim - 2:]
    out = s1[:-1] + s2[:-2] + s2[-1]
    return Einsum((s1, s2), out)(x1, x2)


# --------------------------------------------------------------------------- einsum
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _free_letters(n, used):
    free = [c for c in _LETTERS if c not in used]
    if n > len(free):
        raise OpError(f"ops.einsum: needs {n} more index letters than the 52 available.")
    return "".join(free[:n])


class Einsum(Function):
    """Z = einsum(subscripts, X₁, ..., Xₙ): Z[out] = Σ over the other indices of Π Xᵢ[subsᵢ].

    Z is linear in each operand, so dL/dXᵢ[subsᵢ] = Σ dL/dZ[out] · Π_{j≠i} Xⱼ[subsⱼ]: the
    einsum of the output gradient with the other operands, written into Xᵢ's subscripts.
    An index that only Xᵢ has (summed away in the forward pass, like ``a`` in ``"ab->b"``)
    appears nowhere else, so the gradient is computed without it and broadcast along it;
    an axis of size 1 that was broadcast against a longer one is summed back to size 1.

    ``subscripts`` here are explicit letters (``"..."`` and implicit mode are resolved by
    :func:`einsum` before this class is called).

    Rule: dL/darrays[i] = einsum(out and the other operands' subscripts -> subsᵢ)(g, the other arrays), broadcast to arrays[i].shape
    """

    def __init__(self, inputs, output):
        self.subs_in, self.subs_out = tuple(inputs), output

    def forward(self, *arrays):
        spec = ",".join(self.subs_in) + "->" + self.subs_out
        if len(arrays) > 1 and backend.mode != "cuda":  # NumPy arrays
            return backend.xp.einsum(spec, *arrays, optimize=True)  # lets NumPy use BLAS
        return backend.xp.einsum(spec, *arrays)

    def backward(self, g):
        sizes = {}
        for subs, t in zip(self.subs_in, self.inputs):
            for c, n in zip(subs, t.shape):
                sizes[c] = max(sizes.get(c, 1), n)
        grads = []
        for i, (subs, x) in enumerate(zip(self.subs_in, self.inputs)):
            if not self.needs_grad[i]:
                grads.append(None)
                continue
            others = [s for j, s in enumerate(self.subs_in) if j != i]
            elsewhere = set(self.subs_out).union(*others)
            keep = "".join(c for c, n in zip(subs, x.shape) if c in elsewhere and n == sizes[c])
            gi = Einsum((self.subs_out, *others), keep)(
                g, *[t for j, t in enumerate(self.inputs) if j != i])
            kept = dict(zip(keep, gi.shape))
            gi = reshape(gi, tuple(kept.get(c, 1) for c in subs))
            gi = broadcast_to(gi, x.shape)
            grads.append(cast(gi, x.dtype))
        return tuple(grads)


def _parse_einsum(subscripts, shapes):
    """Explicit letter subscripts for every operand and the output: ``"..."`` replaced by
    letters of its own (aligned from the right, as broadcasting does), implicit mode
    (no ``"->"``) turned into its output (the indices used once, in alphabetical order)."""
    spec = subscripts.replace(" ", "")
    if spec.count("->") > 1:
        raise OpError(f"ops.einsum: subscripts {subscripts!r} contain '->' more than once.")
    lhs, arrow, rhs = spec.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise OpError(f"ops.einsum: subscripts {subscripts!r} name {len(terms)} operand(s), "
                      f"but {len(shapes)} were given (shapes {', '.join(map(str, shapes))}).")
    for term in terms + [rhs]:
        bad = set(term.replace("...", "")) - set(_LETTERS)
        if bad or term.count("...") > 1:
            raise OpError(f"ops.einsum: invalid subscripts {subscripts!r}: use letters a-z, A-Z "
                          "and at most one '...' per operand.")
    used = set(spec) & set(_LETTERS)
    n_ellipsis = 0
    for term, shape in zip(terms, shapes):
        named = len(term.replace("...", ""))
        if ("..." not in term and named != len(shape)) or named > len(shape):
            raise OpError(f"ops.einsum: the subscripts {term!r} name {named} axes, but the "
                          f"operand has shape {shape} ({len(shape)} axes); use '...' for "
                          "axes you do not name.")
        if "..." in term:
            n_ellipsis = max(n_ellipsis, len(shape) - named)
    ell = _free_letters(n_ellipsis, used)
    explicit = []
    for term, shape in zip(terms, shapes):
        k = len(shape) - len(term.replace("...", ""))
        explicit.append(term.replace("...", ell[n_ellipsis - k:]))
    for i, term in enumerate(explicit):
        repeated = sorted({c for c in term if term.count(c) > 1})
        if repeated:
            raise OpError(f"ops.einsum: operand {i} repeats the index {repeated[0]!r} in "
                          f"{terms[i]!r}; taking diagonals or traces (like 'ii->i') is not "
                          "supported. Multiply by ops.eye(n) and sum instead.")
    if arrow:
        if "..." in lhs and "..." not in rhs and n_ellipsis:
            raise OpError(f"ops.einsum: subscripts {subscripts!r}: the output must contain "
                          "'...' when the operands' '...' cover axes.")
        out = rhs.replace("...", ell)
        for c in out:
            if out.count(c) > 1:
                raise OpError(f"ops.einsum: the output {rhs!r} repeats the index {c!r}.")
            if not any(c in t for t in explicit):
                raise OpError(f"ops.einsum: the output index {c!r} of {subscripts!r} appears "
                              "in no operand.")
    else:
        counts = {}
        for term in explicit:
            for c in term:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    sizes = {}
    for i, (term, shape) in enumerate(zip(explicit, shapes)):
        for c, n in zip(term, shape):
            if sizes.get(c, 1) != 1 and n != 1 and sizes[c] != n:
                raise OpError(f"ops.einsum: the index {c!r} has size {sizes[c]} in one operand "
                              f"and {n} in operand {i} (shapes {', '.join(map(str, shapes))}, "
                              f"subscripts {subscripts!r}).")
            sizes[c] = max(sizes.get(c, 1), n)
    return explicit, out


def einsum(subscripts, *operands):
    """Einstein summation (``keras.ops.einsum``), e.g. ``einsum("bqhd,bkhd->bhqk", q, k)``.

    Explicit (``"ab,bc->ac"``) and implicit (``"ab,bc"``) modes and ``"..."`` are supported;
    an index repeated within one operand (a diagonal or a trace) is not.
    """
    tensors = [convert_to_tensor(x) for x in operands]
    if not tensors:
        raise OpError("ops.einsum: needs at least one operand.")
    inputs, output = _parse_einsum(subscripts, [t.shape for t in tensors])
    return Einsum(inputs, output)(*tensors)
