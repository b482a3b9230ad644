"""``stbench flow DATASET --root PATH``: extract the optical flow of every video of a dataset."""
from __future__ import annotations

import argparse
from pathlib import Path


def _records(dataset: str, root: Path | None, split: str, progress: bool) -> list:
    """Train, validation and test records of a split, de-duplicated by video id (first kept)."""
    from datamodules.datasets import get_dataset

    splits = get_dataset(dataset).load(root, split, progress)
    unique: dict[str, object] = {}
    for record in [*splits.train, *splits.val, *splits.test]:
        unique.setdefault(record.video_id, record)
    return list(unique.values())


def default_flow_root(root: Path | None, dataset: str = "synthetic") -> Path:
    """``<root>/flow``; for the built-in dataset, ``flow`` inside the generated dataset's folder."""
    from datamodules.flow.records import default_flow_root as flow_root_of

    return flow_root_of(dataset, root)


def command_flow(args: argparse.Namespace) -> int:
    from benchmark.cli.preflight import check_data_root, check_writable_folder
    from benchmark.cli.user_errors import UsageError
    from datamodules.datasets import get_dataset
    from datamodules.flow.extract import extract_dataset_flow, resolve_method

    spec = get_dataset(args.dataset)
    split = spec.check_split(args.split or spec.default_split)
    check_data_root(spec, args.root, "--root")
    if args.flow_root:
        check_writable_folder("--flow-root", args.flow_root)
    try:
        method = resolve_method(args.method)
    except ValueError as error:  # a method the installed OpenCV lacks
        raise UsageError(f"--method {args.method}: {error}") from None
    root = Path(args.root) if args.root is not None else None
    flow_root = Path(args.flow_root) if args.flow_root else default_flow_root(root, args.dataset)
    check_writable_folder("flow folder", flow_root)
    size = tuple(args.size) if args.size else spec.decode_size
    records = _records(args.dataset, root, split, not args.no_progress)
    print(f"{args.dataset}: {len(records)} videos -> {flow_root} (method {method}, bound {args.bound:g} px, "
          f"size {size[0]}x{size[1]}, {args.workers} worker(s))", flush=True)  # fmt: skip
    summary = extract_dataset_flow(records, flow_root, method, args.bound, size, args.workers, not args.no_progress)
    print(f"method: {summary.method}")
    print(f"videos: {summary.done} extracted, {summary.skipped} already done (skipped), {len(summary.failed)} failed")
    if summary.done:
        print(f"speed: {summary.pairs_computed} flow pairs in {summary.seconds:.1f} s "
              f"({summary.pairs_per_second:.1f} pairs/s)")  # fmt: skip
    print(f"storage: {summary.total_bytes / 2**20:.1f} MiB in all, "
          f"{summary.mean_bytes_per_video / 1024:.1f} KiB per video")  # fmt: skip
    for failure in summary.failed:
        print(f"FAILED {failure.video_id} ({failure.source}): {failure.error}")
    return 1 if summary.failed else 0


def add_flow_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``flow`` subcommand and its handler."""
    from benchmark.cli.option_types import number, whole
    from datamodules.datasets import DATASETS
    from datamodules.flow.extract import DEFAULT_BOUND, METHODS

    parser = subparsers.add_parser(
        "flow", help="extract optical flow of every video as quantised JPEG pairs (resumable)"
    )
    parser.add_argument("dataset", choices=sorted(DATASETS))
    parser.add_argument(
        "--root", default=None, help="the dataset folder (synthetic: a generated dataset or a cache folder)"
    )
    parser.add_argument("--flow-root", default=None, help="where flow goes (default: <root>/flow)")
    parser.add_argument(
        "--split", default=None, help="annotation split whose videos to extract (default: the dataset's first)"
    )
    parser.add_argument("--method", default="auto", choices=["auto", *METHODS],
                        help="auto: TV-L1 if OpenCV has it, else DIS, else Farneback")  # fmt: skip
    parser.add_argument(
        "--bound", type=number(0, low_open=True), default=DEFAULT_BOUND,
        help="flow clipped to ±bound pixels before quantising",
    )  # fmt: skip
    parser.add_argument("--size", type=whole(8, 4096), nargs=2, default=None, metavar=("H", "W"),
                        help="resize frames to H W before flow (default: the dataset's decode size)")  # fmt: skip
    parser.add_argument("--workers", type=whole(1, 1024), default=1, help="processes")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.set_defaults(handler=command_flow)
