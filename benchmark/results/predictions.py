"""Per-video test outputs of a run (``<results>/runs/<id>/predictions.npz``).

Every statistic of a comparison (intervals, paired tests, score fusions) is computed from these
files, so none needs a re-run. One row per evaluated test video, sorted by its position in the
test list:

* ``index`` (int32): position in the test list; ``video_id`` (unicode): the annotation's id;
* ``label`` (int16, -1 for multi-label sets) and, for multi-label sets, ``labels`` (uint8 (N, K));
* ``predicted`` (int16): arg-max of the full-precision scores, so ``correct`` and top-1 are exact;
* ``correct`` (bool); ``scores`` (float16 (N, K)): softmax probabilities (per-class sigmoid for
  multi-label sets) — compact; statistics of ranking metrics (mAP) use them as stored.

The file holds plain arrays only (read with ``allow_pickle=False``) and is written atomically.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from datamodules.storage import write_atomically

PREDICTIONS_NAME = "predictions.npz"


@dataclass(frozen=True)
class Predictions:
    index: np.ndarray
    video_id: np.ndarray
    label: np.ndarray
    predicted: np.ndarray
    scores: np.ndarray
    labels: np.ndarray | None = None  # (N, K) 0/1, multi-label sets only

    @property
    def correct(self) -> np.ndarray:
        return self.predicted == self.label

    @property
    def multi_label(self) -> bool:
        return self.labels is not None

    def __len__(self) -> int:
        return len(self.index)


def make_predictions(
    index: np.ndarray,
    scores: np.ndarray,
    targets: np.ndarray,
    video_ids: Sequence[str],
    multi_label: bool = False,
) -> Predictions:
    """Predictions from gathered test outputs: ``index`` (N,), full-precision ``scores`` (N, K)
    as probabilities, ``targets`` (N,) class indices or (N, K) 0/1; ``video_ids`` indexed by ``index``.

    A video evaluated twice (it cannot be, under the harness's samplers) is an error, not a row."""
    index = np.asarray(index, dtype=np.int64)
    if len(np.unique(index)) != len(index):
        raise ValueError("a test video appears twice in the gathered test outputs")
    order = np.argsort(index, kind="stable")
    index, scores, targets = index[order], np.asarray(scores)[order], np.asarray(targets)[order]
    predicted = scores.argmax(axis=1).astype(np.int16) if len(scores) else np.zeros(0, np.int16)
    if multi_label:
        label = np.full(len(index), -1, dtype=np.int16)
        labels = targets.astype(np.uint8)
    else:
        label, labels = targets.astype(np.int16), None
    ids = np.array([str(video_ids[i]) for i in index], dtype=str)
    return Predictions(index.astype(np.int32), ids, label, predicted, scores.astype(np.float16), labels)


def save_predictions(predictions: Predictions, path: str | Path) -> None:
    arrays = {
        "index": predictions.index,
        "video_id": predictions.video_id,
        "label": predictions.label,
        "predicted": predictions.predicted,
        "correct": predictions.correct,
        "scores": predictions.scores,
    }
    if predictions.labels is not None:
        arrays["labels"] = predictions.labels
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    write_atomically(path, buffer.getvalue())


def load_predictions(path: str | Path) -> Predictions:
    with np.load(Path(path), allow_pickle=False) as data:
        labels = data["labels"] if "labels" in data.files else None
        return Predictions(
            data["index"], data["video_id"], data["label"], data["predicted"], data["scores"], labels
        )


def same_outputs(first: Predictions, second: Predictions) -> bool:
    """Whether two evaluations gave identical per-video outputs (same videos, predictions and scores)."""
    return (
        np.array_equal(first.index, second.index)
        and np.array_equal(first.predicted, second.predicted)
        and np.array_equal(first.scores, second.scores)
    )
