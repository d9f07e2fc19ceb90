"""Loss scaling (``loss_scale_factor=s``), for the Optimizer: the loss is multiplied by
``s`` before the backward pass (so that small float16 gradients do not round to zero), and
the gradients are divided by ``s`` before they are used."""


class LossScaling:
    """The ``loss_scale_factor`` part of :class:`~minikeras.optim.base.Optimizer`."""

    def scale_loss(self, loss):
        """``loss * loss_scale_factor`` (the loss itself when there is none)."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    def _unscale_gradients(self, grads):
        if self.loss_scale_factor is None:
            return grads
        return [g / g.dtype.type(self.loss_scale_factor) for g in grads]
