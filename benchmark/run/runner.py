"""One run: fit, then test, then one leaderboard row (written by the global rank 0 only)."""
from __future__ import annotations

import json
import os
import signal
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

from benchmark.results.bad_videos import bad_video_table, count_stage, save_bad_videos
from benchmark.run.complexity import count_network
from benchmark.run.config import RunConfig
from benchmark.results.confusion import mean_class_accuracy, save_confusion, subset_top1, top1
from benchmark.run.module import VideoClassifier
from benchmark.results.provenance import git_sha
from benchmark.results.leaderboard import finished_run_ids, upsert_rows
from benchmark.run.throughput import TestThroughput, TrainThroughput
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
    # Unreadable videos: "fail" stops the run naming the video; "skip" leaves them out, counts them
    # (n_train_skipped, n_test_failed) and lists them in results/runs/<id>/bad_videos.csv.
    on_bad_video: str = "fail"
    flow_root: str | None = None  # the temporal stream's flow (default <data root>/flow)
    # Frozen-backbone runs: train from backbone maps cached once in <work_dir>/feature_cache/ (True),
    # or recompute the frozen backbone on decoded clips every step (False).
    feature_cache: bool = True


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
        on_bad_video=options.on_bad_video,
        test_views=config.test_clips,
        frames_per_segment=config.flow_length if config.modality == "flow" else 1,
        modality=config.modality,
        flow_root=options.flow_root,
        holdout_fraction=config.holdout_fraction,
    )


def _log_to_wandb(trainer: pl.Trainer, row: dict[str, Any], confusion: torch.Tensor | None, names: list[str]) -> None:
    """Send the run's leaderboard row and test confusion matrix to wandb, if it is logging; never fatal."""
    from pytorch_lightning.loggers import WandbLogger

    for logger in trainer.loggers:
        if not isinstance(logger, WandbLogger):
            continue
        try:
            logger.log_table("results/leaderboard_row", columns=list(row), data=[[str(v) for v in row.values()]])
            if confusion is None:
                continue
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


def _config_columns(config: RunConfig) -> dict[str, Any]:
    return {
        "run_id": config.run_id,
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git_sha": git_sha(),
        "dataset": config.dataset,
        "split": config.split,
        "system": config.head,
        "modality": config.modality,
        "backbone": config.backbone,
        "head": config.head,
        "segments": config.segments,
        "input_size": config.input_size,
        "seed": config.seed,
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "lr": config.lr,
        "test_views": config.test_clips * config.test_crops,
    }


def _stop_other_processes(trainer: pl.Trainer) -> None:
    """After a failure on the launching process, end the DDP processes it started.

    They would otherwise wait in a collective until the process-group timeout. (A failure on
    another process is handled by Lightning, which then ends every process within seconds.)
    """
    launcher = getattr(trainer.strategy, "launcher", None)
    if launcher is not None and hasattr(launcher, "kill") and getattr(launcher, "procs", None):
        launcher.kill(signal.SIGKILL)


def is_communication_error(error: BaseException) -> bool:
    """Whether ``error`` is a collective failing because another process went away."""
    dist_error = getattr(torch.distributed, "DistError", ())
    if dist_error and isinstance(error, dist_error):
        return True
    text = str(error)
    return any(mark in text for mark in ("Connection closed by peer", "Connection reset by peer", "Gloo", "NCCL"))


def record_failure(config: RunConfig, options: RunOptions, error: BaseException, started: float) -> dict[str, Any]:
    """Upsert a ``failed`` leaderboard row naming the error (an earlier finished row is replaced)."""
    row = {
        **_config_columns(config),
        "status": "failed",
        "error": f"{type(error).__name__}: {error}"[:500],
        "wall_s": round(time.time() - started, 1),
    }
    upsert_rows(Path(options.results_dir) / "leaderboard.csv", [row])
    return row


