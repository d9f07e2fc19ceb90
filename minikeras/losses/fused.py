"""The fused Functions behind the cross-entropies of logits (``from_logits=True``):
:class:`SigmoidCrossEntropy`, :class:`SoftmaxCrossEntropy` and
:class:`SparseSoftmaxCrossEntropy`, each one numerically stable op. Their forward never
computes ``exp`` of a large number and their backward is the short closed form
(``softmax - onehot``, ``sigmoid - target``). Like every Function they register
themselves in :data:`minikeras.autograd.REGISTRY` by class name."""
from .. import backend, ops
from ..autograd import Function
from ..ops.core import unbroadcast


class SigmoidCrossEntropy(Function):
    """Binary cross-entropy of logits, elementwise: for logits x and targets z,

        loss = -z·log σ(x) - (1 - z)·log(1 - σ(x)) = max(x, 0) - x·z + log(1 + e^(-|x|)),

    the second form never overflows (e^(-|x|) <= 1).   dloss/dx = σ(x) - z,
    dloss/dz = -x.

    Rule: dL/dx = unbroadcast(g · (σ(x) - z), x); dL/dz = unbroadcast(-g · x, z)
    """

    def forward(self, x, z):
        xp = backend.xp
        return xp.maximum(x, 0) - x * z + xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, g):
        x, z = self.inputs
        nx, nz = self.needs_grad
        gx = unbroadcast(g * (ops.sigmoid(x) - z), x) if nx else None
        gz = unbroadcast(-g * x, z) if nz else None
        return gx, gz


class SoftmaxCrossEntropy(Function):
    """Categorical cross-entropy of logits x against target probabilities t (same shape):

        loss = -Σ t·log_softmax(x)   along ``axis`` (that axis disappears),

    with log_softmax computed after subtracting the maximum (no overflow).
    dloss/dx = softmax(x)·Σt - t  (= softmax - onehot for one-hot or smoothed labels, whose
    sum is 1);  dloss/dt = -log_softmax(x).

    Rule: dL/dx = g · (softmax(x) · sum(t) - t); dL/dt = -g · log_softmax(x)   (g with the class axis put back)
    """

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x, t):
        return -(t * backend.kernels.log_softmax(x, axis=self.axis)).sum(axis=self.axis)

    def backward(self, g):
        x, t = self.inputs
        nx, nt = self.needs_grad
        g = ops.expand_dims(g, self.axis)
        gx = gt = None
        if nx:
            total = ops.sum(t, axis=self.axis, keepdims=True)
            gx = g * (ops.softmax(x, axis=self.axis) * total - t)
        if nt:
            gt = -g * ops.log_softmax(x, axis=self.axis)
        return gx, gt


class SparseSoftmaxCrossEntropy(Function):
    """Cross-entropy of logits x against integer class indices k (x without ``axis``):

        loss = -log_softmax(x)[k] = log Σ eˣ - x[k]   (pick the true class),

    computed after subtracting the maximum (no overflow), without building a one-hot.
    dloss/dx = softmax(x) - onehot(k). The labels get no gradient.

    ``mean=True`` returns the mean of those losses, Σ loss / N (N the number of them, the
    "sum_over_batch_size" reduction), in the same node: d(mean)/dx = (softmax - onehot) / N.
    It gives the same bits as the per-sample losses followed by ``ops.sum`` and a division
    by N, with two nodes fewer on the tape.

    Rule: dL/dx = g · (softmax(x) - one_hot(labels)), g divided by N when mean; dL/dlabels = none
    """

    def __init__(self, axis, mean=False):
        self.axis = axis
        self.mean = mean

    def forward(self, x, labels):
        xp = backend.xp
        self.by_rows = self.axis == x.ndim - 1 and x.ndim >= 2
        if self.by_rows:
            # classes last: one row of logits per loss, a kernel does them row by row
            losses, self.probs = backend.kernels.sparse_softmax_cross_entropy(
                x.reshape(-1, x.shape[-1]), labels.reshape(-1))
            losses = losses.reshape(labels.shape)
        else:
            self.probs = backend.kernels.softmax(x, axis=self.axis)  # for the backward pass
            log_p = backend.kernels.log_softmax(x, axis=self.axis)
            picked = xp.take_along_axis(log_p, xp.expand_dims(labels, self.axis),
                                        axis=self.axis)
            losses = -picked.squeeze(axis=self.axis)
        if self.mean:
            return backend.kernels.reduce_sum(losses) / x.dtype.type(losses.size)
        return losses

    def backward(self, g):
        x, labels = self.inputs
        if self.mean:  # every loss gets the mean's gradient divided by N
            g = ops.broadcast_to(g / float(labels.data.size), labels.shape)
        onehot = ops.one_hot(labels, x.shape[self.axis], axis=self.axis, dtype=x.dtype)
        return ops.expand_dims(g, self.axis) * (ops.softmax(x, axis=self.axis) - onehot), None

    def backward_arrays(self, g):
        """softmax - onehot on the arrays, from the softmax the forward pass kept."""
        xp = backend.xp
        labels = self.inputs[1].data
        scale = g / g.dtype.type(labels.size) if self.mean else g
        if self.by_rows:
            grad = backend.kernels.sparse_softmax_cross_entropy_grad(
                self.probs, labels.reshape(-1), xp.broadcast_to(scale, labels.shape).reshape(-1))
            return grad.reshape(self.inputs[0].shape), None
        scale = scale if self.mean else xp.expand_dims(scale, self.axis)
        grad = self.probs * scale
        idx = xp.expand_dims(labels, self.axis)
        at_label = xp.take_along_axis(grad, idx, axis=self.axis)
        xp.put_along_axis(grad, idx, at_label - scale, axis=self.axis)
        return grad, None
