"""The two-stage learning-rate schedule (docs/protocols.md, section D) and its settings."""
from __future__ import annotations

import math
from types import SimpleNamespace

import pandas as pd
import pytest
import torch

from benchmark.run.config import RunConfig, resolve_config
from benchmark.run.optim import build_optimizer
from benchmark.run.runner import RunOptions, run
from benchmark.run.schedule import TwoStageSchedule, schedule_callbacks


class FakeTrainer(SimpleNamespace):
    """What the callback reads and writes of a Trainer."""


def _trainer(lr: float = 1e-3) -> FakeTrainer:
    weight = torch.nn.Parameter(torch.ones(2))
    optimizer = torch.optim.Adam([{"params": [weight], "lr": lr}, {"params": [], "lr": 2 * lr}], lr=lr)
    weight.grad = torch.ones(2)
    optimizer.step()  # some optimizer state to reset
    return FakeTrainer(callback_metrics={}, optimizers=[optimizer], current_epoch=0, should_stop=False)


def _epoch(schedule: TwoStageSchedule, trainer: FakeTrainer, epoch: int, loss: float, logged: dict) -> None:
    trainer.current_epoch = epoch
    trainer.callback_metrics = {"val/loss": torch.tensor(loss)}
    module = SimpleNamespace(log=lambda name, value: logged.setdefault(name, []).append(value))
    schedule.on_train_epoch_end(trainer, module)


def test_stage_two_starts_from_the_weights_reached_at_a_tenth_of_the_lr_then_stops():
    schedule, trainer, logged = TwoStageSchedule(patience=2), _trainer(), {}
    for epoch, loss in enumerate([1.0, 0.8, 0.85, 0.81]):  # no improvement on 0.8 for two epochs
        _epoch(schedule, trainer, epoch, loss, logged)
    optimizer = trainer.optimizers[0]
    assert schedule.stage == 2 and schedule.switched_after == 4
    assert [group["lr"] for group in optimizer.param_groups] == pytest.approx([1e-4, 2e-4])  # each group × 0.1
    assert len(optimizer.state) == 0  # the second run starts with fresh moments
    assert not trainer.should_stop
    for epoch, loss in enumerate([0.7, 0.72, 0.71], start=4):
        _epoch(schedule, trainer, epoch, loss, logged)
    assert trainer.should_stop
    assert logged["schedule/stage"] == [1, 1, 1, 1, 2, 2, 2]
    assert logged["schedule/lr"][3] == pytest.approx(1e-3) and logged["schedule/lr"][4] == pytest.approx(1e-4)


def test_the_schedule_state_survives_a_checkpoint():
    schedule, trainer = TwoStageSchedule(patience=1), _trainer()
    for epoch, loss in enumerate([1.0, 1.1]):
        _epoch(schedule, trainer, epoch, loss, {})
    restored = TwoStageSchedule(patience=1)
    restored.load_state_dict(schedule.state_dict())
    assert (restored.stage, restored.waited, restored.switched_after) == (2, 0, 2)
    assert restored.best == pytest.approx(1.1)
    assert math.isinf(TwoStageSchedule(patience=1).state_dict()["best"])


def test_convergence_is_never_judged_on_test_videos():
    records = [SimpleNamespace(video_id=f"v{i}") for i in range(3)]
    trainer = SimpleNamespace(datamodule=SimpleNamespace(splits=SimpleNamespace(val=records, test=records)))
    with pytest.raises(ValueError, match="holdout_fraction"):
        TwoStageSchedule(patience=1).on_fit_start(trainer, None)
    apart = SimpleNamespace(datamodule=SimpleNamespace(splits=SimpleNamespace(val=records[:1], test=records[1:])))
    TwoStageSchedule(patience=1).on_fit_start(apart, None)


def test_settings_of_the_schedule():
    assert RunConfig().lr_schedule == "steps" and schedule_callbacks(RunConfig()) == []
    assert RunConfig().run_id == "aee2a59c34c0"  # defaults leave the run id unchanged
    two = resolve_config("synthetic", lr_schedule="two_stage", lr_steps=(), stage_patience=3)
    assert two.run_id != resolve_config("synthetic", lr_steps=()).run_id
    (callback,) = schedule_callbacks(two)
    assert isinstance(callback, TwoStageSchedule) and callback.patience == 3
    assert set(build_optimizer(two, torch.nn.Linear(2, 2))) == {"optimizer"}
    with pytest.raises(ValueError, match="lr_steps"):
        resolve_config("synthetic", lr_schedule="two_stage")  # the protocol's lr step at epoch 3
    with pytest.raises(ValueError, match="lr_schedule"):
        RunConfig(lr_schedule="cosine")


@pytest.mark.slow
def test_a_two_stage_run_logs_its_stage_and_lr(tiny_synthetic, tmp_path):
    config = resolve_config(
        "synthetic", head="tsn", segments=2, epochs=2, batch_size=4, lr_schedule="two_stage", lr_steps=(),
        stage_patience=1,
    )  # fmt: skip
    options = RunOptions(
        data_root=str(tiny_synthetic), results_dir=str(tmp_path / "results"), work_dir=str(tmp_path / "runs"),
        accelerator="cpu", num_workers=0, progress=False,
    )  # fmt: skip
    assert run(config, options) is not None
    curve = pd.read_csv(tmp_path / "results" / "runs" / config.run_id / "metrics.csv")
    logged = curve.dropna(subset=["schedule/stage"])
    assert logged["schedule/stage"].tolist()[0] == 1.0 and len(logged) == 2
    assert logged["schedule/lr"].iloc[0] == pytest.approx(1e-3)