def run(config: RunConfig, options: RunOptions = RunOptions(), fresh: bool = False) -> dict[str, Any] | None:
    """Train and test one configuration; returns the leaderboard row on global rank 0, else None.

    An interrupted earlier attempt is resumed from its last checkpoint unless ``fresh``. A run that
    raises (a non-finite loss, an unreadable video under ``on_bad_video="fail"``, …) leaves a
    ``failed`` row with the error, then re-raises."""
    started = time.time()
    pl.seed_everything(config.seed, workers=True, verbose=False)
    spec = get_dataset(config.dataset)
    # -- deep fusion: two-stream network and RGB + flow clips (benchmark/run/deep_fusion.py)
    if config.head == "deep_fusion":
        from benchmark.run.deep_fusion import DeepFusionClassifier, deep_fusion_datamodule

        model = DeepFusionClassifier(config, spec.num_classes, multi_label=spec.multi_label)
        datamodule = deep_fusion_datamodule(config, options, model)
    # -- end deep fusion
    # -- frozen backbone: only transform + head train, from cached backbone maps unless
    #    options.feature_cache is off (benchmark/run/cached_module.py, benchmark/run/feature_cache.py)
    elif config.frozen_backbone:
        from benchmark.run.cached_module import FrozenBackboneClassifier
        from benchmark.run.feature_cache import cached_datamodule

        model = FrozenBackboneClassifier(config, spec.num_classes, multi_label=spec.multi_label)
        datamodule = make_datamodule(config, options, model)
        if options.feature_cache:
            backbone = model.net.backbone
            datamodule = cached_datamodule(config, datamodule, backbone, options.work_dir, options.num_workers, options.progress)
    else:
        model = VideoClassifier(config, spec.num_classes, multi_label=spec.multi_label)
        datamodule = make_datamodule(config, options, model)
    # -- end frozen backbone
    throughput = TrainThroughput()
    test_throughput = TestThroughput()
    checkpoint_dir = Path(options.work_dir) / config.run_id / "checkpoints"
    checkpoint = ModelCheckpoint(dirpath=checkpoint_dir, save_last=True)
    callbacks: list[pl.Callback] = [throughput, test_throughput, checkpoint]
    if options.progress:
        # redraw every step on a terminal; in a log file every 25 steps is enough
        callbacks.append(TQDMProgressBar(refresh_rate=1 if sys.stderr.isatty() else 25))
    trainer = build_trainer(config, options, callbacks)
    resume_from = None if fresh else resumable_checkpoint(config, options)
    resumed_epoch = epochs_trained(resume_from) if resume_from else 0
    try:
        trainer.fit(model, datamodule=datamodule, ckpt_path=resume_from)
        trainer.test(model, datamodule=datamodule, verbose=False)
    except BaseException as error:
        # The process whose own error it is writes the failed row; a process that only lost its
        # peers (a communication error) leaves that row to the process that failed.
        if not isinstance(error, KeyboardInterrupt) and not (
            trainer.world_size > 1 and is_communication_error(error)
        ):
            record_failure(config, options, error, started)
        if trainer.is_global_zero:
            _stop_other_processes(trainer)
        raise
    bad_entries = model.gathered_bad_videos()  # a collective: every process takes part
    if not trainer.is_global_zero:
        return None

    splits = datamodule.splits
    assert splits is not None
    names = splits.class_names
    run_dir = Path(options.results_dir) / "runs" / config.run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    bad = bad_video_table(bad_entries, {"train": splits.train, "val": splits.val, "test": splits.test})
    if len(bad):
        save_bad_videos(bad, run_dir / "bad_videos.csv")
    n_evaluated = model.test_count
    scores = _test_scores(model, splits)
    if config.head == "deep_fusion":  # -- deep fusion: both streams count as the backbone
        from benchmark.run.deep_fusion import count_deep_fusion

        complexity = count_deep_fusion(model.net, config.segments)
    else:
        complexity = count_network(model.net, config.segments, config.input_size)
    row = {
        **_config_columns(config),
        "status": "finished",
        "world_size": trainer.world_size,
        **scores,
        "map": float(trainer.callback_metrics["test/map"]),
        "n_test": n_evaluated,
        "n_test_expected": len(splits.test),
        "n_test_evaluated": n_evaluated,
        "n_test_failed": count_stage(bad, "test"),
        "n_train_skipped": count_stage(bad, "train"),
        **complexity,
        "resumed_epoch": resumed_epoch,
        "train_clips_per_s": throughput.clips_per_second,
        "test_clips_per_s": test_throughput.clips_per_second(n_evaluated),
        "wall_s": round(time.time() - started, 1),
    }
    (run_dir / "config.json").write_text(json.dumps(config.to_dict(), indent=2) + "\n")
    if model.test_confusion is not None:
        _log_to_wandb(trainer, row, model.test_confusion, names)
        save_confusion(model.test_confusion, names, run_dir / "confusion.csv")
    else:
        _log_to_wandb(trainer, row, None, names)
    upsert_rows(Path(options.results_dir) / "leaderboard.csv", [row])
    return row


def _test_scores(model: VideoClassifier, splits: Any) -> dict[str, float]:
    """Accuracy figures from the test confusion matrix; NaN for multi-label datasets (mAP only)."""
    confusion = model.test_confusion
    if confusion is None:
        nan = float("nan")
        return {"top1": nan, "top5": nan, "mean_class_acc": nan, "top1_reversed_pairs": nan}
    pair_classes = [name for pair in splits.reversed_pairs for name in pair]
    return {
        "top1": top1(confusion),
        "top5": float(model.trainer.callback_metrics["test/top5"]),
        "mean_class_acc": mean_class_accuracy(confusion),
        "top1_reversed_pairs": subset_top1(confusion, splits.class_names, pair_classes),
    }
