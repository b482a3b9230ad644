"""Arguments shared by the commands that train: what to run (the run id's settings) and where and
how it runs (devices, paths; not part of the run id), and their translation into a RunConfig and
RunOptions. Heavy imports stay inside the functions so that ``stbench --help`` is fast."""
from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from benchmark.cli import option_types as types
from benchmark.cli.user_errors import UsageError

if TYPE_CHECKING:
    from benchmark.run.config import RunConfig
    from benchmark.run.runner import RunOptions


def say(message: str) -> None:
    """A progress line, printed by the global-rank-0 process only (DDP processes share the terminal)."""
    from pytorch_lightning.utilities import rank_zero_only

    if rank_zero_only.rank == 0:
        print(message, flush=True)


def add_run_arguments(parser: argparse.ArgumentParser, dataset: bool = True) -> None:
    """``dataset=False`` leaves out --dataset / --split (commands that name their datasets otherwise)."""
    add_what_arguments(parser, dataset)
    add_how_arguments(parser)


def add_what_arguments(parser: argparse.ArgumentParser, dataset: bool = True) -> None:
    from backbones import BACKBONES
    from datamodules.datasets import DATASETS
    from datamodules.modality import Modality

    what = parser.add_argument_group("what to run (unset values come from the dataset's protocol)")
    if dataset:
        what.add_argument("--dataset", default="synthetic", choices=sorted(DATASETS))
        what.add_argument(
            "--split", default=None, help="dataset split (default: the dataset's first, e.g. 1 of UCF-101's 1, 2, 3)"
        )
    what.add_argument("--backbone", default="smallcnn", choices=sorted(BACKBONES))
    what.add_argument("--backbone-weights", default=None, metavar="PATH", help="local ImageNet weight file")
    what.add_argument("--partial-bn", action="store_true", help="freeze every backbone BatchNorm but the first")
    what.add_argument("--segments", type=types.SEGMENTS, default=None, metavar="T")
    what.add_argument("--input-size", type=types.INPUT_SIZE, default=None)
    what.add_argument("--epochs", type=types.EPOCHS, default=None)
    what.add_argument("--batch-size", type=types.BATCH_SIZE, default=None, help="clips per process and step")
    what.add_argument("--optimizer", default=None, choices=["sgd", "adam"])
    what.add_argument("--lr", type=types.LEARNING_RATE, default=None)
    what.add_argument(
        "--lr-steps", type=types.LR_STEP, nargs="*", default=None, metavar="EPOCH", help="epochs where lr ×0.1"
    )
    what.add_argument("--weight-decay", type=types.NON_NEGATIVE, default=None)
    what.add_argument(
        "--transform-init-std", type=types.NON_NEGATIVE, default=None, help="std of the backbone-to-head layer's init"
    )
    what.add_argument("--seed", type=types.SEED, default=0)
    what.add_argument(
        "--modality", default="rgb", choices=[str(m) for m in Modality], help="flow, rgb+flow: run `stbench flow` first"
    )
    what.add_argument(
        "--flow-length", type=types.FLOW_LENGTH, default=None, metavar="L", help="flow pairs stacked per segment"
    )
    what.add_argument(
        "--holdout-fraction", type=types.FRACTION, default=None, help="share of each training class held out (validation)"
    )
    what.add_argument(
        "--test-clips", type=types.VIEWS, default=None, help="temporal test views per video (scores averaged)"
    )
    what.add_argument(
        "--test-crops", type=int, default=None, choices=[1, 3, 10], help="spatial test views per clip (10: corners, centre, flips)"
    )


