"""Every command keeps its options, and the shared arguments become the RunConfig / RunOptions they name."""
from __future__ import annotations

import argparse

import pytest

from benchmark.cli.arguments import add_how_arguments, add_run_arguments, run_config, run_options
from benchmark.cli.main import build_parser
from benchmark.run.config import resolve_config

WHAT = [
    "--backbone", "--backbone-weights", "--partial-bn", "--segments", "--input-size", "--epochs", "--batch-size",
    "--optimizer", "--lr", "--lr-steps", "--weight-decay", "--transform-init-std", "--seed", "--modality",
    "--flow-length", "--holdout-fraction", "--test-clips", "--test-crops",
]  # fmt: skip
HOW = [
    "--data-root", "--root", "--flow-root", "--results-dir", "--work-dir", "--accelerator", "--devices", "--strategy",
    "--num-nodes", "--workers", "--no-progress", "--verbose", "--data-timeout", "--on-bad-video", "--wandb", "--limit-train-batches",
    "--limit-eval-batches", "--trust-checkpoint",
]  # fmt: skip
OPTIONS = {
    "run": ["--head", "--dataset", "--split", *WHAT, *HOW],
    "benchmark": ["--sweep", "--resume", *HOW],
    "sweep": [
        "file", *HOW, "--status", "--retry-failed", "--no-wait", "--claim-timeout", "--launcher", "--jobs", "--nodes",
        "--gpus-per-node", "--partition", "--cpus-per-task", "--mem-gb", "--time-min", "--slurm-option",
        "--launcher-dir", "--follow",
    ],  # fmt: skip
    "regress": ["--seed", "--update", "--seeds", "--baseline", "--data-path-sweep", "--heads-sweep", *HOW],
    "test": ["checkpoint", "--out", *HOW],
    "generate": ["--data-root", "--seed", "--no-progress"],
    "complexity": ["--dataset", "--segments", "--backbone", "--head", "--input-size", "--out"],
    "report": ["--leaderboard", "--sweep", "--name", "--out-dir", "--dataset"],
    "flow": ["dataset", "--root", "--flow-root", "--split", "--method", "--bound", "--size", "--workers", "--no-progress"],
    "prepare": ["dataset", "--root", "--split", "--workers", "--deep", "--report", "--cache-dir", "--no-progress"],
    "two-stream": ["file", *HOW],
    "hybrid": ["file", *HOW],
    "multitask": ["--task", "--head", *WHAT, *HOW],
    "bench": [],
    "export-backbone": ["checkpoint", "--out", "--stream", "--trust-checkpoint"],
}


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(actions[0].choices) if actions else {}


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return [
        option
        for action in parser._actions
        if not isinstance(action, (argparse._HelpAction, argparse._SubParsersAction))
        for option in (action.option_strings or [action.dest])
    ]


def test_every_command_keeps_its_options():
    commands = _subparsers(build_parser())
    assert list(commands) == list(OPTIONS)
    for name, parser in commands.items():
        assert _options(parser) == OPTIONS[name], name
        assert name == "bench" or callable(parser.get_default("handler")), name


def test_bench_keeps_its_kinds():
    bench = _subparsers(build_parser())["bench"]
    assert list(_subparsers(bench)) == ["data", "train", "cache", "memory"]


def _parse(*argv: str, dataset: bool = True) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_run_arguments(parser, dataset=dataset)
    return parser.parse_args(list(argv))


def test_defaults_make_the_protocol_config_and_its_run_id():
    config = run_config(_parse(), "lstm")
    assert config == resolve_config("synthetic", head="lstm")
    assert config.run_id == resolve_config("synthetic", head="lstm").run_id


def test_what_arguments_reach_the_config():
    args = _parse("--dataset", "jester", "--segments", "16", "--lr-steps", "2", "5", "--partial-bn", "--seed", "3")
    config = run_config(args, "tsn")
    assert (config.dataset, config.head, config.segments, config.seed) == ("jester", "tsn", 16, 3)
    assert config.lr_steps == (2, 5) and config.partial_bn


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ((), {"devices": 1, "num_workers": 2, "progress": True, "limit_train_batches": None}),
        (("--devices", "auto", "--workers", "0", "--no-progress"), {"devices": "auto", "num_workers": 0, "progress": False}),
        (("--limit-train-batches", "3", "--limit-eval-batches", "0.5"), {"limit_train_batches": 3, "limit_eval_batches": 0.5}),
        (("--root", "/data/x", "--on-bad-video", "skip"), {"data_root": "/data/x", "on_bad_video": "skip"}),
    ],
)
def test_how_arguments_reach_the_options(argv, expected):
    parser = argparse.ArgumentParser()
    add_how_arguments(parser)
    options = run_options(parser.parse_args(list(argv)))
    assert {key: getattr(options, key) for key in expected} == expected


def test_a_limit_above_one_is_a_batch_count():
    parser = argparse.ArgumentParser()
    add_how_arguments(parser)
    options = run_options(parser.parse_args(["--limit-train-batches", "3", "--limit-eval-batches", "1"]))
    assert type(options.limit_train_batches) is int and type(options.limit_eval_batches) is float


def test_without_dataset_there_is_no_dataset_option():
    with pytest.raises(SystemExit):
        _parse("--dataset", "jester", dataset=False)


def test_every_commands_help_renders(capsys):
    """argparse expands % in help strings: a stray one (e.g. "95 % interval") breaks --help with a TypeError."""
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    for argv in [["--help"], *([name, "--help"] for name in commands)]:
        with pytest.raises(SystemExit) as exit_:
            parser.parse_args(argv)
        assert exit_.value.code == 0, argv
        assert "usage: stbench" in capsys.readouterr().out
