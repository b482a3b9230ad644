"""Leaderboard rows of the same experiment run with different seeds, folded into one row each.

The run identity without the seed is every column of the leaderboard that is a field of
``RunConfig`` (the settings that decide a result), except ``seed``, and the row's ``setting_id`` (the
hash of the whole config but the seed), so that two runs that differ in a setting the leaderboard has
no column for are never pooled. Rows written before ``setting_id`` existed have none and are pooled
by their columns. Metrics, timings, counts and provenance (run id, time, git sha, world size) are not
part of it.
"""
from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pandas as pd

from benchmark.results.spreadsheet import write_spreadsheet_csv
from benchmark.run.config import RunConfig
from benchmark.report.published import STUDY_HEAD_ORDER

FINISHED = "finished"
GROUP_COLUMNS: tuple[str, ...] = ("dataset", "backbone", "segments")
SPREAD_METRICS: tuple[str, ...] = ("top1", "top5")
MEAN_METRICS: tuple[str, ...] = ("mean_class_acc", "top1_reversed_pairs", "train_clips_per_s")
COUNT_COLUMNS: tuple[str, ...] = (
    "head_params", "transform_params", "backbone_params", "total_params",
    "head_macs", "transform_macs", "backbone_macs", "total_macs",
)  # fmt: skip


def identity_columns(frame: pd.DataFrame) -> list[str]:
    """The config columns of ``frame`` that identify a run, seed excluded, in ``RunConfig`` order."""
    return [f.name for f in fields(RunConfig) if f.name != "seed" and f.name in frame.columns]


def finished_rows(frame: pd.DataFrame) -> pd.DataFrame:
    if "status" not in frame.columns:
        return frame.iloc[0:0]
    return frame[frame["status"].astype(str) == FINISHED]


def head_rank(head: object) -> int:
    """Position in the study's head order; heads the study does not have come after."""
    return STUDY_HEAD_ORDER.index(head) if head in STUDY_HEAD_ORDER else len(STUDY_HEAD_ORDER)


def aggregated_columns(keys: list[str]) -> list[str]:
    spread = [f"{metric}_{stat}" for metric in SPREAD_METRICS for stat in ("mean", "std")]
    means = [f"{metric}_mean" for metric in MEAN_METRICS]
    tests = ["n_test_expected", "n_test_evaluated_min", "n_test_evaluated_max"]
    return [*keys, "n_seeds", "seeds", "run_ids", *spread, *means, *COUNT_COLUMNS, *tests]


def _numeric(group: pd.DataFrame, column: str) -> pd.Series:
    if column not in group.columns:
        return pd.Series([float("nan")] * len(group), index=group.index, dtype=float)
    return pd.to_numeric(group[column], errors="coerce")


def _first_known(values: pd.Series) -> float:
    known = values.dropna()
    return float(known.iloc[0]) if len(known) else float("nan")


def _fold(group: pd.DataFrame) -> dict[str, object]:
    group = group.assign(_seed=_numeric(group, "seed")).sort_values(["_seed", "run_id"], kind="mergesort")
    record: dict[str, object] = {
        "n_seeds": len(group),
        "seeds": ";".join(f"{seed:g}" for seed in group["_seed"]),
        "run_ids": ";".join(group["run_id"].astype(str)),
    }
    for metric in SPREAD_METRICS:
        values = _numeric(group, metric)
        record[f"{metric}_mean"] = values.mean()
        record[f"{metric}_std"] = values.std(ddof=1)
    for metric in MEAN_METRICS:
        record[f"{metric}_mean"] = _numeric(group, metric).mean()
    for column in COUNT_COLUMNS:
        record[column] = _first_known(_numeric(group, column))
    record["n_test_expected"] = _numeric(group, "n_test_expected").max()
    evaluated = _numeric(group, "n_test_evaluated")
    record["n_test_evaluated_min"] = evaluated.min()
    record["n_test_evaluated_max"] = evaluated.max()
    return record


def sort_aggregated(table: pd.DataFrame) -> pd.DataFrame:
    """Sorted by dataset, backbone, segments, the study's head order, then the other settings."""
    keys = [column for column in identity_columns(table) if column not in (*GROUP_COLUMNS, "head")]
    order = [c for c in GROUP_COLUMNS if c in table.columns] + ["_rank", "head", *keys]
    ranked = table.assign(_rank=table["head"].map(head_rank))
    return ranked.sort_values(order, kind="mergesort", na_position="last").drop(columns="_rank").reset_index(drop=True)


def aggregate(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per run identity (seed excluded) over the finished rows of a leaderboard.

    Top-1 and top-5 get the mean and the sample standard deviation (ddof = 1, NaN for one seed);
    parameter and MAC counts, which the config decides, are taken from the first run that has them.
    """
    finished = finished_rows(frame)
    keys = identity_columns(frame) + (["setting_id"] if "setting_id" in frame.columns else [])
    columns = aggregated_columns(keys)
    if finished.empty or not keys:
        return pd.DataFrame(columns=columns)
    records = []
    for values, group in finished.groupby(keys, dropna=False, sort=False):
        values = values if isinstance(values, tuple) else (values,)
        records.append({**dict(zip(keys, values)), **_fold(group)})
    table = pd.DataFrame(records, columns=columns)
    integers = ["n_seeds", *COUNT_COLUMNS, "n_test_expected", "n_test_evaluated_min", "n_test_evaluated_max"]
    table[integers] = table[integers].round().astype("Int64")
    return sort_aggregated(table)


def aggregated_path(leaderboard: str | Path) -> Path:
    """``results/leaderboard.csv`` -> ``results/leaderboard_aggregated.csv``."""
    leaderboard = Path(leaderboard)
    return leaderboard.with_name(f"{leaderboard.stem}_aggregated.csv")


def write_aggregated(table: pd.DataFrame, path: str | Path) -> Path:
    """The per-setting table, for people: text quoted and never read as a spreadsheet formula."""
    return write_spreadsheet_csv(table, path, index=False, lineterminator="\n")
