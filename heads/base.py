"""What every spatiotemporal-modeling head shares."""
from __future__ import annotations

from typing import ClassVar, Literal

from torch import nn

# What a head consumes, which decides the backbone-to-head transform in front of it:
#   "vector": (B, T, D) pooled features;  "scores": (B, T, K) per-frame class scores (TSN);
#   "map":    (B, T, D, h, w) unpooled feature maps.
HeadInput = Literal["vector", "scores", "map"]

# D: the width of each frame's feature after the backbone-to-head transform (the study's 256).
FEATURE_DIM = 256


class Head(nn.Module):
    """A head maps per-frame features of T frames to (B, K) class scores."""

    consumes: ClassVar[HeadInput]
    # The fewest segments (T) the head is defined for; run settings are checked against it.
    min_segments: ClassVar[int] = 1

    def __init__(self, num_segments: int, num_classes: int, feature_dim: int = FEATURE_DIM) -> None:
        super().__init__()
        self.num_segments = num_segments
        self.num_classes = num_classes
        self.feature_dim = feature_dim
