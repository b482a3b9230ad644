"""``stbench sweep FILE``: train every cell of a sweep that needs a run, cooperating with every other
sweep process on the same results folder; ``--status`` shows where the cells stand; ``--launcher``
submits jobs that run the sweep to a scheduler (submitit)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from benchmark.cli import option_types as types
from benchmark.cli.arguments import add_how_arguments, run_options
from benchmark.cli.preflight import check_configs, check_datasets, check_input_file
from benchmark.cli.user_errors import UsageError

if TYPE_CHECKING:
    from benchmark.run.claim_loop import ClaimLoopSettings


def add_sweep_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "sweep", help="run the cells of a sweep file that need a run (any number of processes, one results folder)"
    )
    parser.add_argument("file", help="a sweep YAML file, e.g. configs/synthetic_heads.yaml")
    add_how_arguments(parser)
    cells = parser.add_argument_group("cells and claims")
    cells.add_argument("--status", action="store_true", help="print where every cell stands and exit")
    cells.add_argument("--retry-failed", action="store_true", help="give each cell with a failed row one more attempt")
    cells.add_argument(
        "--no-wait", action="store_true", help="stop when the cells left are held by other processes (default: wait)"
    )
    cells.add_argument(
        "--claim-timeout",
        type=types.POSITIVE,
        default=None,
        metavar="S",
        help="seconds without a heartbeat after which a claim is stale (default 300; every process must agree)",
    )
    launch = parser.add_argument_group("scheduler (submitit): submit jobs that each run this sweep")
    launch.add_argument("--launcher", choices=["slurm", "local"], default=None, help="submit jobs, train nothing here")
    launch.add_argument("--jobs", type=types.COUNT, default=1, help="jobs running at the same time (a job array)")
    launch.add_argument("--nodes", type=types.COUNT, default=1, help="nodes per job (DDP across them)")
    launch.add_argument(
        "--gpus-per-node", type=types.whole(0), default=0, help="GPUs per node, one DDP process each (0: CPU)"
    )
    launch.add_argument("--partition", default=None)
    launch.add_argument("--cpus-per-task", type=types.COUNT, default=None)
    launch.add_argument("--mem-gb", type=types.POSITIVE, default=None)
    launch.add_argument("--time-min", type=types.COUNT, default=24 * 60, help="time limit of a job in minutes")
    launch.add_argument(
        "--slurm-option", action="append", default=[], metavar="KEY=VALUE", help="a further sbatch option: account=abc"
    )
    launch.add_argument("--launcher-dir", default=None, help="submitit's files and logs (default <work-dir>/submitit)")
    launch.add_argument("--follow", action="store_true", help="wait for the submitted jobs and print the sweep's rows")
    parser.set_defaults(handler=command_sweep)


def loop_settings(args: argparse.Namespace) -> ClaimLoopSettings:
    from benchmark.run.claim_loop import ClaimLoopSettings
    from benchmark.run.claims import DEFAULT_CLAIM_TIMEOUT_S

    return ClaimLoopSettings(
        retry_failed=args.retry_failed,
        wait=not args.no_wait,
        claim_timeout_s=args.claim_timeout or DEFAULT_CLAIM_TIMEOUT_S,
    )


def command_sweep(args: argparse.Namespace) -> int:
    """Train the sweep's cells that need a run; exit 1 when a cell of the sweep is left failed."""
    from benchmark.cli.commands import print_rows
    from benchmark.run.claim_loop import run_claimed_sweep
    from benchmark.run.sweep import load_sweep

    check_input_file("sweep file", args.file)
    if args.status:
        return command_status(args)
    if args.launcher:
        return command_launch(args)
    sweep, options = load_sweep(args.file), run_options(args)
    check_configs(sweep.cells, options)
    check_datasets(sweep.cells, options)
    outcome = run_claimed_sweep(sweep, options, loop_settings(args))
    if outcome.rows is None:
        return 0  # a DDP process of rank > 0
    if outcome.rows:
        print()
        print_rows(outcome.rows, Path(args.results_dir) / "leaderboard.csv")
    return 1 if "failed" in outcome.states.values() else 0


def command_status(args: argparse.Namespace) -> int:
    from benchmark.run.claims import DEFAULT_CLAIM_TIMEOUT_S
    from benchmark.run.sweep import load_sweep
    from benchmark.run.sweep_status import format_status, sweep_status

    sweep = load_sweep(args.file)
    print(format_status(sweep, sweep_status(sweep, args.results_dir, args.claim_timeout or DEFAULT_CLAIM_TIMEOUT_S)))
    return 0


def command_launch(args: argparse.Namespace) -> int:
    from benchmark.run.dispatch import LaunchSettings, submit_sweep

    malformed = [option for option in args.slurm_option if "=" not in option]
    if malformed:
        raise UsageError(f"--slurm-option {malformed[0]!r}: expected KEY=VALUE")
    options = dict(option.split("=", 1) for option in args.slurm_option)
    launch = LaunchSettings(
        launcher=args.launcher,
        folder=args.launcher_dir or str(Path(args.work_dir) / "submitit"),
        jobs=args.jobs,
        nodes=args.nodes,
        gpus_per_node=args.gpus_per_node,
        partition=args.partition,
        cpus_per_task=args.cpus_per_task,
        mem_gb=args.mem_gb,
        timeout_min=args.time_min,
        slurm_options=options,
    )
    jobs = submit_sweep(args.file, run_options(args), loop_settings(args), launch)
    print(f"[sweep] submitted {len(jobs)} {args.launcher} job(s): {', '.join(job.job_id for job in jobs)}")
    print(f"[sweep] logs: {Path(launch.folder).resolve()}; progress: stbench sweep --status {args.file}")
    if not args.follow:
        return 0
    failed = False
    for job in jobs:
        try:
            result = job.result()
            print(f"[sweep] job {job.job_id}: trained {len(result['trained'])}, failed {len(result['failed'])}")
            failed = failed or bool(result["failed"])
        except Exception as error:  # a job that died: its cells are taken over by the others or a re-run
            print(f"[sweep] job {job.job_id} failed: {error}", file=sys.stderr)
            failed = True
    return command_status(args) or (1 if failed else 0)
