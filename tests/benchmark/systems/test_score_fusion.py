from __future__ import annotations

import dataclasses
import inspect

import numpy as np
import pytest

from benchmark.systems.score_fusion import (
    FittedFusion,
    fit_score_fusion,
    fusion_metric,
    simplex_grid,
)

K = 5


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def informative(labels: np.ndarray, rng: np.random.Generator, strength: float, shift: int = 0) -> np.ndarray:
    """Softmax scores with ``strength`` extra evidence for class (label + shift) % K plus noise."""
    logits = rng.normal(size=(len(labels), K))
    logits[np.arange(len(labels)), (labels + shift) % K] += strength
    return softmax(logits)


def noise(n: int, rng: np.random.Generator) -> np.ndarray:
    return softmax(3.0 * rng.normal(size=(n, K)))


def test_weighted_average_gives_a_noise_stream_no_weight():
    noise_weights = []
    for seed in range(6):
        rng = np.random.default_rng(seed)
        labels = rng.integers(K, size=1000)
        good, useless = informative(labels, rng, 2.0), noise(1000, rng)
        fitted = fit_score_fusion("weighted_average", [useless, good], labels)
        assert fitted.weights is not None and sum(fitted.weights) == pytest.approx(1.0)
        assert fitted.validation_score >= fusion_metric((useless + good) / 2, labels, False)
        noise_weights.append(fitted.weights[0])
    # Only chance gains on the held-out items can buy the noise stream a grid step or two.
    assert max(noise_weights) <= 0.1 and np.mean(noise_weights) <= 0.05
    np.testing.assert_allclose(
        fitted.predict_scores([useless, good]), fitted.weights[0] * useless + fitted.weights[1] * good
    )
    assert "weighted_average weights=(" in fitted.describe() and "top-1" in fitted.describe()


def test_weighted_average_balances_two_useful_streams():
    rng = np.random.default_rng(1)
    labels = rng.integers(K, size=600)
    a, b = informative(labels, rng, 1.5), informative(labels, rng, 1.5)
    fitted = fit_score_fusion("weighted_average", [a, b], labels)
    assert 0.2 <= fitted.weights[0] <= 0.8  # both help: neither is dropped
    assert fitted.validation_score > max(fusion_metric(a, labels, False), fusion_metric(b, labels, False))


def test_linear_svm_beats_averaging_when_a_stream_is_systematically_off():
    """Stream A scores the class one to the right of the truth: averaging cannot undo that, a
    linear map of the concatenated scores can."""
    rng = np.random.default_rng(2)

    def streams(n: int):
        labels = rng.integers(K, size=n)
        return [informative(labels, rng, 3.0, shift=1), informative(labels, rng, 0.8)], labels

    val, val_labels = streams(500)
    test, test_labels = streams(500)
    svm = fit_score_fusion("linear_svm", val, val_labels)
    average = fit_score_fusion("average", val, val_labels)
    svm_acc = fusion_metric(svm.predict_scores(test), test_labels, False)
    avg_acc = fusion_metric(average.predict_scores(test), test_labels, False)
    assert svm_acc >= avg_acc and svm_acc >= 0.85 > avg_acc
    assert svm.svm_c in (0.01, 0.1, 1.0, 10.0, 100.0) and f"C={svm.svm_c:g}" in svm.describe()
    assert svm.predict_scores(test).shape == (500, K)


def test_average_is_the_plain_mean():
    rng = np.random.default_rng(3)
    labels = rng.integers(K, size=50)
    streams = [informative(labels, rng, 1.0) for _ in range(3)]
    fitted = fit_score_fusion("average", streams, labels)
    np.testing.assert_allclose(fitted.predict_scores(streams), sum(streams) / 3)


def test_multi_label_fusion_maximises_map():
    rng = np.random.default_rng(4)
    labels = (rng.random((300, K)) < 0.3).astype(int)
    good = 1 / (1 + np.exp(-(3.0 * labels + rng.normal(size=labels.shape) - 1.5)))
    useless = rng.random(labels.shape)
    fitted = fit_score_fusion("weighted_average", [good, useless], labels, multi_label=True)
    assert fitted.weights[1] <= 0.05 and "mAP" in fitted.describe()
    svm = fit_score_fusion("linear_svm", [good, useless], labels, multi_label=True)
    fused = svm.predict_scores([good, useless])
    assert fused.shape == (300, K)
    assert fusion_metric(fused, labels, True) >= 0.9


def test_fitting_only_sees_validation_arrays_and_the_result_is_immutable():
    params = list(inspect.signature(fit_score_fusion).parameters)
    assert [p for p in params if "scores" in p or "labels" in p] == ["val_scores", "val_labels"]
    rng = np.random.default_rng(5)
    labels = rng.integers(K, size=100)
    val = [informative(labels, rng, 2.0), noise(100, rng)]
    fitted = fit_score_fusion("weighted_average", val, labels)
    assert isinstance(fitted, FittedFusion)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fitted.weights = (0.5, 0.5)  # type: ignore[misc]
    before = fitted.describe()
    test = [noise(30, rng), noise(30, rng)]
    test_copy = [t.copy() for t in test]
    first = fitted.predict_scores(test)
    np.testing.assert_array_equal(fitted.predict_scores(test), first)
    assert fitted.describe() == before
    assert all(np.array_equal(t, c) for t, c in zip(test, test_copy))


def test_bad_inputs_are_named():
    rng = np.random.default_rng(6)
    labels = rng.integers(K, size=20)
    good = informative(labels, rng, 1.0)
    with pytest.raises(ValueError, match="unknown score fusion"):
        fit_score_fusion("max", [good], labels)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="stream 1"):
        fit_score_fusion("average", [good, good[:, :3]], labels)
    with pytest.raises(ValueError, match="class indices"):
        fit_score_fusion("average", [good], labels + K)
    fitted = fit_score_fusion("average", [good, good], labels)
    with pytest.raises(ValueError, match="fitted on 2 streams"):
        fitted.predict_scores([good])


def test_simplex_grid_resolution():
    grid = simplex_grid(3, 20)
    assert len(grid) == 231  # C(22, 2) points at step 0.05
    np.testing.assert_allclose(grid.sum(axis=1), 1.0)
    assert grid.min() == 0.0 and grid.max() == 1.0
    assert len(simplex_grid(2, 20)) == 21


def test_held_out_multi_label_map_is_over_the_classes_with_positives():
    scores = np.array([[0.9, 0.1, 0.5], [0.2, 0.8, 0.4], [0.6, 0.4, 0.3]])
    labels = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0]])  # the held-out part has no video of class 2
    assert fusion_metric(scores, labels, multi_label=True) == 1.0


def test_linear_svm_cross_validates_multi_label_data_on_map_over_present_classes():
    rng = np.random.default_rng(0)
    labels = (rng.random((60, 3)) < 0.4).astype(int)
    labels[:, 2] = 0  # no held-out video of class 2
    scores = [labels + 0.1 * rng.normal(size=labels.shape)]
    fitted = fit_score_fusion("linear_svm", scores, labels, multi_label=True)
    assert fitted.validation_score > 0.95  # classes 0 and 1 are easy; class 2 does not count as AP 0 (≤ 2/3)
