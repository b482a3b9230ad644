"""``stbench report``: the leaderboard as Markdown tables and plots, next to the study's published numbers."""
from __future__ import annotations

import argparse

from benchmark.report.document import DEFAULT_NAME


def command_report(args: argparse.Namespace) -> int:
    from benchmark.cli.preflight import check_input_file, check_writable_folder
    from benchmark.report.document import generate_report, report_command
    from benchmark.run.sweep import load_sweep

    check_input_file("--leaderboard", args.leaderboard)
    if args.sweep:
        check_input_file("--sweep", args.sweep)
    check_writable_folder("--out-dir", args.out_dir)
    name, run_ids = args.name, None
    if args.sweep:
        sweep = load_sweep(args.sweep)
        name, run_ids = args.name or sweep.name, [cell.run_id for cell in sweep.cells]
    name = name or DEFAULT_NAME
    command = report_command(args.leaderboard, name, args.out_dir, args.datasets, args.sweep)
    files = generate_report(args.leaderboard, args.out_dir, name, args.datasets, command=command, run_ids=run_ids)
    print(f"report:     {files.markdown}")
    print(f"figures:    {len(files.figures)} in {files.markdown.parent / (files.markdown.stem + '_files')}")
    print(f"aggregated: {files.aggregated}")
    return 0


def add_report_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``report`` subcommand and its handler."""
    from benchmark.report.document import DEFAULT_LEADERBOARD, DEFAULT_OUT_DIR

    parser = subparsers.add_parser(
        "report",
        help="Markdown report with plots from the leaderboard CSV (mean ± std over seeds, 95 %% intervals, "
        "paired significance tests, published top-1)",
        description="Regenerates <out-dir>/<name>.md and its PNG figures from the leaderboard CSV and the "
        "runs' confusion.csv and predictions.npz files: one table per dataset, backbone and number of segments, "
        "heads in the study's order, each top-1 with its 95 % interval and paired significance tests between "
        "the heads, next to the published top-1. Also rewrites <leaderboard>_aggregated.csv.",
    )
    parser.add_argument("--leaderboard", default=DEFAULT_LEADERBOARD, metavar="CSV")
    parser.add_argument(
        "--sweep", default=None, metavar="FILE", help="report only the cells of this sweep file, named after the sweep"
    )
    parser.add_argument(
        "--name", default=None, help=f"report file name without .md (default: the sweep's name, else {DEFAULT_NAME})"
    )
    parser.add_argument("--out-dir", default=DEFAULT_OUT_DIR, metavar="DIR", help="default: %(default)s")
    parser.add_argument(
        "--dataset", dest="datasets", nargs="+", action="extend", default=None, metavar="D",
        help="report only these datasets (default: all in the leaderboard)",
    )  # fmt: skip
    parser.set_defaults(handler=command_report)
