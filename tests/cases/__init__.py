"""The op registry of the test suite: one :class:`Case` per public op.

A case says how to call the op (``fn``, built from minikeras ops), what NumPy computes for
the same inputs (``ref``, an independent reference), and how to draw inputs (``draw``, given
hypothesis's ``draw``). ``tests/test_ops.py`` turns every case into a forward test, a
float64 gradient check and, where ``second`` is set, a second-derivative check; and it fails
when a Function subclass or a name in ``minikeras.ops.__all__`` has no case.
"""
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


@dataclass
class Case:
    name: str                   # a unique id, usually the op's name
    fn: Callable                # (*tensors) -> Tensor, written with minikeras ops
    ref: Callable               # (*numpy arrays) -> numpy array, the independent reference
    draw: Callable              # (draw) -> list of float64 (or int) numpy arrays
    covers: tuple = ()          # the Function classes (names) this case exercises
    ops: tuple = ()             # the public names of minikeras.ops it covers (default: name)
    grad: bool = True           # check first derivatives
    second: bool = False        # check second derivatives too
    rtol: float = 1e-6          # forward comparison in float64
    atol: float = 1e-9
    tolerance: float = 1e-5     # gradient check tolerance
    eps: float = 1e-6           # finite-difference step
    keeps_float32: bool = True  # float32 inputs give a float32 output
    notes: str = field(default="")

    def public_names(self):
        return self.ops or (self.name,)


# ----------------------------------------------------------------------------- drawing
def shapes(min_dims=0, max_dims=3, min_side=1, max_side=4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def values(draw, shape, low=-2.0, high=2.0, avoid=None, gap=0.05):
    """A float64 array of ``shape`` with entries in [low, high], kept at least ``gap`` away
    from ``avoid`` (a number or a list: kinks such as 0 for abs or relu)."""
    seed = draw(st.integers(0, 2**32 - 1))
    a = np.random.default_rng(seed).uniform(low, high, size=shape)
    if avoid is not None:
        for k in np.atleast_1d(avoid):
            near = np.abs(a - k) < gap
            a = np.where(near, k + np.where(a >= k, gap, -gap) * 2, a)
    return a


def distinct(draw, shape, low=-2.0, high=2.0, spacing=0.05):
    """Values with no two entries within ``spacing`` of each other: no ties for max/sort."""
    n = int(np.prod(shape)) if shape else 1
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    grid = low + spacing * rng.permutation(max(n, int((high - low) / spacing)))[:n]
    return grid.reshape(shape).astype(np.float64)


def broadcastable(draw, num=2, max_dims=3, max_side=4):
    """Shapes that broadcast together, e.g. (3, 1, 4) and (2, 4)."""
    return draw(hnp.mutually_broadcastable_shapes(num_shapes=num, max_dims=max_dims,
                                                  max_side=max_side)).input_shapes


def axis_for(draw, ndim, allow_none=True, allow_tuple=True):
    """An axis argument for a tensor of rank ``ndim``: None, an int (negative too) or a tuple."""
    choices = []
    if allow_none:
        choices.append(st.none())
    if ndim > 0:
        choices.append(st.integers(-ndim, ndim - 1))
        if allow_tuple:
            choices.append(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim,
                                    unique=True).map(lambda ax: tuple(a - ndim if i % 2 else a
                                                                      for i, a in enumerate(ax))))
    if not choices:
        return None
    return draw(st.one_of(*choices))


def all_cases():
    from . import (conv_cases, creation_cases, linalg_cases, loss_cases, math_cases, nn_cases,
                   normalization_cases, pooling_cases, recurrent_cases, reduction_cases,
                   shape_cases)
    out = []
    for m in (math_cases, reduction_cases, shape_cases, linalg_cases, nn_cases, creation_cases,
              loss_cases, conv_cases, pooling_cases, recurrent_cases, normalization_cases):
        out.extend(m.CASES)
    return out
