"""One run: fit, then test, then one leaderboard row (written by the global rank 0 only)."""
from __future__ import annotations

import json
import os
import sys
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import ModelCheckpoint, TQDMProgressBar
from pytorch_lightning.loggers import CSVLogger, Logger

from benchmark.complexity import count_network
from benchmark.config import RunConfig
from benchmark.confusion import mean_class_accuracy, save_confusion, subset_top1, top1
from benchmark.module import VideoClassifier
from benchmark.provenance import git_sha
from benchmark.results import finished_run_ids, upsert_rows
from benchmark.throughput import TrainThroughput
from datamodules.datamodule import VideoDataModule
from datamodules.datasets import get_dataset


@dataclass(frozen=True)
class RunOptions:
    """How and where a run executes; none of this changes the run id."""

    data_root: str | None = None
    results_dir: str = "results"
    work_dir: str = "runs"
    accelerator: str = "auto"
    devices: int | str = 1
    strategy: str = "auto"
    num_nodes: int = 1
    num_workers: int = 2
    progress: bool = True
    wandb: bool = False
    limit_train_batches: int | float | None = None
    limit_eval_batches: int | float | None = None
    resume: bool = True  # continue an interrupted run from its last checkpoint


def _loggers(config: RunConfig, options: RunOptions) -> list[Logger]:
    loggers: list[Logger] = [CSVLogger(options.work_dir, name=config.run_id, version="logs")]
    if options.wandb:
        wandb_logger = _wandb_logger(config, options)
        if wandb_logger is not None:
            loggers.append(wandb_logger)
    return loggers


def wandb_configured() -> bool:
    """Whether the user set wandb up: WANDB_MODE or WANDB_API_KEY set, or a `wandb login` entry in ~/.netrc."""
    if os.environ.get("WANDB_MODE") or os.environ.get("WANDB_API_KEY"):
        return True
    try:
        import netrc

        return netrc.netrc().authenticators("api.wandb.ai") is not None
    except (OSError, netrc.NetrcParseError):
        return False


def _wandb_logger(config: RunConfig, options: RunOptions) -> Logger | None:
    """Offline unless the user configured wandb; a missing or failing wandb only warns."""
    try:
        from pytorch_lightning.loggers import WandbLogger

        configured = wandb_configured()
        return WandbLogger(
            project=os.environ.get("WANDB_PROJECT", "stbench"),
            name=f"{config.head}-{config.backbone}-{config.dataset}-{config.run_id}",
            save_dir=options.work_dir,
            offline=not configured,
            config=config.to_dict(),
        )
    except Exception as error:  # wandb missing or failing must not stop a benchmark
        warnings.warn(f"wandb logging disabled: {error}")
        return None


def make_datamodule(config: RunConfig, options: RunOptions, model: VideoClassifier) -> VideoDataModule:
    return VideoDataModule(
        config.dataset,
        num_segments=config.segments,
        batch_size=config.batch_size,
        input_size=config.input_size,
        input_norm=model.net.backbone.input_norm,
        seed=config.seed,
        root=options.data_root,
        split=config.split,
        num_workers=options.num_workers,
        progress=options.progress,
    )


def _log_to_wandb(trainer: pl.Trainer, row: dict[str, Any], confusion: torch.Tensor, names: list[str]) -> None:
    """Send the run's leaderboard row and test confusion matrix to wandb, if it is logging; never fatal."""
    from pytorch_lightning.loggers import WandbLogger

    for logger in trainer.loggers:
        if not isinstance(logger, WandbLogger):
            continue
        try:
            logger.log_table("results/leaderboard_row", columns=list(row), data=[[str(v) for v in row.values()]])
            matrix = [[name, *map(int, counts)] for name, counts in zip(names, confusion.tolist())]
            logger.log_table("results/confusion", columns=["true_class", *names], data=matrix)
        except Exception as error:  # a failing wandb must not lose the run's results
            warnings.warn(f"wandb logging of the results failed: {error}")


