"""A run whose cell claim was taken over stops within a batch and writes no row, no failed row either."""
from __future__ import annotations

import pytest
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

from benchmark.run.config import resolve_config
from benchmark.run.lease_watch import LeaseWatch
from benchmark.run.runner import RunOptions, run
from datamodules.fencing import Fence, LeaseLost, in_force


class FlippingGuard:
    """A claim that is held for the first ``held_for`` looks, then taken over by "pid 7 on host other"."""

    tag = "0" * 12

    def __init__(self, held_for: int) -> None:
        self.looks = 0
        self.held_for = held_for

    def held(self) -> bool:
        self.looks += 1
        return self.looks <= self.held_for

    def describe_holder(self) -> str:
        return "pid 7 on host other"

    class lease:
        lock_file = "results/claims/cell.lease"


class Counting(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)
        self.batches = 0

    def training_step(self, batch, batch_idx):
        self.batches += 1
        features, target = batch
        return torch.nn.functional.mse_loss(self.layer(features), target)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


def test_training_stops_at_the_first_batch_after_the_claim_is_lost():
    data = DataLoader(TensorDataset(torch.randn(64, 4), torch.randn(64, 1)), batch_size=4)
    guard = FlippingGuard(held_for=6)
    model = Counting()
    trainer = pl.Trainer(
        max_epochs=3, accelerator="cpu", logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, callbacks=[LeaseWatch(Fence(guard), every_s=0.0)],
    )  # fmt: skip
    with pytest.raises(LeaseLost, match=r"cell\.lease was taken over \(now held by pid 7 on host other\)"):
        trainer.fit(model, train_dataloaders=data)
    # looks: the epoch's start, then one after each batch; the seventh (after batch 6) finds the claim lost
    assert model.batches == 6


def test_a_run_whose_claim_is_taken_over_writes_no_row(tiny_synthetic, tmp_path):
    config = resolve_config("synthetic", head="tsn", epochs=2, batch_size=4, segments=2)
    options = RunOptions(
        data_root=str(tiny_synthetic), results_dir=str(tmp_path / "results"), work_dir=str(tmp_path / "runs"),
        accelerator="cpu", num_workers=0, progress=False,
    )  # fmt: skip
    with in_force(Fence(FlippingGuard(held_for=1))), pytest.raises(LeaseLost):
        run(config, options)
    assert not (tmp_path / "results" / "leaderboard.csv").exists()  # neither a finished nor a failed row
    assert not (tmp_path / "results" / "runs" / config.run_id).exists()
