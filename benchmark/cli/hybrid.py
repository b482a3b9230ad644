"""``stbench hybrid FILE``: both streams of every dataset and split (trained or reused), then the
hybrid framework's components, one leaderboard row each.

FILE is a system file (:mod:`benchmark.systems.system_file`) with ``system: hybrid``; its
``settings`` mapping holds :class:`~benchmark.systems.hybrid.HybridSettings` fields over a
``preset`` (``paper``, the default, or ``synthetic``). One file may cover several datasets: then
``splits`` maps each dataset to its splits and ``shared`` leaves ``dataset`` out::

    splits: {ucf101: ["1", "2", "3"], ccv: [default]}
"""
from __future__ import annotations

import argparse
from pathlib import Path

from benchmark.systems.system_file import load_hybrid_file

SUMMARY_COLUMNS = ["dataset", "split", "head", "modality", "top1", "map", "zero_row_fraction", "n_test_evaluated"]


def command_hybrid(args: argparse.Namespace) -> int:
    import pandas as pd

    from benchmark.cli.arguments import run_options
    from benchmark.cli.preflight import check_configs, check_datasets, check_input_file
    from benchmark.cli.user_errors import UsageError
    from benchmark.systems.hybrid import HybridSettings, run_hybrid

    check_input_file("system file", args.file)
    systems = load_hybrid_file(args.file)
    wrong = sorted({s.system for s in systems} - {"hybrid"})
    if wrong:
        raise UsageError(f"{args.file} describes a {wrong[0]!r} system, not hybrid")
    options = run_options(args)
    streams = [c for system in systems for pair in system.pairs for c in (pair.spatial, pair.temporal)]
    check_configs(streams, options)
    check_datasets(streams, options)
    rows = []
    for system in systems:
        settings = HybridSettings.from_dict(system.settings)
        for pair in system.pairs:
            print(f"[hybrid] {system.name}: split {pair.split}", flush=True)
            rows += run_hybrid(pair.spatial, pair.temporal, options, settings)
    if rows:  # global rank 0 only
        table = pd.DataFrame(rows).reindex(columns=SUMMARY_COLUMNS)
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
        print(f"\nleaderboard: {(Path(options.results_dir) / 'leaderboard.csv').resolve()}")
    return 0


def add_hybrid_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``hybrid`` subcommand and its handler."""
    from benchmark.cli.arguments import add_how_arguments

    parser = subparsers.add_parser(
        "hybrid",
        help="per-stream LSTMs + regularised feature fusion of an RGB and a flow stream (fitted on held-out videos)",
    )
    parser.add_argument("file", help="a system file with system: hybrid, e.g. configs/hybrid_synthetic.yaml")
    add_how_arguments(parser)
    parser.set_defaults(handler=command_hybrid)
