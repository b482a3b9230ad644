"""``stbench regress``: the accuracy regression check (see :mod:`benchmark.report.regress`).

The check runs on the CPU with pinned numerics: when the environment does not carry
:data:`PINNED_NUMERICS` yet, the command runs itself again in a child process that does (the
variables have to be set before torch is imported).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from benchmark.cli.arguments import add_how_arguments, run_options, say
from benchmark.cli.option_types import SEED
from benchmark.cli.preflight import check_input_file, check_writable_folder
from benchmark.report.regress import BASELINE_SEEDS, CHECK_SEED, PINNED_NUMERICS

DEFAULT_BASELINE = "results/baselines/ci.csv"


def add_regress_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "regress",
        help="accuracy regression check: every head on the built-in dataset vs results/baselines/ci.csv",
        description="Runs on one CPU process with pinned numerics (AVX2 kernels, 2 threads) in <work-dir>/regress; "
        "--results-dir, --accelerator, --devices, --strategy and --num-nodes are not used. Exit 1 on a "
        "top-1 below its allowed drop or a failed consistency probe.",
    )
    parser.add_argument("--seed", type=SEED, default=CHECK_SEED, help="the check's seed (default %(default)s)")
    parser.add_argument(
        "--update",
        action="store_true",
        help=f"run the check with seeds {' '.join(map(str, BASELINE_SEEDS))} (or --seeds) and rewrite the baseline",
    )
    parser.add_argument("--seeds", type=SEED, nargs="+", default=list(BASELINE_SEEDS), help="seeds of --update")
    parser.add_argument("--baseline", default=DEFAULT_BASELINE)
    parser.add_argument("--data-path-sweep", default=None, help="the end-to-end stage's sweep file (default configs/ci_regression_data_path.yaml)")
    parser.add_argument("--heads-sweep", default=None, help="the frozen-backbone stage's sweep file (default configs/ci_regression.yaml)")
    add_how_arguments(parser)
    parser.set_defaults(handler=command_regress)


def numerics_pinned() -> bool:
    return all(os.environ.get(name) == value for name, value in PINNED_NUMERICS.items())


def command_regress(args: argparse.Namespace) -> int:
    check_writable_folder("--work-dir", args.work_dir)
    for option, path in zip(("--data-path-sweep", "--heads-sweep"), sweep_files(args)):
        check_input_file(option, path)
    if not numerics_pinned():
        environment = {**os.environ, **PINNED_NUMERICS}
        command = [sys.executable, "-m", "benchmark", *args.argv]
        return subprocess.run(command, env=environment).returncode
    return check(args)


def sweep_files(args: argparse.Namespace) -> tuple[Path, Path]:
    from benchmark.report.regress_check import DATA_PATH_SWEEP, HEADS_SWEEP

    return Path(args.data_path_sweep or DATA_PATH_SWEEP), Path(args.heads_sweep or HEADS_SWEEP)


def check(args: argparse.Namespace) -> int:
    import shutil

    if args.update and len(set(args.seeds)) < 2:
        print("--update needs at least two seeds (the baseline is their spread)", file=sys.stderr)
        return 2

    import pandas as pd

    from benchmark.report.regress import compare, format_table, leave_one_out, make_baseline
    from benchmark.report.regress_check import run_check
    from benchmark.results.provenance import environment

    seeds = list(args.seeds) if args.update else [args.seed]
    scratch = Path(args.work_dir) / "regress"
    shutil.rmtree(scratch, ignore_errors=True)  # a check always trains afresh
    options = replace(
        run_options(args),
        results_dir=str(scratch / "results"),
        work_dir=str(scratch / "work"),
        resume=False,
        accelerator="cpu",
        devices=1,
    )
    say(f"[regress] environment: {environment()}")
    measured, probes = [], []
    for seed in seeds:
        outcome = run_check(seed, options, say, sweep_files(args))
        if outcome is None:
            return 0  # not global rank 0
        measured.append(outcome.measured)
        probes += outcome.probes
    table = pd.concat(measured, ignore_index=True)
    table.to_csv(scratch / "measured.csv", index=False)
    failed_probes = [probe for probe in probes if not probe.passed]
    for probe in failed_probes:
        print(f"PROBE FAILED: {probe.probe}, {probe.subject}:", file=sys.stderr)
        for problem in probe.problems[:20]:
            print(f"  {problem}", file=sys.stderr)
    baseline_path = Path(args.baseline)
    if args.update:
        if failed_probes:
            print("baseline not written: a consistency probe failed", file=sys.stderr)
            return 1
        baseline = make_baseline(table, seeds)
        baseline_path.parent.mkdir(parents=True, exist_ok=True)
        baseline.to_csv(baseline_path, index=False)
        print(baseline.to_string(index=False))
        print(f"\nbaseline written: {baseline_path} (seeds {' '.join(map(str, seeds))})")
        if len(seeds) >= 3:
            print("\nfalse alarms, each seed against a baseline of the other seeds:")
            print(leave_one_out(table, seeds).to_string(index=False))
        return 0
    if not baseline_path.is_file():
        print(f"no baseline at {baseline_path}; make one with `stbench regress --update`", file=sys.stderr)
        return 2
    verdicts = compare(pd.read_csv(baseline_path), table, args.seed)
    print(format_table(verdicts))
    print(f"\nconsistency probes: {len(probes) - len(failed_probes)} of {len(probes)} passed")
    fallen = [f"{v.head} ({v.stage})" for v in verdicts if v.regressed]
    if fallen:
        print(f"\nREGRESSION: top-1 fell beyond the allowed drop for {', '.join(fallen)}", file=sys.stderr)
    if fallen or failed_probes:
        return 1
    print("\nno regression")
    return 0
