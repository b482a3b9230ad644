"""``stbench two-stream FILE``: train both streams of every split (or reuse them), fuse, tabulate."""
from __future__ import annotations

import argparse


def command_two_stream(args: argparse.Namespace) -> int:
    import pandas as pd

    from benchmark.cli.arguments import run_options
    from benchmark.cli.preflight import check_configs, check_datasets, check_input_file
    from benchmark.cli.user_errors import UsageError
    from benchmark.systems.system_file import load_system_file
    from benchmark.systems.two_stream import run_two_stream

    check_input_file("system file", args.file)
    system = load_system_file(args.file)
    if system.system != "two_stream":
        raise UsageError(f"{args.file} describes a {system.system!r} system, not two_stream")
    options = run_options(args)
    streams = [config for pair in system.pairs for config in (pair.spatial, pair.temporal)]
    check_configs(streams, options)
    check_datasets(streams, options)
    rows = []
    for pair in system.pairs:
        print(f"[two-stream] {system.name}: split {pair.split}", flush=True)
        rows += run_two_stream(pair.spatial, pair.temporal, options, system.fusion)
    table = pd.DataFrame(rows)[["split", "head", "top1", "map", "n_test_evaluated", "n_test_expected", "detail"]]
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    return 0


def add_two_stream_parser(subparsers: argparse._SubParsersAction) -> None:
    from benchmark.cli.arguments import add_how_arguments

    parser = subparsers.add_parser(
        "two-stream", help="spatial + temporal streams fused by their scores (fusion fitted on held-out training videos)"
    )
    parser.add_argument("file", help="a system file, e.g. configs/two_stream_synthetic.yaml")
    add_how_arguments(parser)
    parser.set_defaults(handler=command_two_stream)
