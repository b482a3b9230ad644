"""Command line: ``stbench <command>`` (also ``python -m benchmark``); ``stbench --help`` lists the commands.

This module builds the parser and dispatches to the handlers: the core commands' are in
:mod:`benchmark.cli.commands`, every other command has a module of its own here that registers
its sub-parser; the options shared by the commands that train are in :mod:`benchmark.cli.arguments`.
A user's mistake ends in one line on stderr and exit status 2 (:mod:`benchmark.cli.user_errors`).
"""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Sequence

from benchmark.cli import option_types as types
from benchmark.cli.arguments import add_how_arguments, add_run_arguments
from benchmark.cli.console import quiet_console
from benchmark.cli.commands import command_benchmark, command_generate, command_run, command_test
from benchmark.cli.user_errors import OneLineParser, is_user_error, report
from benchmark.project import CONFIGS_DIR

MAIN_SWEEP = CONFIGS_DIR / "synthetic_main.yaml"


def build_parser() -> argparse.ArgumentParser:
    from heads import HEADS

    parser = OneLineParser(
        prog="stbench", description="Benchmark spatiotemporal-modeling heads for video action recognition."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run_parser = commands.add_parser("run", help="train and test one head; append its leaderboard row")
    run_parser.add_argument(
        "--head", default="lstm", choices=[*HEADS, "deep_fusion"], help="deep_fusion needs --modality rgb+flow"
    )
    add_run_arguments(run_parser)
    run_parser.set_defaults(handler=command_run)

    bench_parser = commands.add_parser(
        "benchmark", help="the main job: every head on the built-in dataset under one protocol, then the report"
    )
    bench_parser.add_argument("--sweep", default=str(MAIN_SWEEP), help="the sweep to run (default: %(default)s)")
    bench_parser.add_argument("--resume", action="store_true", help="keep cells that already finished")
    add_how_arguments(bench_parser)
    bench_parser.set_defaults(handler=command_benchmark)

    from benchmark.cli.regress import add_regress_parser
    from benchmark.cli.sweep import add_sweep_parser

    add_sweep_parser(commands)
    add_regress_parser(commands)

    test_parser = commands.add_parser("test", help="evaluate a saved checkpoint on the test split")
    test_parser.add_argument("checkpoint", help="a checkpoint written by a run (runs/<run_id>/checkpoints/last.ckpt)")
    test_parser.add_argument("--out", default=None, help="write the confusion matrix CSV here")
    add_how_arguments(test_parser)
    test_parser.set_defaults(handler=command_test)

    generate_parser = commands.add_parser("generate", help="generate the built-in synthetic dataset")
    generate_parser.add_argument("--data-root", default=None)
    generate_parser.add_argument("--seed", type=types.SEED, default=0)
    generate_parser.add_argument("--no-progress", action="store_true")
    generate_parser.set_defaults(handler=command_generate)

    from benchmark.cli.bench import add_bench_parser
    from benchmark.cli.complexity import add_complexity_parser
    from benchmark.cli.export_backbone import add_export_backbone_parser
    from benchmark.cli.flow import add_flow_parser
    from benchmark.cli.prepare import add_prepare_parser
    from benchmark.cli.hybrid import add_hybrid_parser
    from benchmark.cli.multitask import add_multitask_parser
    from benchmark.cli.two_stream import add_two_stream_parser
    from benchmark.cli.report import add_report_parser

    add_complexity_parser(commands)
    add_report_parser(commands)
    add_flow_parser(commands)
    add_prepare_parser(commands)
    add_two_stream_parser(commands)
    add_hybrid_parser(commands)
    add_multitask_parser(commands)
    add_bench_parser(commands)
    add_export_backbone_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    quiet_console(getattr(args, "verbose", False))
    args.argv = argv  # a command may run itself again in a child process (stbench regress)
    try:
        return args.handler(args)
    except Exception as error:
        if not is_user_error(error):
            raise
        return report(args.command, error)


if __name__ == "__main__":
    sys.exit(main())
