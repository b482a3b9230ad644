"""The runs of the accuracy regression check, for one check seed.

Two stages, both on the built-in dataset and CPU-sized:

1. **End to end** (``configs/ci_regression_data_path.yaml``): one head trained with its backbone
   from decoded clips — the data path (decoding, sampling, augmentation, labels) and backbone
   training. Its backbone weights are kept.
2. **Frozen backbone** (``configs/ci_regression.yaml``): every head trained on that backbone's
   cached maps. A head trains in seconds here, so every head gets enough epochs to reach a stable
   accuracy, which makes its seed-to-seed spread small and a real drop visible.

Each run's checkpoint is then tested a second time (:func:`regress_probes.same_evaluation`), and
every head's end-to-end model goes through :func:`regress_probes.training_coverage`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import pandas as pd

from benchmark.project import CONFIGS_DIR
from benchmark.report.regress_probes import ProbeResult, same_evaluation, training_coverage
from benchmark.run.backbone_export import export_backbone
from benchmark.run.config import RunConfig
from benchmark.run.options import RunOptions
from benchmark.run.runner import run
from benchmark.run.sweep import load_sweep
from datamodules.datasets import get_dataset

DATA_PATH_SWEEP = CONFIGS_DIR / "ci_regression_data_path.yaml"
HEADS_SWEEP = CONFIGS_DIR / "ci_regression.yaml"
END_TO_END = "end to end"
FROZEN = "frozen backbone"
MEASURED_COLUMNS = ("stage", "head", "seed", "top1", "run_id")


@dataclass(frozen=True)
class CheckOutcome:
    measured: pd.DataFrame  # MEASURED_COLUMNS, one row per run
    probes: list[ProbeResult]


def data_path_cells(seed: int, sweep_file: Path = DATA_PATH_SWEEP) -> list[RunConfig]:
    return [replace(cell, seed=seed) for cell in load_sweep(sweep_file).cells]


def head_cells(seed: int, backbone_weights: Path, sweep_file: Path = HEADS_SWEEP) -> list[RunConfig]:
    cells = load_sweep(sweep_file).cells
    return [replace(cell, seed=seed, backbone_weights=str(backbone_weights)) for cell in cells]


def keep_backbone(checkpoint: Path, out: Path) -> Path:
    """Write the backbone part of a run's checkpoint as a weight file ``build_backbone`` loads."""
    export_backbone(checkpoint, out)
    return out


def run_check(
    seed: int,
    options: RunOptions,
    say: Callable[[str], None] = print,
    sweep_files: tuple[Path, Path] = (DATA_PATH_SWEEP, HEADS_SWEEP),
) -> CheckOutcome | None:
    """Every run of the check with ``seed``; None on processes other than global rank 0.
    ``sweep_files``: the end-to-end stage's and the frozen-backbone stage's sweep files."""
    rows: list[dict] = []
    probes: list[ProbeResult] = []
    end_to_end = data_path_cells(seed, sweep_files[0])
    for config in end_to_end:
        say(f"[regress] {END_TO_END}: {config.head} seed={seed} run {config.run_id}")
        row = run(config, options, fresh=True)
        if row is None:
            return None
        rows.append({"stage": END_TO_END, "head": config.head, "seed": seed, "top1": row["top1"], "run_id": config.run_id})
        probes.append(probe_evaluation(config, options))
    weights = keep_backbone(last_checkpoint(options, end_to_end[0]), Path(options.work_dir) / f"backbone-seed{seed}.pt")
    heads = head_cells(seed, weights, sweep_files[1])
    for config in heads:
        say(f"[regress] {FROZEN}: {config.head} seed={seed} run {config.run_id}")
        row = run(config, options, fresh=True)
        assert row is not None
        rows.append({"stage": FROZEN, "head": config.head, "seed": seed, "top1": row["top1"], "run_id": config.run_id})
        probes.append(probe_evaluation(config, options))
    num_classes = get_dataset(end_to_end[0].dataset).num_classes
    for config in heads:
        plain = replace(end_to_end[0], head=config.head, frozen_backbone=False, backbone_weights=None)
        probes.append(training_coverage(plain, num_classes, seed))
    return CheckOutcome(pd.DataFrame(rows, columns=list(MEASURED_COLUMNS)), probes)


def last_checkpoint(options: RunOptions, config: RunConfig) -> Path:
    return options.checkpoint_dir(config.run_id) / "last.ckpt"


def probe_evaluation(config: RunConfig, options: RunOptions) -> ProbeResult:
    result = same_evaluation(config, options, options.run_dir(config.run_id), last_checkpoint(options, config))
    return replace(result, subject=f"{config.head} ({'frozen' if config.frozen_backbone else 'end to end'})")
