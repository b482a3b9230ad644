"""One run: build, count, fit, test, then one leaderboard row (written by the global rank 0 only).

What is built depends on the run's kind (:mod:`benchmark.run.kinds`): the LightningModule, its
datamodule and how its network is counted. Parameters and MACs are counted before training, so a
network with an op that has no counting rule fails at once, with a ``failed`` row.
"""
from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import ModelCheckpoint, TQDMProgressBar

from benchmark.results.bad_videos import bad_video_table, count_stage, save_bad_videos
from benchmark.results.confusion import save_confusion
from benchmark.results.leaderboard import finished_run_ids, upsert_rows
from benchmark.results.metrics import mean_class_accuracy, subset_top1, top1
from benchmark.results.intervals import run_intervals
from benchmark.results.predictions import PREDICTIONS_NAME, Predictions, make_predictions, save_predictions
from benchmark.results.provenance import data_fingerprint
from benchmark.run.checkpoint import allowed_globals
from benchmark.run.config import RunConfig
from benchmark.run.kinds import run_kind
from benchmark.run.lease_watch import LeaseWatch
from benchmark.run.module import VideoClassifier
from benchmark.run.options import RunOptions
from benchmark.run.resume import ResumePoint, epochs_trained, resume_point
from benchmark.run.rng_state import RandomStateCheckpoint
from benchmark.run.setting_rules import check_cell
from benchmark.run.rows import elapsed, failed_row, finished_row, video_counts
from benchmark.run.schedule import schedule_callbacks
from benchmark.run.throughput import TestThroughput, TrainThroughput
from benchmark.run.trainer import LEARNING_CURVE, build_trainer, csv_log
from benchmark.run.wandb_logging import log_run_to_wandb
from datamodules.datasets import get_dataset
from datamodules.fencing import LeaseLost, fence_in_force
from datamodules.storage import write_atomically

__all__ = ["RunOptions", "run", "record_failure", "resumable_checkpoint", "epochs_trained"]


def resumable_checkpoint(config: RunConfig, options: RunOptions) -> ResumePoint | None:
    """Where an interrupted earlier attempt at this run continues from, if there was one
    (:func:`benchmark.run.resume.resume_point`: the newest readable checkpoint, else from scratch).

    A run that already has a finished leaderboard row is trained afresh instead.
    """
    if not options.resume or config.run_id in finished_run_ids(options.leaderboard):
        return None
    return resume_point(options.checkpoint_dir(config.run_id), options.trust_checkpoint)


def stop_other_processes(trainer: pl.Trainer) -> None:
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


def record_failure(
    config: RunConfig, options: RunOptions, error: BaseException, started: float, detail: str = ""
) -> dict[str, Any]:
    """Upsert a ``failed`` leaderboard row naming the error (an earlier finished row is replaced)."""
    row = failed_row(config, error, started)
    if detail:
        row["detail"] = detail
    upsert_rows(options.leaderboard, [row])
    return row


