"""The handlers of the core commands: ``run``, ``benchmark``, ``test`` and ``generate``.
Their options are declared in :mod:`benchmark.cli.main` (``sweep`` has a module of its own,
:mod:`benchmark.cli.sweep`)."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from benchmark.cli.arguments import run_config, run_options, say
from benchmark.cli.preflight import (
    check_configs,
    check_data_root,
    check_datasets,
    check_input_file,
    check_output_file,
    check_run,
    check_test,
)

if TYPE_CHECKING:
    from benchmark.run.runner import RunOptions
    from benchmark.run.sweep import Sweep

SUMMARY_COLUMNS = [
    "head", "backbone", "segments", "top1", "top5", "map", "top1_reversed_pairs", "mean_class_acc",
    "n_test_evaluated", "n_test_expected", "head_params", "total_params", "train_clips_per_s", "wall_s",
]  # fmt: skip


def print_rows(rows: list[dict], leaderboard: Path) -> None:
    """The summary columns of leaderboard rows as a table, then where the leaderboard is."""
    import pandas as pd

    table = pd.DataFrame(rows)[SUMMARY_COLUMNS]
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"\nleaderboard: {leaderboard.resolve()}")


def command_run(args: argparse.Namespace) -> int:
    from benchmark.run.runner import run

    config, options = run_config(args, args.head), run_options(args)
    check_run(config, options)
    row = run(config, options)
    if row is not None:
        print_rows([row], Path(options.results_dir) / "leaderboard.csv")
    return 0


def command_benchmark(args: argparse.Namespace) -> int:
    """The main job: every cell of the main sweep trained afresh (or resumed), then the report."""
    from benchmark.report.document import generate_report, report_command

    check_input_file("--sweep", args.sweep)
    sweep, rows = run_sweep(args.sweep, run_options(args), fresh=not args.resume)
    if rows is None:
        return 0  # not global rank 0
    leaderboard = Path(args.results_dir) / "leaderboard.csv"
    out_dir = Path(args.results_dir) / "reports"
    command = report_command(leaderboard, sweep.name, out_dir, None, args.sweep)
    files = generate_report(leaderboard, out_dir, sweep.name, command=command, run_ids=[c.run_id for c in sweep.cells])
    if args.wandb:
        from benchmark.run.wandb_logging import log_report_to_wandb

        log_report_to_wandb(files.markdown, files.figures, run_options(args))
    print()
    print_rows(rows, leaderboard)
    print(f"report: {files.markdown.resolve()} ({len(files.figures)} figures)")
    return 0


def run_sweep(path: str, options: RunOptions, fresh: bool) -> tuple[Sweep, list[dict] | None]:
    """Run the cells of a sweep file; ``fresh`` retrains cells that already have a finished row.

    Returns the sweep and, on global rank 0, the leaderboard rows of its cells (None elsewhere).
    """
    from benchmark.results.leaderboard import read_leaderboard
    from benchmark.run.runner import run
    from benchmark.run.sweep import SweepProgress, load_sweep, pending_cells

    sweep = load_sweep(path)
    check_configs(sweep.cells, options)
    check_datasets(sweep.cells, options)
    leaderboard = Path(options.results_dir) / "leaderboard.csv"
    pending = list(sweep.cells) if fresh else pending_cells(sweep, leaderboard)
    progress = SweepProgress(len(sweep.cells), len(sweep.cells) - len(pending))
    say(f"[sweep] {sweep.name}: {len(sweep.cells)} cells, {progress.done} already finished")
    rank_zero = True  # with nothing left to run, no other process exists
    for config in pending:
        say(progress.line(config))
        progress.start_cell()
        rank_zero = run(config, options, fresh=fresh) is not None  # only global rank 0 gets a row back
        progress.finish_cell()
    if not rank_zero:
        return sweep, None
    table = read_leaderboard(leaderboard)
    order = {cell.run_id: i for i, cell in enumerate(sweep.cells)}
    rows = table[table["run_id"].isin(order)].sort_values("run_id", key=lambda ids: ids.map(order))
    return sweep, rows.to_dict("records")


def command_test(args: argparse.Namespace) -> int:
    """Evaluate a checkpoint on the test split; prints counts so that runs can be compared exactly."""
    from benchmark.results.metrics import mean_class_accuracy, top1
    from benchmark.run.evaluate import evaluate_checkpoint

    if args.out is not None:
        check_output_file("--out", args.out)
    options = run_options(args)
    check_test(args.checkpoint, options)
    confusion = evaluate_checkpoint(args.checkpoint, options, args.out)
    if confusion is not None:
        correct, total = int(confusion.diagonal().sum()), int(confusion.sum())
        print(f"test videos evaluated: {total}, correct: {correct}, top-1: {top1(confusion):.4f}, "
              f"mean class accuracy: {mean_class_accuracy(confusion):.4f}")  # fmt: skip
        if args.out:
            print(f"confusion matrix: {Path(args.out).resolve()}")
    return 0


def command_generate(args: argparse.Namespace) -> int:
    from datamodules.datasets import get_dataset
    from datamodules.synthetic.generate import SyntheticConfig, ensure_synthetic

    check_data_root(get_dataset("synthetic"), args.data_root)
    directory = ensure_synthetic(args.data_root, SyntheticConfig(seed=args.seed), progress=not args.no_progress)
    print(directory)
    return 0
