"""`stbench regress`: baselines from the seed spread, verdicts, and the whole check on a tiny set."""
import math
from pathlib import Path

import pandas as pd
import pytest
import torch
from scipy import stats

from benchmark.cli.main import main
from benchmark.report.regress import (
    MAX_DROP,
    MEAN_ROW,
    MIN_DROP,
    PINNED_NUMERICS,
    PREDICTION_LEVEL,
    Verdict,
    allowed_drop,
    compare,
    false_alarm_rate,
    make_baseline,
)
from benchmark.report.regress_check import END_TO_END, FROZEN, data_path_cells, head_cells
from datamodules.datasets import get_dataset
from heads.recurrent import LSTMHead


def test_shipped_check_trains_one_head_end_to_end_and_every_head_on_its_backbone(tmp_path):
    from heads import HEADS

    end_to_end = data_path_cells(3)
    assert len(end_to_end) == 1 and not end_to_end[0].frozen_backbone and end_to_end[0].seed == 3
    frozen = head_cells(3, tmp_path / "backbone.pt")
    assert [c.head for c in frozen] == list(HEADS)
    assert all(c.frozen_backbone and c.seed == 3 and c.backbone_weights == str(tmp_path / "backbone.pt") for c in frozen)
    assert {c.dataset for c in end_to_end + frozen} == {"synthetic"}


def test_allowed_drop_is_the_prediction_bound_of_the_seed_spread_clipped():
    n, std = 6, 0.01
    expected = stats.t.ppf(PREDICTION_LEVEL, n - 1) * std * math.sqrt(1 + 1 / n)
    assert allowed_drop(std, n) == pytest.approx(expected)
    assert allowed_drop(0.0, n) == MIN_DROP
    assert allowed_drop(0.2, n) == MAX_DROP  # a head that noisy cannot get more than the cap
    assert false_alarm_rate(allowed_drop(std, n), std, n) == pytest.approx(1 - PREDICTION_LEVEL)
    assert false_alarm_rate(MAX_DROP, 0.2, n) > 0.3  # the price of the cap, stated in the baseline
    with pytest.raises(ValueError, match="two seeds"):
        allowed_drop(0.01, 1)


def _measured(values: dict[tuple[str, str], list[float]]) -> pd.DataFrame:
    rows = [
        {"stage": stage, "head": head, "seed": seed, "top1": top1, "run_id": f"{head}{seed}"}
        for (stage, head), top1s in values.items()
        for seed, top1 in enumerate(top1s)
    ]
    return pd.DataFrame(rows)


def test_baseline_has_a_row_per_stage_and_head_plus_the_mean_over_frozen_heads():
    measured = _measured({
        (END_TO_END, "gru"): [0.80, 0.90, 0.85],
        (FROZEN, "tsn"): [0.30, 0.34, 0.32],
        (FROZEN, "lstm"): [0.96, 0.98, 0.97],
    })  # fmt: skip
    baseline = make_baseline(measured, [0, 1, 2]).set_index("head")
    assert list(baseline.index) == ["gru", "tsn", "lstm", MEAN_ROW]
    assert baseline.loc["tsn", "mean"] == pytest.approx(0.32)
    assert baseline.loc["tsn", "std"] == pytest.approx(0.02)
    assert baseline.loc[MEAN_ROW, "top1s"] == "0.6300 0.6600 0.6450"
    assert baseline.loc["gru", "allowed_drop"] == MAX_DROP  # std 0.05 over three seeds: capped
    assert (baseline["allowed_drop"] <= MAX_DROP).all() and (baseline["allowed_drop"] >= MIN_DROP).all()
    with pytest.raises(ValueError, match="with seeds \\[3\\]"):
        make_baseline(measured, [0, 1, 2, 3])


def test_compare_flags_drops_beyond_the_allowed_drop_and_says_whether_a_run_repeated_exactly():
    baseline = make_baseline(_measured({(FROZEN, "a"): [0.90, 0.91, 0.92], (FROZEN, "b"): [0.50, 0.50, 0.50]}), [0, 1, 2])
    drop_a = float(baseline.set_index("head").loc["a", "allowed_drop"])
    measured = _measured({(FROZEN, "a"): [0.91 - drop_a - 0.001], (FROZEN, "b"): [0.50]})
    verdicts = {v.head: v for v in compare(baseline, measured, seed=0)}
    assert verdicts["a"].regressed and not verdicts["b"].regressed
    assert verdicts["b"].identical is True and verdicts["a"].identical is False
    assert not compare(baseline, measured, seed=7)[0].identical  # no baseline run of seed 7: unknown
    assert compare(baseline, measured, seed=7)[0].identical is None
    assert Verdict("x", "y", 0.5, 0.05, 0.45, None).regressed is False  # exactly at the bound is allowed


