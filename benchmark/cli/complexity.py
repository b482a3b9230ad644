"""``stbench complexity``: parameters and MACs of every head on one backbone, as a table and a CSV."""
from __future__ import annotations

import argparse
from pathlib import Path

COLUMNS = [
    "head", "backbone", "segments", "num_classes", "input_size", "head_params", "transform_params",
    "backbone_params", "total_params", "head_macs", "transform_macs", "backbone_macs", "total_macs",
]  # fmt: skip


def default_out(dataset: str, segments: int, backbone: str, input_size: int) -> Path:
    return Path("results") / "complexity" / f"{dataset}_{segments}seg_{backbone}_{input_size}.csv"


def command_complexity(args: argparse.Namespace) -> int:
    import pandas as pd

    from benchmark.cli.preflight import check_backbone_input, check_output_file
    from benchmark.run.complexity import backbone_map, count_complexity
    from datamodules.datasets import get_dataset
    from heads import HEADS

    out = Path(args.out) if args.out else default_out(args.dataset, args.segments, args.backbone, args.input_size)
    check_output_file("--out", out)
    check_backbone_input(args.backbone, args.input_size)
    classes = get_dataset(args.dataset).num_classes
    heads = args.heads or list(HEADS)
    rows = []
    for head in heads:
        counts = count_complexity(args.backbone, head, args.segments, classes, args.input_size)
        rows.append({"head": head, "backbone": args.backbone, "segments": args.segments,
                     "num_classes": classes, "input_size": args.input_size, **counts})  # fmt: skip
    table = pd.DataFrame(rows, columns=COLUMNS)

    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)

    channels, height, width = backbone_map(args.backbone, args.input_size)
    print(
        f"{args.dataset} (K = {classes}), {args.backbone} at {args.input_size}×{args.input_size} "
        f"(feature map {channels}×{height}×{width}), T = {args.segments}, D = 256"
    )
    print(
        f"MACs = multiply-accumulates per clip of T = {args.segments} frames (one clip, eval mode); "
        "FLOPs ≈ 2 × MACs. Convention: benchmark/run/complexity.py."
    )
    shown = ["head", *COLUMNS[5:]]
    print(table[shown].to_string(index=False, formatters={c: "{:,}".format for c in shown[1:]}))
    print(f"\nwritten: {out}")
    return 0


def add_complexity_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``complexity`` subcommand and its handler."""
    from backbones import BACKBONES
    from benchmark.cli.option_types import INPUT_SIZE, SEGMENTS
    from datamodules.datasets import DATASETS
    from heads import HEADS

    parser = subparsers.add_parser(
        "complexity",
        help="parameters and MACs (multiply-accumulates per clip) of heads, transform and backbone",
        description="Counts parameters and MACs per clip of T frames (FLOPs ≈ 2 × MACs) of every head on "
        "one backbone; needs no data, only the dataset's number of classes.",
    )
    parser.add_argument("--dataset", required=True, choices=sorted(DATASETS), help="sets the number of classes")
    parser.add_argument("--segments", type=SEGMENTS, required=True, metavar="T")
    parser.add_argument("--backbone", required=True, choices=sorted(BACKBONES))
    parser.add_argument(
        "--head", dest="heads", nargs="+", action="extend", default=None, choices=list(HEADS),
        metavar="NAME", help="heads to count (default: every head of heads.HEADS)",
    )  # fmt: skip
    parser.add_argument("--input-size", type=INPUT_SIZE, default=224)
    parser.add_argument(
        "--out", default=None, metavar="FILE.csv",
        help="CSV to write (default: results/complexity/<dataset>_<T>seg_<backbone>_<input-size>.csv)",
    )  # fmt: skip
    parser.set_defaults(handler=command_complexity)
