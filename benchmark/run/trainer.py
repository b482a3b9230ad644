"""The Lightning Trainer of a run: devices, limits, gradient clipping, loggers, atomic checkpoint writes."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.loggers import CSVLogger, Logger

from benchmark.run.atomic_checkpoint import AtomicCheckpointIO
from benchmark.run.config import RunConfig
from benchmark.run.options import RunOptions
from benchmark.run.wandb_logging import wandb_logger


LEARNING_CURVE = "metrics.csv"


def csv_log(config: RunConfig, options: RunOptions) -> Path:
    """Lightning's CSV log of the run (losses, accuracies and learning rates per step and epoch)."""
    return Path(options.work_dir) / config.run_id / "logs" / LEARNING_CURVE


def run_loggers(config: RunConfig, options: RunOptions) -> list[Logger]:
    """Lightning's CSV log in ``<work>/<run id>/logs``, and wandb when asked for (and available)."""
    loggers: list[Logger] = [CSVLogger(options.work_dir, name=config.run_id, version="logs")]
    if options.wandb:
        wandb = wandb_logger(config, options)
        if wandb is not None:
            loggers.append(wandb)
    return loggers


def build_trainer(
    config: RunConfig, options: RunOptions, callbacks: list[pl.Callback], logger: bool = True
) -> pl.Trainer:
    limits: dict[str, Any] = {}
    if options.limit_train_batches is not None:
        limits["limit_train_batches"] = options.limit_train_batches
    if options.limit_eval_batches is not None:
        limits["limit_val_batches"] = options.limit_eval_batches
        limits["limit_test_batches"] = options.limit_eval_batches
    return pl.Trainer(
        max_epochs=config.epochs,
        accelerator=options.accelerator,
        devices=options.devices,
        strategy=options.strategy,
        num_nodes=options.num_nodes,
        gradient_clip_val=config.clip_grad_norm,
        gradient_clip_algorithm="norm",
        logger=run_loggers(config, options) if logger else False,
        callbacks=callbacks,
        use_distributed_sampler=False,  # the datamodule shards itself, without padding at evaluation
        enable_progress_bar=options.progress,
        enable_model_summary=False,
        log_every_n_steps=10,
        default_root_dir=options.work_dir,
        num_sanity_val_steps=0,
        plugins=[AtomicCheckpointIO()],  # a process killed while saving leaves the previous checkpoint whole
        **limits,
    )
