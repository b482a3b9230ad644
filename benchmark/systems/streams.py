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

from backbones import first_fc_layer
from benchmark.run.checkpoint import allowed_globals, read_checkpoint
from benchmark.run.config import RunConfig
from benchmark.run.module import VideoClassifier
from benchmark.run.data import build_datamodule
from benchmark.run.options import RunOptions

Part = Literal["train", "val", "test"]


@dataclass(frozen=True)
class StreamOutputs:
    """Row i belongs to video ``video_ids[i]``: ``values`` (N, K) probabilities or (N, T, C)
    features, ``labels`` (N,) class indices or (N, K) multi-hot."""

    video_ids: list[str]
    values: np.ndarray
    labels: np.ndarray


def checkpoint_of(config: RunConfig, options: RunOptions) -> Path:
    path = options.checkpoint_dir(config.run_id) / "last.ckpt"
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint for run {config.run_id} at {path}: train it first")
    return path


def load_stream(config: RunConfig, options: RunOptions) -> VideoClassifier:
    """The trained stream of ``config``, from its checkpoint vetted by :func:`read_checkpoint` first."""
    path, trust = checkpoint_of(config, options), options.trust_checkpoint
    read_checkpoint(path, trust)
    with allowed_globals():
        model = VideoClassifier.load_from_checkpoint(path, map_location="cpu", weights_only=not trust, config=config)
    return model.eval()


@torch.inference_mode()
def stream_outputs(
    config: RunConfig,
    options: RunOptions,
    part: Part,
    kind: Literal["scores", "features"] = "scores",
    model: VideoClassifier | None = None,
) -> StreamOutputs:
    """Scores (softmax / sigmoid, averaged over the run's test views) or per-frame features (one per
    segment, single centre view) of every video of ``part``. The frame feature is the output of the
    backbone's first fully-connected layer where it has one and the run loaded ImageNet weights
    (VGG-16's fc6, 4096-d, :func:`backbones.first_fc_layer`), else its global-average-pooled map.

    ``part="val"`` is the held-out part of the training set when the run has a ``holdout_fraction``.
    Unreadable videos follow ``options.on_bad_video``; skipped ones are left out of the arrays
    (their ids are missing from ``video_ids``).
    """
    model = model if model is not None else load_stream(config, options)
    datamodule = build_datamodule(config, options, model.net.backbone.input_norm)
    datamodule.setup()
    splits = datamodule.splits
    records = {"train": splits.train, "val": splits.val, "test": splits.test}[part]
    if kind == "features":
        datamodule.test_views = 1
    transform = datamodule.clip_transform("test" if kind == "scores" else "fit")
    first_fc = first_fc_layer(config.backbone, config.backbone_weights) if kind == "features" else None
    loader = datamodule.loader(records, "test")
    ids: list[str] = []
    values: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    for batch in loader:
        if "frames" not in batch:
            continue
        batch = transform(batch)
        if kind == "scores":
            if "views" in batch:
                output = model.view_scores(batch["views"])
            else:
                output = model.probabilities(model(batch["frames"]))
        else:
            clips = batch["frames"]
            maps = model.net.backbone(clips.flatten(0, 1))
            frames = maps.mean(dim=(-2, -1)) if first_fc is None else first_fc(maps)
            output = frames.reshape(clips.shape[0], clips.shape[1], -1)
        ids.extend(records[int(i)].video_id for i in batch["index"])
        values.append(output.float().cpu().numpy())
        labels.append(batch["label"].cpu().numpy())
    if not values:
        raise RuntimeError(f"no readable video in the {part} part of {config.dataset}")
    return StreamOutputs(ids, np.concatenate(values), np.concatenate(labels))
