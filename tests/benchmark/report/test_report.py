"""stbench report: aggregation over seeds, the Markdown tables and their figures, on a fabricated leaderboard."""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark.report.aggregate import aggregate, aggregated_path
from benchmark.cli.main import main
from benchmark.report.per_class import mean_class_accuracy_over_runs
from benchmark.report.published import PUBLISHED_TOP1, STUDY_HEAD_ORDER
from benchmark.report.document import generate_report, report_command
from benchmark.results.intervals import binomial_interval
from benchmark.results.leaderboard import LEADERBOARD_COLUMNS, read_leaderboard
from benchmark.results.predictions import make_predictions, save_predictions

MAC_COLUMNS = ("head_macs", "transform_macs", "backbone_macs", "total_macs")
CLASSES = ("Swiping Left", "Swiping Right", "Stop Sign")


def _row(
    head: str, seed: int, top1: float, top5: float = 0.95, status: str = "finished", dataset: str = "jester",
    backbone: str = "squeezenet1_1", segments: int = 8, epochs: int = 30, evaluated: int = 100,
) -> dict:  # fmt: skip
    """One leaderboard row; head params grow with the name's length so heads differ."""
    run_id = f"{dataset}-{backbone}-{segments}-{head}-{epochs}-{seed}"
    head_params = 1000 * (1 + len(head))
    return {
        "run_id": run_id, "timestamp": f"2026-01-01T00:00:{seed:02d}+00:00", "git_sha": "abc", "status": status,
        "dataset": dataset, "split": "default", "modality": "rgb", "backbone": backbone, "head": head,
        "segments": segments, "input_size": 224, "seed": seed, "epochs": epochs, "batch_size": 32, "lr": 0.001,
        "world_size": 1, "top1": top1, "top5": top5, "mean_class_acc": top1, "top1_reversed_pairs": top1,
        "n_test": evaluated, "n_test_expected": 100, "n_test_evaluated": evaluated,
        "head_params": head_params, "transform_params": 500, "backbone_params": 700_000,
        "total_params": head_params + 700_500, "head_macs": 10 * head_params, "transform_macs": 4000,
        "backbone_macs": 2_000_000_000, "total_macs": 2_000_004_000 + 10 * head_params,
        "train_clips_per_s": 100.0 + seed, "wall_s": 60.0,
    }  # fmt: skip


ROWS = [
    _row("tsn", 0, 0.70, 0.90), _row("tsn", 1, 0.72, 0.93), _row("tsn", 2, 0.74, 0.96),
    _row("lstm", 0, 0.80), _row("lstm", 1, 0.84), _row("lstm", 2, 0.10, status="failed"),
    _row("myhead", 0, 0.50), _row("gru", 0, 0.81, evaluated=90), _row("mlp", 0, 0.86),
    _row("lstm", 0, 0.60, epochs=5),
    _row("tsn", 0, 0.83, backbone="bninception"),
    _row("tsn", 0, 0.40, dataset="synthetic", backbone="smallcnn"),
    _row("mlp", 0, 0.0, status="running", dataset="ssv2", segments=16),
]  # fmt: skip


def _write_confusion(runs_dir: Path, run_id: str, accuracies: tuple[float, ...]) -> None:
    """A confusion.csv in the runner's format: 10 test clips per class."""
    counts = []
    for index, accuracy in enumerate(accuracies):
        row = [0] * len(accuracies)
        right = round(10 * accuracy)
        row[index] = right
        row[(index + 1) % len(accuracies)] += 10 - right
        counts.append(row)
    frame = pd.DataFrame(counts, index=list(CLASSES), columns=list(CLASSES))
    frame.index.name = "true_class"
    frame["support"] = frame[list(CLASSES)].sum(axis=1)
    frame["accuracy"] = [frame.iloc[i, i] / frame["support"].iloc[i] for i in range(len(CLASSES))]
    (runs_dir / run_id).mkdir(parents=True, exist_ok=True)
    frame.to_csv(runs_dir / run_id / "confusion.csv")