def log_report_to_wandb(report: Path, figures: Sequence[Path], options: RunOptions) -> None:
    """Log a sweep report (its Markdown and plots) as a wandb run of its own; never fatal."""
    try:
        import wandb

        run = wandb.init(
            project=os.environ.get("WANDB_PROJECT", "stbench"),
            name=f"report-{report.stem}",
            job_type="report",
            dir=options.work_dir,
            mode=None if wandb_configured() else "offline",
        )
        run.log({f"report/{figure.stem}": wandb.Image(str(figure)) for figure in figures})
        run.log({"report/markdown": wandb.Html(f"<pre>{report.read_text()}</pre>")})
        run.finish()
    except Exception as error:
        warnings.warn(f"wandb logging of the report failed: {error}")


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
        logger=_loggers(config, options) if logger else False,
        callbacks=callbacks,
        use_distributed_sampler=False,  # the datamodule shards itself, without padding at evaluation
        enable_progress_bar=options.progress,
        enable_model_summary=False,
        log_every_n_steps=10,
        default_root_dir=options.work_dir,
        num_sanity_val_steps=0,
        **limits,
    )


def resumable_checkpoint(config: RunConfig, options: RunOptions) -> str | None:
    """The ``last.ckpt`` of an interrupted earlier attempt at this run, if any.

    A run that already has a finished leaderboard row is trained afresh instead.
    """
    last = Path(options.work_dir) / config.run_id / "checkpoints" / "last.ckpt"
    if not options.resume or not last.is_file():
        return None
    if config.run_id in finished_run_ids(Path(options.results_dir) / "leaderboard.csv"):
        return None
    return str(last)


def epochs_trained(checkpoint: str | Path) -> int:
    """Training epochs a checkpoint holds (one written at an epoch's end counts that epoch as processed)."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    return int(state["loops"]["fit_loop"]["epoch_progress"]["current"]["processed"])


def run(config: RunConfig, options: RunOptions = RunOptions(), fresh: bool = False) -> dict[str, Any] | None:
    """Train and test one configuration; returns the leaderboard row on global rank 0, else None.

    An interrupted earlier attempt is resumed from its last checkpoint unless ``fresh``."""
    started = time.time()
    pl.seed_everything(config.seed, workers=True, verbose=False)
    model = VideoClassifier(config, get_dataset(config.dataset).num_classes)
    datamodule = make_datamodule(config, options, model)
    throughput = TrainThroughput()
    checkpoint_dir = Path(options.work_dir) / config.run_id / "checkpoints"
    checkpoint = ModelCheckpoint(dirpath=checkpoint_dir, save_last=True)
    callbacks: list[pl.Callback] = [throughput, checkpoint]
    if options.progress:
        # redraw every step on a terminal; in a log file every 25 steps is enough
        callbacks.append(TQDMProgressBar(refresh_rate=1 if sys.stderr.isatty() else 25))
    trainer = build_trainer(config, options, callbacks)
    resume_from = None if fresh else resumable_checkpoint(config, options)
    resumed_epoch = epochs_trained(resume_from) if resume_from else 0
    trainer.fit(model, datamodule=datamodule, ckpt_path=resume_from)
    trainer.test(model, datamodule=datamodule, verbose=False)
    if not trainer.is_global_zero:
        return None

    confusion = model.test_confusion
    assert confusion is not None
    splits = datamodule.splits
    assert splits is not None
    names = splits.class_names
    pair_classes = [name for pair in splits.reversed_pairs for name in pair]
    complexity = count_network(model.net, config.segments, config.input_size)
    n_evaluated = int(confusion.sum())
    row = {
        "run_id": config.run_id,
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git_sha": git_sha(),
        "status": "finished",
        "dataset": config.dataset,
        "split": config.split,
        "modality": config.modality,
        "backbone": config.backbone,
        "head": config.head,
        "segments": config.segments,
        "input_size": config.input_size,
        "seed": config.seed,
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "lr": config.lr,
        "world_size": trainer.world_size,
        "top1": top1(confusion),
        "top5": float(trainer.callback_metrics["test/top5"]),
        "mean_class_acc": mean_class_accuracy(confusion),
        "map": float(trainer.callback_metrics["test/map"]),
        "top1_reversed_pairs": subset_top1(confusion, names, pair_classes),
        "n_test": n_evaluated,
        "n_test_expected": len(splits.test),
        "n_test_evaluated": n_evaluated,
        **complexity,
        "resumed_epoch": resumed_epoch,
        "train_clips_per_s": throughput.clips_per_second,
        "wall_s": round(time.time() - started, 1),
    }
    _log_to_wandb(trainer, row, confusion, names)
    run_dir = Path(options.results_dir) / "runs" / config.run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.json").write_text(json.dumps(config.to_dict(), indent=2) + "\n")
    save_confusion(confusion, names, run_dir / "confusion.csv")
    upsert_rows(Path(options.results_dir) / "leaderboard.csv", [row])
    return row
