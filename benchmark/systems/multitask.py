"""Multi-task training on several datasets (the two-stream paper's UCF-101 + HMDB-51 setting).

One network: a shared backbone, and per dataset its own backbone-to-head layer and head (its own
classifier). Every training step draws one batch from each dataset; each loss only sees its own
dataset's clips, and the total loss is their sum. The shorter dataset's loader cycles until the
longer one is exhausted (one epoch = one pass over the largest dataset). Each dataset is then
tested on its own test set with its own classifier, one leaderboard row per dataset
(``system = "multitask"``).
"""
from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from pytorch_lightning.callbacks import ModelCheckpoint
from pytorch_lightning.utilities import CombinedLoader
from torch import nn

from benchmark.run.config import RunConfig
from benchmark.results.leaderboard import upsert_rows
from benchmark.run.data import build_datamodule
from benchmark.run.module import NonFiniteLossError, VideoClassifier
from benchmark.run.network import build_video_net
from benchmark.run.optim import build_optimizer
from benchmark.run.options import RunOptions
from benchmark.run.rows import elapsed, finished_row, video_counts
from benchmark.run.trainer import build_trainer
from benchmark.results.kept_outputs import keep_scored_outputs
from benchmark.results.metrics import score_metrics
from benchmark.systems.streams import stream_outputs
from benchmark.run.throughput import TrainThroughput
from datamodules.datamodule import VideoDataModule
from datamodules.datasets import get_dataset
from datamodules.storage import short_hash

SHARED_FIELDS = ("backbone", "backbone_weights", "segments", "input_size", "modality", "flow_length", "seed",
                 "epochs", "optimizer", "lr", "lr_steps", "momentum", "weight_decay", "clip_grad_norm")  # fmt: skip


def check_tasks(configs: Sequence[RunConfig]) -> None:
    if len(configs) < 2:
        raise ValueError("multi-task training needs at least two datasets")
    if len({c.dataset for c in configs}) != len(configs):
        raise ValueError("each task must be a different dataset")
    for name in SHARED_FIELDS:
        values = {repr(getattr(c, name)) for c in configs}
        if len(values) > 1:
            raise ValueError(f"the tasks must share {name}; got {sorted(values)}")
    if any(get_dataset(c.dataset).multi_label for c in configs):
        raise ValueError("multi-task training here is for single-label datasets")


def multitask_id(configs: Sequence[RunConfig]) -> str:
    payload = json.dumps({"multitask": [c.run_id for c in configs]}, sort_keys=True)
    return short_hash(payload)


class MultiTaskClassifier(pl.LightningModule):
    """One VideoNet per dataset, all holding the same backbone module (its weights are shared)."""

    def __init__(self, configs: Sequence[RunConfig], datamodules: dict[str, VideoDataModule]) -> None:
        super().__init__()
        self.configs = {c.dataset: c for c in configs}
        self.datamodules = datamodules
        first = configs[0]
        nets = {config.dataset: build_video_net(config, get_dataset(config.dataset).num_classes) for config in configs}
        shared = nets[first.dataset].backbone
        for net in nets.values():
            net.backbone = shared
        self.nets = nn.ModuleDict(nets)

    def on_after_batch_transfer(self, batch: dict[str, Any], dataloader_idx: int) -> dict[str, Any]:
        """Each dataset's clips get its own datamodule's device-side augmentation."""
        return {task: self.datamodules[task].on_after_batch_transfer(sub, 0) for task, sub in batch.items()}

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        losses = {}
        for task, sub in batch.items():
            if sub is None or "frames" not in sub:
                continue
            losses[task] = F.cross_entropy(self.nets[task](sub["frames"]), sub["label"])
            self.log(f"train/loss_{task}", losses[task], on_step=True, on_epoch=True, batch_size=len(sub["label"]))
        loss = sum(losses.values())
        if not torch.isfinite(loss):
            raise NonFiniteLossError(f"multi-task training loss is {float(loss)} at step {self.global_step}")
        self.log("train/loss", loss, prog_bar=True, on_step=True, on_epoch=True)
        return loss

    def configure_optimizers(self) -> dict[str, Any]:
        """The tasks share every optimisation setting (:data:`SHARED_FIELDS`): the first task's."""
        return build_optimizer(next(iter(self.configs.values())), self.nets)

    def task_model(self, task: str) -> VideoClassifier:
        """A single-dataset classifier around this network's shared backbone and ``task``'s classifier."""
        config = self.configs[task]
        model = VideoClassifier(config, get_dataset(task).num_classes)
        model.net = self.nets[task]
        return model.eval()


def run_multitask(
    configs: Sequence[RunConfig], roots: dict[str, str | None], options: RunOptions
) -> list[dict[str, Any]]:
    """Train one network on every dataset at once, then test each; returns (and upserts) one row per dataset."""
    from dataclasses import replace

    check_tasks(configs)
    started = time.time()
    pl.seed_everything(configs[0].seed, workers=True, verbose=False)
    task_options = {c.dataset: replace(options, data_root=roots.get(c.dataset)) for c in configs}
    probe = {c.dataset: VideoClassifier(c, get_dataset(c.dataset).num_classes) for c in configs}
    datamodules = {
        task: build_datamodule(probe[task].config, task_options[task], probe[task].net.backbone.input_norm)
        for task in probe
    }
    model = MultiTaskClassifier(configs, datamodules)
    identity = multitask_id(configs)
    checkpoint = ModelCheckpoint(dirpath=Path(options.work_dir) / f"multitask-{identity}" / "checkpoints", save_last=True)
    throughput = TrainThroughput()
    trainer = build_trainer(configs[0], options, [checkpoint, throughput], logger=False)
    for datamodule in datamodules.values():
        datamodule.trainer = trainer  # so that each shards its loaders under DDP
        datamodule.setup()
    loaders = CombinedLoader({task: dm.train_dataloader() for task, dm in datamodules.items()}, mode="max_size_cycle")
    trainer.fit(model, train_dataloaders=loaders)
    if not trainer.is_global_zero:
        return []
    rows = []
    for config in configs:
        task = config.dataset
        spec = get_dataset(task)
        test_started = time.perf_counter()
        outputs = stream_outputs(config, task_options[task], "test", model=model.task_model(task))
        test_seconds = time.perf_counter() - test_started
        expected = len(datamodules[task].splits.test)
        rows.append(
            finished_row(
                config,
                run_id=f"{identity}-{task}"[:24],
                **keep_scored_outputs(
                    options.run_dir(f"{identity}-{task}"[:24]), outputs.video_ids, outputs.values, outputs.labels, spec.multi_label
                ),
                system="multitask",
                world_size=trainer.world_size,
                **score_metrics(outputs.values, outputs.labels, spec.num_classes, spec.multi_label),
                **video_counts(expected, len(outputs.video_ids)),
                train_clips_per_s=throughput.clips_per_second,
                test_clips_per_s=len(outputs.video_ids) / test_seconds if test_seconds > 0 else float("nan"),
                wall_s=elapsed(started),
                detail="trained jointly with " + ", ".join(c.dataset for c in configs if c.dataset != task),
            )
        )
    upsert_rows(options.leaderboard, rows)
    return rows
