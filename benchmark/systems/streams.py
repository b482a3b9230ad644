"""Per-video outputs of a trained single-stream run (class scores or per-frame features).

The systems that fuse streams need, for the held-out part of the training set and for the test
set, each video's scores (or its frame features) from a finished run's checkpoint. They are
computed here in one process with the test transform (deterministic), so the fusion that is
fitted on them never depends on the number of training processes.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from benchmark.run.config import RunConfig
from benchmark.run.module import VideoClassifier
from benchmark.run.runner import RunOptions, make_datamodule

Part = Literal["train", "val", "test"]


@dataclass(frozen=True)
class StreamOutputs:
    """Row i belongs to video ``video_ids[i]``: ``values`` (N, K) probabilities or (N, T, C)
    features, ``labels`` (N,) class indices or (N, K) multi-hot."""

    video_ids: list[str]
    values: np.ndarray
    labels: np.ndarray


def checkpoint_of(config: RunConfig, options: RunOptions) -> Path:
    path = Path(options.work_dir) / config.run_id / "checkpoints" / "last.ckpt"
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint for run {config.run_id} at {path}: train it first")
    return path


def load_stream(config: RunConfig, options: RunOptions) -> VideoClassifier:
    model = VideoClassifier.load_from_checkpoint(checkpoint_of(config, options), map_location="cpu", config=config)
    return model.eval()


@torch.inference_mode()
def stream_outputs(
    config: RunConfig,
    options: RunOptions,
    part: Part,
    kind: Literal["scores", "features"] = "scores",
    model: VideoClassifier | None = None,
) -> StreamOutputs:
    """Scores (softmax / sigmoid, averaged over the run's test views) or per-frame backbone features
    (global-average-pooled maps, one per segment, single centre view) of every video of ``part``.

    ``part="val"`` is the held-out part of the training set when the run has a ``holdout_fraction``.
    Unreadable videos follow ``options.on_bad_video``; skipped ones are left out of the arrays
    (their ids are missing from ``video_ids``).
    """
    model = model if model is not None else load_stream(config, options)
    datamodule = make_datamodule(config, options, model)
    datamodule.setup()
    splits = datamodule.splits
    records = {"train": splits.train, "val": splits.val, "test": splits.test}[part]
    model.flow_bound = datamodule.flow_bound
    views = config.test_clips if kind == "scores" else 1
    datamodule.test_views = views
    loader = datamodule._loader(records, "test")
    ids: list[str] = []
    values: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    multi_view = kind == "scores" and model.multi_view
    for batch in loader:
        if "frames" not in batch:
            continue
        frames = batch["frames"]
        if kind == "scores":
            if multi_view:
                output = model._multi_view_scores(frames)
            else:
                output = model._probabilities(model(datamodule.on_after_batch_transfer(batch, 0)["frames"]))
        else:
            clips = datamodule.on_after_batch_transfer(batch, 0)["frames"]
            maps = model.net.backbone(clips.flatten(0, 1))
            output = maps.mean(dim=(-2, -1)).reshape(clips.shape[0], clips.shape[1], -1)
        ids.extend(records[int(i)].video_id for i in batch["index"])
        values.append(output.float().cpu().numpy())
        labels.append(batch["label"].cpu().numpy())
    if not values:
        raise RuntimeError(f"no readable video in the {part} part of {config.dataset}")
    return StreamOutputs(ids, np.concatenate(values), np.concatenate(labels))
