"""95 % intervals: exact binomial for top-1, bootstrap for mAP / mean class accuracy, seeds combined."""
import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from benchmark.results.intervals import (
    average_precision,
    binomial_interval,
    map_of,
    run_intervals,
    seeds_interval,
    top1_of,
)
from benchmark.results.predictions import make_predictions


def _run(correct: np.ndarray, num_classes: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = np.arange(len(correct)) % num_classes
    scores = rng.random((len(correct), num_classes)) * 0.5
    wrong = (labels + 1) % num_classes
    scores[np.arange(len(correct)), np.where(correct, labels, wrong)] += 1.0
    return make_predictions(np.arange(len(correct)), scores, labels, [f"v{i}" for i in range(len(correct))])


def test_exact_binomial_interval_matches_clopper_pearson():
    low, high = binomial_interval(200, 250)
    assert (low, high) == pytest.approx((0.7450, 0.8478), abs=1e-4)  # Clopper–Pearson of 200/250
    assert binomial_interval(250, 250)[1] == 1.0 and binomial_interval(0, 250)[0] == 0.0


def test_tie_aware_average_precision_equals_scikit_learn():
    rng = np.random.default_rng(1)
    for _ in range(50):
        scores = rng.integers(0, 6, 40).astype(float)  # many ties, as float16 probabilities have
        positive = rng.random(40) < 0.3
        if positive.any():
            assert average_precision(scores, positive) == pytest.approx(average_precision_score(positive, scores))


def test_run_intervals_contain_the_run_figures():
    run = _run(np.arange(250) % 5 != 0)  # 80 % correct
    columns = run_intervals(run)
    everything = np.arange(len(run))
    assert columns["top1_low"] < top1_of(run, everything) == 0.8 < columns["top1_high"]
    assert columns["map_low"] <= map_of(run, everything) <= columns["map_high"]
    assert columns["mean_class_acc_high"] - columns["mean_class_acc_low"] < 0.15


def test_seed_spread_widens_the_interval_of_several_seeds():
    same = [_run(np.arange(250) % 5 != 0, seed=s) for s in range(3)]
    spread = [_run(np.arange(250) % k != 0, seed=s) for s, k in enumerate((2, 5, 50))]  # 50 %, 80 %, 98 %
    _, low_same, high_same = seeds_interval(same, top1_of)
    mean, low_spread, high_spread = seeds_interval(spread, top1_of)
    assert mean == pytest.approx((0.5 + 0.8 + 0.98) / 3)
    assert high_spread - low_spread > 2 * (high_same - low_same)


def test_runs_on_different_videos_cannot_be_combined():
    a = _run(np.ones(10, bool))
    b = make_predictions(np.arange(10), np.eye(4)[np.arange(10) % 4], np.arange(10) % 4, [f"w{i}" for i in range(10)])
    with pytest.raises(ValueError, match="different videos"):
        seeds_interval([a, b], top1_of)
