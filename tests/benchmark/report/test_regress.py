"""`stbench regress` passes on an unchanged model and fails, naming the head, when one is degraded."""
import pandas as pd
import pytest

from benchmark.cli.main import main
from benchmark.run.config import resolve_config
from benchmark.report.regress import (
    MIN_TOLERANCE,
    SPREAD_FACTOR,
    SPREAD_SEEDS,
    HeadResult,
    check_cells,
    compare,
    make_baseline,
    spread_cells,
)
from heads.recurrent import LSTMHead


def test_shipped_check_covers_every_head_once():
    from heads import HEADS

    cells = check_cells()
    assert sorted(c.head for c in cells) == sorted(HEADS)
    assert {c.seed for c in cells} == {0} and {c.dataset for c in cells} == {"synthetic"}
    assert len(spread_cells(cells)) == len(SPREAD_SEEDS) * len(cells)


def test_tolerance_is_a_multiple_of_the_seed_spread_with_a_floor():
    checks = [resolve_config("synthetic", head="tsn"), resolve_config("synthetic", head="lstm")]
    top1 = {("tsn", 0): 0.50, ("tsn", 1): 0.52, ("tsn", 2): 0.48, ("lstm", 0): 0.90, ("lstm", 1): 0.90, ("lstm", 2): 0.90}
    rows = pd.DataFrame(
        [{"run_id": cell.run_id, "status": "finished", "top1": top1[(cell.head, cell.seed)]} for cell in spread_cells(checks)]
    )
    baseline = make_baseline(rows, checks).set_index("head")
    assert baseline.loc["tsn", "top1"] == 0.50
    assert baseline.loc["tsn", "seed_std"] == pytest.approx(0.02)
    assert baseline.loc["tsn", "tolerance"] == pytest.approx(SPREAD_FACTOR * 0.02)
    assert baseline.loc["lstm", "tolerance"] == MIN_TOLERANCE  # no spread measured: the floor applies
    with pytest.raises(ValueError, match="no finished row for head 'tsn'"):
        make_baseline(rows.iloc[1:], checks)


def test_compare_flags_only_drops_beyond_tolerance():
    baseline = pd.DataFrame({"head": ["a", "b", "c"], "run_id": ["1", "2", "3"], "top1": [0.5, 0.5, 0.5], "tolerance": [0.05] * 3})
    measured = pd.DataFrame({"run_id": ["1", "2", "3"], "status": ["finished"] * 3, "top1": [0.46, 0.44, 0.9]})
    results = {r.head: r for r in compare(baseline, measured)}
    assert not results["a"].regressed and results["b"].regressed and not results["c"].regressed
    assert HeadResult("x", 0.5, 0.05, 0.45).regressed is False  # exactly at the bound is allowed


def _regress(tiny, tmp_path, *extra):
    return main([
        "regress", "--sweep", str(tmp_path / "check.yaml"), "--baseline", str(tmp_path / "ci.csv"),
        "--data-root", str(tiny), "--work-dir", str(tmp_path / "runs"), "--accelerator", "cpu",
        "--workers", "0", "--no-progress", *extra,
    ])  # fmt: skip


@pytest.mark.slow
def test_regress_fails_when_a_head_is_degraded(tiny_synthetic, tmp_path, monkeypatch, capsys):
    (tmp_path / "check.yaml").write_text(
        "grid:\n  head: [tsn, lstm]\n  segments: [2]\nsettings:\n  epochs: 6\n  batch_size: 4\n  lr_steps: []\n"
    )
    assert _regress(tiny_synthetic, tmp_path, "--update") == 0
    baseline = pd.read_csv(tmp_path / "ci.csv", dtype={"run_id": str})
    assert list(baseline["head"]) == ["tsn", "lstm"]
    assert all(len(seeds.split()) == len(SPREAD_SEEDS) for seeds in baseline["seed_top1s"])
    assert (baseline["tolerance"] >= MIN_TOLERANCE).all()

    # Same code, same seed: the check reproduces the baseline exactly and passes.
    assert _regress(tiny_synthetic, tmp_path) == 0
    assert "no regression" in capsys.readouterr().out

    # Tighten the tolerance so that the test does not depend on the spread of a 9-clip test set,
    # then break the LSTM head: it now scores every class alike (always predicts class 0).
    baseline["tolerance"] = MIN_TOLERANCE
    baseline.to_csv(tmp_path / "ci.csv", index=False)
    lstm_baseline = float(baseline.set_index("head").loc["lstm", "top1"])
    # degraded, it predicts class 0 for all 9 test clips (one per class at most): top-1 <= 1/9
    assert lstm_baseline > 1 / 9 + MIN_TOLERANCE, "the undegraded LSTM must learn something for this test"
    original = LSTMHead.forward
    monkeypatch.setattr(LSTMHead, "forward", lambda self, features: original(self, features) * 0.0)
    assert _regress(tiny_synthetic, tmp_path) == 1
    captured = capsys.readouterr()
    assert "REGRESSION: top-1 fell beyond tolerance for lstm" in captured.err
    table = captured.out
    assert "lstm" in table and "REGRESSED" in table
    assert sum(line.split()[0] == "tsn" and line.rstrip().endswith("ok") for line in table.splitlines()) == 1
