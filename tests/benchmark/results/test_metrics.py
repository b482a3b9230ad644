import numpy as np
import pytest
import torch

from benchmark.results.metrics import mean_class_accuracy, score_metrics, subset_top1, top1


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
