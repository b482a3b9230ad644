"""The run report's list of unreadable videos that a run skipped (``--on-bad-video skip``)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from benchmark.results.spreadsheet import write_spreadsheet_csv
from datamodules.records import VideoRecord

BAD_VIDEO_COLUMNS = ("stage", "video_id", "path", "source", "epochs", "reason")


def bad_video_table(entries: Sequence[dict[str, Any]], records_by_stage: dict[str, Sequence[VideoRecord]]) -> pd.DataFrame:
    """One row per (stage, video): where it is, its annotation line, the epochs it failed in, why."""
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    for entry in entries:
        stage, index = entry["stage"], int(entry["index"])
        record = records_by_stage[stage][index]
        row = rows.setdefault(
            (stage, index),
            {
                "stage": stage,
                "video_id": record.video_id,
                "path": str(record.path),
                "source": record.source,
                "epochs": set(),
                "reason": entry["reason"],
            },
        )
        row["epochs"].add(int(entry["epoch"]))
    table = pd.DataFrame(
        [{**row, "epochs": " ".join(map(str, sorted(row["epochs"])))} for row in rows.values()],
        columns=list(BAD_VIDEO_COLUMNS),
    )
    return table.sort_values(["stage", "video_id"], ignore_index=True)


def count_stage(table: pd.DataFrame, stage: str) -> int:
    """Distinct videos of ``stage`` that failed (a training video failing in 3 epochs counts once)."""
    return int((table["stage"] == stage).sum())


def save_bad_videos(table: pd.DataFrame, path: str | Path) -> None:
    """The table as a CSV whose ids, paths and reasons cannot start a formula in a spreadsheet."""
    write_spreadsheet_csv(table, path, index=False)
