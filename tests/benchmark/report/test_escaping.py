"""Labels and values from outside stay data where they are written: Markdown tables keep their
cells, CSV cells cannot run as spreadsheet formulas, figure text is never parsed as mathtext, and
ids from a leaderboard cannot name files outside the results folder."""
from __future__ import annotations

import csv
import re
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
import torch
from markdown_it import MarkdownIt

from benchmark.report import format as fmt
from benchmark.report.document import generate_report
from benchmark.report.per_class import confusion_path, read_class_accuracy
from benchmark.report.plots import figure_text, plot_per_class
from benchmark.results.confusion import read_confusion, save_confusion
from benchmark.results.leaderboard import LEADERBOARD_COLUMNS
from benchmark.results.spreadsheet import from_cell, to_cell
from datamodules import datasets
from datamodules.adapters import synthetic

LABELS = [
    "pipe | cell", "two\nlines", "=cmd|' /C calc'!A0", "+SUM(1)", "-2+3", "@import", "emoji 🎬🙂",
    "RTL עברית مرحبا", "back\\slash `tick` *star* [link](x) <b>", "$\\alpha$ math",
]  # fmt: skip


def rendered_tables(markdown: str) -> list[list[list[str]]]:
    """Every table of ``markdown`` as GitHub renders it: rows of cell texts (header row first)."""
    html = MarkdownIt("commonmark").enable("table").render(markdown)
    tables = []
    for table in re.findall(r"<table>(.*?)</table>", html, re.S):
        rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
        tables.append([re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S) for row in rows])
    return tables


def assert_tables_intact(markdown: str) -> list[list[list[str]]]:
    tables = rendered_tables(markdown)
    assert tables, "no table rendered"
    for table in tables:
        assert all(len(row) == len(table[0]) for row in table), table
    pipes = [line for line in markdown.splitlines() if line.startswith("|")]
    assert len(pipes) == sum(len(table) + 1 for table in tables)  # every table line rendered as a row (or rule)
    return tables


def test_text_and_code_cells_render_literally_in_one_cell():
    rows = [[fmt.text(label), fmt.code(label), "1"] for label in LABELS]
    (table,) = assert_tables_intact("\n".join(fmt.markdown_table(["text", "code", "n"], rows, [False, False, True])) + "\n")
    for label, (as_text, as_code, _) in zip(LABELS, table[1:]):
        shown = " ".join(label.split("\n")).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert as_text == shown and as_code == f"<code>{shown}</code>"
    assert fmt.text("rnn_tanh") == "rnn_tanh" and fmt.code("tsn") == "`tsn`"  # ordinary values are unchanged


def test_spreadsheet_cells_cannot_start_a_formula():
    for label in [*LABELS, "'already quoted", "\tTAB"]:
        cell = to_cell(label)
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")) and from_cell(cell) == label
    assert to_cell(3) == 3 and to_cell("plain") == "plain"


def test_figure_text_is_one_literal_line():
    assert figure_text("$\\alpha$ two\nlines") == "\\$\\alpha\\$ two lines"


def test_confusion_csv_keeps_every_label_and_neutralises_formulas(tmp_path):
    confusion = torch.arange(100).reshape(10, 10)
    save_confusion(confusion, LABELS, tmp_path / "confusion.csv")
    with open(tmp_path / "confusion.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == 11 and all(len(row) == 13 for row in rows)  # the newline stayed inside its quoted cell
    cells = rows[0] + [row[0] for row in rows[1:]]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    assert "'=cmd|' /C calc'!A0" in rows[0]
    frame = read_confusion(tmp_path / "confusion.csv")
    assert list(frame.index) == LABELS and list(frame.columns[:10]) == LABELS
    assert list(read_class_accuracy(tmp_path / "confusion.csv").index) == LABELS
    plot_per_class(pd.DataFrame([[50.0] * 10], index=["tsn | x"], columns=LABELS), tmp_path / "c.png", "$x$ | title")


def test_a_run_id_that_leaves_the_results_folder_is_refused(tmp_path):
    assert confusion_path(tmp_path, "0123456789ab") == tmp_path / "0123456789ab" / "confusion.csv"
    with pytest.raises(ValueError, match="not a relative path inside"):
        confusion_path(tmp_path, "../../etc")


def _hostile_row(run_id: str, head: str) -> dict:
    row = dict.fromkeys(LEADERBOARD_COLUMNS)
    row.update(
        run_id=run_id, status="finished", dataset="synthetic", split="1 | 2\n3", system="two_stream", modality="rgb",
        backbone="smallcnn", head=head, segments=8, input_size=64, seed=0, epochs=1, batch_size=4, lr=0.001,
        top1=0.5, top5=0.9, mean_class_acc=0.5, map=0.5, n_test=9, n_test_expected=9, n_test_evaluated=9,
        detail="=cmd | fitted\non [held-out] <b>",
    )  # fmt: skip
    return row


def test_a_report_from_hostile_labels_and_values_keeps_its_tables(tmp_path):
    results = tmp_path / "results"
    rows = [_hostile_row("aaaaaaaaaaaa", "tsn | `x`\n=cmd"), _hostile_row("bbbbbbbbbbbb", "lstm")]
    results.mkdir()
    pd.DataFrame(rows).to_csv(results / "leaderboard.csv", index=False)
    for row in rows:
        save_confusion(torch.eye(10, dtype=torch.int64) * 3, LABELS, results / "runs" / row["run_id"] / "confusion.csv")
    files = generate_report(results / "leaderboard.csv", tmp_path / "reports", "hostile", command="stbench report")
    markdown = files.markdown.read_text(encoding="utf-8")
    tables = assert_tables_intact(markdown)
    cells = [cell for table in tables for row in table for cell in row]
    assert "<code>tsn | `x` =cmd</code>" in cells or "<code>tsn | `x` =cmd </code>" in cells
    assert "=cmd | fitted on [held-out] &lt;b&gt;" in cells
    assert any(path.name.endswith("_per_class.png") for path in files.figures)


@pytest.mark.slow
def test_a_dataset_with_hostile_labels_runs_and_reports(tiny_synthetic, tmp_path, monkeypatch):
    """A real run on a dataset whose class names are LABELS: its confusion CSV and report stay whole."""
    from benchmark.run.config import resolve_config
    from benchmark.run.options import RunOptions
    from benchmark.run.runner import run

    def load(folder: Path, split: str):
        return replace(synthetic.load(folder, split), class_names=list(LABELS), reversed_pairs=())

    monkeypatch.setitem(datasets.DATASETS, "labels", replace(synthetic.SPEC, name="labels", read=load))
    options = RunOptions(
        data_root=str(tiny_synthetic), results_dir=str(tmp_path / "results"), work_dir=str(tmp_path / "runs"),
        accelerator="cpu", num_workers=0, progress=False,
    )  # fmt: skip
    config = resolve_config("labels", head="tsn", epochs=1, batch_size=4, segments=2)
    run(config, options)
    confusion = tmp_path / "results" / "runs" / config.run_id / "confusion.csv"
    assert list(read_confusion(confusion).index) == LABELS
    with open(confusion, newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in header)
    files = generate_report(tmp_path / "results" / "leaderboard.csv", tmp_path / "reports", "labels", command="stbench report")
    assert_tables_intact(files.markdown.read_text(encoding="utf-8"))
    assert any(path.name.endswith("_per_class.png") for path in files.figures)
