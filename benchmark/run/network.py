"""The network of one run: shared 2D backbone → backbone-to-head transform → ST-modeling head."""
from __future__ import annotations

import torch
from torch import nn

from backbones import build_backbone
from heads import build_head, build_transform, head_class


class VideoNet(nn.Module):
    """(B, T, C_in, H, W) frames → (B, K) scores. The backbone sees all B·T frames at once."""

    def __init__(
        self,
        backbone: str,
        head: str,
        num_segments: int,
        num_classes: int,
        feature_dim: int = 256,
        dropout: float = 0.3,
        transform_init_std: float = 0.001,
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
