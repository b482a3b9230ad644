"""``stbench multitask --task ucf101:1:ROOT --task hmdb51:1:ROOT``: one network trained on several datasets."""
from __future__ import annotations

import argparse


def _task(value: str) -> tuple[str, str, str | None]:
    """``DATASET[:SPLIT[:ROOT]]``: a known dataset, one of its splits (default: its first) and its folder."""
    from datamodules.datasets import DATASETS

    dataset, _, rest = value.partition(":")
    split, _, root = rest.partition(":")
    if dataset not in DATASETS:
        raise argparse.ArgumentTypeError(f"{value!r}: unknown dataset {dataset!r}; known: {', '.join(sorted(DATASETS))}")
    spec = DATASETS[dataset]
    try:
        split = spec.check_split(split or spec.default_split)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{value!r}: {error}") from None
    return dataset, split, root or None


def command_multitask(args: argparse.Namespace) -> int:
    import pandas as pd

    from benchmark.cli.arguments import run_config, run_options
    from benchmark.cli.preflight import check_data_root, check_output_folders
    from benchmark.systems.multitask import run_multitask
    from datamodules.datasets import get_dataset

    configs, roots = [], {}
    for dataset, split, root in args.task:
        args.dataset, args.split = dataset, split
        configs.append(run_config(args, args.head))
        roots[dataset] = root
    options = run_options(args)
    for dataset, root in roots.items():
        check_data_root(get_dataset(dataset), root, f"--task {dataset}:SPLIT:ROOT")
    check_output_folders(options)
    rows = run_multitask(configs, roots, options)
    if rows:
        print(pd.DataFrame(rows)[["dataset", "split", "top1", "top5", "n_test_evaluated", "n_test_expected"]].to_string(index=False))
    return 0


def add_multitask_parser(subparsers: argparse._SubParsersAction) -> None:
    from benchmark.cli.arguments import add_run_arguments
    from heads import HEADS

    parser = subparsers.add_parser(
        "multitask", help="one network, a classifier per dataset, losses summed (e.g. UCF-101 + HMDB-51)"
    )
    parser.add_argument("--task", type=_task, action="append", required=True, metavar="DATASET[:SPLIT[:ROOT]]")
    parser.add_argument("--head", default="tsn", choices=list(HEADS))
    add_run_arguments(parser, dataset=False)
    parser.set_defaults(handler=command_multitask)
