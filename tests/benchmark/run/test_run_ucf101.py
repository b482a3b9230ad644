"""End to end on a real dataset's layout: UCF-101 split 1 from the official list files, tiny videos."""
import pandas as pd
import pytest

from benchmark.cli.main import main


@pytest.mark.slow
def test_stbench_run_on_ucf101_layout_trains_and_tests_every_listed_video(ucf101_tiny_root, tmp_path):
    results = tmp_path / "results"
    code = main(
        [
            "run", "--dataset", "ucf101", "--split", "1", "--root", str(ucf101_tiny_root),
            "--backbone", "smallcnn", "--head", "tsn", "--segments", "2", "--input-size", "32",
            "--epochs", "1", "--batch-size", "16", "--optimizer", "adam", "--lr", "1e-3", "--lr-steps",
            "--workers", "0", "--no-progress", "--results-dir", str(results), "--work-dir", str(tmp_path / "runs"),
        ]
    )  # fmt: skip
    assert code == 0
    row = pd.read_csv(results / "leaderboard.csv").iloc[0]
    assert row["status"] == "finished" and row["dataset"] == "ucf101" and str(row["split"]) == "1"
    assert row["n_test_expected"] == row["n_test_evaluated"] == 101  # one test video per class
    confusion = pd.read_csv(results / "runs" / row["run_id"] / "confusion.csv", index_col=0)
    assert len(confusion) == 101 and "HandstandPushups" in confusion.index
    assert confusion.loc["HandstandPushups", "support"] == 1  # its videos are named v_HandStandPushups_*
    assert list((ucf101_tiny_root / "HandstandPushups").glob("v_HandStandPushups_*"))
