"""Learning-rate schedules of a run: steps at fixed epochs, or the deep fusion network's two stages.

``lr_schedule="steps"`` (every protocol's default): lr × 0.1 at the epochs of ``lr_steps``
(:func:`benchmark.run.optim.build_optimizer`).

``lr_schedule="two_stage"`` (docs/protocols.md, section D: "lr 1e-5 until convergence, then a
second run from that state at 1e-6"): stage 1 trains at ``lr`` until the validation loss has not
improved for ``stage_patience`` epochs; stage 2 continues from the weights reached, at lr × 0.1
with the optimizer's state reset (a second run from that state), until the validation loss again
stops improving for ``stage_patience`` epochs; ``epochs`` bounds both stages together. Convergence
is judged on validation videos, so they must not be test videos: datasets whose validation split is
their test split need a ``holdout_fraction``.
"""
from __future__ import annotations

import math
from typing import Any

import pytorch_lightning as pl

from benchmark.run.config import RunConfig

MONITOR = "val/loss"
FACTOR = 0.1


class TwoStageSchedule(pl.Callback):
    """The two-stage schedule (see the module doc). Logs ``schedule/stage`` and ``schedule/lr`` every
    epoch; its state (stage, best loss, epochs without improvement) is kept in checkpoints."""

    def __init__(self, patience: int, factor: float = FACTOR, monitor: str = MONITOR) -> None:
        if patience < 1:
            raise ValueError(f"stage_patience must be >= 1, got {patience}")
        self.patience = patience
        self.factor = factor
        self.monitor = monitor
        self.stage = 1
        self.best = math.inf
        self.waited = 0
        self.switched_after: int | None = None  # epochs of stage 1

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        splits = getattr(trainer.datamodule, "splits", None)
        if splits is None:
            return
        overlap = {r.video_id for r in splits.val} & {r.video_id for r in splits.test}
        if not splits.val or overlap:
            raise ValueError(
                "the two-stage schedule decides convergence on validation videos, but this split has "
                + ("none" if not splits.val else f"{len(overlap)} that are also test videos")
                + ": set holdout_fraction > 0 to hold some training videos out for it"
            )

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        loss = trainer.callback_metrics.get(self.monitor)
        optimizer = trainer.optimizers[0]
        pl_module.log("schedule/stage", float(self.stage))
        pl_module.log("schedule/lr", float(optimizer.param_groups[0]["lr"]))
        if loss is None:
            return
        value = float(loss)
        if value < self.best:
            self.best, self.waited = value, 0
            return
        self.waited += 1
        if self.waited < self.patience:
            return
        if self.stage == 1:
            self.stage, self.waited, self.best = 2, 0, value
            self.switched_after = trainer.current_epoch + 1
            for group in optimizer.param_groups:
                group["lr"] *= self.factor
            optimizer.state.clear()  # a second run from the weights reached: fresh moments
        else:
            trainer.should_stop = True

    def state_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "best": self.best, "waited": self.waited, "switched_after": self.switched_after}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.stage = int(state_dict["stage"])
        self.best = float(state_dict["best"])
        self.waited = int(state_dict["waited"])
        self.switched_after = state_dict.get("switched_after")


def schedule_callbacks(config: RunConfig) -> list[pl.Callback]:
    """The callbacks a run's ``lr_schedule`` needs ([] for fixed steps)."""
    if config.lr_schedule == "two_stage":
        return [TwoStageSchedule(config.stage_patience)]
    return []
