"""The regression check's baseline and verdicts.

The baseline (``results/baselines/ci.csv``) is made by running the whole check (both stages of
:mod:`benchmark.report.regress_check`) with ``N >= 5`` seeds. Per stage and head it keeps the N
top-1s, their mean ``m`` and standard deviation ``s``. One later check run ``x`` (any seed, any
machine) of an unchanged tree is then one more draw from that spread, so ``x - m`` has standard
deviation ``s·sqrt(1 + 1/N)``; the allowed drop is the one-sided 99.5 % prediction bound

    d = t(0.995, N-1) · s · sqrt(1 + 1/N),   clipped to [MIN_DROP, MAX_DROP],

and the head regresses when ``x < m - d``. The row ``all heads (mean)`` judges the mean over the
frozen-backbone heads, whose spread is smaller than any one head's: a defect that moves every head
a little is caught there. Each row states its estimated false-alarm rate, ``P(T(N-1) > d / (s·sqrt(1+1/N)))``.
The check also fails on any failed consistency probe (:mod:`benchmark.report.regress_probes`).

Floating-point results of CPU training depend on the kernels' instruction set and the thread
count, and a few epochs of training amplify any rounding difference to a different draw from the
seed distribution; ``stbench regress`` therefore pins both (:data:`PINNED_NUMERICS`), which makes a
check run on another x86-64 machine with the same library versions repeat the baseline's own run
of that seed exactly. ``identical`` in the verdict table says whether it did.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import pandas as pd
from scipy import stats

from benchmark.report.regress_check import FROZEN

BASELINE_SEEDS = (0, 1, 2, 3, 4, 5)
CHECK_SEED = 0
PREDICTION_LEVEL = 0.995
MIN_DROP = 0.03  # three points (8 of 250 test clips): one head of five seeds fell 2.4 points on its own
MAX_DROP = 0.08  # so that a fall of 10 points of any head is always caught
MEAN_ROW = "all heads (mean)"
BASELINE_COLUMNS = ("stage", "head", "seeds", "top1s", "mean", "std", "allowed_drop", "false_alarm")

#: Environment that fixes the CPU kernels' numerics: the AVX2 code paths of ATen, oneDNN and MKL
#: (available on every x86-64 CPU of the last decade) and two threads.
PINNED_NUMERICS = {
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "MKL_CBWR": "AVX2",
    "OMP_NUM_THREADS": "2",
    "MKL_NUM_THREADS": "2",
}


def with_mean_rows(measured: pd.DataFrame) -> pd.DataFrame:
    """``measured`` plus, per seed, the mean top-1 over the frozen-backbone heads."""
    frozen = measured[measured["stage"] == FROZEN]
    means = frozen.groupby("seed", as_index=False)["top1"].mean()
    means["stage"], means["head"], means["run_id"] = FROZEN, MEAN_ROW, ""
    return pd.concat([measured, means[list(measured.columns)]], ignore_index=True)


def allowed_drop(std: float, n: int) -> float:
    if n < 2:
        raise ValueError("the spread needs at least two seeds")
    bound = stats.t.ppf(PREDICTION_LEVEL, n - 1) * std * math.sqrt(1 + 1 / n)
    return min(max(bound, MIN_DROP), MAX_DROP)


def false_alarm_rate(drop: float, std: float, n: int) -> float:
    scale = std * math.sqrt(1 + 1 / n)
    return 0.0 if scale == 0 else float(stats.t.sf(drop / scale, n - 1))


def make_baseline(measured: pd.DataFrame, seeds: Sequence[int]) -> pd.DataFrame:
    """Baseline table from the measured runs of the check with every seed of ``seeds``."""
    table = with_mean_rows(measured)
    records = []
    for (stage, head), group in table.groupby(["stage", "head"], sort=False):
        by_seed = group.set_index("seed")["top1"]
        missing = [seed for seed in seeds if seed not in by_seed.index]
        if missing:
            raise ValueError(f"no run of {stage} {head!r} with seeds {missing}")
        values = [float(by_seed[seed]) for seed in seeds]
        std = float(pd.Series(values).std(ddof=1))
        drop = allowed_drop(std, len(values))
        records.append(
            {
                "stage": stage,
                "head": head,
                "seeds": " ".join(map(str, seeds)),
                "top1s": " ".join(f"{v:.4f}" for v in values),
                "mean": round(sum(values) / len(values), 6),
                "std": round(std, 6),
                "allowed_drop": round(drop, 6),
                "false_alarm": round(false_alarm_rate(drop, std, len(values)), 6),
            }
        )
    return pd.DataFrame(records, columns=list(BASELINE_COLUMNS))


@dataclass(frozen=True)
class Verdict:
    stage: str
    head: str
    baseline: float
    allowed_drop: float
    measured: float
    same_seed_baseline: float | None  # the baseline's own run of the check's seed, when it made one

    @property
    def change(self) -> float:
        return self.measured - self.baseline

    @property
    def regressed(self) -> bool:
        return self.measured < self.baseline - self.allowed_drop

    @property
    def identical(self) -> bool | None:
        return None if self.same_seed_baseline is None else abs(self.measured - self.same_seed_baseline) < 5e-5


def compare(baseline: pd.DataFrame, measured: pd.DataFrame, seed: int) -> list[Verdict]:
    """One verdict per baseline row; ``measured`` holds the check's runs of ``seed``."""
    known = set(zip(baseline["stage"], baseline["head"]))
    judged = measured[[(stage, head) in known for stage, head in zip(measured["stage"], measured["head"])]]
    table = with_mean_rows(judged).set_index(["stage", "head"])  # the mean over the baseline's heads only
    verdicts = []
    for entry in baseline.itertuples(index=False):
        key = (entry.stage, entry.head)
        if key not in table.index:
            raise ValueError(f"the check produced no run of {entry.stage} {entry.head!r}")
        seeds = [int(s) for s in str(entry.seeds).split()]
        values = [float(v) for v in str(entry.top1s).split()]
        same_seed = values[seeds.index(seed)] if seed in seeds else None
        verdicts.append(
            Verdict(entry.stage, entry.head, float(entry.mean), float(entry.allowed_drop), float(table.loc[key, "top1"]), same_seed)
        )
    return verdicts


