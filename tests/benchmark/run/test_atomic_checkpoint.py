"""Checkpoints are written in one step: a writer that fails or is killed mid-save leaves the old file whole."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from benchmark.run.atomic_checkpoint import AtomicCheckpointIO, leftover_temporaries, save_atomically
from benchmark.run.config import RunConfig
from benchmark.run.options import RunOptions
from benchmark.run.trainer import build_trainer

ROOT = Path(__file__).resolve().parents[3]


def test_a_save_that_fails_midway_leaves_the_old_checkpoint_and_no_temporary(tmp_path):
    path = tmp_path / "last.ckpt"
    save_atomically({"epoch": 1, "w": torch.ones(3)}, path)
    with pytest.raises(Exception):
        save_atomically({"epoch": 2, "w": torch.zeros(1000), "bad": lambda: None}, path)  # not picklable
    assert torch.load(path)["epoch"] == 1
    assert leftover_temporaries(tmp_path) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["last.ckpt"]


def test_every_trainer_of_a_run_writes_checkpoints_atomically(tmp_path):
    trainer = build_trainer(RunConfig(), RunOptions(work_dir=str(tmp_path), accelerator="cpu", progress=False), [])
    assert isinstance(trainer.strategy.checkpoint_io, AtomicCheckpointIO)
    trainer.strategy.checkpoint_io.save_checkpoint({"step": 3}, tmp_path / "c" / "last.ckpt")
    assert torch.load(tmp_path / "c" / "last.ckpt") == {"step": 3}


WRITER = """
import sys, torch
from benchmark.run.atomic_checkpoint import AtomicCheckpointIO
io, step = AtomicCheckpointIO(), 0
while True:
    step += 1
    io.save_checkpoint({"step": step, "w": torch.full((8_000_000,), float(step))}, sys.argv[1])
    print(step, flush=True)
"""


@pytest.mark.slow
def test_a_writer_killed_while_saving_leaves_a_whole_checkpoint(tmp_path):
    """SIGKILL at five moments of a loop that saves a 32 MB checkpoint: each time the file reads whole."""
    path = tmp_path / "last.ckpt"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for delay in (0.05, 0.15, 0.3, 0.45, 0.7):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], env=env, stdout=subprocess.PIPE, text=True)
        assert writer.stdout is not None and writer.stdout.readline().strip()  # one save done
        time.sleep(delay)
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        content = torch.load(path)
        assert bool((content["w"] == float(content["step"])).all())
