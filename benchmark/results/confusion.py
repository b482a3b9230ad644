"""Figures derived from a test confusion matrix (rows = true class, columns = predicted class)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd
import torch


def top1(confusion: torch.Tensor) -> float:
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


def save_confusion(confusion: torch.Tensor, class_names: Sequence[str], path: str | Path) -> None:
    """CSV with one row per true class: its counts per predicted class, support and accuracy."""
    frame = pd.DataFrame(confusion.numpy(), index=list(class_names), columns=list(class_names))
    frame.index.name = "true_class"
    support = frame.sum(axis=1)
    frame["support"] = support
    frame["accuracy"] = [confusion[i, i].item() / s if s else float("nan") for i, s in enumerate(support)]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path)
