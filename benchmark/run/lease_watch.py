"""Stop a run whose cell claim was taken over by another process.

A sweep process stopped (SIGSTOP, a frozen machine) for longer than the claim timeout loses its
cell to another process, which resumes it. When the first one goes on, it must stop training that
cell at once: :class:`LeaseWatch` looks at the claim after every batch (at most once a second) and
before every checkpoint, and raises :class:`~datamodules.fencing.LeaseLost`, which the runner lets
through without a row. Its loggers are dropped first: Lightning's CSV log of the cell (kept as the
learning curve) is the new holder's now, and a logger would write its last rows on the way out.

In a multi-process (DDP) run every process must stop together: the processes agree at the start
and end of each training epoch, at the end of each validation and at the start and end of the test
(hooks every process reaches the same number of times; evaluation batches may differ between
processes). That DDP path has no stop/continue test.
"""
from __future__ import annotations

import time
from typing import Any

import pytorch_lightning as pl

from datamodules.fencing import Fence, LeaseLost

CHECK_EVERY_S = 1.0


class LeaseWatch(pl.Callback):
    """Raises :class:`LeaseLost` in a run whose ``fence`` (a cell's claim) is no longer held."""

    def __init__(self, fence: Fence | None, every_s: float = CHECK_EVERY_S) -> None:
        self.fence = fence
        self.every_s = every_s
        self.checked = time.monotonic()

    def lost_here(self, force: bool = False) -> bool:
        """Whether this process's fence is lost (looked at when ``force`` or ``every_s`` has passed)."""
        if self.fence is None:
            return False
        now = time.monotonic()
        if not force and now - self.checked < self.every_s:
            return False
        self.checked = now
        return not self.fence.held()

    def stop_if_lost(self, trainer: pl.Trainer, collective: bool) -> None:
        if trainer.world_size > 1:
            if not collective:
                return
            lost = trainer.strategy.reduce_boolean_decision(self.lost_here(force=True), all=False)
        else:
            lost = self.lost_here(force=collective)
        if lost:
            trainer.loggers = []
            if self.fence is not None:
                self.fence.check()  # raises naming the lease and its new holder
            raise LeaseLost("the cell's claim was taken over by another process (seen by global rank 0)")

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        self.stop_if_lost(trainer, collective=False)

    def on_validation_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        self.stop_if_lost(trainer, collective=False)

    def on_test_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        self.stop_if_lost(trainer, collective=False)

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.stop_if_lost(trainer, collective=True)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.stop_if_lost(trainer, collective=True)  # before ModelCheckpoint's hooks, which Lightning runs last

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.stop_if_lost(trainer, collective=True)

    def on_test_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.stop_if_lost(trainer, collective=True)

    def on_test_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.stop_if_lost(trainer, collective=True)