def _leaderboard(directory: Path, with_macs: bool = True) -> Path:
    columns = [c for c in LEADERBOARD_COLUMNS if with_macs or c not in MAC_COLUMNS]
    if with_macs:
        columns += [c for c in MAC_COLUMNS if c not in columns]
    table = pd.DataFrame(ROWS).reindex(columns=columns)
    path = directory / "results" / "leaderboard.csv"
    path.parent.mkdir(parents=True)
    table.to_csv(path, index=False)
    for row in ROWS:
        if row["status"] == "finished":
            _write_confusion(path.parent / "runs", row["run_id"], (row["top1"], 0.5, 1.0))
    return path


@pytest.fixture
def leaderboard(tmp_path: Path) -> Path:
    return _leaderboard(tmp_path)


def _table_rows(markdown: str, section: str) -> list[list[str]]:
    """The cells of the table rows under the ``## section`` heading."""
    part = markdown.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in part.splitlines() if line.startswith("| `")]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines]


def _report(leaderboard: Path, tmp_path: Path, name: str = "leaderboard", **kwargs) -> str:
    files = generate_report(leaderboard, tmp_path / "reports", name, **kwargs)
    return files.markdown.read_text(encoding="utf-8")


def test_published_table_matches_the_study() -> None:
    from heads import HEADS

    assert set(STUDY_HEAD_ORDER) <= set(HEADS)  # a head of the table need not be in the study
    assert len(PUBLISHED_TOP1) == len(STUDY_HEAD_ORDER) * 2 * 3  # 2 backbones × (Jester 8, SSv2 8, SSv2 16)
    assert PUBLISHED_TOP1[("jester", "squeezenet1_1", 8, "mlp")] == 87.28
    assert PUBLISHED_TOP1[("jester", "bninception", 8, "tsn")] == 82.74
    assert PUBLISHED_TOP1[("ssv2", "squeezenet1_1", 8, "rnn_relu")] == 21.40
    assert PUBLISHED_TOP1[("ssv2", "bninception", 16, "fcn3d")] == 47.37
    assert {key[3] for key in PUBLISHED_TOP1} == set(STUDY_HEAD_ORDER)


def test_aggregate_mean_and_sample_std_over_seeds(leaderboard: Path) -> None:
    table = aggregate(read_leaderboard(leaderboard))
    jester = table[(table["dataset"] == "jester") & (table["backbone"] == "squeezenet1_1") & (table["epochs"] == 30)]
    tsn = jester[jester["head"] == "tsn"].iloc[0]
    assert tsn["n_seeds"] == 3 and tsn["seeds"] == "0;1;2"
    assert tsn["top1_mean"] == pytest.approx(0.72, abs=1e-12)  # (0.70 + 0.72 + 0.74) / 3
    assert tsn["top1_std"] == pytest.approx(0.02, abs=1e-12)  # sqrt((0.02² + 0 + 0.02²) / 2)
    assert tsn["top5_mean"] == pytest.approx(0.93, abs=1e-12)
    assert tsn["top5_std"] == pytest.approx(0.03, abs=1e-12)
    assert tsn["train_clips_per_s_mean"] == pytest.approx(101.0)

    lstm = jester[jester["head"] == "lstm"].iloc[0]  # the failed seed 2 is not pooled
    assert lstm["n_seeds"] == 2
    assert lstm["run_ids"] == "jester-squeezenet1_1-8-lstm-30-0;jester-squeezenet1_1-8-lstm-30-1"
    assert lstm["top1_mean"] == pytest.approx(0.82, abs=1e-12)
    assert lstm["top1_std"] == pytest.approx(0.028284271247461905, abs=1e-12)  # sqrt(2 × 0.02²)

    mlp = jester[jester["head"] == "mlp"].iloc[0]
    assert mlp["n_seeds"] == 1 and math.isnan(mlp["top1_std"])
    assert mlp["head_params"] == 4000 and mlp["total_macs"] == 2_000_044_000


