"""The test figures of the leaderboard, computed one way for every system.

Single-stream runs accumulate a confusion matrix (and top-5 / AP states) in torchmetrics across
processes; systems that fuse per-video scores compute the same confusion matrix from their score
arrays. Top-1, mean class accuracy and the top-1 of a subset of classes are then read from the
confusion matrix by the functions below, so the two paths cannot disagree.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torchmetrics.functional.classification import (
    multiclass_accuracy,
    multiclass_average_precision,
    multiclass_confusion_matrix,
    multilabel_average_precision,
)


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


def score_metrics(scores: np.ndarray, labels: np.ndarray, num_classes: int, multi_label: bool) -> dict[str, float]:
    """top1 / top5 / mean_class_acc / map of (N, K) per-video scores; multi-label data gets mAP only
    (the rest NaN).

    Scores may be probabilities or margins: only their ranking within a row (accuracy) or within a
    class (average precision) matters, except that the multi-class mAP of torchmetrics applies a
    softmax to values outside [0, 1].
    """
    preds = torch.as_tensor(np.asarray(scores), dtype=torch.float32)
    target = torch.as_tensor(np.asarray(labels))
    nan = float("nan")
    if multi_label:
        mean_ap = multilabel_average_precision(preds, target.long(), num_labels=num_classes, average="macro")
        return {"top1": nan, "top5": nan, "mean_class_acc": nan, "map": float(mean_ap)}
    target = target.long()
    confusion = multiclass_confusion_matrix(preds, target, num_classes)
    return {
        "top1": top1(confusion),
        "top5": float(multiclass_accuracy(preds, target, num_classes, top_k=min(5, num_classes), average="micro")),
        "mean_class_acc": mean_class_accuracy(confusion),
        "map": float(multiclass_average_precision(preds, target, num_classes, average="macro")),
    }
