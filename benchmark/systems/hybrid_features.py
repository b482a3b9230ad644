"""The hybrid framework's inputs: both streams' per-frame features and scores of every part.

Outputs of a stream's checkpoint are computed once and kept under ``<work>/<run id>/stream_outputs``.
"""
from __future__ import annotations

import functools
import io
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor

from backbones import frame_feature_name
from benchmark.run.config import RunConfig
from benchmark.run.options import RunOptions
from benchmark.systems.streams import StreamOutputs, checkpoint_of, load_stream, stream_outputs
from benchmark.systems.two_stream import align
from datamodules.storage import write_atomically

OUTPUTS_FOLDER = "stream_outputs"


@dataclass(frozen=True)
class Part:
    """One part's videos seen by both streams: (N, T, C_s) frame features each, and labels."""

    name: str
    video_ids: list[str]
    spatial: np.ndarray
    motion: np.ndarray
    labels: np.ndarray

    def frames(self) -> list[Tensor]:
        return [torch.from_numpy(self.spatial).float(), torch.from_numpy(self.motion).float()]

    def video_level(self) -> list[Tensor]:
        """Per stream the time-averaged feature (N, C_s) of every video."""
        return [x.mean(dim=1) for x in self.frames()]

    def targets(self) -> Tensor:
        return torch.from_numpy(self.labels)


def cached_outputs(
    config: RunConfig,
    options: RunOptions,
    part: Literal["train", "val", "test"],
    kind: Literal["scores", "features"],
    model: Callable[[], Any],
) -> StreamOutputs:
    """:func:`stream_outputs` kept in ``<work_dir>/<run_id>/stream_outputs/``, keyed by the
    checkpoint's size and modification time (a retrained stream is extracted again) and, for
    features, by the layer they come from (:func:`frame_feature_source`).
    ``model`` loads the stream's model only when the outputs are not cached yet."""
    checkpoint = checkpoint_of(config, options)
    stat = checkpoint.stat()
    source = frame_feature_source(config) if kind == "features" else "pooled maps"
    tag = "" if source == "pooled maps" else f"-{source}"
    name = f"{part}-{kind}{tag}-{stat.st_size}-{stat.st_mtime_ns}.npz"
    path = Path(options.work_dir) / config.run_id / OUTPUTS_FOLDER / name
    if path.is_file():
        with np.load(path) as stored:
            return StreamOutputs([str(v) for v in stored["video_ids"]], stored["values"], stored["labels"])
    outputs = stream_outputs(config, options, part, kind, model=model())
    stored = io.BytesIO()
    np.savez(stored, video_ids=np.array(outputs.video_ids), values=outputs.values, labels=outputs.labels)
    write_atomically(path, stored.getvalue())
    return outputs


def frame_feature_source(config: RunConfig) -> str:
    """Where a stream's frame features come from: "fc6" (VGG-16 with ImageNet weights) or "pooled maps"."""
    return frame_feature_name(config.backbone, config.backbone_weights)


def lazy_stream_model(config: RunConfig, options: RunOptions) -> Callable[[], Any]:
    """A loader of the stream's model that loads it on its first call only."""
    return functools.cache(functools.partial(load_stream, config, options))


def load_parts(spatial: RunConfig, temporal: RunConfig, options: RunOptions) -> dict[str, Part]:
    """Train, held-out ("val") and test parts with both streams' frame features, aligned by video."""
    models = [lazy_stream_model(spatial, options), lazy_stream_model(temporal, options)]
    parts = {}
    for name in ("train", "val", "test"):
        outputs = [cached_outputs(c, options, name, "features", m) for c, m in zip((spatial, temporal), models)]
        ids, (rgb, flow), labels = align(outputs)
        parts[name] = Part(name, ids, rgb.astype(np.float32), flow.astype(np.float32), labels)
    return parts


def standardize(parts: dict[str, Part]) -> dict[str, Part]:
    """Per stream and dimension, subtract the training part's mean and divide by its std."""
    train = parts["train"]
    stats = [(x.mean(axis=(0, 1)), x.std(axis=(0, 1)).clip(min=1e-6)) for x in (train.spatial, train.motion)]

    def scaled(part: Part) -> Part:
        (m0, s0), (m1, s1) = stats
        spatial = ((part.spatial - m0) / s0).astype(np.float32)
        return replace(part, spatial=spatial, motion=((part.motion - m1) / s1).astype(np.float32))

    return {name: scaled(part) for name, part in parts.items()}