def add_how_arguments(parser: argparse.ArgumentParser) -> None:
    how = parser.add_argument_group("where and how it runs (not part of the run id)")
    how.add_argument(
        "--data-root",
        "--root",
        dest="data_root",
        default=None,
        help="dataset folder (synthetic: a cache folder to generate into, or a generated dataset)",
    )
    how.add_argument("--flow-root", default=None, help="optical flow folder (default: <data root>/flow)")
    how.add_argument("--results-dir", default="results", help="leaderboard.csv and per-run results go here")
    how.add_argument("--work-dir", default="runs", help="logs and checkpoints go here")
    how.add_argument("--accelerator", type=types.accelerator, default="auto", help="auto, cpu, gpu, cuda, ...")
    how.add_argument(
        "--devices", type=types.devices, default="1", help="number of devices per node, or 'auto', or indices (0,1)"
    )
    how.add_argument("--strategy", type=types.strategy, default="auto", help="e.g. ddp")
    how.add_argument("--num-nodes", type=types.COUNT, default=1)
    how.add_argument("--workers", type=types.WORKERS, default=2, help="data loader processes per device")
    how.add_argument("--no-progress", action="store_true", help="hide progress bars")
    how.add_argument("--verbose", action="store_true", help="also show Lightning's INFO lines and its notes")
    how.add_argument(
        "--data-timeout",
        type=types.NON_NEGATIVE,
        default=None,
        metavar="SECONDS",
        help="a run fails, naming the videos its data workers were reading, when they deliver no batch for this "
        "long (default 300, or the STBENCH_DATA_TIMEOUT_S environment variable; 0: no limit)",
    )
    how.add_argument(
        "--on-bad-video",
        default="fail",
        choices=["fail", "skip"],
        help="unreadable video: stop the run naming it (fail), or leave it out, counted and listed (skip)",
    )
    how.add_argument("--wandb", action="store_true", help="log to Weights & Biases (offline unless configured)")
    how.add_argument(
        "--limit-train-batches", type=types.POSITIVE, default=None, help="debug: fraction (<=1) or count of batches"
    )
    how.add_argument(
        "--limit-eval-batches", type=types.POSITIVE, default=None, help="debug: fraction (<=1) or count of batches"
    )
    how.add_argument(
        "--trust-checkpoint",
        action="store_true",
        help="load checkpoints (resumed, tested, or a system's streams) with the full unpickler even when they "
        "need types outside the allow-list; this can run code stored in the file: only for files you trust",
    )


def _limit(value: float | None) -> int | float | None:
    """A --limit-*-batches value as Lightning reads it: a count above 1, else a fraction."""
    if value is None:
        return None
    return int(value) if value > 1 else value


def set_data_timeout(seconds: float | None) -> None:
    """``--data-timeout`` for this process and the ones it starts (DDP ranks read the same variable);
    without it, the environment's value is checked here rather than when the first loader starts."""
    from datamodules.workers import DATA_TIMEOUT_ENV, data_timeout_s

    if seconds is not None:
        os.environ[DATA_TIMEOUT_ENV] = repr(float(seconds))
    try:
        data_timeout_s()
    except ValueError as error:
        raise UsageError(str(error)) from None


def run_options(args: argparse.Namespace) -> RunOptions:
    """The where-and-how arguments (:func:`add_how_arguments`) as RunOptions."""
    from benchmark.run.runner import RunOptions

    devices: int | str = int(args.devices) if str(args.devices).isdigit() else args.devices
    set_data_timeout(args.data_timeout)
    return RunOptions(
        data_root=args.data_root,
        results_dir=args.results_dir,
        work_dir=args.work_dir,
        accelerator=args.accelerator,
        devices=devices,
        strategy=args.strategy,
        num_nodes=args.num_nodes,
        num_workers=args.workers,
        progress=not args.no_progress,
        wandb=args.wandb,
        on_bad_video=args.on_bad_video,
        flow_root=args.flow_root,
        limit_train_batches=_limit(args.limit_train_batches),
        limit_eval_batches=_limit(args.limit_eval_batches),
        trust_checkpoint=args.trust_checkpoint,
    )


def run_config(args: argparse.Namespace, head: str) -> RunConfig:
    """The what-to-run arguments (:func:`add_what_arguments`) for ``head``, completed by the protocol;
    a value RunConfig refuses (a split the dataset does not have, a setting out of range) is a UsageError."""
    from benchmark.run.config import resolve_config

    try:
        return resolve_config(
            args.dataset,
            split=args.split,
            backbone=args.backbone,
            backbone_weights=args.backbone_weights,
            partial_bn=args.partial_bn or None,
            head=head,
            segments=args.segments,
            input_size=args.input_size,
            epochs=args.epochs,
            batch_size=args.batch_size,
            optimizer=args.optimizer,
            lr=args.lr,
            lr_steps=args.lr_steps,
            weight_decay=args.weight_decay,
            transform_init_std=args.transform_init_std,
            seed=args.seed,
            test_clips=args.test_clips,
            test_crops=args.test_crops,
            modality=args.modality,
            flow_length=args.flow_length,
            holdout_fraction=args.holdout_fraction,
        )
    except ValueError as error:  # RunConfig refusing a value given on the command line
        raise UsageError(str(error)) from None
