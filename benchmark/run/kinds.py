"""The kinds of run, one table: which LightningModule trains, on which data, counted how.

* a plain run: backbone → transform → head on one stream's clips;
* a frozen-backbone run (``frozen_backbone``): only transform + head train, from backbone maps
  cached once (``options.feature_cache``) or recomputed on decoded clips;
* a deep fusion run (head ``deep_fusion``): two backbones on RGB frames and flow stacks and the
  fusion network over both (:mod:`benchmark.run.deep_fusion`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pytorch_lightning as pl

from benchmark.run.cached_module import FrozenBackboneClassifier
from benchmark.run.complexity import count_deep_fusion, count_network
from benchmark.run.config import RunConfig
from benchmark.run.data import build_datamodule, build_two_stream_datamodule
from benchmark.run.deep_fusion import DeepFusionClassifier
from benchmark.run.deep_fusion_net import HEAD as DEEP_FUSION
from benchmark.run.feature_cache import cached_datamodule
from benchmark.run.module import VideoClassifier
from benchmark.run.options import RunOptions


@dataclass(frozen=True)
class RunKind:
    name: str
    model_class: type[VideoClassifier]
    datamodule: Callable[[RunConfig, RunOptions, VideoClassifier], pl.LightningDataModule]
    count: Callable[[RunConfig, VideoClassifier], dict[str, int]]

    def build_model(self, config: RunConfig, num_classes: int, multi_label: bool) -> VideoClassifier:
        return self.model_class(config, num_classes, multi_label=multi_label)


def clips(config: RunConfig, options: RunOptions, model: VideoClassifier) -> pl.LightningDataModule:
    return build_datamodule(config, options, model.net.backbone.input_norm)


def cached_or_clips(config: RunConfig, options: RunOptions, model: VideoClassifier) -> pl.LightningDataModule:
    datamodule = build_datamodule(config, options, model.net.backbone.input_norm)
    if not options.feature_cache:
        return datamodule
    backbone = model.net.backbone
    return cached_datamodule(config, datamodule, backbone, options.work_dir, options.num_workers, options.progress)


def rgb_and_flow(config: RunConfig, options: RunOptions, model: VideoClassifier) -> pl.LightningDataModule:
    return build_two_stream_datamodule(config, options, model.net.spatial.input_norm)


def count_one_stream(config: RunConfig, model: VideoClassifier) -> dict[str, int]:
    return count_network(model.net, config.segments, config.input_size)


def count_two_streams(config: RunConfig, model: VideoClassifier) -> dict[str, int]:
    """Both streams count as the backbone, everything after them as the head."""
    return count_deep_fusion(model.net, config.segments)


PLAIN = RunKind("plain", VideoClassifier, clips, count_one_stream)
FROZEN_BACKBONE = RunKind("frozen_backbone", FrozenBackboneClassifier, cached_or_clips, count_one_stream)
DEEP_FUSION_RUN = RunKind(DEEP_FUSION, DeepFusionClassifier, rgb_and_flow, count_two_streams)

# Heads that make a run of their own kind; any other head makes a plain or frozen-backbone run.
KIND_OF_HEAD: dict[str, RunKind] = {DEEP_FUSION: DEEP_FUSION_RUN}


def run_kind(config: RunConfig) -> RunKind:
    if config.head in KIND_OF_HEAD:
        return KIND_OF_HEAD[config.head]
    return FROZEN_BACKBONE if config.frozen_backbone else PLAIN
