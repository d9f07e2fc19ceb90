"""F-scores: :class:`FBetaScore` and :class:`F1Score`, per class or averaged, from true
positives, false positives and false negatives accumulated over batches."""
from .. import backend
from .base import Metric, _array, _scalar, _wrap


class FBetaScore(Metric):
    """F-beta per class: (1 + β²)·P·R / (β²·P + R), from counts accumulated over batches.

    Inputs are ``(batch, num_classes)``. With ``threshold=None`` the largest score of each
    row is the predicted class; otherwise every score above ``threshold`` is. ``average``:
    None (one score per class), "micro" (counts pooled over classes), "macro" (mean of the
    classes' scores), "weighted" (mean weighted by the number of true labels per class).
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError("Invalid `average` argument value. Expected one of: {None, "
                             f"'micro', 'macro', 'weighted'}}. Received: average={average}")
        if not isinstance(beta, float):
            raise ValueError(f"Invalid `beta` argument value. It should be a Python float. "
                             f"Received: beta={beta} of type '{type(beta)}'")
        if beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be > 0. "
                             f"Received: beta={beta}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError(f"Invalid `threshold` argument value. It should be a Python "
                                 f"float. Received: threshold={threshold} of type "
                                 f"'{type(threshold)}'")
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError(f"Invalid `threshold` argument value. It should verify "
                                 f"0 < threshold <= 1. Received: threshold={threshold}")
        self.average, self.beta, self.threshold = average, beta, threshold
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, true_shape, pred_shape):
        if len(pred_shape) != 2 or len(true_shape) != 2:
            raise ValueError(f"{type(self).__name__} expects 2D inputs with shape (batch_size, "
                             f"output_dim). Received input shapes: y_pred.shape={pred_shape} "
                             f"and y_true.shape={true_shape}.")
        shape = () if self.average == "micro" else (pred_shape[-1],)
        for name in ("true_positives", "false_positives", "false_negatives",
                     "intermediate_weights"):
            setattr(self, name, self.add_variable(shape, name=name))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        xp = backend.xp
        y_true = _array(y_true, self.dtype)
        y_pred = _array(y_pred, self.dtype)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        if self.threshold is None:
            top = y_pred.max(axis=-1, keepdims=True)
            predicted = (y_pred >= top) & (xp.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.astype(self.dtype)
        w = None if sample_weight is None else _array(sample_weight, self.dtype).reshape(-1, 1)

        def weighted_sum(values):
            if w is not None:
                values = values * w
            return values.sum(axis=self.axis)

        self.true_positives.assign_add(weighted_sum(predicted * y_true))
        self.false_positives.assign_add(weighted_sum(predicted * (1 - y_true)))
        self.false_negatives.assign_add(weighted_sum((1 - predicted) * y_true))
        self.intermediate_weights.assign_add(weighted_sum(y_true))

    def result(self):
        if not self._built:
            return _wrap(_scalar(0.0, self.dtype))
        eps = backend.epsilon()
        tp, fp, fn = self.true_positives.data, self.false_positives.data, self.false_negatives.data
        precision = tp / (tp + fp + eps)
        recall = tp / (tp + fn + eps)
        b2 = self.beta ** 2
        score = (1 + b2) * (precision * recall) / (b2 * precision + recall + eps)
        if self.average == "weighted":
            weights = self.intermediate_weights.data
            score = (score * weights / (weights.sum() + eps)).sum()
        elif self.average is not None:
            score = score.mean()
        return _wrap(_scalar(score, self.dtype))

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta,
                "threshold": self.threshold}


class F1Score(FBetaScore):
    """F1 = 2·P·R / (P + R) per class: :class:`FBetaScore` with beta = 1."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
