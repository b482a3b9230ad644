"""Per-class test accuracy of a run, read from its ``runs/<run_id>/confusion.csv``, averaged over seeds."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import pandas as pd

from benchmark.results.confusion import read_confusion
from datamodules.id_paths import join_inside


def confusion_path(runs_dir: str | Path, run_id: str) -> Path:
    """``<runs_dir>/<run_id>/confusion.csv``; a run id (read from a leaderboard) that would leave
    ``runs_dir`` is refused (:func:`datamodules.id_paths.join_inside`, a ValueError)."""
    return join_inside(runs_dir, str(run_id), "run id") / "confusion.csv"


def read_class_accuracy(path: str | Path) -> pd.Series:
    """Accuracy per true class (fraction), indexed by class name in the file's order."""
    frame = read_confusion(path)
    accuracy = pd.to_numeric(frame["accuracy"], errors="coerce")
    accuracy.index = accuracy.index.astype(str)
    return accuracy


def mean_class_accuracy_over_runs(runs_dir: str | Path, run_ids: Iterable[str]) -> tuple[pd.Series | None, list[str]]:
    """Mean per-class accuracy over the runs that have a confusion file, and the run ids that lack one.

    Classes are aligned by name; a class absent from a run's test set (no support) is skipped in
    that run's share of the mean.
    """
    found: list[pd.Series] = []
    missing: list[str] = []
    for run_id in run_ids:
        path = confusion_path(runs_dir, run_id)
        if path.is_file():
            found.append(read_class_accuracy(path))
        else:
            missing.append(str(run_id))
    if not found:
        return None, missing
    order = list(dict.fromkeys(name for series in found for name in series.index))
    stacked = pd.concat([series.reindex(order) for series in found], axis=1)
    return stacked.mean(axis=1, skipna=True), missing
