"""From per-sample losses to the loss: :func:`reduce_weighted_values` multiplies them by
the sample weights (and a mask of the entries that count), then reduces them as
``reduction`` says (:data:`REDUCTIONS`: ``"sum_over_batch_size"``, ``"sum"``, ``"mean"``,
``"mean_with_sample_weight"``, ``"none"``/None)."""
import numpy as np

from .. import ops
from ..ops.core import constant
from .functions import squeeze_or_expand_to_same_rank

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


def standardize_reduction(reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"Invalid value for argument `reduction`. Expected one of "
                         f"{list(REDUCTIONS)}. Received: reduction={reduction!r}")
    return reduction


def _weights_fit(values, weights):
    try:
        np.broadcast_shapes(tuple(values.shape), tuple(weights.shape))
        return True
    except ValueError:
        return False


def apply_mask(sample_weight, mask, dtype, reduction):
    """Fold a boolean ``mask`` of valid entries into the sample weights. For the mean
    reductions the valid entries are scaled by total/valid, so that dividing by the number
    of entries gives the mean over the valid ones."""
    if mask is None:
        return sample_weight
    m = mask.astype(dtype)
    if reduction in ("mean", "sum_over_batch_size"):
        valid = float(m.sum())
        m = m * (m.size / valid) if valid else m * 0.0
    m = constant(m.astype(dtype))
    if sample_weight is None:
        return m
    m, sample_weight = squeeze_or_expand_to_same_rank(m, sample_weight)
    return sample_weight * m


def reduce_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Reduce (already weighted) per-sample losses to the loss: their sum, divided by their
    number ("sum_over_batch_size", "mean") or by the sum of the weights
    ("mean_with_sample_weight"); "none"/None returns them as they are."""
    if reduction is None or reduction == "none" or tuple(values.shape) in ((), (0,)):
        return values
    loss = ops.sum(values)
    if reduction in ("sum_over_batch_size", "mean", "mean_with_sample_weight"):
        if reduction == "mean_with_sample_weight" and sample_weight is not None:
            divisor = float(ops.sum(sample_weight))
        else:
            divisor = float(values.size)
        loss = loss / divisor if divisor else loss * 0.0
    return loss


def reduce_weighted_values(values, sample_weight=None, mask=None,
                           reduction="sum_over_batch_size", dtype=None, name="loss"):
    """Multiply per-sample losses by ``sample_weight``, then reduce them
    (:func:`reduce_values`). Ranks are aligned first, so ``(batch,)`` and ``(batch, 1)``
    weights both work, and weights of shape ``(batch,)`` for losses of shape
    ``(batch, steps)`` weight whole rows (the leading axes are matched, not the trailing
    ones as NumPy broadcasting would). Otherwise they must broadcast against the losses."""
    reduction = standardize_reduction(reduction)
    values = ops.convert_to_tensor(values, dtype=dtype)
    if sample_weight is not None:
        sample_weight = ops.convert_to_tensor(sample_weight, dtype=values.dtype)
    sample_weight = apply_mask(sample_weight, mask, values.dtype, reduction)
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        lead = sample_weight.ndim
        if 0 < lead < values.ndim and tuple(sample_weight.shape) == tuple(values.shape[:lead]):
            # one weight per sample of a (batch, steps) loss: it weights the whole row
            sample_weight = ops.reshape(sample_weight, tuple(sample_weight.shape)
                                        + (1,) * (values.ndim - lead))
        if not _weights_fit(values, sample_weight):
            raise ValueError(f"{name}: sample_weight of shape {tuple(sample_weight.shape)} does "
                             f"not match the per-sample losses of shape {tuple(values.shape)}; "
                             "give one weight per sample, e.g. shape (batch_size,).")
        values = values * sample_weight
    return reduce_values(values, sample_weight, reduction)

