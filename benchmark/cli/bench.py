"""Command line of ``stbench bench data | train`` (plus ``cache`` / ``memory`` where their modules exist)."""
from __future__ import annotations

import argparse
import importlib.util
import os
from pathlib import Path

from benchmark.cli.option_types import BATCH_SIZE, COUNT, INPUT_SIZE, SEED, SEGMENTS, WORKERS, whole

DEFAULT_OUT_DIR = "results/perf"
OPTIONAL_COMMANDS: tuple[tuple[str, str], ...] = (
    ("benchmark.perf.cache", "add_cache_parser"),
    ("benchmark.perf.memory", "add_memory_parser"),
)


def add_bench_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``bench`` and its sub-commands on the top-level ``stbench`` sub-parsers."""
    bench = subparsers.add_parser("bench", help="performance measurements: data pipeline, training throughput")
    commands = bench.add_subparsers(dest="bench_command", required=True)
    _add_data_parser(commands)
    _add_train_parser(commands)
    # -- sub-commands kept in modules of their own (`bench cache`, `bench memory`): registered here
    # when their module exists; add further (module, function) pairs to OPTIONAL_COMMANDS.
    for module_name, function_name in OPTIONAL_COMMANDS:
        if importlib.util.find_spec(module_name) is not None:
            getattr(importlib.import_module(module_name), function_name)(commands)


def _add_data_parser(commands: argparse._SubParsersAction) -> None:
    from datamodules.datasets import DATASETS

    parser = commands.add_parser(
        "data",
        help="clips/s of the training loader vs the bare decoder vs a naive full decode, at equal worker counts",
    )
    parser.add_argument("--dataset", default="synthetic", choices=sorted(DATASETS), help="records to read (unless --videos)")
    parser.add_argument("--data-root", default=None, help="dataset folder (synthetic: a generated dataset or cache folder)")
    parser.add_argument(
        "--videos", default=None, metavar="DIR", help="read every video (.mp4 .avi .mpg .webm ...) in DIR instead (label 0), repeated up to --clips"
    )
    parser.add_argument("--workers", type=WORKERS, nargs="+", default=[0, 1, 2], help="worker counts to measure")
    parser.add_argument("--clips", type=COUNT, default=64, help="clips per timed pass (one warm-up batch excluded)")
    parser.add_argument("--segments", type=SEGMENTS, default=None, metavar="T", help="frames per clip (default: the dataset's)")
    parser.add_argument("--batch-size", type=BATCH_SIZE, default=None, help="default: the dataset's training batch size")
    parser.add_argument("--decode-size", type=whole(8, 4096), nargs=2, default=None, metavar=("H", "W"),
                        help="resize-on-decode size (default: the dataset's; 128 171 with --videos)")  # fmt: skip
    parser.add_argument("--rounds", type=COUNT, default=3, help="interleaved rounds; the median is reported")
    parser.add_argument("--seed", type=SEED, default=0)
    parser.add_argument(
        "--start-method", default=None, choices=["forkserver", "fork", "spawn"],
        help="how worker processes start (default: forkserver, as in runs); first_batch_s includes their start-up",
    )  # fmt: skip
    parser.add_argument("--out-dir", default=DEFAULT_OUT_DIR, help="data_<machine>.csv is written here")
    parser.set_defaults(handler=command_bench_data)


def command_bench_data(args: argparse.Namespace) -> int:
    from benchmark.perf import data as bench_data
    from datamodules.datasets import get_dataset

    spec = get_dataset(args.dataset)
    segments = args.segments or spec.protocol.segments
    batch_size = args.batch_size or spec.protocol.batch_size
    if args.start_method:
        from datamodules.workers import WORKER_START_ENV

        os.environ[WORKER_START_ENV] = args.start_method
    if args.videos:
        records = bench_data.folder_records(args.videos, args.clips)
        folder = Path(args.videos).resolve()
        source = f"videos:{folder.parent.name}/{folder.name}"
        decode_size = tuple(args.decode_size or bench_data.VIDEO_FOLDER_DECODE_SIZE)
    else:
        records = bench_data.dataset_records(args.dataset, args.data_root, args.clips)
        source, decode_size = args.dataset, tuple(args.decode_size or spec.decode_size)
    table = bench_data.measure(
        records, source, args.dataset, args.data_root, args.workers, segments, batch_size, decode_size,
        args.rounds, args.seed,
    )
    path = bench_data.write_results(table, args.out_dir)
    print()
    print(bench_data.format_table(table))
    print(f"\n{len(records)} clips x {segments} frames at {decode_size[0]}x{decode_size[1]}, batch {batch_size}, "
          f"median of {args.rounds} rounds; written to {path}")  # fmt: skip
    return 0


def _add_train_parser(commands: argparse._SubParsersAction) -> None:
    from backbones import BACKBONES
    from datamodules.datasets import DATASETS
    from heads import HEADS

    parser = commands.add_parser("train", help="training clips/s and the share of step time spent waiting for data")
    parser.add_argument("--backbone", default="smallcnn", choices=sorted(BACKBONES))
    parser.add_argument("--head", default="lstm", choices=list(HEADS))
    parser.add_argument("--dataset", default="synthetic", choices=sorted(DATASETS))
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--segments", type=SEGMENTS, default=None, metavar="T", help="default: the dataset's")
    parser.add_argument("--input-size", type=INPUT_SIZE, default=None, metavar="S", help="default: the dataset's")
    parser.add_argument("--batch-size", type=BATCH_SIZE, default=None, help="default: the dataset's")
    parser.add_argument("--steps", type=COUNT, default=20, help="timed training steps")
    parser.add_argument("--warmup", type=whole(0), default=3, help="untimed steps first (compilation happens here)")
    parser.add_argument("--workers", type=WORKERS, default=2, help="data loader processes")
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--bf16", action="store_true", help="bfloat16 autocast")
    parser.add_argument("--compile", action="store_true", help="torch.compile the network")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument(
        "--synthetic-input", action="store_true", help="random tensors instead of the loader: compute-only ceiling"
    )
    parser.add_argument("--seed", type=SEED, default=0)
    parser.add_argument("--out-dir", default=DEFAULT_OUT_DIR, help="train_<machine>.csv is written here")
    parser.set_defaults(handler=command_bench_train)


def command_bench_train(args: argparse.Namespace) -> int:
    from benchmark.perf import train as bench_train

    settings = bench_train.TrainBenchSettings(
        backbone=args.backbone, head=args.head, dataset=args.dataset, segments=args.segments,
        input_size=args.input_size, batch_size=args.batch_size, steps=args.steps, warmup=args.warmup,
        workers=args.workers, channels_last=args.channels_last, bf16=args.bf16, compile=args.compile,
        device=args.device, synthetic_input=args.synthetic_input, seed=args.seed,
    )  # fmt: skip
    row = bench_train.measure_training(settings, data_root=args.data_root)
    path = bench_train.write_results(row, args.out_dir)
    print()
    print(bench_train.format_row(row))
    print(f"\nwritten to {path}")
    return 0
