"""Per-video outputs of systems that fuse score arrays (two-stream, hybrid, multi-task): kept like
a single run's (:mod:`benchmark.results.predictions`), with the row's interval columns."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from benchmark.results.intervals import run_intervals
from benchmark.results.predictions import PREDICTIONS_NAME, make_predictions, save_predictions


def keep_scored_outputs(
    run_dir: str | Path, video_ids: Sequence[str], scores: np.ndarray, labels: np.ndarray, multi_label: bool
) -> dict[str, float]:
    """Write ``<run_dir>/predictions.npz`` for (N, K) ``scores`` (the system's own scores: probabilities,
    margins or averaged margins) and return the interval columns of its row."""
    scores = np.asarray(scores, dtype=np.float64)
    predictions = make_predictions(np.arange(len(video_ids)), scores, np.asarray(labels), list(video_ids), multi_label)
    save_predictions(predictions, Path(run_dir) / PREDICTIONS_NAME)
    return run_intervals(predictions)
