"""The main job: a sweep trained afresh (or resumed with --resume), then the report."""
import pandas as pd
import pytest

from benchmark.cli.main import MAIN_SWEEP, main
from benchmark.run.sweep import load_sweep


def test_main_sweep_covers_every_head():
    from heads import HEADS

    assert sorted(cell.head for cell in load_sweep(MAIN_SWEEP).cells) == sorted(HEADS)


@pytest.mark.slow
def test_benchmark_writes_rows_and_report_and_resumes_only_when_asked(tiny_synthetic, tmp_path, capsys):
    sweep = tmp_path / "main.yaml"
    sweep.write_text("name: tiny_main\ngrid:\n  head: [tsn, lstm]\n  segments: [2]\nsettings:\n  epochs: 1\n  batch_size: 4\n")
    args = [
        "benchmark", "--sweep", str(sweep), "--data-root", str(tiny_synthetic), "--results-dir", str(tmp_path / "results"),
        "--work-dir", str(tmp_path / "runs"), "--accelerator", "cpu", "--workers", "0", "--no-progress",
    ]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    report = tmp_path / "results" / "reports" / "tiny_main.md"
    assert f"report: {report.resolve()}" in out and "leaderboard: " in out
    text = report.read_text()
    assert "`tsn`" in text and "`lstm`" in text
    first = pd.read_csv(tmp_path / "results" / "leaderboard.csv").set_index("head")["timestamp"]

    assert main(args + ["--resume"]) == 0
    assert "2 already finished" in capsys.readouterr().out
    assert pd.read_csv(tmp_path / "results" / "leaderboard.csv").set_index("head")["timestamp"].equals(first)

    assert main(args) == 0  # without --resume every cell is trained again
    again = pd.read_csv(tmp_path / "results" / "leaderboard.csv")
    assert len(again) == 2 and "0 already finished" in capsys.readouterr().out