def test_aggregate_keeps_settings_apart(leaderboard: Path) -> None:
    table = aggregate(read_leaderboard(leaderboard))
    assert "seed" not in table.columns and "world_size" not in table.columns
    lstm = table[(table["head"] == "lstm") & (table["dataset"] == "jester")]
    assert sorted(lstm["epochs"]) == [5, 30]
    assert len(table) == 8  # jester/squeezenet: mlp, tsn, lstm (5 and 30 epochs), gru, myhead; two single tsn
    assert not (table["dataset"] == "ssv2").any()
    squeeze = table[table["backbone"] == "squeezenet1_1"]
    assert list(squeeze["head"]) == ["mlp", "tsn", "lstm", "lstm", "gru", "myhead"]


def test_runs_of_different_settings_are_never_pooled_as_seeds() -> None:
    """Two runs with the same columns and seed but another config (here the held-out share, which
    decides the training set) are two experiments, told apart by ``setting_id``; rows from before
    ``setting_id`` existed still pool by their columns."""
    from benchmark.run.config import resolve_config
    from benchmark.run.rows import finished_row

    plain, held_out, other_seed = (
        resolve_config("synthetic", head="tsn", seed=seed, holdout_fraction=fraction)
        for seed, fraction in ((0, 0.0), (0, 0.1), (1, 0.0))
    )
    assert plain.setting_id == other_seed.setting_id != held_out.setting_id
    rows = [finished_row(config, top1=top1) for config, top1 in ((plain, 0.4), (held_out, 0.5), (other_seed, 0.6))]
    table = aggregate(pd.DataFrame(rows))
    assert sorted(zip(table["n_seeds"], table["seeds"])) == [(1, "0"), (2, "0;1")]
    legacy = pd.DataFrame(rows).drop(columns=["setting_id", "holdout_fraction"])
    assert list(aggregate(legacy)["n_seeds"]) == [3]


def test_aggregated_csv_is_written_next_to_the_leaderboard(leaderboard: Path, tmp_path: Path) -> None:
    files = generate_report(leaderboard, tmp_path / "reports")
    assert files.aggregated == aggregated_path(leaderboard) == leaderboard.with_name("leaderboard_aggregated.csv")
    written = pd.read_csv(files.aggregated)
    assert len(written) == 8 and written["top1_mean"].notna().all()


def test_sections_per_dataset_backbone_segments(leaderboard: Path, tmp_path: Path) -> None:
    markdown = _report(leaderboard, tmp_path)
    headings = re.findall(r"^## (.+)$", markdown, flags=re.MULTILINE)
    assert headings == [
        "jester · bninception · T = 8", "jester · squeezenet1_1 · T = 8", "synthetic · smallcnn · T = 8",
        "Settings without a finished run",
    ]  # fmt: skip
    assert "- ssv2 · squeezenet1_1 · T = 16: 1 run (running: 1)" in markdown
    assert [row[0] for row in _table_rows(markdown, "jester · bninception · T = 8")] == ["`tsn`"]


def test_rows_follow_the_study_head_order(leaderboard: Path, tmp_path: Path) -> None:
    rows = _table_rows(_report(leaderboard, tmp_path), "jester · squeezenet1_1 · T = 8")
    assert [(row[0], row[1]) for row in rows] == [
        ("`mlp`", "epochs=30"), ("`tsn`", "epochs=30"), ("`lstm`", "epochs=5"), ("`lstm`", "epochs=30"),
        ("`gru`", "epochs=30"), ("`myhead`", "epochs=30"),
    ]  # fmt: skip
    tsn = rows[1]
    assert tsn[2:] == [
        "4,000", "40.00 k", "2.00 G", "72.00 ± 2.00 (3)", "n/a", "n/a", "93.00 ± 3.00", "72.00", "72.84", "100 / 100",
    ]  # fmt: skip  (no predictions.npz here: no interval, no paired test)


