"""Sweeps: a YAML grid of runs, run cell by cell, resumable after any interruption.

A sweep file::

    name: synthetic_heads          # names the report
    grid:                          # every combination of these lists is one cell
      dataset: [synthetic]
      backbone: [smallcnn]
      head: [tsn, lstm]            # or `head: all`: every head of heads.HEADS, in table order
      segments: [8]
      seed: [0, 1, 2]
    settings:                      # RunConfig fields shared by every cell (else the protocol's)
      epochs: 4
      backbone_weights:            # a path, or one path per backbone
        squeezenet1_1: weights/squeezenet1_1.pth

Each cell's run id is the hash of its full configuration. A cell whose run id already has a
finished leaderboard row is skipped; a cell that was interrupted resumes from its last checkpoint.
Every cell is checked when the file is read — each setting in its range, each name in its table
(:mod:`benchmark.run.setting_rules`), each cell one its run can take — so a mistake stops the
sweep before any cell starts, not when its cell comes.
"""
from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmark.run.config import RunConfig, resolve_config
from benchmark.run.config_file import ConfigFileError, read_config_file, run_settings, plain_name, section
from benchmark.run.deep_fusion_net import HEAD as DEEP_FUSION, check_config as check_deep_fusion
from benchmark.run.setting_rules import check_cell
from benchmark.results.leaderboard import finished_run_ids
from heads import HEADS

__all__ = ["ConfigFileError", "Sweep", "SweepProgress", "grid_values", "load_sweep", "pending_cells"]

GRID_KEYS = ("dataset", "backbone", "head", "segments", "seed")
ALL_HEADS = "all"  # `head: all` in a grid: every head of heads.HEADS, so a new head needs no sweep edit
MAX_CELLS = 10_000  # a grid larger than this is a mistake, not a sweep


@dataclass(frozen=True)
class Sweep:
    name: str
    cells: tuple[RunConfig, ...]
    source: str


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def grid_values(key: str, value: Any) -> list[Any]:
    """The values of one grid axis; ``head: all`` is every head of the table, in its order."""
    if key == "head" and value == ALL_HEADS:
        return list(HEADS)
    return _as_list(value)


def load_sweep(path: str | Path) -> Sweep:
    """Parse a sweep file into its cells, in grid order (datasets, backbones, heads, segments, seeds).

    A file that is not a sweep (invalid YAML, unknown settings, values of the wrong type, a grid
    repeating a configuration or larger than :data:`MAX_CELLS`) is a :class:`ConfigFileError`
    naming the file and line."""
    path = Path(path)
    document = read_config_file(path)
    if "grid" not in document.data:
        raise document.error((), "a sweep file needs a 'grid' mapping")
    axes_given = section(document, "grid")
    if axes_given.get("head") == ALL_HEADS:
        axes_given = {**axes_given, "head": grid_values("head", ALL_HEADS)}
    grid = run_settings(document, axes_given, ("grid",), grid=True)
    settings = run_settings(document, section(document, "settings"), ("settings",))
    overlap = set(grid) & set(settings)
    if overlap:
        raise document.error(("grid", sorted(overlap)[0]), f"{sorted(overlap)} given both in 'grid' and in 'settings'")
    name = plain_name(document, "name", path.stem)
    axes = [key for key in GRID_KEYS if key in grid] + sorted(set(grid) - set(GRID_KEYS))
    values = [grid_values(key, grid[key]) for key in axes]
    size = math.prod(len(axis) for axis in values)
    if size > MAX_CELLS:
        raise document.error(("grid",), f"the grid has {size:,} cells; at most {MAX_CELLS:,}")
    cells = []
    for combination in itertools.product(*values):
        cell = dict(zip(axes, combination))
        values_of_cell = {**settings, **cell}
        dataset = values_of_cell.pop("dataset", "synthetic")
        weights = values_of_cell.get("backbone_weights")
        if isinstance(weights, dict):  # one weight file per backbone
            backbone = values_of_cell.get("backbone", "smallcnn")
            if backbone not in weights:
                where = ("settings" if "backbone_weights" in settings else "grid", "backbone_weights")
                raise document.error(where, f"backbone_weights names no file for backbone {backbone!r}")
            values_of_cell["backbone_weights"] = weights[backbone]
        try:
            cells.append(checked_cell(resolve_config(dataset, **values_of_cell)))
        except ValueError as error:  # a combination RunConfig or the run refuses
            raise document.error(("grid",), f"cell {len(cells) + 1}: {error}") from None
    ids = [cell.run_id for cell in cells]
    if len(set(ids)) != len(ids):
        raise document.error(("grid",), "the grid repeats a configuration")
    return Sweep(name, tuple(cells), str(path))


def checked_cell(config: RunConfig) -> RunConfig:
    """``config``, once it is known to be a cell its run can take (else a ValueError saying why)."""
    check_cell(config)
    if config.head == DEEP_FUSION:
        check_deep_fusion(config)
    return config


class SweepProgress:
    """Cells done / left and an ETA from the cells run in this invocation."""

    def __init__(self, total: int, already_done: int) -> None:
        self.total = total
        self.done = already_done
        self.run_seconds: list[float] = []
        self._started: float | None = None

    def start_cell(self) -> None:
        self._started = time.perf_counter()

    def finish_cell(self) -> None:
        if self._started is not None:
            self.run_seconds.append(time.perf_counter() - self._started)
        self.done += 1

    def line(self, config: RunConfig) -> str:
        left = self.total - self.done
        if self.run_seconds:
            eta = sum(self.run_seconds) / len(self.run_seconds) * left
            eta_text = f"ETA {int(eta // 60)}m{int(eta % 60):02d}s"
        else:
            eta_text = "ETA after the first cell"
        return (
            f"[sweep] cell {self.done + 1}/{self.total} ({self.done} done, {left} left, {eta_text}): "
            f"{config.head} / {config.backbone} / {config.dataset} T={config.segments} seed={config.seed} "
            f"run {config.run_id}"
        )


def pending_cells(sweep: Sweep, leaderboard: str | Path) -> list[RunConfig]:
    finished = finished_run_ids(leaderboard)
    return [cell for cell in sweep.cells if cell.run_id not in finished]
