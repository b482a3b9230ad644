"""The test confusion matrix of a run as a CSV (rows = true class, columns = predicted class)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd
import torch


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