def _write_predictions(runs_dir: Path, run_id: str, correct: np.ndarray) -> None:
    labels = np.arange(len(correct)) % 3
    scores = np.full((len(correct), 3), 0.1)
    scores[np.arange(len(correct)), np.where(correct, labels, (labels + 1) % 3)] = 0.8
    predictions = make_predictions(np.arange(len(correct)), scores, labels, [f"v{i}" for i in range(len(correct))])
    save_predictions(predictions, runs_dir / run_id / "predictions.npz")


def test_rows_with_kept_outputs_get_intervals_and_paired_verdicts(leaderboard: Path, tmp_path: Path) -> None:
    runs = leaderboard.parent / "runs"
    rng = np.random.default_rng(0)
    strong = rng.random(100) < 0.9
    for row in ROWS:
        if row["status"] != "finished" or row["dataset"] != "jester" or row["backbone"] != "squeezenet1_1":
            continue
        if row["head"] == "mlp":
            _write_predictions(runs, row["run_id"], strong)
        elif row["head"] == "gru":
            close = strong.copy()
            close[:2] = ~close[:2]
            _write_predictions(runs, row["run_id"], close)
        else:
            _write_predictions(runs, row["run_id"], rng.random(100) < 0.5)
    markdown = _report(leaderboard, tmp_path)
    rows = {(row[0], row[1]): row for row in _table_rows(markdown, "jester · squeezenet1_1 · T = 8")}
    low, high = binomial_interval(int(strong.sum()), 100)
    assert rows[("`mlp`", "epochs=30")][6] == f"[{100 * low:.1f}, {100 * high:.1f}]"
    assert rows[("`mlp`", "epochs=30")][7] == "yes" and rows[("`gru`", "epochs=30")][7] == "yes"
    assert rows[("`myhead`", "epochs=30")][7] == "no"
    assert "Paired comparisons (exact McNemar, paired bootstrap, 15 pairs, Holm-adjusted" in markdown
    assert "jester_squeezenet1_1_8seg_significance.png" in markdown


def test_published_column_only_for_matching_settings(leaderboard: Path, tmp_path: Path) -> None:
    markdown = _report(leaderboard, tmp_path)
    squeeze = {row[0]: row[-2] for row in _table_rows(markdown, "jester · squeezenet1_1 · T = 8")}
    assert squeeze["`mlp`"] == "87.28" and squeeze["`gru`"] == "83.10" and squeeze["`myhead`"] == "—"
    assert _table_rows(markdown, "jester · bninception · T = 8")[0][-2] == "82.74"
    assert _table_rows(markdown, "synthetic · smallcnn · T = 8")[0][-2] == "—"


def test_incomplete_test_set_is_flagged(leaderboard: Path, tmp_path: Path) -> None:
    markdown = _report(leaderboard, tmp_path)
    rows = {row[0]: row[-1] for row in _table_rows(markdown, "jester · squeezenet1_1 · T = 8")}
    assert rows["`gru`"] == "⚠ **90 / 100**" and rows["`mlp`"] == "100 / 100"
    assert "⚠ **Not the whole test set** for gru (epochs=30)" in markdown


def test_unfinished_rows_are_left_out_and_counted(leaderboard: Path, tmp_path: Path) -> None:
    markdown = _report(leaderboard, tmp_path)
    assert "13 runs in the leaderboard; 11 finished, pooled into 8 settings; " in markdown
    assert "2 not finished and left out (failed: 1, running: 1)" in markdown
    section = markdown.split("## jester · squeezenet1_1 · T = 8", 1)[1].split("\n## ", 1)[0]
    assert "_Left out: 1 run not finished (failed: 1)._" in section
    assert "10.00" not in section  # the failed lstm seed's top-1


