"""``stbench prepare``: probe every video of a dataset, write the frame-count index and a report."""
from __future__ import annotations

import argparse
import os
import sys

MAX_LISTED = 20  # problems printed on the terminal; the report lists them all


def command_prepare(args: argparse.Namespace) -> int:
    """Exit 0 when any video is usable (even with problems), 2 when none is; a root, split or annotation file
    that cannot work is a user's mistake (:mod:`benchmark.cli.user_errors`)."""
    import pandas as pd

    from benchmark.cli.preflight import check_output_file, check_writable_folder
    from benchmark.cli.user_errors import UsageError
    from benchmark.report.prepare import SPLIT_HEADER, decoding_summary, prepare_dataset, split_rows
    from datamodules.datasets import get_dataset
    from datamodules.paths import path_problem

    spec = get_dataset(args.dataset)
    split = spec.check_split(args.split or spec.default_split)
    problem = path_problem(args.root, "folder")
    if problem is not None:
        raise UsageError(f"--root {args.root}: {problem}")
    if args.report is not None:
        check_output_file("--report", args.report)
    if args.cache_dir is not None:
        check_writable_folder("--cache-dir", args.cache_dir)
    report = prepare_dataset(
        args.dataset,
        args.root,
        split=split,
        workers=args.workers,
        progress=not args.no_progress,
        report_path=args.report,
        cache_dir=args.cache_dir,
        deep=args.deep,
    )

    print(f"{report.dataset} (split {report.split}) at {report.root}: {report.videos} distinct videos, "
          f"{report.usable} usable, {len(report.errors)} problems, {len(report.warnings)} warnings")  # fmt: skip
    print(pd.DataFrame(split_rows(report), columns=SPLIT_HEADER).to_string(index=False))
    print(f"decoded in order with PyAV: {decoding_summary(report)}")
    if report.problems:
        print()
        for problem in report.problems[:MAX_LISTED]:
            print(f"{problem.severity}: {problem.file}: {problem.kind}: {problem.detail} ({problem.source})")
        if len(report.problems) > MAX_LISTED:
            print(f"... and {len(report.problems) - MAX_LISTED} more in the report")
    print(f"\nindex: {report.index_file}")
    if report.report_note:
        print(f"note: {report.report_note}")
    print(f"report: {report.report_file}")
    if report.exit_code:
        print("error: no usable video found", file=sys.stderr)
    return report.exit_code


def add_prepare_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``prepare`` subcommand and its handler."""
    from benchmark.cli.option_types import whole
    from datamodules.datasets import DATASETS

    parser = subparsers.add_parser(
        "prepare",
        help="check a dataset: probe every video once, cache the frame counts, report problems",
        description="Loads the annotation files of DATASET, probes every video (missing, zero-byte, truncated or "
        "unreadable files, gaps in frame folders, codecs decoded in order because decord's seek is not frame-exact "
        "on them; videos shorter than the segment count), writes the frame-count index used by later runs and a "
        "Markdown report. --deep decodes every frame (damaged frames, frame-count mismatches, corrupt JPEGs). "
        "Exits 2 when no video is usable.",
    )
    parser.add_argument("dataset", choices=sorted(DATASETS))
    parser.add_argument("--root", required=True, help="the dataset's folder")
    parser.add_argument(
        "--split", default=None, help="dataset split (default: the dataset's first, e.g. 1 of UCF-101's 1, 2, 3)"
    )
    parser.add_argument(
        "--workers", type=whole(1, 1024), default=min(8, os.cpu_count() or 1),
        help="probing threads (processes with --deep)",
    )  # fmt: skip
    parser.add_argument(
        "--deep", action="store_true", help="decode every frame of every video and JPEG (slow; cached in the index)"
    )
    parser.add_argument(
        "--report", default=None, metavar="FILE.md", help="report file (default: <root>/stbench_prepare_report.md)"
    )
    parser.add_argument("--cache-dir", default=None, help="index folder (default: the user cache dir, stbench/index)")
    parser.add_argument("--no-progress", action="store_true")
    parser.set_defaults(handler=command_prepare)