def format_table(verdicts: list[Verdict]) -> str:
    def identical(verdict: Verdict) -> str:
        return "" if verdict.identical is None else ("yes" if verdict.identical else "no")

    frame = pd.DataFrame(
        [
            {
                "stage": v.stage,
                "head": v.head,
                "baseline top-1": f"{100 * v.baseline:.1f}",
                "measured": f"{100 * v.measured:.1f}",
                "change": f"{100 * v.change:+.1f}",
                "allowed drop": f"{100 * v.allowed_drop:.1f}",
                "identical": identical(v),
                "verdict": "REGRESSED" if v.regressed else "ok",
            }
            for v in verdicts
        ]
    )
    return frame.to_string(index=False)


def leave_one_out(measured: pd.DataFrame, seeds: Sequence[int]) -> pd.DataFrame:
    """False alarms measured on the baseline's own runs: each seed checked against a baseline made
    from the other seeds only (so the checked run is never part of its baseline). One row per
    seed: the rows that would have been flagged, empty when the check passes."""
    records = []
    for seed in seeds:
        others = [s for s in seeds if s != seed]
        baseline = make_baseline(measured[measured["seed"].isin(others)], others)
        flagged = [f"{v.head} ({v.stage})" for v in compare(baseline, measured[measured["seed"] == seed], seed) if v.regressed]
        records.append({"seed": seed, "baseline seeds": " ".join(map(str, others)), "flagged": ", ".join(flagged) or "none"})
    return pd.DataFrame(records)
