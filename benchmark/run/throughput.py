"""Throughput: training clips per second (validation excluded) and test clips per second."""
from __future__ import annotations

import time
from typing import Any

import pytorch_lightning as pl


def batch_clips(batch: dict[str, Any]) -> int:
    """Clips in a batch: its labels (none when every clip was skipped as unreadable), or for a
    multi-task batch the sum over its datasets' batches."""
    if "label" in batch or "frames" in batch or "failed" in batch:
        return len(batch.get("label", ()))
    return sum(batch_clips(sub) for sub in batch.values() if isinstance(sub, dict))


class TrainThroughput(pl.Callback):
    """Counts training clips (all processes) and the wall time spent on them, data loading included."""

    def __init__(self) -> None:
        self.clips = 0
        self.seconds = 0.0
        self._mark: float | None = None

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._mark = time.perf_counter()

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.training or self._mark is not None:
            self._mark = time.perf_counter()

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        now = time.perf_counter()
        if self._mark is not None:
            self.seconds += now - self._mark
        self._mark = now
        self.clips += batch_clips(batch) * trainer.world_size

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._mark = None

    @property
    def clips_per_second(self) -> float:
        return self.clips / self.seconds if self.seconds > 0 else float("nan")


class TestThroughput(pl.Callback):
    """Wall time of the test loop (data loading included), for test clips per second."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._start: float | None = None

    def on_test_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._start = time.perf_counter()

    def on_test_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._start is not None:
            self.seconds += time.perf_counter() - self._start
            self._start = None

    def clips_per_second(self, clips: int) -> float:
        """``clips`` evaluated (all processes) over the test loop's wall time."""
        return clips / self.seconds if self.seconds > 0 else float("nan")
