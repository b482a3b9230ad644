"""The leaderboard CSV: a stable schema, and appends that never corrupt or duplicate rows.

Writers take a file lock next to the CSV, read it, replace any earlier row of the same run id,
write the whole table to a temporary file in the same folder and ``os.replace`` it into place
(:func:`datamodules.storage.upsert_csv`): a reader sees the old table or the new one, never a
partial row, and a process killed mid-write leaves the old table intact.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from datamodules.storage import upsert_csv

LEADERBOARD_COLUMNS: tuple[str, ...] = (
    "run_id", "timestamp", "git_sha", "status",
    "dataset", "split", "system", "modality", "backbone", "head", "segments", "input_size", "seed",
    "epochs", "batch_size", "lr", "world_size",
    "top1", "top5", "mean_class_acc", "map", "top1_reversed_pairs",
    "n_test", "n_test_expected", "n_test_evaluated", "n_test_failed", "n_train_skipped",
    "test_views",
    "head_params", "transform_params", "backbone_params", "total_params",
    "head_macs", "transform_macs", "backbone_macs", "total_macs",
    "resumed_epoch", "train_clips_per_s", "test_clips_per_s", "wall_s", "error",
    "zero_row_fraction", "detail",
)  # fmt: skip


def read_leaderboard(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        return pd.DataFrame(columns=list(LEADERBOARD_COLUMNS))
    return pd.read_csv(path, dtype={"run_id": str, "git_sha": str, "split": str})


def finished_run_ids(path: str | Path) -> set[str]:
    """Run ids that have a finished row in the leaderboard at ``path``."""
    table = read_leaderboard(path)
    if not len(table):
        return set()
    return set(table.loc[table["status"] == "finished", "run_id"].astype(str))


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    extra = [column for column in frame.columns if column not in LEADERBOARD_COLUMNS]
    return frame.reindex(columns=list(LEADERBOARD_COLUMNS) + extra)


def upsert_rows(path: str | Path, rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Add rows to the leaderboard, replacing earlier rows with the same run_id."""
    return upsert_csv(path, rows, ("run_id",), read=read_leaderboard, arrange=_ordered)
