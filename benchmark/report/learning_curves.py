"""Learning curves of the deep fusion runs, from the Lightning CSV log each run keeps
(``results/runs/<id>/metrics.csv``): per epoch the training and validation loss, the validation
top-1 and the learning rate, as a table and a figure (docs/protocols.md, section D).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from benchmark.report.aggregate import FINISHED

SYSTEM = "deep_fusion"
LOG = "metrics.csv"
COLUMNS = {  # per-epoch column of the log → shown as
    "train/loss_epoch": "train loss",
    "train/top1": "train top-1 %",
    "val/loss": "val loss",
    "val/top1": "val top-1 %",
    "schedule/lr": "lr",
    "schedule/stage": "stage",
}


def epoch_table(log: pd.DataFrame) -> pd.DataFrame:
    """One row per training epoch: the last logged value of each of :data:`COLUMNS` in that epoch."""
    present = [column for column in COLUMNS if column in log.columns]
    epochs = log.dropna(subset=["train/loss_epoch"])["epoch"].unique() if "train/loss_epoch" in log else []
    rows = log[log["epoch"].isin(epochs)].groupby("epoch")[present].last()
    return rows.reindex(columns=present)


def _figure(table: pd.DataFrame, title: str, path: Path) -> Path:
    with rc_context({"font.size": 9, "axes.titlesize": 10}):
        figure = Figure(figsize=(7.0, 3.2))
        loss, accuracy = figure.subplots(1, 2)
        epochs = table.index + 1
        for column, label in (("train/loss_epoch", "train"), ("val/loss", "validation")):
            if column in table:
                loss.plot(epochs, table[column], marker="o", label=label)
        loss.set(xlabel="epoch", ylabel="loss", title="loss")
        for column, label in (("train/top1", "train"), ("val/top1", "validation")):
            if column in table:
                accuracy.plot(epochs, 100 * table[column], marker="o", label=label)
        accuracy.set(xlabel="epoch", ylabel="top-1 (%)", title="top-1", ylim=(0, 100))
        if "schedule/stage" in table and (table["schedule/stage"] == 2).any():
            switch = int(epochs[(table["schedule/stage"] == 2).to_numpy()][0]) - 0.5
            for axes in (loss, accuracy):
                axes.axvline(switch, color="grey", linestyle="--", label="lr × 0.1")
        loss.legend()
        accuracy.legend()
        figure.suptitle(title)
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        FigureCanvasAgg(figure)
        figure.savefig(path, dpi=100, metadata={"Software": None})
    return path


def _shown(table: pd.DataFrame) -> list[str]:
    header = ["epoch", *(COLUMNS[c] for c in table.columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---:|" * len(header)]
    for epoch, row in table.iterrows():
        cells = [str(int(epoch) + 1)]
        for column, value in row.items():
            if pd.isna(value):
                cells.append("–")
            elif column.endswith("top1"):
                cells.append(f"{100 * value:.1f}")
            elif column == "schedule/lr":
                cells.append(f"{value:.0e}")
            elif column == "schedule/stage":
                cells.append(str(int(value)))
            else:
                cells.append(f"{value:.3f}")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def learning_curve_section(
    frame: pd.DataFrame, runs_dir: Path, files_dir: Path, link_dir: str
) -> tuple[list[str], list[Path]]:
    """Markdown lines and figures for every finished deep fusion run whose log was kept."""
    if "system" not in frame.columns or "status" not in frame.columns:
        return [], []
    rows = frame[(frame["system"].astype(str) == SYSTEM) & (frame["status"].astype(str) == FINISHED)]
    lines: list[str] = []
    figures: list[Path] = []
    for _, row in rows.iterrows():
        log = runs_dir / str(row["run_id"]) / LOG
        if not log.is_file():
            continue
        table = epoch_table(pd.read_csv(log))
        if table.empty:
            continue
        title = f"deep fusion {row['run_id']}: {row['dataset']}, {row['backbone']}, T = {row['segments']}"
        path = _figure(table, title, files_dir / f"deep_fusion_{row['run_id']}_learning_curve.png")
        figures.append(path)
        lines += [
            f"### {title}",
            "",
            f"Test top-1 {100 * float(row['top1']):.1f} % after {len(table)} epochs "
            f"({float(row['wall_s']) / 60:.0f} min). Per epoch, from `results/runs/{row['run_id']}/{LOG}`:",
            "",
            *_shown(table),
            "",
            f"![learning curve of {row['run_id']}]({link_dir}/{path.name})",
            "",
        ]
    if not lines:
        return [], []
    intro = [
        "## Deep fusion learning curves",
        "",
        "docs/protocols.md, section D. Validation videos are the dataset's validation split (or a held-out part "
        "of the training set), never test videos; with the two-stage schedule the dashed line marks where the lr "
        "dropped to a tenth.",
        "",
    ]
    return intro + lines, figures
