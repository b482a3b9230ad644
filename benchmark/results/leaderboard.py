"""The leaderboard CSV: a stable schema, and appends that never corrupt or duplicate rows.

Writers take a file lock next to the CSV, read it, replace any earlier row of the same run id,
write the whole table to a temporary file in the same folder and ``os.replace`` it into place
(:func:`datamodules.storage.upsert_csv`): a reader sees the old table or the new one, never a
partial row, and a process killed mid-write leaves the old table intact. The replace is fenced
(:mod:`datamodules.fencing`): a writer whose lock was taken over while it was stopped reads the
table again and merges its row, so no writer's row is lost; a writer whose cell claim was taken
over writes nothing.

Reading checks the schema (:func:`read_leaderboard`): a file that is not such a table (not UTF-8, not
CSV, no ``run_id`` / ``status`` column, text where a number belongs) is a :class:`LeaderboardError`
naming the file and line, so that the report and the regression check never work from a misread
table.
"""
from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from datamodules.fencing import Fence, fence_in_force
from datamodules.storage import upsert_csv

LEADERBOARD_COLUMNS: tuple[str, ...] = (
    "run_id", "setting_id", "timestamp", "git_sha", "status",
    "dataset", "split", "system", "modality", "backbone", "backbone_weights", "head", "segments", "input_size", "seed",
    "epochs", "batch_size", "lr", "holdout_fraction", "world_size",
    "top1", "top5", "mean_class_acc", "map", "top1_reversed_pairs",
    "n_test", "n_test_expected", "n_test_evaluated", "n_test_failed", "n_train_skipped",
    "test_views",
    "head_params", "transform_params", "backbone_params", "total_params",
    "head_macs", "transform_macs", "backbone_macs", "total_macs",
    "resumed_epoch", "train_clips_per_s", "test_clips_per_s", "wall_s", "error",
    "zero_row_fraction", "detail",
    "top1_low", "top1_high", "mean_class_acc_low", "mean_class_acc_high", "map_low", "map_high",
    "data_fingerprint", "environment",
)  # fmt: skip


# Columns that hold numbers (or nothing); any other column, a newer one included, is read as it is.
NUMBER_COLUMNS: tuple[str, ...] = (
    "segments", "input_size", "seed", "epochs", "batch_size", "lr", "holdout_fraction", "world_size",
    "top1", "top5", "mean_class_acc", "map", "top1_reversed_pairs",
    "n_test", "n_test_expected", "n_test_evaluated", "n_test_failed", "n_train_skipped", "test_views",
    "head_params", "transform_params", "backbone_params", "total_params",
    "head_macs", "transform_macs", "backbone_macs", "total_macs",
    "resumed_epoch", "train_clips_per_s", "test_clips_per_s", "wall_s", "zero_row_fraction",
    "top1_low", "top1_high", "mean_class_acc_low", "mean_class_acc_high", "map_low", "map_high",
)  # fmt: skip
REQUIRED_COLUMNS: tuple[str, ...] = ("run_id", "status")
_PANDAS_LINE = re.compile(r"\bline (\d+)|\brow (\d+)")


class LeaderboardError(ValueError):
    """A leaderboard file that is not a leaderboard table; the message names the file and the line."""

    def __init__(self, path: str | Path, line_number: int, reason: str) -> None:
        super().__init__(f"{path}:{line_number}: {reason}")
        self.path = str(path)
        self.line_number = line_number
        self.reason = reason


def read_leaderboard(path: str | Path) -> pd.DataFrame:
    """The table at ``path`` (an empty one with the schema's columns when there is no file)."""
    path = Path(path)
    if not path.exists():
        return pd.DataFrame(columns=list(LEADERBOARD_COLUMNS))
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise LeaderboardError(path, data.count(b"\n", 0, error.start) + 1, "not UTF-8 text") from None
    if not text.strip():
        return pd.DataFrame(columns=list(LEADERBOARD_COLUMNS))
    try:
        table = pd.read_csv(io.StringIO(text), dtype={"run_id": str, "git_sha": str, "split": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as error:
        raise LeaderboardError(path, _pandas_line(error), f"not a CSV table ({_first_line(error)})") from None
    missing = [column for column in REQUIRED_COLUMNS if column not in table.columns]
    if missing:
        raise LeaderboardError(path, 1, f"no {', '.join(missing)} column: not a leaderboard")
    for column in NUMBER_COLUMNS:
        if column in table.columns and not pd.api.types.is_numeric_dtype(table[column]):
            numbers = pd.to_numeric(table[column], errors="coerce")
            wrong = table[column].notna() & numbers.isna()
            if wrong.any():
                position = int(wrong.to_numpy().argmax())
                shown = str(table[column].iloc[position])[:40]
                raise LeaderboardError(path, position + 2, f"{column} must be a number, found {shown!r}")
            table[column] = numbers
    return table


def _pandas_line(error: BaseException) -> int:
    match = _PANDAS_LINE.search(str(error))
    if match is None:
        return 1
    return int(match.group(1)) if match.group(1) else int(match.group(2)) + 2  # a data row after the header


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__


def finished_run_ids(path: str | Path) -> set[str]:
    """Run ids that have a finished row in the leaderboard at ``path``."""
    table = read_leaderboard(path)
    if not len(table):
        return set()
    return set(table.loc[table["status"] == "finished", "run_id"].astype(str))


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    extra = [column for column in frame.columns if column not in LEADERBOARD_COLUMNS]
    return frame.reindex(columns=list(LEADERBOARD_COLUMNS) + extra)


def finished_over_failed(table: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """The new rows without the ``failed`` ones of runs that have a ``finished`` row in ``table``."""
    finished = set(table.loc[table["status"] == "finished", "run_id"].astype(str))
    if "status" not in new.columns:
        return new
    return new[~((new["status"] == "failed") & new["run_id"].astype(str).isin(finished))]


def upsert_rows(path: str | Path, rows: Iterable[dict[str, Any]], fence: Fence | None = None) -> pd.DataFrame:
    """Add rows to the leaderboard, replacing earlier rows with the same run_id; a ``failed`` row never
    replaces a ``finished`` one (a failed re-run leaves the finished result in place). With ``fence``
    (by default the one in force, :func:`datamodules.fencing.in_force`: a sweep cell's claim) the rows
    are written only while it is held, else :class:`~datamodules.fencing.LeaseLost`."""
    return upsert_csv(
        path, rows, ("run_id",), read=read_leaderboard, arrange=_ordered, screen=finished_over_failed,
        fence=fence_in_force(fence),
    )  # fmt: skip
