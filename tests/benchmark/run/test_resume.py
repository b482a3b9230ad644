"""Resuming from the newest readable checkpoint: a damaged one is passed over (and said so), none readable
restarts the run, and a sweep never stops for good on a truncated ``last.ckpt``."""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
import pytorch_lightning as pl
import torch

from benchmark.cli.main import main
from benchmark.run.checkpoint import UntrustedCheckpointError
from benchmark.run.config import resolve_config
from benchmark.run.resume import resume_point
from benchmark.run.runner import RunOptions, run


def fake_checkpoint(path: Path, epochs: int, age_s: float = 0.0) -> Path:
    """A checkpoint holding only the training progress, written ``age_s`` seconds ago."""
    torch.save({"loops": {"fit_loop": {"epoch_progress": {"current": {"processed": epochs}}}}}, path)
    stamp = path.stat().st_mtime - age_s
    os.utime(path, (stamp, stamp))
    return path


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_a_truncated_newest_checkpoint_is_passed_over_for_the_newest_readable_one(tmp_path):
    fake_checkpoint(tmp_path / "epoch=0-step=7.ckpt", 1, age_s=20)
    fake_checkpoint(tmp_path / "epoch=1-step=14.ckpt", 2, age_s=10)
    truncate(fake_checkpoint(tmp_path / "last.ckpt", 3))
    (tmp_path / ".last.ckpt.123-abcd.tmp").write_bytes(b"half a file")  # left by a writer killed while saving
    point = resume_point(tmp_path)
    assert point is not None and point.path == str(tmp_path / "epoch=1-step=14.ckpt") and point.epochs == 2
    assert point.note.startswith("resumed from epoch=1-step=14.ckpt: last.ckpt unreadable (not a readable checkpoint")
    assert not (tmp_path / "last.ckpt").exists() and (tmp_path / "last.ckpt.unreadable").exists()
    assert not (tmp_path / ".last.ckpt.123-abcd.tmp").exists()
    again = resume_point(tmp_path)  # the next attempt sees no damaged file left
    assert again is not None and again.path == point.path and again.note == ""


def test_an_intact_last_checkpoint_is_taken_as_it_is(tmp_path):
    fake_checkpoint(tmp_path / "epoch=0-step=7.ckpt", 1)
    fake_checkpoint(tmp_path / "last.ckpt", 1)
    point = resume_point(tmp_path)
    assert point is not None and point.path == str(tmp_path / "last.ckpt") and point.epochs == 1 and point.note == ""


def test_with_no_readable_checkpoint_the_run_restarts_from_scratch(tmp_path):
    (tmp_path / "last.ckpt").write_bytes(b"")
    torch.save({"state_dict": {}}, tmp_path / "epoch=0-step=7.ckpt")  # readable, but holds no training progress
    point = resume_point(tmp_path)
    assert point is not None and point.path is None and point.epochs == 0
    assert point.note.startswith("restarted from scratch: ")
    assert "last.ckpt unreadable" in point.note and "epoch=0-step=7.ckpt unreadable (holds no training progress" in point.note


def test_no_folder_or_no_checkpoint_is_no_resume(tmp_path):
    assert resume_point(tmp_path / "absent") is None
    assert resume_point(tmp_path) is None


def test_a_checkpoint_that_could_run_code_still_stops_the_resume(tmp_path):
    fake_checkpoint(tmp_path / "epoch=0-step=7.ckpt", 1, age_s=10)
    torch.save({"loops": {}, "where": Path("a")}, tmp_path / "last.ckpt")  # needs pathlib: refused, not skipped
    with pytest.raises(UntrustedCheckpointError):
        resume_point(tmp_path)
    assert (tmp_path / "last.ckpt").exists()


class StopAtSecondEpoch(pl.Callback):
    """Ends training as a kill would, after the first epoch's checkpoints were written."""

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.current_epoch == 1:
            raise RuntimeError("stopped after the first epoch")


@pytest.mark.slow
def test_a_sweep_finishes_a_cell_whose_last_checkpoint_is_truncated(tiny_synthetic, tmp_path, monkeypatch, capsys):
    import benchmark.run.runner as runner

    config = resolve_config("synthetic", head="tsn", segments=2, epochs=2, batch_size=4)
    results, work = tmp_path / "results", tmp_path / "runs"
    options = RunOptions(
        data_root=str(tiny_synthetic), results_dir=str(results), work_dir=str(work), accelerator="cpu",
        num_workers=0, progress=False,
    )  # fmt: skip
    schedule = runner.schedule_callbacks
    with monkeypatch.context() as patch:
        patch.setattr(runner, "schedule_callbacks", lambda c: [*schedule(c), StopAtSecondEpoch()])
        with pytest.raises(RuntimeError, match="stopped after the first epoch"):
            run(config, options)
    (results / "leaderboard.csv").unlink()  # a killed process leaves no row
    folder = options.checkpoint_dir(config.run_id)
    (epoch_checkpoint,) = folder.glob("epoch=0-*.ckpt")
    truncate(folder / "last.ckpt")  # as an in-place write cut short by a kill leaves it

    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("grid: {head: [tsn], segments: [2]}\nsettings: {epochs: 2, batch_size: 4}\n")
    argv = ["sweep", str(sweep), "--data-root", str(tiny_synthetic), "--results-dir", str(results), "--work-dir",
            str(work), "--accelerator", "cpu", "--workers", "0", "--no-progress"]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err[-2000:]
    row = pd.read_csv(results / "leaderboard.csv", dtype={"run_id": str}).set_index("run_id").loc[config.run_id]
    assert row["status"] == "finished" and row["resumed_epoch"] == 1
    assert row["detail"].startswith(f"resumed from {epoch_checkpoint.name}: last.ckpt unreadable (")
    assert (folder / "last.ckpt").is_file() and (folder / "last.ckpt.unreadable").is_file()
