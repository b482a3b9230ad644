"""The network of one run: shared 2D backbone → backbone-to-head transform → ST-modeling head."""
from __future__ import annotations

import torch
from torch import nn

from typing import Callable

from backbones import build_backbone
from benchmark.run.config import RunConfig
from benchmark.run.deep_fusion_net import HEAD as DEEP_FUSION, build_deep_fusion_net
from datamodules.modality import Modality
from heads import FEATURE_DIM, STUDY_INIT_STD, TRANSFORM_DROPOUT, build_head, build_transform, head_class


class VideoNet(nn.Module):
    """(B, T, C_in, H, W) frames → (B, K) scores. The backbone sees all B·T frames at once."""

    def __init__(
        self,
        backbone: str,
        head: str,
        num_segments: int,
        num_classes: int,
        feature_dim: int = FEATURE_DIM,
        dropout: float = TRANSFORM_DROPOUT,
        transform_init_std: float = STUDY_INIT_STD,
        in_channels: int = 3,
        backbone_weights: str | None = None,
        partial_bn: bool = False,
    ) -> None:
        super().__init__()
        self.num_segments = num_segments
        self.backbone = build_backbone(backbone, in_channels=in_channels, weights=backbone_weights, partial_bn=partial_bn)
        consumes = head_class(head).consumes
        self.transform = build_transform(
            consumes, self.backbone.out_channels, feature_dim, num_classes, dropout, transform_init_std
        )
        width = num_classes if consumes == "scores" else feature_dim
        self.head = build_head(head, num_segments, num_classes, width)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        batch, steps = clips.shape[:2]
        maps = self.backbone(clips.flatten(0, 1))
        features = self.transform(maps)
        return self.head(features.reshape(batch, steps, *features.shape[1:]))


def build_video_net(config: RunConfig, num_classes: int) -> VideoNet:
    """Backbone → transform → head of a single-stream run (RGB frames or flow stacks)."""
    return VideoNet(
        config.backbone,
        config.head,
        config.segments,
        num_classes,
        feature_dim=config.feature_dim,
        dropout=config.dropout,
        transform_init_std=config.transform_init_std,
        in_channels=Modality(config.modality).input_channels(config.flow_length),
        backbone_weights=config.backbone_weights,
        partial_bn=config.partial_bn,
    )


# Heads that are whole networks of their own rather than a head on one backbone.
NETWORK_BUILDERS: dict[str, Callable[[RunConfig, int], nn.Module]] = {DEEP_FUSION: build_deep_fusion_net}


def build_network(config: RunConfig, num_classes: int) -> nn.Module:
    """The network a run trains: :data:`NETWORK_BUILDERS`' entry for its head, else a :class:`VideoNet`."""
    return NETWORK_BUILDERS.get(config.head, build_video_net)(config, num_classes)
