"""End-to-end: fit + test on a tiny generated dataset, in one process and in a 2-process DDP run."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from benchmark.run.complexity import count_complexity
from benchmark.run.config import resolve_config
from benchmark.results.intervals import binomial_interval
from benchmark.results.leaderboard import LEADERBOARD_COLUMNS
from benchmark.results.predictions import load_predictions
from benchmark.run.runner import RunOptions, run

ROOT = Path(__file__).resolve().parents[3]


def options(tiny: Path, tmp_path: Path, num_workers: int = 0) -> RunOptions:
    return RunOptions(
        data_root=str(tiny),
        results_dir=str(tmp_path / "results"),
        work_dir=str(tmp_path / "runs"),
        accelerator="cpu",
        num_workers=num_workers,
        progress=False,
    )


@pytest.mark.parametrize("head", ["tsn", "lstm"])
def test_fit_and_test_write_one_complete_row(tiny_synthetic, tmp_path, head):
    config = resolve_config("synthetic", head=head, epochs=1, batch_size=4, segments=4)
    row = run(config, options(tiny_synthetic, tmp_path))
    assert row is not None
    leaderboard = pd.read_csv(tmp_path / "results" / "leaderboard.csv", dtype={"run_id": str})
    assert list(leaderboard.columns) == list(LEADERBOARD_COLUMNS)
    assert len(leaderboard) == 1
    saved = leaderboard.iloc[0]
    assert saved["run_id"] == config.run_id and saved["head"] == head and saved["status"] == "finished"
    assert saved["n_test_expected"] == 9 and saved["n_test_evaluated"] == 9 and saved["n_test"] == 9
    assert 0.0 <= saved["top1"] <= saved["top5"] <= 1.0
    assert 0.0 < saved["map"] <= 1.0
    assert saved["total_params"] == saved["head_params"] + saved["transform_params"] + saved["backbone_params"]
    assert saved["total_macs"] == saved["head_macs"] + saved["transform_macs"] + saved["backbone_macs"]
    expected = count_complexity("smallcnn", head, 4, 10, input_size=64)
    assert {key: saved[key] for key in expected} == expected
    assert (saved["head_params"] == 0) == (head == "tsn")
    assert saved["train_clips_per_s"] > 0
    run_dir = tmp_path / "results" / "runs" / config.run_id
    assert json.loads((run_dir / "config.json").read_text())["head"] == head
    confusion = pd.read_csv(run_dir / "confusion.csv", index_col=0)
    assert confusion["support"].sum() == 9
    diagonal = sum(confusion.iloc[i, i] for i in range(len(confusion)))
    assert diagonal / 9 == pytest.approx(saved["top1"])
    curve = pd.read_csv(run_dir / "metrics.csv")  # Lightning's CSV log, kept with the results
    assert curve.dropna(subset=["train/loss_epoch"])["epoch"].tolist() == [0]
    # per-video outputs: every test video once, and the row's top-1 and interval come from them
    predictions = load_predictions(run_dir / "predictions.npz")
    assert len(predictions) == 9 and len(set(predictions.video_id)) == 9
    assert predictions.correct.mean() == pytest.approx(saved["top1"])
    assert saved["top1_low"] <= saved["top1"] <= saved["top1_high"]
    assert (saved["top1_low"], saved["top1_high"]) == pytest.approx(binomial_interval(int(predictions.correct.sum()), 9))
    assert saved["map_low"] <= saved["map_high"] and len(saved["data_fingerprint"]) == 12
    assert "torch " in saved["environment"] and "cpu " in saved["environment"]


def test_rerunning_a_config_replaces_its_row(tiny_synthetic, tmp_path):
    config = resolve_config("synthetic", head="tsn", epochs=1, batch_size=4, segments=2)
    run(config, options(tiny_synthetic, tmp_path))
    run(config, options(tiny_synthetic, tmp_path))
    other = resolve_config("synthetic", head="tsn", epochs=1, batch_size=4, segments=3)
    run(other, options(tiny_synthetic, tmp_path))
    leaderboard = pd.read_csv(tmp_path / "results" / "leaderboard.csv", dtype={"run_id": str})
    assert sorted(leaderboard["run_id"]) == sorted([config.run_id, other.run_id])


def test_same_seed_gives_the_same_result(tiny_synthetic, tmp_path):
    config = resolve_config("synthetic", head="lstm", epochs=1, batch_size=4, segments=3)
    first = run(config, options(tiny_synthetic, tmp_path / "a"))
    second = run(config, options(tiny_synthetic, tmp_path / "b", num_workers=2))
    a = pd.read_csv(tmp_path / "a" / "results" / "runs" / config.run_id / "confusion.csv", index_col=0)
    b = pd.read_csv(tmp_path / "b" / "results" / "runs" / config.run_id / "confusion.csv", index_col=0)
    pd.testing.assert_frame_equal(a, b)
    assert first["top1"] == second["top1"]


@pytest.mark.slow
def test_two_process_ddp_fit_and_test_counts_every_test_video_once(tiny_synthetic, tmp_path):
    command = [
        sys.executable, "-m", "benchmark", "run", "--head", "lstm", "--epochs", "1", "--batch-size", "2",
        "--segments", "4", "--data-root", str(tiny_synthetic), "--results-dir", str(tmp_path / "results"),
        "--work-dir", str(tmp_path / "runs"), "--accelerator", "cpu", "--devices", "2", "--strategy", "ddp",
        "--workers", "0", "--no-progress",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    leaderboard = pd.read_csv(tmp_path / "results" / "leaderboard.csv")
    assert len(leaderboard) == 1
    row = leaderboard.iloc[0]
    assert row["world_size"] == 2
    assert row["n_test_expected"] == 9 and row["n_test_evaluated"] == 9
    # the two processes' per-video outputs are gathered: each test video once, none lost
    predictions = load_predictions(tmp_path / "results" / "runs" / str(row["run_id"]) / "predictions.npz")
    assert sorted(predictions.index.tolist()) == list(range(9))
    assert predictions.correct.mean() == pytest.approx(row["top1"])
