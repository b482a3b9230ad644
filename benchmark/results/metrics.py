"""The test figures of the leaderboard, computed one way for every system.

Single-stream runs accumulate a confusion matrix (and top-5 / AP states) in torchmetrics across
processes; systems that fuse per-video scores compute the same confusion matrix from their score
arrays. Top-1, mean class accuracy and the top-1 of a subset of classes are then read from the
confusion matrix by the functions below, so the two paths cannot disagree.

Average precision of fused systems is computed on each system's own scores (probabilities, SVM
margins, averaged margins), class by class, with no transform across classes: a softmax across
classes would change each class's ranking of the videos. Classes without a positive video have no
average precision and are left out of the mean (a held-out part of a multi-label set may lack some
classes; the official CCV test set has positives for every class).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from sklearn.metrics import average_precision_score
from torchmetrics.functional.classification import multiclass_accuracy, multiclass_confusion_matrix


def top1(confusion: torch.Tensor) -> float:
    """Share of the test videos on the diagonal (rows = true class, columns = predicted class)."""
    total = int(confusion.sum())
    return float(confusion.diagonal().sum()) / total if total else float("nan")


def mean_class_accuracy(confusion: torch.Tensor) -> float:
    """Mean over classes that occur in the test set of the per-class accuracy."""
    support = confusion.sum(dim=1)
    present = support > 0
    if not bool(present.any()):
        return float("nan")
    return float((confusion.diagonal()[present].double() / support[present].double()).mean())


def subset_top1(confusion: torch.Tensor, class_names: Sequence[str], subset: Sequence[str]) -> float:
    """Top-1 over the test videos whose true class is in ``subset`` (all classes still compete)."""
    if not subset:
        return float("nan")
    rows = [class_names.index(name) for name in subset]
    selected = confusion[rows]
    total = int(selected.sum())
    return float(sum(int(confusion[r, r]) for r in rows)) / total if total else float("nan")


def average_precisions(scores: np.ndarray, labels: np.ndarray, num_classes: int, multi_label: bool) -> np.ndarray:
    """(K,) average precision of each class's scores over the videos (one-vs-rest), NaN for a class
    without a positive video. ``labels``: (N,) class indices, or an (N, K) 0/1 matrix when
    ``multi_label``. The scores are ranked as given (no softmax, no sigmoid): any per-class
    monotone map of them has the same average precision."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    targets = labels.astype(np.int64) if multi_label else np.eye(num_classes, dtype=np.int64)[labels.astype(np.int64)]
    if scores.shape != targets.shape or scores.shape[1] != num_classes:
        raise ValueError(f"scores {scores.shape} and targets {targets.shape} must both be (N, {num_classes})")
    result = np.full(num_classes, np.nan)
    for k in np.flatnonzero(targets.sum(axis=0) > 0):
        result[k] = average_precision_score(targets[:, k], scores[:, k])
    return result


def mean_average_precision(scores: np.ndarray, labels: np.ndarray, num_classes: int, multi_label: bool) -> float:
    """Mean of :func:`average_precisions` over the classes that have a positive video (NaN if none)."""
    per_class = average_precisions(scores, labels, num_classes, multi_label)
    present = per_class[~np.isnan(per_class)]
    return float(present.mean()) if len(present) else float("nan")


def score_metrics(scores: np.ndarray, labels: np.ndarray, num_classes: int, multi_label: bool) -> dict[str, float]:
    """top1 / top5 / mean_class_acc / map of (N, K) per-video scores; multi-label data gets mAP only
    (the rest NaN).

    Scores may be probabilities or margins: only their ranking within a row (accuracy) or within a
    class (average precision, :func:`mean_average_precision`) matters.
    """
    nan = float("nan")
    mean_ap = mean_average_precision(scores, labels, num_classes, multi_label)
    if multi_label:
        return {"top1": nan, "top5": nan, "mean_class_acc": nan, "map": mean_ap}
    preds = torch.as_tensor(np.asarray(scores), dtype=torch.float32)
    target = torch.as_tensor(np.asarray(labels)).long()
    confusion = multiclass_confusion_matrix(preds, target, num_classes)
    return {
        "top1": top1(confusion),
        "top5": float(multiclass_accuracy(preds, target, num_classes, top_k=min(5, num_classes), average="micro")),
        "mean_class_acc": mean_class_accuracy(confusion),
        "map": mean_ap,
    }