def _regress(tiny: Path, tmp_path: Path, *extra: str) -> int:
    return main([
        "regress", "--data-path-sweep", str(tmp_path / "data_path.yaml"), "--heads-sweep", str(tmp_path / "heads.yaml"),
        "--baseline", str(tmp_path / "ci.csv"), "--data-root", str(tiny), "--work-dir", str(tmp_path / "runs"),
        "--workers", "0", "--no-progress", *extra,
    ])  # fmt: skip


@pytest.mark.slow
def test_regress_passes_unchanged_and_fails_on_a_degraded_head_or_a_failed_probe(tiny_synthetic, tmp_path, monkeypatch, capsys):
    for name, value in PINNED_NUMERICS.items():
        monkeypatch.setenv(name, value)  # the check runs in this process (a planted defect stays in it)
    (tmp_path / "data_path.yaml").write_text(
        "grid:\n  head: [lstm]\n  segments: [2]\nsettings:\n  epochs: 6\n  batch_size: 4\n  lr_steps: []\n"
    )
    (tmp_path / "heads.yaml").write_text(
        "grid:\n  head: [tsn, lstm]\n  segments: [2]\nsettings:\n  epochs: 6\n  batch_size: 4\n  lr_steps: []\n"
        "  frozen_backbone: true\n  cached_views: 2\n"
    )
    assert _regress(tiny_synthetic, tmp_path, "--update", "--seeds", "0", "1") == 0
    baseline = pd.read_csv(tmp_path / "ci.csv")
    assert list(baseline["head"]) == ["lstm", "tsn", "lstm", MEAN_ROW]
    assert list(baseline["stage"]) == [END_TO_END, FROZEN, FROZEN, FROZEN]
    assert all(len(top1s.split()) == 2 for top1s in baseline["top1s"])

    # Same code, same seed: the check repeats the baseline's seed-0 runs exactly and passes.
    assert _regress(tiny_synthetic, tmp_path) == 0
    out = capsys.readouterr().out
    table = out.split("consistency probes")[0]
    assert "no regression" in out and " yes " in table and " no " not in table

    # A head whose hidden-to-hidden weights are left out of training fails the coverage probe.
    import benchmark.run.optim as optim

    original_groups = optim.parameter_groups

    def without_hidden(model, lr, weight_decay):
        groups = original_groups(model, lr, weight_decay)
        return [{**g, "params": [p for n, p in model.named_parameters() if any(p is q for q in g["params"]) and "weight_hh" not in n]} for g in groups]

    monkeypatch.setattr(optim, "parameter_groups", without_hidden)
    assert _regress(tiny_synthetic, tmp_path) == 1
    assert "PROBE FAILED: training coverage, lstm" in capsys.readouterr().err
    monkeypatch.setattr(optim, "parameter_groups", original_groups)

    # Break the LSTM head: it always predicts a class that no test video has, so its top-1 falls to 0.
    lstm = baseline[(baseline["stage"] == END_TO_END) & (baseline["head"] == "lstm")].iloc[0]
    assert lstm["mean"] > lstm["allowed_drop"], "the undegraded LSTM must learn something for this test"
    splits = get_dataset("synthetic").load(tiny_synthetic, "default", progress=False)
    absent = min(set(range(len(splits.class_names))) - {record.label for record in splits.test})
    original = LSTMHead.forward
    bump = torch.zeros(len(splits.class_names))
    bump[absent] = 1.0

    def wrong(self, features):
        return original(self, features) * 0.0 + bump  # no in-place op: the MAC counter knows every op

    monkeypatch.setattr(LSTMHead, "forward", wrong)
    assert _regress(tiny_synthetic, tmp_path) == 1
    captured = capsys.readouterr()
    assert "REGRESSION: top-1 fell beyond the allowed drop for lstm (end to end)" in captured.err
    tsn_rows = [line for line in captured.out.splitlines() if line.split()[2:3] == ["tsn"]]
    assert len(tsn_rows) == 1 and tsn_rows[0].rstrip().endswith("ok")


def test_leave_one_out_checks_each_seed_against_the_others_only():
    from benchmark.report.regress import leave_one_out

    values = {(FROZEN, "a"): [0.90, 0.91, 0.92, 0.60], (FROZEN, "b"): [0.50, 0.51, 0.50, 0.50]}
    table = leave_one_out(_measured(values), [0, 1, 2, 3]).set_index("seed")
    assert table.loc[3, "baseline seeds"] == "0 1 2"
    assert "a (frozen backbone)" in table.loc[3, "flagged"]  # seed 3's collapse is not in its own baseline
    assert table.loc[0, "flagged"] == "none"
