"""Paired comparisons of systems tested on the same videos, corrected for the number of pairs.

Two systems of one table (same dataset, backbone and T) were tested on the same videos, so they are
compared video by video:

* one seed each: the exact McNemar test — under "equally accurate", the videos that exactly one
  of the two gets right are split evenly (a two-sided binomial test on the discordant pairs);
* several seeds: a paired bootstrap of the difference of mean-over-seeds top-1 — test videos
  resampled (shared by both systems), seeds resampled per system; the two-sided p-value is twice
  the smaller tail share of the replicate differences on either side of zero.

The p-values of all pairs of a table are adjusted with Holm's step-down method, which holds the
family-wise error rate at the level for any dependence between the pairs. A system is *tied with
the best* when its adjusted comparison with the most accurate system is not significant.
"""
from __future__ import annotations

from itertools import combinations
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from benchmark.results.intervals import BOOTSTRAP_SEED, RESAMPLES, aligned
from benchmark.results.predictions import Predictions

ALPHA = 0.05
PAIR_COLUMNS = ("a", "b", "top1_a", "top1_b", "difference", "test", "p", "p_holm", "significant")


def mcnemar_exact(correct_a: np.ndarray, correct_b: np.ndarray) -> float:
    """Two-sided exact McNemar p-value of two systems' per-video correctness."""
    only_a = int(np.sum(correct_a & ~correct_b))
    only_b = int(np.sum(~correct_a & correct_b))
    if only_a + only_b == 0:
        return 1.0
    return float(stats.binomtest(only_a, only_a + only_b, 0.5).pvalue)


def paired_bootstrap(correct_a: np.ndarray, correct_b: np.ndarray, resamples: int = RESAMPLES) -> float:
    """Two-sided p-value of mean top-1 A − B for (seeds, videos) correctness matrices."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    videos = correct_a.shape[1]
    differences = np.empty(resamples)
    for r in range(resamples):
        rows = rng.integers(0, videos, size=videos)
        seeds_a = rng.integers(0, len(correct_a), size=len(correct_a))
        seeds_b = rng.integers(0, len(correct_b), size=len(correct_b))
        differences[r] = correct_a[seeds_a][:, rows].mean() - correct_b[seeds_b][:, rows].mean()
    tail = min(np.mean(differences <= 0), np.mean(differences >= 0))
    return float(min(1.0, 2 * tail))


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (monotone, capped at 1)."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p, kind="stable")
    adjusted = np.empty_like(p)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, (len(p) - rank) * p[i])
        adjusted[i] = min(1.0, running)
    return adjusted


def correctness(runs: Sequence[Predictions]) -> np.ndarray:
    """(seeds, videos) bool matrix of the runs of one system."""
    return np.stack([run.correct for run in aligned(runs)])


def compare_systems(systems: Mapping[str, Sequence[Predictions]], alpha: float = ALPHA) -> pd.DataFrame:
    """Every pair of ``systems`` (name → its runs, one per seed): one row each, Holm-adjusted."""
    names = list(systems)
    if names:
        aligned([runs[0] for runs in systems.values()])  # every system on the same test videos
    matrices = {name: correctness(systems[name]) for name in names}
    rows = []
    for a, b in combinations(names, 2):
        ca, cb = matrices[a], matrices[b]
        one_seed = len(ca) == 1 and len(cb) == 1
        p = mcnemar_exact(ca[0], cb[0]) if one_seed else paired_bootstrap(ca, cb)
        rows.append(
            {"a": a, "b": b, "top1_a": ca.mean(), "top1_b": cb.mean(), "difference": ca.mean() - cb.mean(),
             "test": "exact McNemar" if one_seed else "paired bootstrap", "p": p}
        )  # fmt: skip
    table = pd.DataFrame(rows, columns=[c for c in PAIR_COLUMNS if c not in ("p_holm", "significant")])
    table["p_holm"] = holm(table["p"].to_numpy()) if len(table) else []
    table["significant"] = table["p_holm"] < alpha
    return table


def tied_with_best(systems: Mapping[str, Sequence[Predictions]], pairs: pd.DataFrame) -> dict[str, bool]:
    """Per system: whether it is the most accurate one or not significantly worse than it."""
    accuracy = {name: float(correctness(runs).mean()) for name, runs in systems.items()}
    best = max(accuracy, key=lambda name: accuracy[name])
    tied = {name: True for name in accuracy}
    for row in pairs.itertuples(index=False):
        if best in (row.a, row.b) and row.significant:
            tied[row.b if row.a == best else row.a] = False
    return tied
