"""The test confusion matrix of a run as a CSV (rows = true class, columns = predicted class).

Class names come from annotation files: the CSV is written with :mod:`benchmark.results.spreadsheet`
(quoted, and no name can start a formula) and read back with :func:`read_confusion`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd
import torch

from benchmark.results.spreadsheet import read_spreadsheet_csv, write_spreadsheet_csv


def save_confusion(confusion: torch.Tensor, class_names: Sequence[str], path: str | Path) -> None:
    """CSV with one row per true class: its counts per predicted class, support and accuracy."""
    frame = pd.DataFrame(confusion.numpy(), index=list(class_names), columns=list(class_names))
    frame.index.name = "true_class"
    support = frame.sum(axis=1)
    frame["support"] = support
    frame["accuracy"] = [confusion[i, i].item() / s if s else float("nan") for i, s in enumerate(support)]
    write_spreadsheet_csv(frame, path)


def read_confusion(path: str | Path) -> pd.DataFrame:
    """A :func:`save_confusion` file, indexed by true class, class names as they were given."""
    return read_spreadsheet_csv(path, index_col=0)
