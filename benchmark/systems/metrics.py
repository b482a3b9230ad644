"""Test figures of per-video fused scores, computed as the single-stream runs compute theirs."""
from __future__ import annotations

import numpy as np
import torch
from torchmetrics.functional.classification import (
    multiclass_accuracy,
    multiclass_average_precision,
    multilabel_average_precision,
)


def score_metrics(scores: np.ndarray, labels: np.ndarray, num_classes: int, multi_label: bool) -> dict[str, float]:
    """top1 / top5 / mean_class_acc / map of (N, K) scores; multi-label data gets mAP only (the rest NaN).

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
    return {
        "top1": float(multiclass_accuracy(preds, target, num_classes, top_k=1, average="micro")),
        "top5": float(multiclass_accuracy(preds, target, num_classes, top_k=min(5, num_classes), average="micro")),
        "mean_class_acc": _mean_class_accuracy(preds, target, num_classes),
        "map": float(multiclass_average_precision(preds, target, num_classes, average="macro")),
    }


def _mean_class_accuracy(preds: torch.Tensor, target: torch.Tensor, num_classes: int) -> float:
    """Mean over the classes present in ``target`` of their accuracy (as the runs' confusion matrices give)."""
    hits = preds.argmax(dim=1) == target
    present = [c for c in range(num_classes) if bool((target == c).any())]
    return float(np.mean([hits[target == c].float().mean().item() for c in present])) if present else float("nan")
