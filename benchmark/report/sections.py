"""Report sections beyond the per-setting tables: split means, multi-stream systems, skipped videos."""
from __future__ import annotations

import pandas as pd

from benchmark.report import format as fmt
from benchmark.report.aggregate import FINISHED, identity_columns
from datamodules.datasets import DATASETS, get_dataset

OFFICIAL_SPLITS = ("1", "2", "3")
SYSTEMS = ("two_stream", "hybrid", "deep_fusion", "multitask")


def _finished(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["status"].astype(str) == FINISHED] if "status" in frame.columns else frame.iloc[0:0]


def _percent(value: object) -> str:
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return "–" if pd.isna(number) else f"{100 * number:.2f}"


def _count(value: object) -> str:
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return "–" if pd.isna(number) else str(int(number))


def split_mean_section(frame: pd.DataFrame) -> list[str]:
    """Top-1 per official split and their mean, for settings that ran on all three splits
    (seeds are averaged within a split first)."""
    rows = _finished(frame)
    rows = rows[rows["split"].astype(str).isin(OFFICIAL_SPLITS)] if "split" in rows.columns else rows.iloc[0:0]
    if rows.empty:
        return []
    keys = [c for c in identity_columns(rows) if c != "split"]
    keys += [c for c in ("system",) if c in rows.columns and c not in keys]
    lines = ["## Mean over the official splits", ""]
    rows_shown: list[list[str]] = []
    complete = 0
    rows = rows.assign(_split=rows["split"].astype(str), _top1=pd.to_numeric(rows["top1"], errors="coerce"))
    for values, group in rows.groupby(keys, dropna=False, sort=False):
        per_split = group.groupby("_split")["_top1"].mean()
        if set(per_split.index) != set(OFFICIAL_SPLITS):
            continue
        complete += 1
        values = values if isinstance(values, tuple) else (values,)
        cells = [fmt.text(v) for v in values] + [_percent(per_split[s]) for s in OFFICIAL_SPLITS]
        rows_shown.append([*cells, _percent(per_split.mean())])
    if not complete:
        return [*lines, "_No setting has finished runs on all three splits yet._", ""]
    header = [*keys, "split 1", "split 2", "split 3", "mean"]
    table = fmt.markdown_table(header, rows_shown, [False] * len(keys) + [False] * 4)
    return [*lines, "Top-1 (%) per split and the mean of the three, as the literature reports them.", "", *table, ""]


def systems_section(frame: pd.DataFrame) -> list[str]:
    """Rows of the multi-stream systems, with what each fusion fitted."""
    rows = _finished(frame)
    if "system" not in rows.columns:
        return []
    rows = rows[rows["system"].astype(str).isin(SYSTEMS)]
    if rows.empty:
        return []
    lines = ["## Multi-stream systems", "",
             "Fusion weights, SVMs and regularisation strengths were fitted on a held-out part of each training "
             "set, never on the test set. mAP is the mean over classes of the average precision of each system's "
             "own scores for that class (SVM margins as they are, no softmax across classes); multi-label mAP, "
             "held-out and test alike, is over the classes that have at least one positive video.", ""]  # fmt: skip
    header = ["dataset", "split", "system", "component", "modality", "top-1 (%)", "top-1 95 % interval", "mAP (%)",
              "test videos", "backbone weights", "fitted"]  # fmt: skip
    shown = []
    for _, row in rows.iterrows():
        detail = "" if pd.isna(row.get("detail")) else str(row.get("detail"))
        weights = "" if pd.isna(row.get("backbone_weights", "")) else str(row.get("backbone_weights", ""))
        shown.append([
            *(fmt.text(row[c]) for c in ("dataset", "split", "system", "head", "modality")),
            _percent(row["top1"]), fmt.row_interval(row, "top1") or "–", _percent(row["map"]),
            f"{_count(row['n_test_evaluated'])}/{_count(row['n_test_expected'])}", fmt.text(weights), fmt.text(detail),
        ])  # fmt: skip
    return [*lines, *fmt.markdown_table(header, shown, [False] * len(header)), ""]


def data_notes_section(frame: pd.DataFrame) -> list[str]:
    """Skipped or unreadable videos per run, and how multi-label test sets are scored."""
    rows = _finished(frame)
    notes = []
    for column, what in (("n_test_failed", "unreadable test videos"), ("n_train_skipped", "skipped training videos")):
        if column in rows.columns:
            bad = rows[pd.to_numeric(rows[column], errors="coerce").fillna(0) > 0]
            for _, row in bad.iterrows():
                listing = fmt.code(f"results/runs/{row['run_id']}/bad_videos.csv")
                notes.append(
                    f"- run {fmt.code(row['run_id'])} ({fmt.text(row['dataset'])}, {fmt.text(row['head'])}): "
                    f"{int(row[column])} {what}, listed in {listing}"
                )
    for dataset in sorted(set(rows["dataset"].astype(str))) if "dataset" in rows.columns else []:
        if dataset in DATASETS and get_dataset(dataset).multi_label:
            notes.append(
                f"- {dataset} is multi-label and scored by mAP over classes; test videos with no label stay in "
                "the test set as all-negative rows (negatives for every class)."
            )
    return ["## Data notes", "", *notes, ""] if notes else []