def run(config: RunConfig, options: RunOptions = RunOptions(), fresh: bool = False) -> dict[str, Any] | None:
    """Train and test one configuration; returns the leaderboard row on global rank 0, else None.

    An interrupted earlier attempt is resumed from its last checkpoint unless ``fresh``. A run that
    raises (a network that cannot be counted, a non-finite loss, an unreadable video under
    ``on_bad_video="fail"``, …) leaves a ``failed`` row with the error, then re-raises. A configuration
    no run can take (:func:`benchmark.run.setting_rules.check_cell`) raises before anything is written."""
    check_cell(config)
    started = time.time()
    pl.seed_everything(config.seed, workers=True, verbose=False)
    spec = get_dataset(config.dataset)
    kind = run_kind(config)
    try:
        model = kind.build_model(config, spec.num_classes, spec.multi_label)
        complexity = kind.count(config, model)
    except Exception as error:
        record_failure(config, options, error, started)
        raise
    datamodule = kind.datamodule(config, options, model)
    throughput = TrainThroughput()
    test_throughput = TestThroughput()
    checkpoint = ModelCheckpoint(dirpath=options.checkpoint_dir(config.run_id), save_last=True)
    callbacks: list[pl.Callback] = [throughput, test_throughput, checkpoint, RandomStateCheckpoint()]
    callbacks.append(LeaseWatch(fence_in_force()))  # a sweep cell whose claim was taken over stops
    callbacks += schedule_callbacks(config)
    if options.progress:
        # redraw every step on a terminal; in a log file every 25 steps is enough
        callbacks.append(TQDMProgressBar(refresh_rate=1 if sys.stderr.isatty() else 25))
    trainer = build_trainer(config, options, callbacks)
    resume = None if fresh else resumable_checkpoint(config, options)
    resume_from, resumed_epoch = (resume.path, resume.epochs) if resume else (None, 0)
    detail = resume.note if resume else ""
    try:
        with allowed_globals():
            trainer.fit(model, datamodule=datamodule, ckpt_path=resume_from, weights_only=not options.trust_checkpoint)
        trainer.test(model, datamodule=datamodule, verbose=False)
    except BaseException as error:
        # The process whose own error it is writes the failed row; a process that only lost its
        # peers (a communication error) leaves that row to the process that failed; one whose
        # sweep cell was taken over by another process (LeaseLost) writes none.
        if not isinstance(error, (KeyboardInterrupt, LeaseLost)) and not (
            trainer.world_size > 1 and is_communication_error(error)
        ):
            record_failure(config, options, error, started, detail)
        if trainer.is_global_zero:
            stop_other_processes(trainer)
        raise
    bad_entries = model.gathered_bad_videos()  # a collective: every process takes part
    if not trainer.is_global_zero:
        return None

    splits = datamodule.splits
    assert splits is not None
    names = splits.class_names
    run_dir = options.run_dir(config.run_id)
    run_dir.mkdir(parents=True, exist_ok=True)
    bad = bad_video_table(bad_entries, {"train": splits.train, "val": splits.val, "test": splits.test})
    if len(bad):
        save_bad_videos(bad, run_dir / "bad_videos.csv")
    n_evaluated = model.test_count
    predictions = kept_predictions(model, splits, spec.multi_label, run_dir)
    row = finished_row(
        config,
        world_size=trainer.world_size,
        **accuracy_figures(model, splits),
        map=float(trainer.callback_metrics["test/map"]),
        **video_counts(len(splits.test), n_evaluated, failed=count_stage(bad, "test")),
        n_train_skipped=count_stage(bad, "train"),
        **complexity,
        resumed_epoch=resumed_epoch,
        train_clips_per_s=throughput.clips_per_second,
        test_clips_per_s=test_throughput.clips_per_second(n_evaluated),
        wall_s=elapsed(started),
        **(run_intervals(predictions) if predictions is not None else {}),
        data_fingerprint=data_fingerprint(splits, data_folder(spec, datamodule)),
        **({"detail": detail} if detail else {}),
    )
    (run_dir / "config.json").write_text(json.dumps(config.to_dict(), indent=2) + "\n")
    keep_learning_curve(config, options, run_dir)
    log_run_to_wandb(trainer, row, model.test_confusion, names)
    if model.test_confusion is not None:
        save_confusion(model.test_confusion, names, run_dir / "confusion.csv")
    upsert_rows(options.leaderboard, [row])
    return row


def keep_learning_curve(config: RunConfig, options: RunOptions, run_dir: Path) -> None:
    """Copy Lightning's CSV log next to the run's other results (``<results>/runs/<id>/metrics.csv``),
    so that reports can draw the learning curve from committed files."""
    log = csv_log(config, options)
    if log.is_file():
        write_atomically(run_dir / LEARNING_CURVE, log.read_bytes())


def kept_predictions(model: VideoClassifier, splits: Any, multi_label: bool, run_dir: Path) -> Predictions | None:
    """Write the run's per-video test outputs (:mod:`benchmark.results.predictions`) and return them."""
    outputs = model.gathered_test_outputs
    if outputs is None:
        return None
    video_ids = [record.video_id for record in splits.test]
    predictions = make_predictions(*outputs, video_ids, multi_label)
    save_predictions(predictions, run_dir / PREDICTIONS_NAME)
    return predictions


def data_folder(spec: Any, datamodule: Any) -> Path | None:
    """The folder the run's data came from (a generated dataset's own folder), when one is known."""
    clips = getattr(datamodule, "clips", datamodule)  # a feature-cache datamodule reads through its clip datamodule
    root = getattr(clips, "root", None)
    if root is None and spec.generated:
        return spec.data_root(None)
    return root


def accuracy_figures(model: VideoClassifier, splits: Any) -> dict[str, float]:
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
