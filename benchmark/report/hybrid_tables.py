"""The hybrid framework's report section, laid out like the paper's tables (docs/protocols.md,
section C): one row per method in the paper's order, our figure next to the published one.

The paper reports UCF-101 accuracy and CCV mAP. A single-label dataset's hybrid rows are printed
like the UCF-101 table (our top-1 next to the published UCF-101 accuracy), a multi-label dataset's
like the CCV table (our mAP next to the published CCV mAP). Methods of other authors that the
paper quotes (M-DBM, RDNN) have a published figure only.
"""
from __future__ import annotations

import pandas as pd

from benchmark.report import format as fmt
from benchmark.report.aggregate import FINISHED
from benchmark.report.published import HYBRID_PUBLISHED
from datamodules.datasets import DATASETS, get_dataset

SYSTEM = "hybrid"


def _multi_label(dataset: str) -> bool:
    return dataset in DATASETS and get_dataset(dataset).multi_label


def _percent(value: object) -> str:
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return "–" if pd.isna(number) else f"{100 * number:.1f}"


def _with_interval(row: pd.Series, column: str) -> str:
    """The figure in percent, with its 95 % interval in brackets where the row has one."""
    return f"{_percent(row[column])} {fmt.row_interval(row, column)}".rstrip()


def _table(rows: pd.DataFrame, multi_label: bool) -> list[str]:
    column, metric = ("map", "mAP") if multi_label else ("top1", "top-1")
    published = "CCV mAP" if multi_label else "UCF-101 accuracy"
    by_component = {str(row["head"]): row for _, row in rows.iterrows()}
    lines = [
        f"| method | component | ours: {metric} (%) [95 % interval] | published: {published} (%) |",
        "|---|---|---:|---:|",
    ]
    for method, component, ucf101, ccv in HYBRID_PUBLISHED:
        row = by_component.get(component) if component else None
        ours = "–" if row is None else _with_interval(row, column)
        shown = f"`{component}`" if component else "(not rebuilt: other authors' method)"
        lines.append(f"| {method} | {shown} | {ours} | {ccv if multi_label else ucf101:.1f} |")
    return lines


def hybrid_section(frame: pd.DataFrame) -> list[str]:
    """One table per (dataset, split, backbone) with finished hybrid rows; [] when there are none."""
    if "system" not in frame.columns or "status" not in frame.columns:
        return []
    rows = frame[(frame["system"].astype(str) == SYSTEM) & (frame["status"].astype(str) == FINISHED)]
    if rows.empty:
        return []
    lines = [
        "## Hybrid framework, as in the paper's tables",
        "",
        "docs/protocols.md, section C. Rows in the paper's order; `component` is the leaderboard row (`head`) "
        "that reproduces the method. A single-label dataset is laid out like the paper's UCF-101 table (top-1 "
        "next to the published UCF-101 accuracy), a multi-label one like its CCV table (mAP next to the "
        "published CCV mAP). The published figures are the paper's (VGG-16 fc6 features, ImageNet-pretrained "
        "CNNs); each row's `detail` in the leaderboard says which features and settings ours used.",
        "",
    ]
    keys = ["dataset", "split", "backbone"]
    for (dataset, split, backbone), group in rows.groupby(keys, sort=True, dropna=False):
        multi = _multi_label(str(dataset))
        lines += [f"### {fmt.text(f'{dataset} · split {split} · {backbone}')}", "", *_table(group, multi), ""]
    return lines
