"""Leaderboard rows, built in one place for every writer (single runs, two-stream, hybrid, multi-task).

A row is the run's identity (from its :class:`RunConfig`), its status, and whatever figures the
writer measured; the columns and their order are :data:`benchmark.results.leaderboard.LEADERBOARD_COLUMNS`.
"""
from __future__ import annotations

import functools
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmark.results.provenance import environment, git_sha
from benchmark.run.config import RunConfig
from datamodules.storage import file_sha256

FINISHED = "finished"
FAILED = "failed"
ERROR_LENGTH = 500


def identity_columns(config: RunConfig) -> dict[str, Any]:
    """What a row says about the run itself: its id, when and from which code, and its settings."""
    return {
        "run_id": config.run_id,
        "setting_id": config.setting_id,
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git_sha": git_sha(),
        "dataset": config.dataset,
        "split": config.split,
        "system": config.head,
        "modality": str(config.modality),
        "backbone": config.backbone,
        "backbone_weights": weights_identity(config.backbone_weights),
        "head": config.head,
        "segments": config.segments,
        "input_size": config.input_size,
        "seed": config.seed,
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "lr": config.lr,
        "holdout_fraction": config.holdout_fraction,
        "test_views": config.test_clips * config.test_crops,
        "environment": run_environment(),
    }


def weights_identity(path: str | None) -> str:
    """What a row says of the weights a run started from: the file's name and the start of its sha256
    (its content, not where it lies on this machine); "" when the backbone started from its own init."""
    if path is None:
        return ""
    try:
        status = os.stat(path)
    except OSError:
        return f"{Path(path).name} (not readable)"
    return _weights_identity(str(path), status.st_size, status.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _weights_identity(path: str, size: int, mtime_ns: int) -> str:  # noqa: ARG001 (size and time key the cache)
    return f"{Path(path).name} sha256:{file_sha256(path)[:12]}"


@functools.lru_cache(maxsize=1)
def run_environment() -> str:
    """:func:`benchmark.results.provenance.environment`, read once per process."""
    return environment()


def video_counts(expected: int, evaluated: int, failed: int | None = None) -> dict[str, int]:
    """The test-video counts of a row; ``failed`` defaults to the videos that were not evaluated."""
    return {
        "n_test": evaluated,
        "n_test_expected": expected,
        "n_test_evaluated": evaluated,
        "n_test_failed": expected - evaluated if failed is None else failed,
    }


def finished_row(config: RunConfig, **columns: Any) -> dict[str, Any]:
    """A ``finished`` row: the run's identity, overridden and extended by ``columns``."""
    return {**identity_columns(config), "status": FINISHED, **columns}


def failed_row(config: RunConfig, error: BaseException, started: float) -> dict[str, Any]:
    """A ``failed`` row naming the error (type and message, cut to 500 characters) and the time spent."""
    return {
        **identity_columns(config),
        "status": FAILED,
        "error": f"{type(error).__name__}: {error}"[:ERROR_LENGTH],
        "wall_s": round(time.time() - started, 1),
    }


def elapsed(started: float) -> float:
    """Seconds since ``started`` (a ``time.time()``), as the rows' ``wall_s`` column gives them."""
    return round(time.time() - started, 1)
