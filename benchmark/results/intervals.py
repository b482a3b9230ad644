"""95 % intervals of a run's test figures, from its per-video outputs.

* top-1 of one run: the exact (Clopper–Pearson) binomial interval over its test videos;
* mean class accuracy and mAP of one run: percentile bootstrap over test videos;
* several seeds of one configuration: a two-level bootstrap — the test videos are resampled once
  per replicate and shared by all seeds (they were tested on the same videos), the seeds are
  resampled independently — so the interval holds both the test-set sampling error and the
  seed-to-seed spread.

Bootstrap replicates are drawn from a fixed seed: the same files give the same interval.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
from scipy import stats

from benchmark.results.predictions import Predictions

LEVEL = 0.95
RESAMPLES = 2000
BOOTSTRAP_SEED = 20261201

Metric = Callable[[Predictions, np.ndarray], float]


def binomial_interval(correct: int, total: int, level: float = LEVEL) -> tuple[float, float]:
    """Exact two-sided interval of a proportion ``correct / total``."""
    if total == 0:
        return float("nan"), float("nan")
    interval = stats.binomtest(int(correct), int(total)).proportion_ci(confidence_level=level, method="exact")
    return float(interval.low), float(interval.high)


def top1_of(predictions: Predictions, rows: np.ndarray) -> float:
    return float(predictions.correct[rows].mean()) if len(rows) else float("nan")


def mean_class_accuracy_of(predictions: Predictions, rows: np.ndarray) -> float:
    labels, correct = predictions.label[rows], predictions.correct[rows]
    classes = np.unique(labels)
    return float(np.mean([correct[labels == k].mean() for k in classes])) if len(classes) else float("nan")


def average_precision(scores: np.ndarray, positive: np.ndarray) -> float:
    """Average precision of one class's ``scores`` (N,) for the 0/1 ``positive`` (N,), ties handled
    as scikit-learn does (one operating point per distinct score); NaN without a positive."""
    total = int(positive.sum())
    if total == 0:
        return float("nan")
    order = np.argsort(-scores, kind="stable")
    ranked, hits = scores[order], positive[order].astype(np.int64)
    last_of_tie = np.r_[ranked[1:] != ranked[:-1], True]
    true_positives = np.cumsum(hits)[last_of_tie]
    retrieved = (np.arange(1, len(ranked) + 1))[last_of_tie]
    recall = true_positives / total
    precision = true_positives / retrieved
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def map_of(predictions: Predictions, rows: np.ndarray) -> float:
    """Mean over classes with a positive among ``rows`` of the average precision."""
    scores = predictions.scores[rows].astype(np.float64)
    if predictions.labels is not None:
        targets = predictions.labels[rows].astype(bool)
    else:
        targets = np.eye(scores.shape[1], dtype=bool)[predictions.label[rows].astype(np.int64)]
    ap = np.array([average_precision(scores[:, k], targets[:, k]) for k in range(scores.shape[1])])
    return float(np.nanmean(ap)) if np.isfinite(ap).any() else float("nan")


METRICS: dict[str, Metric] = {"top1": top1_of, "mean_class_acc": mean_class_accuracy_of, "map": map_of}


def video_resamples(n: int, resamples: int = RESAMPLES, seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    """(resamples, n) row indices, drawn with replacement."""
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def bootstrap_interval(predictions: Predictions, metric: Metric, level: float = LEVEL) -> tuple[float, float]:
    """Percentile interval of ``metric`` over test videos resampled with replacement."""
    if len(predictions) == 0:
        return float("nan"), float("nan")
    values = np.array([metric(predictions, rows) for rows in video_resamples(len(predictions))])
    return percentile_interval(values, level)


def percentile_interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if not len(values):
        return float("nan"), float("nan")
    tail = 100 * (1 - level) / 2
    return float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))


def run_intervals(predictions: Predictions) -> dict[str, float]:
    """The interval columns of one run's leaderboard row (``<metric>_low``, ``<metric>_high``)."""
    columns: dict[str, float] = {}
    if not predictions.multi_label:
        columns["top1_low"], columns["top1_high"] = binomial_interval(int(predictions.correct.sum()), len(predictions))
        low, high = bootstrap_interval(predictions, mean_class_accuracy_of)
        columns["mean_class_acc_low"], columns["mean_class_acc_high"] = low, high
    columns["map_low"], columns["map_high"] = bootstrap_interval(predictions, map_of)
    return columns


def aligned(runs: Sequence[Predictions]) -> list[Predictions]:
    """``runs`` checked to hold the same test videos in the same order (they are sorted by index)."""
    first = runs[0]
    for other in runs[1:]:
        if not np.array_equal(first.video_id, other.video_id):
            raise ValueError("the runs were tested on different videos; their figures cannot be paired")
    return list(runs)


def seeds_interval(runs: Sequence[Predictions], metric: Metric, level: float = LEVEL) -> tuple[float, float, float]:
    """(mean over seeds, low, high): two-level bootstrap over shared test videos and over seeds."""
    runs = aligned(runs)
    everything = np.arange(len(runs[0]))
    estimate = float(np.mean([metric(run, everything) for run in runs]))
    if len(runs) == 1:
        low, high = bootstrap_interval(runs[0], metric, level)
        return estimate, low, high
    seed_rng = np.random.default_rng(BOOTSTRAP_SEED + 1)
    values = []
    for rows in video_resamples(len(runs[0])):
        chosen = seed_rng.integers(0, len(runs), size=len(runs))
        values.append(np.mean([metric(runs[i], rows) for i in chosen]))
    low, high = percentile_interval(np.array(values), level)
    return estimate, low, high
