"""The backbone-to-head transform (counted apart from the head), as in the comparative study.

* vector heads: global average pool → Dropout(0.3) → Linear(C → D) per frame;
* TSN:          global average pool → Dropout(0.3) → Linear(C → K) per frame;
* map heads:    Dropout(0.3) → 1×1 Conv(C → D), no pooling.
The linear / conv layer is initialised N(0, init_std) with zero bias; the study's 0.001 assumes an
ImageNet-pretrained backbone (a from-scratch backbone learns slowly behind such small weights, so
a protocol may choose a larger std).
"""
from __future__ import annotations

import torch
from torch import nn

from heads.base import HeadInput

TRANSFORM_DROPOUT = 0.3  # the study's dropout in front of the transform's linear / conv layer
STUDY_INIT_STD = 0.001


class PooledLinear(nn.Module):
    """(N, C, h, w) → (N, out_features)."""

    def __init__(
        self, in_channels: int, out_features: int, dropout: float = TRANSFORM_DROPOUT, init_std: float = STUDY_INIT_STD
    ) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.linear = nn.Linear(in_channels, out_features)
        nn.init.normal_(self.linear.weight, 0.0, init_std)
        nn.init.zeros_(self.linear.bias)

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        return self.linear(self.dropout(maps.mean(dim=(2, 3))))


class MapProjection(nn.Module):
    """(N, C, h, w) → (N, out_channels, h, w)."""

    def __init__(
        self, in_channels: int, out_channels: int, dropout: float = TRANSFORM_DROPOUT, init_std: float = STUDY_INIT_STD
    ) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=1)
        nn.init.normal_(self.conv.weight, 0.0, init_std)
        nn.init.zeros_(self.conv.bias)

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        return self.conv(self.dropout(maps))


def build_transform(
    consumes: HeadInput,
    in_channels: int,
    feature_dim: int,
    num_classes: int,
    dropout: float = TRANSFORM_DROPOUT,
    init_std: float = STUDY_INIT_STD,
) -> nn.Module:
    if consumes == "vector":
        return PooledLinear(in_channels, feature_dim, dropout, init_std)
    if consumes == "scores":
        return PooledLinear(in_channels, num_classes, dropout, init_std)
    if consumes == "map":
        return MapProjection(in_channels, feature_dim, dropout, init_std)
    raise ValueError(f"unknown head input kind {consumes!r}")
