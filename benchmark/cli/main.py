"""Command line: ``stbench <command>`` (also ``python -m benchmark``); ``stbench --help`` lists the commands."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Sequence
from benchmark.project import CONFIGS_DIR

MAIN_SWEEP = CONFIGS_DIR / "synthetic_main.yaml"


def say(message: str) -> None:
    """A progress line, printed by the global-rank-0 process only (DDP processes share the terminal)."""
    from pytorch_lightning.utilities import rank_zero_only

    if rank_zero_only.rank == 0:
        print(message, flush=True)


def _add_run_arguments(parser: argparse.ArgumentParser, dataset: bool = True) -> None:
    """``dataset=False`` leaves out --dataset / --split (commands that name their datasets otherwise)."""
    _add_what_arguments(parser, dataset)
    _add_how_arguments(parser)


def _add_what_arguments(parser: argparse.ArgumentParser, dataset: bool = True) -> None:
    from backbones import BACKBONES
    from datamodules.datasets import DATASETS

    what = parser.add_argument_group("what to run (unset values come from the dataset's protocol)")
    if dataset:
        what.add_argument("--dataset", default="synthetic", choices=sorted(DATASETS))
        what.add_argument("--split", default="default", help="dataset split (e.g. 1, 2, 3 for UCF-101)")
    what.add_argument("--backbone", default="smallcnn", choices=sorted(BACKBONES))
    what.add_argument("--backbone-weights", default=None, metavar="PATH", help="local ImageNet weight file")
    what.add_argument("--partial-bn", action="store_true", help="freeze every backbone BatchNorm but the first")
    what.add_argument("--segments", type=int, default=None, metavar="T")
    what.add_argument("--input-size", type=int, default=None)
    what.add_argument("--epochs", type=int, default=None)
    what.add_argument("--batch-size", type=int, default=None, help="clips per process and step")
    what.add_argument("--optimizer", default=None, choices=["sgd", "adam"])
    what.add_argument("--lr", type=float, default=None)
    what.add_argument("--lr-steps", type=int, nargs="*", default=None, metavar="EPOCH", help="epochs where lr ×0.1")
    what.add_argument("--weight-decay", type=float, default=None)
    what.add_argument("--transform-init-std", type=float, default=None, help="std of the backbone-to-head layer's init")
    what.add_argument("--seed", type=int, default=0)
    what.add_argument(
        "--modality", default="rgb", choices=["rgb", "flow", "rgb+flow"], help="flow, rgb+flow: run `stbench flow` first"
    )
    what.add_argument("--flow-length", type=int, default=None, metavar="L", help="flow pairs stacked per segment")
    what.add_argument(
        "--holdout-fraction", type=float, default=None, help="share of each training class held out (validation)"
    )
    what.add_argument("--test-clips", type=int, default=None, help="temporal test views per video (scores averaged)")
    what.add_argument(
        "--test-crops", type=int, default=None, choices=[1, 3, 10], help="spatial test views per clip (10: corners, centre, flips)"
    )


def _add_how_arguments(parser: argparse.ArgumentParser) -> None:
    how = parser.add_argument_group("where and how it runs (not part of the run id)")
    how.add_argument(
        "--data-root",
        "--root",
        dest="data_root",
        default=None,
        help="dataset folder (synthetic: a cache folder to generate into, or a generated dataset)",
    )
    how.add_argument("--flow-root", default=None, help="optical flow folder (default: <data root>/flow)")
    how.add_argument("--results-dir", default="results", help="leaderboard.csv and per-run results go here")
    how.add_argument("--work-dir", default="runs", help="logs and checkpoints go here")
    how.add_argument("--accelerator", default="auto")
    how.add_argument("--devices", default="1", help="number of devices per node, or 'auto'")
    how.add_argument("--strategy", default="auto", help="e.g. ddp")
    how.add_argument("--num-nodes", type=int, default=1)
    how.add_argument("--workers", type=int, default=2, help="data loader processes per device")
    how.add_argument("--no-progress", action="store_true", help="hide progress bars")
    how.add_argument(
        "--on-bad-video",
        default="fail",
        choices=["fail", "skip"],
        help="unreadable video: stop the run naming it (fail), or leave it out, counted and listed (skip)",
    )
    how.add_argument("--wandb", action="store_true", help="log to Weights & Biases (offline unless configured)")
    how.add_argument("--limit-train-batches", type=float, default=None, help="debug: fraction (<=1) or count of batches")
    how.add_argument("--limit-eval-batches", type=float, default=None, help="debug: fraction (<=1) or count of batches")


def _limit(value: float | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value > 1 else value


def _options(args: argparse.Namespace):
    from benchmark.run.runner import RunOptions

    devices: int | str = int(args.devices) if str(args.devices).isdigit() else args.devices
    return RunOptions(
        data_root=args.data_root,
        results_dir=args.results_dir,
        work_dir=args.work_dir,
        accelerator=args.accelerator,
        devices=devices,
        strategy=args.strategy,
        num_nodes=args.num_nodes,
        num_workers=args.workers,
        progress=not args.no_progress,
        wandb=args.wandb,
        on_bad_video=args.on_bad_video,
        flow_root=args.flow_root,
        limit_train_batches=_limit(args.limit_train_batches),
        limit_eval_batches=_limit(args.limit_eval_batches),
    )


def _config(args: argparse.Namespace, head: str):
    from benchmark.run.config import resolve_config

    return resolve_config(
        args.dataset,
        split=args.split,
        backbone=args.backbone,
        backbone_weights=args.backbone_weights,
        partial_bn=args.partial_bn or None,
        head=head,
        segments=args.segments,
        input_size=args.input_size,
        epochs=args.epochs,
        batch_size=args.batch_size,
        optimizer=args.optimizer,
        lr=args.lr,
        lr_steps=args.lr_steps,
        weight_decay=args.weight_decay,
        transform_init_std=args.transform_init_std,
        seed=args.seed,
        test_clips=args.test_clips,
        test_crops=args.test_crops,
        modality=args.modality,
        flow_length=args.flow_length,
        holdout_fraction=args.holdout_fraction,
    )


def _print_rows(rows: list[dict], leaderboard: Path) -> None:
    import pandas as pd

    columns = ["head", "backbone", "segments", "top1", "top5", "map", "top1_reversed_pairs", "mean_class_acc",
               "n_test_evaluated", "n_test_expected", "head_params", "total_params", "train_clips_per_s", "wall_s"]  # fmt: skip
    table = pd.DataFrame(rows)[columns]
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"\nleaderboard: {leaderboard.resolve()}")


def command_run(args: argparse.Namespace) -> int:
    from benchmark.run.runner import run

    config, options = _config(args, args.head), _options(args)
    row = run(config, options)
    if row is not None:
        _print_rows([row], Path(options.results_dir) / "leaderboard.csv")
    return 0


def command_benchmark(args: argparse.Namespace) -> int:
    """The main job: every cell of the main sweep trained afresh (or resumed), then the report."""
    from benchmark.report.document import generate_report, report_command

    sweep, rows = _run_sweep(args.sweep, _options(args), fresh=not args.resume)
    if rows is None:
        return 0  # not global rank 0
    leaderboard = Path(args.results_dir) / "leaderboard.csv"
    out_dir = Path(args.results_dir) / "reports"
    command = report_command(leaderboard, sweep.name, out_dir, None, args.sweep)
    files = generate_report(leaderboard, out_dir, sweep.name, command=command, run_ids=[c.run_id for c in sweep.cells])
    if args.wandb:
        from benchmark.run.runner import log_report_to_wandb

        log_report_to_wandb(files.markdown, files.figures, _options(args))
    print()
    _print_rows(rows, leaderboard)
    print(f"report: {files.markdown.resolve()} ({len(files.figures)} figures)")
    return 0


def _run_sweep(path: str, options, fresh: bool):
    """Run the cells of a sweep file; ``fresh`` retrains cells that already have a finished row.

    Returns the sweep and, on global rank 0, the leaderboard rows of its cells (None elsewhere).
    """
    from benchmark.results.leaderboard import read_leaderboard
    from benchmark.run.runner import run
    from benchmark.run.sweep import SweepProgress, load_sweep, pending_cells

    sweep = load_sweep(path)
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


def command_sweep(args: argparse.Namespace) -> int:
    """Run every unfinished cell of a sweep file; finished cells are skipped, interrupted ones resume."""
    _, rows = _run_sweep(args.file, _options(args), fresh=False)
    if rows:
        print()
        _print_rows(rows, Path(args.results_dir) / "leaderboard.csv")
    return 0


def command_regress(args: argparse.Namespace) -> int:
    """Run the fixed CI sweep and compare top-1 per head with the committed baseline (exit 1 on a drop)."""
    import shutil
    from dataclasses import replace

    import pandas as pd

    from benchmark.report.regress import SPREAD_SEEDS, check_cells, compare, format_table, make_baseline, spread_cells
    from benchmark.results.leaderboard import read_leaderboard
    from benchmark.run.runner import run

    checks = check_cells(args.sweep) if args.sweep else check_cells()
    cells = spread_cells(checks) if args.update else checks
    scratch = Path(args.work_dir) / "regress"
    shutil.rmtree(scratch, ignore_errors=True)  # a check always trains afresh
    options = replace(_options(args), results_dir=str(scratch / "results"), work_dir=str(scratch / "work"), resume=False)
    rank_zero = True
    for number, config in enumerate(cells, start=1):
        say(f"[regress] run {number}/{len(cells)}: {config.head} seed={config.seed} run {config.run_id}")
        rank_zero = run(config, options) is not None
    if not rank_zero:
        return 0
    measured = read_leaderboard(scratch / "results" / "leaderboard.csv")
    baseline_path = Path(args.baseline)
    if args.update:
        baseline = make_baseline(measured, checks)
        baseline_path.parent.mkdir(parents=True, exist_ok=True)
        baseline.to_csv(baseline_path, index=False)
        print(baseline.to_string(index=False))
        print(f"\nbaseline written: {baseline_path.resolve()} (seeds {', '.join(map(str, SPREAD_SEEDS))})")
        return 0
    if not baseline_path.is_file():
        print(f"no baseline at {baseline_path}; make one with `stbench regress --update`", file=sys.stderr)
        return 2
    results = compare(pd.read_csv(baseline_path, dtype={"run_id": str}), measured)
    print(format_table(results))
    fallen = [r for r in results if r.regressed]
    if fallen:
        print(f"\nREGRESSION: top-1 fell beyond tolerance for {', '.join(r.head for r in fallen)}", file=sys.stderr)
        return 1
    print("\nno regression")
    return 0


def command_test(args: argparse.Namespace) -> int:
    """Evaluate a checkpoint on the test split; prints counts so that runs can be compared exactly."""
    from benchmark.results.confusion import mean_class_accuracy, top1
    from benchmark.run.evaluate import evaluate_checkpoint

    confusion = evaluate_checkpoint(args.checkpoint, _options(args), args.out)
    if confusion is not None:
        correct, total = int(confusion.diagonal().sum()), int(confusion.sum())
        print(f"test videos evaluated: {total}, correct: {correct}, top-1: {top1(confusion):.4f}, "
              f"mean class accuracy: {mean_class_accuracy(confusion):.4f}")  # fmt: skip
        if args.out:
            print(f"confusion matrix: {Path(args.out).resolve()}")
    return 0


def command_generate(args: argparse.Namespace) -> int:
    from datamodules.synthetic.generate import SyntheticConfig, ensure_synthetic

    directory = ensure_synthetic(args.data_root, SyntheticConfig(seed=args.seed), progress=not args.no_progress)
    print(directory)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from heads import HEADS

    parser = argparse.ArgumentParser(
        prog="stbench", description="Benchmark spatiotemporal-modeling heads for video action recognition."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run_parser = commands.add_parser("run", help="train and test one head; append its leaderboard row")
    run_parser.add_argument(
        "--head", default="lstm", choices=[*HEADS, "deep_fusion"], help="deep_fusion needs --modality rgb+flow"
    )
    _add_run_arguments(run_parser)
    run_parser.set_defaults(handler=command_run)

    bench_parser = commands.add_parser(
        "benchmark", help="the main job: every head on the built-in dataset under one protocol, then the report"
    )
    bench_parser.add_argument("--sweep", default=str(MAIN_SWEEP), help="the sweep to run (default: %(default)s)")
    bench_parser.add_argument("--resume", action="store_true", help="keep cells that already finished")
    _add_how_arguments(bench_parser)
    bench_parser.set_defaults(handler=command_benchmark)

    sweep_parser = commands.add_parser("sweep", help="run every cell of a sweep file (skips finished, resumes interrupted)")
    sweep_parser.add_argument("file", help="a sweep YAML file, e.g. configs/synthetic_heads.yaml")
    _add_how_arguments(sweep_parser)
    sweep_parser.set_defaults(handler=command_sweep)

    regress_parser = commands.add_parser(
        "regress", help="accuracy regression check: fixed CPU sweep of every head vs results/baselines/ci.csv"
    )
    regress_parser.add_argument("--update", action="store_true", help="measure the seed spread and rewrite the baseline")
    regress_parser.add_argument("--baseline", default="results/baselines/ci.csv")
    regress_parser.add_argument("--sweep", default=None, help="the check's sweep file (default configs/ci_regression.yaml)")
    _add_how_arguments(regress_parser)
    regress_parser.set_defaults(handler=command_regress)

    test_parser = commands.add_parser("test", help="evaluate a saved checkpoint on the test split")
    test_parser.add_argument("checkpoint", help="a checkpoint written by a run (runs/<run_id>/checkpoints/last.ckpt)")
    test_parser.add_argument("--out", default=None, help="write the confusion matrix CSV here")
    _add_how_arguments(test_parser)
    test_parser.set_defaults(handler=command_test)

    generate_parser = commands.add_parser("generate", help="generate the built-in synthetic dataset")
    generate_parser.add_argument("--data-root", default=None)
    generate_parser.add_argument("--seed", type=int, default=0)
    generate_parser.add_argument("--no-progress", action="store_true")
    generate_parser.set_defaults(handler=command_generate)

    from benchmark.cli.bench import add_bench_parser
    from benchmark.cli.complexity import add_complexity_parser
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
