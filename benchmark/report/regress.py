"""Accuracy regression check: a fixed, seeded CPU sweep compared with a committed baseline.

The baseline (``results/baselines/ci.csv``) holds, per head, the top-1 of the check's own seed
and the seed-to-seed spread measured when the baseline was made: the same sweep run with
``SPREAD_SEEDS``. A head regresses when its top-1 falls below

    baseline_top1 − tolerance,   tolerance = max(SPREAD_FACTOR × std over seeds, MIN_TOLERANCE)

so a drop has to be well outside what changing the seed alone does. The check's runs are
deterministic on a given machine and library stack (same seed → same counts), so any change
there means the code changed; the tolerance only absorbs differences of hardware and libraries.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from benchmark.run.config import RunConfig
from benchmark.run.sweep import load_sweep
from benchmark.project import CONFIGS_DIR

CHECK_SWEEP = CONFIGS_DIR / "ci_regression.yaml"
BASELINE = Path("results") / "baselines" / "ci.csv"
CHECK_SEED = 0
SPREAD_SEEDS = (0, 1, 2)
SPREAD_FACTOR = 3.0
MIN_TOLERANCE = 0.02  # two points of top-1: below that, a test set of 250 clips cannot resolve a change

BASELINE_COLUMNS = ("head", "run_id", "top1", "seed_top1s", "seed_std", "tolerance")


@dataclass(frozen=True)
class HeadResult:
    head: str
    baseline: float
    tolerance: float
    measured: float

    @property
    def delta(self) -> float:
        return self.measured - self.baseline

    @property
    def regressed(self) -> bool:
        return self.measured < self.baseline - self.tolerance


def check_cells(sweep_file: str | Path = CHECK_SWEEP) -> list[RunConfig]:
    """The check's runs: each cell of the sweep file with seed ``CHECK_SEED``."""
    return [replace(cell, seed=CHECK_SEED) for cell in load_sweep(sweep_file).cells]


def spread_cells(checks: list[RunConfig]) -> list[RunConfig]:
    """The runs that measure the seed-to-seed spread: every check run with every seed of ``SPREAD_SEEDS``."""
    return [replace(cell, seed=seed) for cell in checks for seed in SPREAD_SEEDS]


def make_baseline(rows: pd.DataFrame, checks: list[RunConfig]) -> pd.DataFrame:
    """Baseline table from the leaderboard rows of the spread runs of ``checks``."""
    finished = rows[rows["status"] == "finished"].set_index("run_id")
    records = []
    for cell in checks:
        per_seed = [replace(cell, seed=seed).run_id for seed in SPREAD_SEEDS]
        missing = [run_id for run_id in per_seed if run_id not in finished.index]
        if missing:
            raise ValueError(f"no finished row for head {cell.head!r} runs {missing}")
        top1s = [float(finished.loc[run_id, "top1"]) for run_id in per_seed]
        std = float(pd.Series(top1s).std(ddof=1))
        records.append(
            {
                "head": cell.head,
                "run_id": cell.run_id,
                "top1": float(finished.loc[cell.run_id, "top1"]),
                "seed_top1s": " ".join(f"{value:.4f}" for value in top1s),
                "seed_std": round(std, 6),
                "tolerance": round(max(SPREAD_FACTOR * std, MIN_TOLERANCE), 6),
            }
        )
    return pd.DataFrame(records, columns=list(BASELINE_COLUMNS))


def compare(baseline: pd.DataFrame, measured: pd.DataFrame) -> list[HeadResult]:
    """One result per baseline head; ``measured`` holds leaderboard rows of the check's runs."""
    finished = measured[measured["status"] == "finished"].set_index("run_id")
    results = []
    for entry in baseline.itertuples(index=False):
        if entry.run_id not in finished.index:
            raise ValueError(f"the check produced no finished row for head {entry.head!r} (run {entry.run_id})")
        results.append(HeadResult(entry.head, float(entry.top1), float(entry.tolerance), float(finished.loc[entry.run_id, "top1"])))
    return results


def format_table(results: list[HeadResult]) -> str:
    frame = pd.DataFrame(
        [
            {
                "head": r.head,
                "baseline top-1": f"{100 * r.baseline:.1f}",
                "measured top-1": f"{100 * r.measured:.1f}",
                "change": f"{100 * r.delta:+.1f}",
                "allowed drop": f"{100 * r.tolerance:.1f}",
                "verdict": "REGRESSED" if r.regressed else "ok",
            }
            for r in results
        ]
    )
    return frame.to_string(index=False)
