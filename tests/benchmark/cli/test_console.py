"""A run's console: the harness's lines and Lightning's progress, without Lightning's INFO lines and notes
unless --verbose."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CHATTER = ("GPU available", "TPU available", "Tip:", "LeafSpec", "smaller than the logging interval")


def run_console(tiny_synthetic: Path, tmp_path: Path, *extra: str) -> str:
    command = [
        sys.executable, "-m", "benchmark", "run", "--head", "tsn", "--segments", "2", "--epochs", "1",
        "--batch-size", "4", "--data-root", str(tiny_synthetic), "--results-dir", str(tmp_path / "results"),
        "--work-dir", str(tmp_path / "runs"), "--accelerator", "cpu", "--workers", "0", *extra,
    ]  # fmt: skip
    tmp_path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        command, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout + done.stderr


@pytest.mark.slow
def test_lightning_chatter_is_hidden_unless_verbose(tiny_synthetic, tmp_path):
    quiet = run_console(tiny_synthetic, tmp_path / "quiet")
    assert not [line for line in quiet.splitlines() if any(mark in line for mark in CHATTER)]
    assert "Epoch 0" in quiet  # Lightning's progress bar still shows
    verbose = run_console(tiny_synthetic, tmp_path / "verbose", "--verbose")
    assert "GPU available" in verbose and "smaller than the logging interval" in verbose