def test_figures_exist_and_are_linked_relatively(leaderboard: Path, tmp_path: Path) -> None:
    files = generate_report(leaderboard, tmp_path / "reports")
    markdown = files.markdown.read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)
    assert len(links) == 6 == len(files.figures)  # two per section
    for link in links:
        assert link.startswith("leaderboard_files/") and link.endswith(".png")
        assert (files.markdown.parent / link).read_bytes().startswith(b"\x89PNG")
    assert "jester_squeezenet1_1_8seg_top1_vs_macs.png" in markdown


def test_regeneration_is_byte_identical(leaderboard: Path, tmp_path: Path) -> None:
    first = generate_report(leaderboard, tmp_path / "reports")
    before = {path: path.read_bytes() for path in (first.markdown, first.aggregated, *first.figures)}
    second = generate_report(leaderboard, tmp_path / "reports")
    assert second.figures == first.figures
    assert {path: path.read_bytes() for path in (second.markdown, second.aggregated, *second.figures)} == before


def test_missing_mac_columns(tmp_path: Path) -> None:
    path = _leaderboard(tmp_path, with_macs=False)
    assert "total_macs" not in pd.read_csv(path).columns
    files = generate_report(path, tmp_path / "reports")
    markdown = files.markdown.read_text(encoding="utf-8")
    tsn = _table_rows(markdown, "jester · squeezenet1_1 · T = 8")[1]
    assert tsn[2:5] == ["4,000", "n/a", "n/a"]
    assert markdown.count("_Top-1 vs MACs plot skipped: the leaderboard has no `total_macs` column._") == 3
    assert all(figure.name.endswith("_per_class.png") for figure in files.figures)
    assert not list((tmp_path / "reports" / "leaderboard_files").glob("*_top1_vs_macs.png"))


def test_per_class_accuracy_is_averaged_over_seeds(tmp_path: Path) -> None:
    _write_confusion(tmp_path, "a", (1.0, 0.5, 0.0))
    _write_confusion(tmp_path, "b", (0.5, 0.5, 1.0))
    mean, missing = mean_class_accuracy_over_runs(tmp_path, ["a", "b", "c"])
    assert missing == ["c"]
    assert list(mean.index) == list(CLASSES)
    assert mean.tolist() == pytest.approx([0.75, 0.5, 0.5])


def test_cli_report_filters_datasets(leaderboard: Path, tmp_path: Path, capsys) -> None:
    out_dir = tmp_path / "out"
    code = main(["report", "--leaderboard", str(leaderboard), "--name", "jester_only", "--out-dir", str(out_dir),
                 "--dataset", "jester"])  # fmt: skip
    assert code == 0
    markdown = (out_dir / "jester_only.md").read_text(encoding="utf-8")
    assert "## synthetic" not in markdown and "## jester · squeezenet1_1 · T = 8" in markdown
    command = f"stbench report --leaderboard {leaderboard} --name jester_only --out-dir {out_dir} --dataset jester"
    assert command in markdown
    assert "jester_only_files/" in markdown
    assert "rewrites this file, its figures in `jester_only_files/`" in markdown and "{name}" not in markdown
    assert str(out_dir / "jester_only.md") in capsys.readouterr().out


def test_report_command_names_paths_inside_the_working_directory_relatively(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    sweep = tmp_path / "configs" / "main.yaml"
    command = report_command(tmp_path / "results" / "leaderboard.csv", "main", "results/reports", None, sweep)
    assert command == (
        "stbench report --leaderboard results/leaderboard.csv --name main --out-dir results/reports "
        "--sweep configs/main.yaml"
    )
    elsewhere = tmp_path.parent / "elsewhere.yaml"
    assert report_command("lb.csv", "x", "out", ["b", "a"], elsewhere).endswith(f"--sweep {elsewhere} --dataset a b")
