"""Gradient accumulation (``gradient_accumulation_steps=n``), for the Optimizer.

The gradients of ``n`` calls are summed in one accumulator per weight; the n-th call
updates the weights once with their mean and empties the accumulators. ``iterations``
then counts updates, not calls.
"""
import numpy as np

from ..tensor import Tensor


class GradientAccumulation:
    """The ``gradient_accumulation_steps`` part of :class:`~minikeras.optim.base.Optimizer`."""

    @property
    def iterations(self):
        """How many updates have run (an int64 Variable, 0 before the first)."""
        if self.gradient_accumulation_steps:
            return Tensor(np.asarray(self._iteration_count(), dtype="int64"))
        return self._iterations

    def _iteration_count(self):
        count = int(self._iterations.data)
        steps = self.gradient_accumulation_steps
        return count // steps if steps else count

    def _accumulate_gradients(self, grads, variables):
        """The mean gradients on every n-th call; else add them up and return None."""
        steps = self.gradient_accumulation_steps
        accumulators = [self._accumulators_of_grads[self._get_variable_index(v)].data
                        for v in variables]
        if (int(self._iterations.data) + 1) % steps != 0:
            for g, a in zip(grads, accumulators):
                a += g
            return None
        means = [(g + a) / g.dtype.type(steps) for g, a in zip(grads, accumulators)]
        for a in accumulators:
            a[...] = 0
        return means
