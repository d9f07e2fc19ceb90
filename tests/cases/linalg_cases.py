"""Cases for minikeras/ops/linalg.py: matmul (batch broadcasting, 1-D operands), dot and
einsum (the contractions layers use, implicit mode, '...', broadcast and summed-away indices)."""
import numpy as np
from hypothesis import strategies as st

from minikeras import ops

from . import Case, broadcastable, values


def _side(d, hi=4):
    return d(st.integers(1, hi))


def _matmul_draw(d):
    """Two operands for matmul: batched matrices whose batch axes broadcast, or a 1-D operand
    on either side (or both)."""
    kind = d(st.sampled_from(["batch", "vec_left", "vec_right", "vec_both", "matrix"]))
    n, k, m = _side(d), _side(d), _side(d)
    b1, b2 = broadcastable(d, max_dims=2, max_side=3)
    s1, s2 = {
        "batch": (b1 + (n, k), b2 + (k, m)),
        "matrix": ((n, k), (k, m)),
        "vec_left": ((k,), b2 + (k, m)),
        "vec_right": (b1 + (n, k), (k,)),
        "vec_both": ((k,), (k,)),
    }[kind]
    return [values(d, s1), values(d, s2)]


def _dot_draw(d):
    """Operand ranks 0 to 3 for numpy.dot: a scalar (multiply), vectors, matrices, and a
    rank-3 x2 (whose leading axes are kept, not broadcast)."""
    r1, r2 = d(st.integers(0, 3)), d(st.integers(0, 3))

    def free(rank):
        return tuple(_side(d, 3) for _ in range(rank))
    if r1 == 0 or r2 == 0:
        s1, s2 = free(r1), free(r2)
    else:
        k = _side(d)
        s1 = free(r1 - 1) + (k,)
        s2 = (k,) if r2 == 1 else free(r2 - 2) + (k, _side(d, 3))
    return [values(d, s1), values(d, s2)]


def _einsum_draw(*templates):
    """Operands whose shapes follow the letter templates, one size per letter; '1' in a
    template is an axis of size 1 (broadcast against the others)."""
    def draw(d):
        sizes = {}
        out = []
        for t in templates:
            shape = []
            for c in t:
                if c == "1":
                    shape.append(1)
                    continue
                if c not in sizes:
                    sizes[c] = _side(d, 3)
                shape.append(sizes[c])
            out.append(values(d, tuple(shape)))
        return out
    return draw


def _einsum_case(name, spec, *templates, second=False):
    return Case(name, lambda *t: ops.einsum(spec, *t), lambda *a: np.einsum(spec, *a),
                _einsum_draw(*templates), ("Einsum",), ops=("einsum",), second=second)


CASES = [
    Case("matmul", lambda a, b: ops.matmul(a, b), np.matmul, _matmul_draw, ("MatMul",),
         second=True),
    Case("matmul_operator", lambda a, b: a @ b, lambda a, b: a @ b, _matmul_draw, ("MatMul",),
         ops=()),
    Case("dot", lambda a, b: ops.dot(a, b), np.dot, _dot_draw, ("Einsum", "Multiply"),
         second=True),
    _einsum_case("einsum", "ab,bc->ac", "ab", "bc", second=True),
    _einsum_case("einsum_dense_3d", "abc,cd->abd", "abc", "cd"),
    _einsum_case("einsum_attention_scores", "bqhd,bkhd->bhqk", "bqhd", "bkhd", second=True),
    _einsum_case("einsum_attention_values", "bhqk,bkhd->bqhd", "bhqk", "bkhd"),
    _einsum_case("einsum_implicit", "ij,jk", "ij", "jk"),
    _einsum_case("einsum_ellipsis", "...ij,...jk->...ik", "aij", "jk", second=True),
    _einsum_case("einsum_sum_away", "ab->b", "ab"),
    _einsum_case("einsum_outer", "a,b->ab", "a", "b"),
    _einsum_case("einsum_inner", "a,a->", "a", "a", second=True),
    _einsum_case("einsum_three", "ab,bc,cd->ad", "ab", "bc", "cd", second=True),
    _einsum_case("einsum_broadcast_one", "ab,ab->ab", "1b", "ab"),
    _einsum_case("einsum_transpose", "abc->cab", "abc"),
]
