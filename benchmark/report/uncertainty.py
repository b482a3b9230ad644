"""The uncertainty of a report table: 95 % intervals per row and paired tests between its rows.

Everything is computed from the runs' kept per-video outputs (``runs/<id>/predictions.npz``,
:mod:`benchmark.results.predictions`); a row whose runs lack them gets no interval and takes no
part in the comparisons (the report says so).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from benchmark.results.intervals import binomial_interval, seeds_interval, top1_of
from benchmark.results.predictions import PREDICTIONS_NAME, Predictions, load_predictions
from benchmark.results.significance import ALPHA, compare_systems, tied_with_best


@dataclass
class TableUncertainty:
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)  # row label -> (low, high) of top-1
    tied: dict[str, bool] = field(default_factory=dict)  # row label -> tied with the best row
    pairs: pd.DataFrame = field(default_factory=pd.DataFrame)
    without_outputs: list[str] = field(default_factory=list)  # row labels lacking predictions
    incomparable: str = ""  # why no paired test was made, when none was


def runs_predictions(runs_dir: Path, run_ids: Sequence[str]) -> list[Predictions] | None:
    files = [runs_dir / run_id / PREDICTIONS_NAME for run_id in run_ids]
    if not files or not all(f.is_file() for f in files):
        return None
    runs = [load_predictions(f) for f in files]
    return None if any(run.multi_label for run in runs) else runs


def table_uncertainty(labels: Sequence[str], run_ids: Sequence[Sequence[str]], runs_dir: Path) -> TableUncertainty:
    result = TableUncertainty()
    systems: dict[str, list[Predictions]] = {}
    for label, ids in zip(labels, run_ids):
        runs = runs_predictions(runs_dir, ids)
        if runs is None:
            result.without_outputs.append(label)
            continue
        try:
            if len(runs) == 1:  # one seed: the exact binomial interval, as in the run's leaderboard row
                low, high = binomial_interval(int(runs[0].correct.sum()), len(runs[0]))
            else:
                _, low, high = seeds_interval(runs, top1_of)
        except ValueError:
            result.without_outputs.append(label)
            continue
        result.intervals[label] = (low, high)
        systems[label] = runs
    if len(systems) < 2:
        return result
    reference = next(iter(systems.values()))[0].video_id
    if any(not np.array_equal(runs[0].video_id, reference) for runs in systems.values()):
        result.incomparable = "the rows were not tested on the same videos"
        return result
    result.pairs = compare_systems(systems)
    result.tied = tied_with_best(systems, result.pairs)
    return result


def p_matrix(pairs: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    matrix = pd.DataFrame(np.nan, index=list(names), columns=list(names))
    for row in pairs.itertuples(index=False):
        matrix.loc[row.a, row.b] = matrix.loc[row.b, row.a] = row.p_holm
    return matrix


def verdict_lines(result: TableUncertainty, text) -> list[str]:
    """The sentences under a table: which rows are tied with the best and which pairs differ."""
    if result.pairs.empty:
        if result.incomparable:
            return [f"_No paired comparison: {text(result.incomparable)}._", ""]
        return []
    tests = ", ".join(sorted(set(result.pairs["test"])))
    tied = [label for label, value in result.tied.items() if value]
    different = result.pairs[result.pairs["significant"]]
    lines = [
        f"Paired comparisons ({tests}, {len(result.pairs)} pairs, Holm-adjusted, α = {ALPHA}): "
        f"statistically tied with the best row: {text(', '.join(tied))}.",
    ]
    if len(different):
        shown = [
            f"{text(r.a if r.difference > 0 else r.b)} > {text(r.b if r.difference > 0 else r.a)} "
            f"(Δ {100 * abs(r.difference):.1f} points, p = {r.p_holm:.2g})"
            for r in different.sort_values("p_holm").itertuples(index=False)
        ]
        lines.append(f"Significantly different pairs ({len(different)}): " + "; ".join(shown) + ".")
    else:
        lines.append("No pair differs significantly.")
    return lines + [""]
