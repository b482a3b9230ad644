"""Paired comparisons: exact McNemar, paired bootstrap over seeds, Holm, tied-with-best."""
import numpy as np
import pytest
from scipy import stats

from benchmark.results.predictions import make_predictions
from benchmark.results.significance import compare_systems, holm, mcnemar_exact, tied_with_best


def _run(correct) -> object:
    correct = np.asarray(correct, bool)
    labels = np.zeros(len(correct), int)
    scores = np.where(correct[:, None], [[0.9, 0.1]], [[0.1, 0.9]])
    return make_predictions(np.arange(len(correct)), scores, labels, [f"v{i}" for i in range(len(correct))])


def test_mcnemar_uses_only_the_discordant_videos():
    a = np.array([True] * 30 + [False] * 5 + [True] * 50)
    b = np.array([False] * 30 + [True] * 5 + [True] * 50)
    assert mcnemar_exact(a, b) == pytest.approx(stats.binomtest(30, 35, 0.5).pvalue)
    assert mcnemar_exact(a, a) == 1.0


def test_holm_is_step_down_and_monotone():
    assert holm([0.01, 0.04, 0.03]).tolist() == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]).tolist() == pytest.approx([1.0, 1.0])
    assert holm([0.02, 0.3]).tolist() == pytest.approx([0.04, 0.3])


def test_tied_with_best_only_when_the_adjusted_difference_is_not_significant():
    rng = np.random.default_rng(0)
    best = rng.random(250) < 0.95
    close = best.copy()
    close[:3] = ~close[:3]  # three videos differ: not significant
    poor = rng.random(250) < 0.6
    systems = {"best": [_run(best)], "close": [_run(close)], "poor": [_run(poor)]}
    pairs = compare_systems(systems)
    assert len(pairs) == 3 and set(pairs["test"]) == {"exact McNemar"}
    assert (pairs["p_holm"] >= pairs["p"]).all()
    tied = tied_with_best(systems, pairs)
    assert tied["close"] and not tied["poor"]
    assert tied[max(("best", "close"), key=lambda n: systems[n][0].correct.mean())]


def test_several_seeds_use_the_paired_bootstrap():
    rng = np.random.default_rng(3)
    a = [_run(rng.random(200) < 0.9) for _ in range(3)]
    b = [_run(rng.random(200) < 0.5) for _ in range(3)]
    pairs = compare_systems({"a": a, "b": b})
    assert pairs.loc[0, "test"] == "paired bootstrap" and pairs.loc[0, "p"] < 0.01 and bool(pairs.loc[0, "significant"])
