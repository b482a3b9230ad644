"""Checks a command makes before it trains: that what it was given can work.

A wrong data root, a split the dataset does not have, a folder the results cannot be written to or
a weights file that is a folder would otherwise surface minutes or hours later, inside training or
after it. Each check raises a :class:`~benchmark.cli.user_errors.UsageError` (or the error of the
file at fault) naming the option and the path.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from benchmark.cli.user_errors import UsageError
from datamodules.paths import NOT_FOUND, folder_write_problem, path_problem

if TYPE_CHECKING:
    from benchmark.run.config import RunConfig
    from benchmark.run.options import RunOptions
    from datamodules.dataset_spec import DatasetSpec


def check_output_folders(options: RunOptions) -> None:
    """The results and work folders can be written (they are made when missing)."""
    for option, folder in (("--results-dir", options.results_dir), ("--work-dir", options.work_dir)):
        check_writable_folder(option, folder)


def check_writable_folder(option: str, folder: str | Path) -> None:
    problem = folder_write_problem(folder)
    if problem is not None:
        raise UsageError(f"{option} {folder}: {problem}")


def check_output_file(option: str, path: str | Path) -> None:
    """``path`` can be written: it is no folder or special file, and its folder can be written."""
    problem = path_problem(path, "file")
    if problem not in (None, NOT_FOUND):
        raise UsageError(f"{option} {path}: {problem}")
    check_writable_folder(option, Path(path).parent)


def check_input_file(option: str, path: str | Path) -> None:
    """``path`` is a readable regular file (a named pipe or device is refused before anything opens it)."""
    problem = path_problem(path, "file")
    if problem is not None:
        raise UsageError(f"{option} {path}: {problem}")


def check_data_root(spec: DatasetSpec, root: str | Path | None, option: str = "--data-root") -> None:
    """A real dataset needs an existing folder; the built-in one a folder to generate into, or none."""
    if root is None:
        if not spec.generated:
            raise UsageError(f"{spec.name} needs {option} (the folder of its videos and annotation files)")
        return
    problem = path_problem(root, "folder")
    if problem is None or (spec.generated and problem == NOT_FOUND):
        return
    raise UsageError(f"{option} {root}: {problem}")


def check_configs(configs: Iterable[RunConfig], options: RunOptions, outputs: bool = True) -> None:
    """What the runs of ``configs`` need before any trains: splits, data root, weights files, flow folders
    and (``outputs``) writable results and work folders. No data is read."""
    from datamodules.datasets import get_dataset

    configs = list(configs)
    for dataset, split in sorted({(config.dataset, config.split) for config in configs}):
        spec = get_dataset(dataset)
        spec.check_split(split)
        check_data_root(spec, options.data_root)
    for weights in sorted({config.backbone_weights for config in configs if config.backbone_weights}):
        check_input_file("--backbone-weights", weights)
    for config in configs:
        if str(config.modality) != "rgb":
            check_flow_root(get_dataset(config.dataset), options)
    if outputs:
        check_output_folders(options)


def check_flow_root(spec: DatasetSpec, options: RunOptions) -> None:
    """The flow folder of a run that reads flow: ``--flow-root``, else ``<data root>/flow`` of a real dataset
    (a generated dataset's own folder is known only once it is generated)."""
    if options.flow_root is not None:
        option, flow_root = "--flow-root", Path(options.flow_root)
    elif options.data_root is not None and not spec.generated:
        option, flow_root = "flow folder", Path(options.data_root) / "flow"
    else:
        return
    problem = path_problem(flow_root, "folder")
    if problem is not None:
        raise UsageError(f"{option} {flow_root}: {problem} (run `stbench flow {spec.name}` first, or pass --flow-root)")


def check_backbone_input(backbone: str, input_size: int) -> None:
    """The backbone takes frames of ``input_size`` (a shape-only pass: nothing is computed)."""
    from benchmark.run.complexity import backbone_map

    try:
        backbone_map(backbone, input_size)
    except RuntimeError as error:
        raise UsageError(f"--input-size {input_size} is too small for backbone {backbone}: {error}") from None


def check_data(config: RunConfig, options: RunOptions) -> None:
    """The run's annotation files load, its test split has videos and its flow (if any) is there."""
    from datamodules.datasets import get_dataset
    from datamodules.flow.records import default_flow_root

    spec = get_dataset(config.dataset)
    splits = spec.load(Path(options.data_root) if options.data_root else None, config.split, options.progress)
    if not splits.test:
        raise UsageError(f"{config.dataset} split {config.split}: the test list is empty; nothing to evaluate")
    if str(config.modality) != "rgb" and options.flow_root is None and spec.generated:
        flow_root = default_flow_root(config.dataset, Path(options.data_root) if options.data_root else None)
        if path_problem(flow_root, "folder") is not None:
            hint = f"run `stbench flow {config.dataset}` first, or pass --flow-root"
            raise UsageError(f"no optical flow at {flow_root}: {hint}")


def check_datasets(configs: Iterable[RunConfig], options: RunOptions) -> None:
    """:func:`check_data` once for each dataset, split and input of ``configs`` (a sweep's, a system's)."""
    seen: set[tuple[str, str, bool]] = set()
    for config in configs:
        key = (config.dataset, config.split, str(config.modality) != "rgb")
        if key not in seen:
            seen.add(key)
            check_data(config, options)


def check_run(config: RunConfig, options: RunOptions) -> None:
    """Everything ``stbench run`` can check before training."""
    check_configs([config], options)
    check_backbone_input(config.backbone, config.input_size)
    check_data(config, options)


def check_test(checkpoint: str | Path, options: RunOptions) -> None:
    """What ``stbench test`` can check before testing: the checkpoint is a readable checkpoint of a run, and
    the data of that run (its dataset's root, split and annotation files) is where ``options`` say."""
    from benchmark.run.checkpoint import checkpoint_config, read_checkpoint
    from benchmark.run.config import RunConfig

    settings = checkpoint_config(read_checkpoint(checkpoint, options.trust_checkpoint), checkpoint)
    try:
        config = RunConfig.from_dict(settings)
    except (TypeError, ValueError):
        return  # testing it names what is wrong with its configuration
    check_configs([config], options, outputs=False)
    check_data(config, options)

