import numpy as np
import pytest
import torch

from benchmark.results.metrics import (
    average_precisions,
    mean_average_precision,
    mean_class_accuracy,
    score_metrics,
    subset_top1,
    top1,
)


def test_confusion_figures_by_hand():
    # rows = true class: class 0 has 3 videos (2 right), class 1 has 1 (right), class 2 none
    confusion = torch.tensor([[2, 1, 0], [0, 1, 0], [0, 0, 0]])
    assert top1(confusion) == pytest.approx(3 / 4)
    assert mean_class_accuracy(confusion) == pytest.approx((2 / 3 + 1) / 2)  # absent class 2 left out
    assert subset_top1(confusion, ["a", "b", "c"], ["b"]) == 1.0
    assert np.isnan(top1(torch.zeros(2, 2, dtype=torch.long)))


def test_score_metrics_reads_top1_and_class_accuracy_from_the_same_confusion_matrix():
    scores = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.1, 0.2, 0.7]])
    labels = np.array([0, 0, 1, 2])  # right, wrong (1), wrong (0), right
    figures = score_metrics(scores, labels, 3, multi_label=False)
    assert figures["top1"] == 0.5
    assert figures["mean_class_acc"] == pytest.approx((1 / 2 + 0 + 1) / 3)
    assert figures["top5"] == 1.0  # three classes: every label is within the top 3


def test_score_metrics_of_multi_label_data_is_map_only():
    scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.6]])
    labels = np.array([[1, 0], [0, 1], [1, 1]])
    figures = score_metrics(scores, labels, 2, multi_label=True)
    assert figures["map"] == pytest.approx(1.0)
    assert all(np.isnan(figures[name]) for name in ("top1", "top5", "mean_class_acc"))


def test_map_ranks_each_class_by_its_own_scores_without_a_softmax_across_classes():
    # SVM-like margins. Class 1's own scores rank video 0 (label 1) first: AP 1; class 0's rank video 0
    # (not class 0) first: AP 1/2. A softmax across classes would rank video 1 first for class 1
    # (e^1 / (e^0 + e^1) > e^2 / (e^10 + e^2)) and give AP 1/2 there too.
    margins = np.array([[10.0, 2.0], [0.0, 1.0]])
    labels = np.array([1, 0])
    assert score_metrics(margins, labels, 2, multi_label=False)["map"] == pytest.approx((1 / 2 + 1) / 2)
    softmax = np.exp(margins) / np.exp(margins).sum(axis=1, keepdims=True)
    assert average_precisions(softmax, labels, 2, multi_label=False)[1] == pytest.approx(1 / 2)
    # a per-class monotone map (a sigmoid) keeps every class's AP
    sigmoid = 1 / (1 + np.exp(-margins))
    assert np.allclose(average_precisions(sigmoid, labels, 2, False), average_precisions(margins, labels, 2, False))


def test_map_leaves_out_classes_without_a_positive_video():
    scores = np.array([[0.9, 0.1, 0.5], [0.2, 0.8, 0.4], [0.6, 0.4, 0.3]])
    multi = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0]])  # class 2: no positive
    per_class = average_precisions(scores, multi, 3, multi_label=True)
    assert per_class[:2].tolist() == [1.0, 1.0] and np.isnan(per_class[2])
    assert mean_average_precision(scores, multi, 3, multi_label=True) == 1.0  # not (1 + 1 + 0) / 3
    assert score_metrics(scores, multi, 3, multi_label=True)["map"] == 1.0
    assert mean_average_precision(scores, np.array([0, 1, 0]), 3, multi_label=False) == 1.0
    assert np.isnan(mean_average_precision(scores, np.zeros((3, 3), dtype=int), 3, multi_label=True))
