"""minikeras.metrics against NumPy references computed independently: running means over
several batches with sample weights, reset_state, the confusion-matrix metrics at
thresholds, AUC as Keras computes it (Riemann sums over the thresholds), F-scores, R²,
get/resolve_accuracy and configs."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minikeras import GradientTape, losses, metrics
from minikeras.tensor import Tensor, Variable

EPS = 1e-7


def _rng(d):
    return np.random.default_rng(d(st.integers(0, 2**32 - 1)))


def _batches(d, make, max_batches=3):
    """1 to 3 batches made by ``make(rng, batch_size)``."""
    rng = _rng(d)
    return [make(rng, int(rng.integers(1, 6))) for _ in range(d(st.integers(1, max_batches)))]


def _result(metric):
    return np.asarray(metric.result().numpy(), dtype=np.float64)


# ----------------------------------------------------------------------------- Mean, Sum
def test_mean_accumulates_over_batches_and_resets():
    m = metrics.Mean()
    assert m.name == "mean" and m.dtype == "float32"
    m.update_state([1.0, 2.0, 3.0])
    m.update_state([4.0])
    assert _result(m) == pytest.approx(2.5)
    m.update_state([10.0, 0.0], sample_weight=[0.5, 1.5])
    assert _result(m) == pytest.approx((10 + 5) / (4 + 2.0))
    m.reset_state()
    assert _result(m) == 0.0
    assert [v.numpy().item() for v in m.variables] == [0.0, 0.0]


def test_mean_state_is_non_trainable_variables_updated_in_place():
    m = metrics.Mean(name="loss_mean")
    total, count = m.variables
    buffers = [total.data, count.data]
    assert all(isinstance(v, Variable) and not v.trainable for v in m.variables)
    assert [v.name for v in m.variables] == ["total", "count"]
    assert total.path == "loss_mean/total"
    m.update_state(np.array([1.0, 3.0]))
    assert total.data is buffers[0] and count.data is buffers[1]
    assert (total.numpy().item(), count.numpy().item()) == (4.0, 2.0)


@given(data=st.data())
def test_mean_with_weights_of_every_rank(data):
    def make(rng, n):
        values = rng.normal(size=(n, 3))
        kind = rng.integers(0, 3)
        weights = [None, rng.uniform(0, 2, n), rng.uniform(0, 2, (n, 3))][kind]
        return values, weights
    batches = _batches(data.draw, make)
    m = metrics.Mean(dtype="float64")
    total = count = 0.0
    for values, weights in batches:
        m.update_state(values, sample_weight=weights)
        if weights is None:
            total += values.mean(axis=1).sum()
            count += len(values)
        elif weights.ndim == 1:
            total += (values.mean(axis=1) * weights).sum()
            count += weights.sum()
        else:
            total += (values * weights).mean(axis=1).sum()
            count += weights.mean(axis=1).sum()
    expected = total / count if count else 0.0
    assert _result(m) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_sum():
    m = metrics.Sum()
    assert m.name == "sum"
    m.update_state([1.0, 2.0])
    m.update_state([[3.0, 4.0]], sample_weight=[2.0])
    assert _result(m) == pytest.approx(3.0 + 14.0)


def test_mean_metric_wrapper_and_call():
    def scaled_error(y_true, y_pred, scale=1.0):
        return scale * losses.mean_absolute_error(y_true, y_pred)

    m = metrics.MeanMetricWrapper(scaled_error, scale=2.0)
    assert m.name.startswith("mean_metric_wrapper")
    value = m(np.zeros((2, 2)), np.ones((2, 2)))          # __call__ = update + result
    assert value.item() == pytest.approx(2.0)
    assert m.get_config()["scale"] == 2.0


def test_update_state_records_nothing_on_the_tape():
    y_pred = Tensor(np.array([[0.2, 0.8], [0.6, 0.4]]), requires_grad=True)
    with GradientTape() as tape:
        for m in (metrics.CategoricalAccuracy(), metrics.MeanSquaredError(), metrics.AUC()):
            m.update_state(np.eye(2), y_pred)
            m.result()
    assert tape.nodes == []


# ----------------------------------------------------------------------------- accuracies
def test_keras_documentation_examples():
    m = metrics.Accuracy()
    m.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]])
    assert _result(m) == pytest.approx(0.75)
    m = metrics.BinaryAccuracy()
    m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]], sample_weight=[1, 0, 0, 1])
    assert _result(m) == pytest.approx(0.5)
    m = metrics.CategoricalAccuracy()
    m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]],
                   sample_weight=[0.7, 0.3])
    assert _result(m) == pytest.approx(0.3)
    m = metrics.SparseCategoricalAccuracy()
    m.update_state([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])
    assert _result(m) == pytest.approx(0.5)
    m = metrics.SparseTopKCategoricalAccuracy(k=1)
    m.update_state([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], sample_weight=[0.7, 0.3])
    assert _result(m) == pytest.approx(0.3)


def _weighted_running_mean(batches, per_sample):
    total = count = 0.0
    for y_true, y_pred, w in batches:
        v = per_sample(y_true, y_pred)
        w = np.ones(len(v)) if w is None else w
        total += (v * w).sum()
        count += w.sum()
    return total / count if count else 0.0


def _classification_batch(num_classes, sparse):
    def make(rng, n):
        scores = rng.permuted(np.tile(np.arange(num_classes, dtype=float), (n, 1)), axis=1)
        scores = scores + rng.uniform(0, 0.5, size=scores.shape)     # no ties
        labels = rng.integers(0, num_classes, size=n)
        y_true = labels if sparse else np.eye(num_classes)[labels]
        weights = rng.uniform(0, 1, n) if rng.random() < 0.5 else None
        return y_true, scores, weights
    return make


ACCURACIES = [
    ("categorical", lambda: metrics.CategoricalAccuracy(), False,
     lambda t, p: (t.argmax(-1) == p.argmax(-1)) * 1.0),
    ("sparse_categorical", lambda: metrics.SparseCategoricalAccuracy(), True,
     lambda t, p: (t == p.argmax(-1)) * 1.0),
    ("top_2", lambda: metrics.TopKCategoricalAccuracy(k=2), False,
     lambda t, p: (np.argsort(-p, -1)[:, :2] == t.argmax(-1)[:, None]).any(-1) * 1.0),
    ("sparse_top_2", lambda: metrics.SparseTopKCategoricalAccuracy(k=2), True,
     lambda t, p: (np.argsort(-p, -1)[:, :2] == t[:, None]).any(-1) * 1.0),
]


@pytest.mark.parametrize("name,make_metric,sparse,per_sample", ACCURACIES,
                         ids=[a[0] for a in ACCURACIES])
@given(data=st.data())
def test_accuracies_against_numpy(name, make_metric, sparse, per_sample, data):
    num_classes = data.draw(st.integers(2, 5))
    batches = _batches(data.draw, _classification_batch(num_classes, sparse))
    m = make_metric()
    for y_true, y_pred, w in batches:
        m.update_state(y_true, y_pred, sample_weight=w)
    assert _result(m) == pytest.approx(_weighted_running_mean(batches, per_sample), abs=1e-6)


@given(data=st.data())
def test_binary_accuracy_against_numpy(data):
    threshold = data.draw(st.sampled_from([0.5, 0.3, 0.7]))

    def make(rng, n):
        return (rng.random((n, 1)) < 0.5) * 1.0, rng.random((n, 1)), \
            (rng.uniform(0, 1, n) if rng.random() < 0.5 else None)
    batches = _batches(data.draw, make)
    m = metrics.BinaryAccuracy(threshold=threshold)
    for y_true, y_pred, w in batches:
        m.update_state(y_true, y_pred, sample_weight=w)
    expected = _weighted_running_mean(batches, lambda t, p: ((p > threshold) == t)[:, 0] * 1.0)
    assert _result(m) == pytest.approx(expected, abs=1e-6)


def test_top_k_counts_ties_as_in_the_top_k():
    m = metrics.SparseTopKCategoricalAccuracy(k=1)
    m.update_state([1, 0], [[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    assert _result(m) == pytest.approx(0.5)


def test_accuracy_shapes_and_default_names():
    assert metrics.BinaryAccuracy().name == "binary_accuracy"
    assert metrics.Accuracy().name == "accuracy"
    assert metrics.CategoricalAccuracy().name == "categorical_accuracy"
    assert metrics.SparseCategoricalAccuracy().name == "sparse_categorical_accuracy"
    assert metrics.TopKCategoricalAccuracy().k == 5
    assert metrics.SparseTopKCategoricalAccuracy().name == "sparse_top_k_categorical_accuracy"
    # (batch,) labels against (batch, 1) probabilities are aligned, not broadcast
    m = metrics.BinaryAccuracy()
    m.update_state(np.array([1, 0, 1]), np.array([[0.9], [0.2], [0.1]]))
    assert _result(m) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="threshold"):
        metrics.BinaryAccuracy(threshold=1.5)


# ----------------------------------------------------------------------------- confusion matrix
def _ref_counts(y_true, y_pred, thresholds, w=None):
    """tp, fp, tn, fn at each threshold: positive prediction = y_pred > t."""
    y_true, y_pred = y_true.reshape(-1) != 0, y_pred.reshape(-1)
    w = np.ones(y_pred.shape) if w is None else np.broadcast_to(w, y_pred.shape)
    out = {k: [] for k in ("tp", "fp", "tn", "fn")}
    for t in thresholds:
        pos = y_pred > t
        out["tp"].append(w[y_true & pos].sum())
        out["fp"].append(w[~y_true & pos].sum())
        out["tn"].append(w[~y_true & ~pos].sum())
        out["fn"].append(w[y_true & ~pos].sum())
    return {k: np.array(v) for k, v in out.items()}


def _add(a, b):
    return {k: a[k] + b[k] for k in a}


def _binary_batch(rng, n):
    w = rng.uniform(0, 1, n) if rng.random() < 0.5 else None
    return (rng.random(n) < 0.5) * 1.0, rng.random(n), w


def _safe_div(a, b):
    return np.where(b == 0, 0.0, a / np.where(b == 0, 1, b))


@given(data=st.data())
def test_precision_recall_and_counts_at_thresholds(data):
    thresholds = data.draw(st.sampled_from([None, 0.3, [0.2, 0.5, 0.75], [0.0, 0.5, 1.0]]))
    batches = _batches(data.draw, _binary_batch)
    made = [metrics.Precision(thresholds=thresholds), metrics.Recall(thresholds=thresholds),
            metrics.TruePositives(thresholds=thresholds),
            metrics.FalsePositives(thresholds=thresholds),
            metrics.TrueNegatives(thresholds=thresholds),
            metrics.FalseNegatives(thresholds=thresholds)]
    ts = [0.5] if thresholds is None else np.atleast_1d(thresholds)
    counts = None
    for y_true, y_pred, w in batches:
        for m in made:
            m.update_state(y_true, y_pred, sample_weight=w)
        c = _ref_counts(y_true, y_pred, ts, w)
        counts = c if counts is None else _add(counts, c)
    expected = [_safe_div(counts["tp"], counts["tp"] + counts["fp"]),
                _safe_div(counts["tp"], counts["tp"] + counts["fn"]),
                counts["tp"], counts["fp"], counts["tn"], counts["fn"]]
    for m, e in zip(made, expected):
        e = e[0] if len(ts) == 1 else e
        np.testing.assert_allclose(_result(m), e, rtol=1e-5, atol=1e-6,
                                   err_msg=type(m).__name__)


def test_precision_recall_keras_examples_and_reset():
    m = metrics.Precision()
    m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    assert _result(m) == pytest.approx(2 / 3)
    m.reset_state()
    m.update_state([0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[0, 0, 1, 0])
    assert _result(m) == pytest.approx(1.0)
    m = metrics.Precision(top_k=2)
    m.update_state([0, 0, 1, 1], [1, 1, 1, 1])
    assert _result(m) == 0.0
    m = metrics.Recall()
    m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    assert _result(m) == pytest.approx(2 / 3)


def test_precision_recall_top_k_and_class_id():
    y_true = np.array([[0, 1, 0, 1], [1, 0, 0, 0]])
    y_pred = np.array([[0.1, 0.9, 0.6, 0.2], [0.7, 0.3, 0.8, 0.0]])
    # top 2 of each row: {1, 2} and {0, 2}: 2 true of 4 predicted; 2 of 3 labels found
    p, r = metrics.Precision(top_k=2), metrics.Recall(top_k=2)
    p.update_state(y_true, y_pred)
    r.update_state(y_true, y_pred)
    assert (_result(p), _result(r)) == (pytest.approx(0.5), pytest.approx(2 / 3))
    # class 2 only: predicted positive (> 0.5) twice, never a true label
    p = metrics.Precision(class_id=2)
    p.update_state(y_true, y_pred)
    assert _result(p) == 0.0 and p.true_positives.numpy()[0] == 0
    assert p.false_positives.numpy()[0] == 2
    r = metrics.Recall(class_id=0)
    r.update_state(y_true, y_pred)
    assert _result(r) == pytest.approx(1.0)


def test_threshold_validation_and_names():
    with pytest.raises(ValueError, match=r"Threshold values must be in \[0, 1\]"):
        metrics.Precision(thresholds=[0.5, 1.5])
    assert metrics.Precision().name.startswith("precision")
    assert metrics.Recall().name.startswith("recall")


# ----------------------------------------------------------------------------- AUC
def _keras_thresholds(n):
    return [-EPS] + [(i + 1) / (n - 1) for i in range(n - 2)] + [1 + EPS]


def _ref_auc(c, curve, method):
    """The Riemann sum between consecutive thresholds, written out with a loop."""
    tp, fp, tn, fn = c["tp"], c["fp"], c["tn"], c["fn"]
    recall = _safe_div(tp, tp + fn)
    if curve == "ROC":
        x, y = _safe_div(fp, fp + tn), recall
    else:
        x, y = recall, _safe_div(tp, tp + fp)
    area = 0.0
    for i in range(len(x) - 1):
        pick = {"interpolation": (y[i] + y[i + 1]) / 2, "minoring": min(y[i], y[i + 1]),
                "majoring": max(y[i], y[i + 1])}[method]
        area += (x[i] - x[i + 1]) * pick
    return area


def _ref_pr_auc_interpolated(c):
    """Davis & Goadrich: precision interpolated along TP(predicted positives) between
    thresholds, the area of each piece in closed form; a plain loop."""
    tp, fp, fn = c["tp"], c["fp"], c["fn"]
    p = tp + fp
    area = 0.0
    for i in range(len(tp) - 1):
        dtp, dp = tp[i] - tp[i + 1], p[i] - p[i + 1]
        slope = dtp / dp if dp > 0 else 0.0
        intercept = tp[i + 1] - slope * p[i + 1]
        ratio = p[i] / p[i + 1] if p[i] > 0 and p[i + 1] > 0 else 1.0
        positives = tp[i + 1] + fn[i + 1]
        if positives > 0:
            area += slope * (dtp + intercept * np.log(ratio)) / positives
    return area


@pytest.mark.parametrize("curve,method", [("ROC", "interpolation"), ("ROC", "minoring"),
                                          ("ROC", "majoring"), ("PR", "interpolation"),
                                          ("PR", "minoring"), ("PR", "majoring")])
@given(data=st.data())
def test_auc_against_a_riemann_sum_over_the_thresholds(curve, method, data):
    n = data.draw(st.sampled_from([3, 7, 200]))
    batches = _batches(data.draw, _binary_batch)
    m = metrics.AUC(num_thresholds=n, curve=curve, summation_method=method)
    counts = None
    for y_true, y_pred, w in batches:
        m.update_state(y_true, y_pred, sample_weight=w)
        c = _ref_counts(y_true, y_pred, _keras_thresholds(n), w)
        counts = c if counts is None else _add(counts, c)
    if curve == "PR" and method == "interpolation":
        expected = _ref_pr_auc_interpolated(counts)
    else:
        expected = _ref_auc(counts, curve, method)
    # Davis-Goadrich terms cancel (tp differences against intercept·log ratio): with the
    # counts kept in float32, as Keras keeps them, the sum loses about 1e-5 absolute.
    tolerance = 1e-4 if (curve, method) == ("PR", "interpolation") else 1e-5
    assert _result(m) == pytest.approx(expected, rel=1e-4, abs=tolerance)
    for key in ("tp", "fp", "tn", "fn"):
        name = {"tp": "true_positives", "fp": "false_positives", "tn": "true_negatives",
                "fn": "false_negatives"}[key]
        np.testing.assert_allclose(getattr(m, name).numpy(), counts[key], rtol=1e-5, atol=1e-5)


def test_roc_auc_equals_the_rank_statistic_when_scores_fall_between_thresholds():
    """With each score strictly between two thresholds, the trapezoids give the exact
    probability that a positive outranks a negative (ties counted as one half)."""
    rng = np.random.default_rng(0)
    n = 11
    scores = (rng.integers(0, n - 1, size=60) + 0.5) / (n - 1)
    labels = (rng.random(60) < scores) * 1.0
    m = metrics.AUC(num_thresholds=n)
    m.update_state(labels, scores)
    pos, neg = scores[labels == 1], scores[labels == 0]
    wins = (pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean()
    assert _result(m) == pytest.approx(wins, rel=1e-5)


def test_auc_perfect_and_reversed_and_keras_example():
    m = metrics.AUC()
    m.update_state([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    assert _result(m) == pytest.approx(1.0)
    m.reset_state()
    m.update_state([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9])
    assert _result(m) == pytest.approx(0.0, abs=1e-6)
    m = metrics.AUC(num_thresholds=3)
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    assert _result(m) == pytest.approx(0.75)
    pr = metrics.AUC(curve="PR")
    pr.update_state([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    assert _result(pr) == pytest.approx(1.0, abs=1e-6)


def test_auc_clips_predictions_like_keras_fast_path():
    a, b = metrics.AUC(num_thresholds=5), metrics.AUC(num_thresholds=5)
    a.update_state([0, 1, 1], [-0.5, 0.4, 1.7])
    b.update_state([0, 1, 1], [0.0, 0.4, 1.0])
    np.testing.assert_allclose(a.true_positives.numpy(), b.true_positives.numpy())
    assert _result(a) == pytest.approx(_result(b))


def test_auc_from_logits_thresholds_multi_label_and_label_weights():
    rng = np.random.default_rng(4)
    logits = rng.normal(size=(20, 3))
    labels = (rng.random((20, 3)) < 0.5) * 1.0
    a, b = metrics.AUC(from_logits=True), metrics.AUC()
    a.update_state(labels, logits)
    b.update_state(labels, 1 / (1 + np.exp(-logits)))
    assert _result(a) == pytest.approx(_result(b), rel=1e-5)

    thresholds = [0.1, 0.35, 0.6]
    c = metrics.AUC(thresholds=thresholds)
    assert c.num_thresholds == 5 and c.thresholds[1:-1] == thresholds
    probs = 1 / (1 + np.exp(-logits))
    c.update_state(labels, probs)
    counts = _ref_counts(labels, probs, [-EPS] + thresholds + [1 + EPS])
    assert _result(c) == pytest.approx(_ref_auc(counts, "ROC", "interpolation"), rel=1e-5)

    multi = metrics.AUC(multi_label=True)
    multi.update_state(labels, probs)
    assert multi.true_positives.shape == (200, 3)
    per_label = []
    for j in range(3):
        single = metrics.AUC()
        single.update_state(labels[:, j], probs[:, j])
        per_label.append(float(_result(single)))
    assert _result(multi) == pytest.approx(np.mean(per_label), rel=1e-5)
    weighted = metrics.AUC(multi_label=True, label_weights=[1.0, 0.0, 3.0])
    weighted.update_state(labels, probs)
    assert _result(weighted) == pytest.approx((per_label[0] + 3 * per_label[2]) / 4, rel=1e-5)


def test_auc_arguments_are_checked():
    with pytest.raises(ValueError, match="num_thresholds"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="Invalid AUC curve"):
        metrics.AUC(curve="DET")
    with pytest.raises(ValueError, match="Invalid AUC summation method"):
        metrics.AUC(summation_method="simpson")
    with pytest.raises(ValueError, match="num_labels"):
        metrics.AUC(num_labels=3)
    config = metrics.AUC(thresholds=[0.25, 0.5], name="my_auc").get_config()
    assert config["thresholds"] == [0.25, 0.5] and config["num_thresholds"] == 4
    assert metrics.AUC.from_config(config).get_config() == config
    assert "thresholds" not in metrics.AUC().get_config()


# ----------------------------------------------------------------------------- F-scores
def _ref_fbeta(y_true, y_pred, beta, average, threshold, w=None):
    if threshold is None:
        pred = (y_pred >= y_pred.max(-1, keepdims=True)) & (np.abs(y_pred) > 1e-9)
    else:
        pred = y_pred > threshold
    pred = pred * 1.0
    w = np.ones((len(y_true), 1)) if w is None else w[:, None]
    axis = None if average == "micro" else 0
    tp = (pred * y_true * w).sum(axis)
    fp = (pred * (1 - y_true) * w).sum(axis)
    fn = ((1 - pred) * y_true * w).sum(axis)
    support = (y_true * w).sum(axis)
    precision, recall = tp / (tp + fp + EPS), tp / (tp + fn + EPS)
    score = (1 + beta ** 2) * precision * recall / (beta ** 2 * precision + recall + EPS)
    if average == "weighted":
        return (score * support / (support.sum() + EPS)).sum()
    return score if average is None else np.mean(score)


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
@given(data=st.data())
def test_f_scores_against_numpy(average, data):
    beta = data.draw(st.sampled_from([1.0, 0.5, 2.0]))
    threshold = data.draw(st.sampled_from([None, 0.5]))
    rng = _rng(data.draw)
    n, c = int(rng.integers(2, 8)), int(rng.integers(2, 4))
    y_true = (rng.random((n, c)) < 0.5) * 1.0
    y_pred = rng.random((n, c))
    w = rng.uniform(0, 1, n) if rng.random() < 0.5 else None
    m = metrics.FBetaScore(average=average, beta=beta, threshold=threshold)
    half = n // 2
    m.update_state(y_true[:half], y_pred[:half], None if w is None else w[:half])
    m.update_state(y_true[half:], y_pred[half:], None if w is None else w[half:])
    expected = _ref_fbeta(y_true, y_pred, beta, average, threshold, w)
    np.testing.assert_allclose(_result(m), expected, rtol=1e-4, atol=1e-6)


def test_f1_keras_example_and_arguments():
    m = metrics.F1Score(threshold=0.5)
    m.update_state(np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]]),
                   np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]]))
    np.testing.assert_allclose(_result(m), [0.5, 0.8, 0.6666667], rtol=1e-5)
    assert m.name == "f1_score" and "beta" not in m.get_config()
    with pytest.raises(ValueError, match="Invalid `average`"):
        metrics.F1Score(average="samples")
    with pytest.raises(ValueError, match="expects 2D inputs"):
        metrics.F1Score().update_state(np.ones(3), np.ones(3))


# ----------------------------------------------------------------------------- regression
@given(data=st.data())
def test_regression_metrics_against_numpy(data):
    def make(rng, n):
        return rng.normal(size=(n, 2)), rng.normal(size=(n, 2)), \
            (rng.uniform(0, 1, n) if rng.random() < 0.5 else None)
    batches = _batches(data.draw, make)
    made = {"mse": metrics.MeanSquaredError(), "mae": metrics.MeanAbsoluteError(),
            "rmse": metrics.RootMeanSquaredError()}
    for y_true, y_pred, w in batches:
        for m in made.values():
            m.update_state(y_true, y_pred, sample_weight=w)
    mse = _weighted_running_mean(batches, lambda t, p: ((t - p) ** 2).mean(-1))
    mae = _weighted_running_mean(batches, lambda t, p: np.abs(t - p).mean(-1))
    assert _result(made["mse"]) == pytest.approx(mse, rel=1e-5)
    assert _result(made["mae"]) == pytest.approx(mae, rel=1e-5)
    assert _result(made["rmse"]) == pytest.approx(np.sqrt(mse), rel=1e-5)


@pytest.mark.parametrize("aggregation", ["uniform_average", "variance_weighted_average", None])
def test_r2_score_against_numpy(aggregation):
    rng = np.random.default_rng(5)
    y_true = rng.normal(size=(12, 3))
    y_pred = y_true + rng.normal(scale=0.5, size=(12, 3))
    w = rng.uniform(0.5, 1.5, 12)
    m = metrics.R2Score(class_aggregation=aggregation)
    m.update_state(y_true[:5], y_pred[:5], sample_weight=w[:5])
    m.update_state(y_true[5:], y_pred[5:], sample_weight=w[5:])
    mean = (y_true * w[:, None]).sum(0) / w.sum()
    ss_tot = (w[:, None] * (y_true - mean) ** 2).sum(0)
    ss_res = (w[:, None] * (y_true - y_pred) ** 2).sum(0)
    raw = 1 - ss_res / ss_tot
    expected = {"uniform_average": raw.mean(), None: raw,
                "variance_weighted_average": (raw * ss_tot).sum() / ss_tot.sum()}[aggregation]
    np.testing.assert_allclose(_result(m), expected, rtol=1e-4)


def test_r2_keras_example_and_adjusted():
    m = metrics.R2Score()
    m.update_state(np.array([[1], [4], [3]]), np.array([[2], [4], [4]]))
    assert _result(m) == pytest.approx(0.57142854, rel=1e-6)
    adjusted = metrics.R2Score(num_regressors=1)
    adjusted.update_state(np.array([[1], [4], [3], [5]]), np.array([[2], [4], [4], [5]]))
    plain = metrics.R2Score()
    plain.update_state(np.array([[1], [4], [3], [5]]), np.array([[2], [4], [4], [5]]))
    r2 = float(_result(plain))
    assert _result(adjusted) == pytest.approx(1 - (1 - r2) * 3 / 2, rel=1e-5)


def test_loss_metrics_are_running_means_of_the_losses():
    rng = np.random.default_rng(6)
    y_true = np.eye(3)[rng.integers(0, 3, 6)]
    y_pred = rng.uniform(0.1, 1, (6, 3))
    m = metrics.CategoricalCrossentropy()
    m.update_state(y_true[:2], y_pred[:2])
    m.update_state(y_true[2:], y_pred[2:])
    expected = losses.categorical_crossentropy(y_true, y_pred).numpy().mean()
    assert _result(m) == pytest.approx(expected, rel=1e-5)
    cos = metrics.CosineSimilarity()
    cos.update_state([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]])
    assert _result(cos) == pytest.approx(0.5, rel=1e-5)


# ----------------------------------------------------------------------------- get, names
def test_get_resolves_strings_to_new_metric_objects():
    assert isinstance(metrics.get("auc"), metrics.AUC)
    assert isinstance(metrics.get("AUC"), metrics.AUC)
    assert metrics.get("mse").name == "mean_squared_error"
    assert isinstance(metrics.get("mae"), metrics.MeanAbsoluteError)
    assert isinstance(metrics.get("f1_score"), metrics.F1Score)
    assert isinstance(metrics.get("top_k_categorical_accuracy"), metrics.TopKCategoricalAccuracy)
    assert isinstance(metrics.get("root_mean_squared_error"), metrics.RootMeanSquaredError)
    assert isinstance(metrics.get("binary_crossentropy"), metrics.BinaryCrossentropy)
    assert metrics.get("precision") is not metrics.get("precision")
    m = metrics.Mean()
    assert metrics.get(m) is m and metrics.get(None) is None
    assert isinstance(metrics.get({"class_name": "Precision", "config": {"thresholds": 0.3}}),
                      metrics.Precision)


def test_get_unknown_and_ambiguous_strings():
    with pytest.raises(ValueError) as err:
        metrics.get("presicion")
    assert "Could not interpret metric identifier: 'presicion'" in str(err.value)
    assert "Did you mean 'precision'" in str(err.value) and "auc" in str(err.value)
    with pytest.raises(ValueError, match="get_metric"):
        metrics.get("acc")
    # as in Keras, "accuracy" alone is the exact-match Accuracy; compile resolves by shape
    assert type(metrics.get("accuracy")) is metrics.Accuracy


@pytest.mark.parametrize("y_true,y_pred,kind", [
    ((32, 1), (32, 1), metrics.BinaryAccuracy),
    ((32,), (32, 1), metrics.BinaryAccuracy),
    ((32,), (32, 10), metrics.SparseCategoricalAccuracy),
    ((32, 1), (32, 10), metrics.SparseCategoricalAccuracy),
    ((32, 10), (32, 10), metrics.CategoricalAccuracy),
])
def test_resolve_accuracy_follows_keras_rule(y_true, y_pred, kind):
    m = metrics.resolve_accuracy(y_true, y_pred)
    assert type(m) is kind and m.name == "accuracy"
    assert metrics.get_metric("acc", y_true, y_pred).name == "acc"


def test_get_metric_names_and_wrapping():
    m = metrics.get_metric("mse")
    assert isinstance(m, metrics.MeanSquaredError) and m.name == "mse"
    wrapped = metrics.get_metric(losses.mean_absolute_error)
    assert isinstance(wrapped, metrics.MeanMetricWrapper)
    assert wrapped.name == "mean_absolute_error"


CONFIGURED = [metrics.Mean(name="m"), metrics.Sum(), metrics.BinaryAccuracy(threshold=0.3),
              metrics.TopKCategoricalAccuracy(k=3), metrics.Precision(thresholds=[0.2, 0.4]),
              metrics.Recall(top_k=2, class_id=1), metrics.TruePositives(thresholds=0.3),
              metrics.F1Score(average="macro", threshold=0.4),
              metrics.FBetaScore(beta=2.0), metrics.R2Score(class_aggregation=None),
              metrics.AUC(curve="PR", num_thresholds=50), metrics.MeanSquaredError(),
              metrics.CategoricalCrossentropy(from_logits=True),
              metrics.MeanMetricWrapper(losses.huber, name="h", delta=0.5)]


@pytest.mark.parametrize("metric", CONFIGURED, ids=lambda m: type(m).__name__)
def test_config_round_trip(metric):
    config = metric.get_config()
    assert config["name"] == metric.name and config["dtype"] == "float32"
    assert type(metric).from_config(config).get_config() == config


def test_custom_metric_subclass():
    class Maximum(metrics.Metric):
        def __init__(self, name="maximum", dtype=None):
            super().__init__(name=name, dtype=dtype)
            self.best = self.add_variable((), initializer=-np.inf, name="best")

        def update_state(self, values):
            self.best.assign(np.maximum(self.best.numpy(), np.max(values)))

        def result(self):
            return self.best.value

    m = Maximum()
    m.update_state([1.0, 3.0])
    m.update_state([2.0])
    assert m.result().item() == 3.0 and m.variables[0].path == "maximum/best"
    with pytest.raises(NotImplementedError):
        metrics.Metric().result()

    class Forgot(metrics.Metric):
        def __init__(self):
            self.v = self.add_variable((), name="v")
    with pytest.raises(RuntimeError, match="super"):
        Forgot()


@pytest.mark.parametrize("fn", [metrics.binary_accuracy, losses.mean_squared_error])
def test_mean_metric_wrapper_config_names_its_function(fn):
    wrapper = metrics.MeanMetricWrapper(fn, name="wrapped")
    again = metrics.MeanMetricWrapper.from_config(wrapper.get_config())
    assert again._fn is fn and again.name == "wrapped"


def test_mean_metric_wrapper_config_with_an_unknown_function():
    with pytest.raises(ValueError, match=r"MeanMetricWrapper: unknown function 'nope'; "
                                         r"expected one of \[.*'binary_accuracy'"):
        metrics.MeanMetricWrapper.from_config({"fn": "nope", "name": "x"})
