"""Per-video test outputs: sorted, exact top-1, plain arrays only, atomic files."""
import numpy as np
import pytest

from benchmark.results.predictions import load_predictions, make_predictions, same_outputs, save_predictions


def test_outputs_gathered_in_any_order_are_stored_sorted_with_exact_correctness(tmp_path):
    index = np.array([2, 0, 1])
    scores = np.array([[0.1, 0.9], [0.7, 0.3], [0.50001, 0.49999]])  # arg-max on full precision
    targets = np.array([1, 1, 0])
    predictions = make_predictions(index, scores, targets, ["v0", "v1", "v2"])
    assert list(predictions.index) == [0, 1, 2] and list(predictions.video_id) == ["v0", "v1", "v2"]
    assert list(predictions.predicted) == [0, 0, 1] and list(predictions.correct) == [False, True, True]
    save_predictions(predictions, tmp_path / "predictions.npz")
    again = load_predictions(tmp_path / "predictions.npz")  # allow_pickle=False: plain arrays only
    assert same_outputs(predictions, again) and again.scores.dtype == np.float16
    assert list(again.correct) == [False, True, True]
    assert [p.name for p in tmp_path.iterdir()] == ["predictions.npz"]  # no temporary file left


def test_a_video_gathered_twice_is_an_error_not_a_row():
    with pytest.raises(ValueError, match="appears twice"):
        make_predictions(np.array([0, 0]), np.ones((2, 3)), np.array([0, 0]), ["a"])


def test_multi_label_outputs_keep_their_label_sets(tmp_path):
    targets = np.array([[1, 0, 1], [0, 0, 0]])
    predictions = make_predictions(np.array([1, 0]), np.random.rand(2, 3), targets, ["a", "b"], multi_label=True)
    save_predictions(predictions, tmp_path / "p.npz")
    again = load_predictions(tmp_path / "p.npz")
    assert again.multi_label and again.labels.tolist() == [[0, 0, 0], [1, 0, 1]]
