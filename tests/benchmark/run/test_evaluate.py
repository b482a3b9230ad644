"""A checkpoint tested by two DDP processes gives exactly the counts of a one-process test."""
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from benchmark.run.config import resolve_config
from benchmark.run.evaluate import evaluate_checkpoint
from benchmark.run.runner import RunOptions, run

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_two_process_and_one_process_evaluations_agree_exactly(tiny_synthetic, tmp_path):
    options = RunOptions(
        data_root=str(tiny_synthetic), results_dir=str(tmp_path / "results"), work_dir=str(tmp_path / "runs"),
        accelerator="cpu", num_workers=0, progress=False,
    )  # fmt: skip
    config = resolve_config("synthetic", head="lstm", epochs=1, batch_size=4, segments=3)
    run(config, options)
    checkpoint = tmp_path / "runs" / config.run_id / "checkpoints" / "last.ckpt"

    single = evaluate_checkpoint(checkpoint, options, tmp_path / "one.csv")
    assert single is not None and int(single.sum()) == 9  # the odd-sized test list, each video once

    command = [
        sys.executable, "-m", "benchmark", "test", str(checkpoint), "--out", str(tmp_path / "two.csv"),
        "--data-root", str(tiny_synthetic), "--accelerator", "cpu", "--devices", "2", "--strategy", "ddp",
        "--workers", "0", "--no-progress",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "test videos evaluated: 9" in done.stdout
    one = pd.read_csv(tmp_path / "one.csv", index_col=0)
    two = pd.read_csv(tmp_path / "two.csv", index_col=0)
    pd.testing.assert_frame_equal(one, two)
    row = pd.read_csv(tmp_path / "results" / "leaderboard.csv").iloc[0]
    assert row["top1"] == pytest.approx(sum(one.iloc[i, i] for i in range(len(one))) / 9)


@pytest.mark.parametrize(
    "change, message",
    [({"epochs": -1}, "epochs: -1 is out of range"), ({"head": "nohead"}, "unknown head 'nohead'"), ({"lr_steps": 3}, "")],
)
def test_a_checkpoint_whose_configuration_no_run_can_take_is_refused_naming_it(tmp_path, capsys, change, message):
    import torch

    from benchmark.cli.main import main
    from benchmark.run.checkpoint import CheckpointError

    checkpoint = tmp_path / "last.ckpt"
    config = {**resolve_config("synthetic", head="tsn").to_dict(), **change}
    torch.save({"hyper_parameters": {"config": config}, "state_dict": {}}, checkpoint)
    with pytest.raises(CheckpointError, match=f"holds a run configuration no run can take \\(.*{message}"):
        evaluate_checkpoint(checkpoint, RunOptions(accelerator="cpu", num_workers=0, progress=False))
    assert main(["test", str(checkpoint), "--accelerator", "cpu", "--workers", "0", "--no-progress"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith(f"stbench test: {checkpoint}: holds a run configuration")
