"""Fully-convolutional heads: 2D over the (T × D) feature matrix, 3D over the (T, h, w) feature maps.

Every convolution keeps its bias, as in the study's reference implementation, so that the heads'
parameter counts equal the study's (docs/protocols.md, section A). The bias of a convolution that
feeds a BatchNorm is redundant: the BatchNorm subtracts the batch mean in training (and the
running mean, which absorbs the bias, at evaluation), so the bias gets a zero gradient by
construction and never changes the head's output.
"""
from __future__ import annotations

import torch
from torch import nn

from heads.base import FEATURE_DIM, Head

FCN2D_CHANNELS = (64, 64, 128, 128, 256)
FCN3D_CHANNELS = (64, 128, 256)


def conv_bn_relu_stack(
    conv: type[nn.Conv2d] | type[nn.Conv3d],
    norm: type[nn.BatchNorm2d] | type[nn.BatchNorm3d],
    in_channels: int,
    channels: tuple[int, ...],
    stride: tuple[int, ...],
) -> nn.Sequential:
    """Conv (3 per axis, padding 1, ``stride``, with bias) → BatchNorm → ReLU for each width in ``channels``."""
    layers: list[nn.Module] = []
    previous = in_channels
    for width in channels:
        layers += [conv(previous, width, kernel_size=3, stride=stride, padding=1), norm(width), nn.ReLU()]
        previous = width
    return nn.Sequential(*layers)


class FCN2DHead(Head):
    """(B, T, D) as a one-channel (T × D) image: ReLU → five 3×3 conv-BN-ReLU with stride (1, 2)
    (64, 64, 128, 128, 256 channels; width D → D/32, i.e. 256 → 8; height T kept) → 1×1 conv
    (256 → K) → average over (T × D/32)."""

    consumes = "vector"

    def __init__(self, num_segments: int, num_classes: int, feature_dim: int = FEATURE_DIM) -> None:
        super().__init__(num_segments, num_classes, feature_dim)
        self.features = nn.Sequential(
            nn.ReLU(), conv_bn_relu_stack(nn.Conv2d, nn.BatchNorm2d, 1, FCN2D_CHANNELS, (1, 2))
        )
        self.classifier = nn.Conv2d(FCN2D_CHANNELS[-1], num_classes, kernel_size=1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        maps = self.features(features.unsqueeze(1))
        return self.classifier(maps).mean(dim=(2, 3))


class FCN3DHead(Head):
    """(B, T, D, h, w) → (B, D, T, h, w): ReLU → three 3×3×3 conv-BN-ReLU with stride (2, 1, 1)
    (64, 128, 256 channels) → 1×1×1 conv (256 → K) → global average pool.

    Each strided layer maps time T to ceil(T/2), so the classifier sees ceil(T/8) steps
    (1 for T = 3 or 8, 2 for T = 16); h × w is kept.
    """

    consumes = "map"

    def __init__(self, num_segments: int, num_classes: int, feature_dim: int = FEATURE_DIM) -> None:
        super().__init__(num_segments, num_classes, feature_dim)
        self.features = nn.Sequential(
            nn.ReLU(), conv_bn_relu_stack(nn.Conv3d, nn.BatchNorm3d, feature_dim, FCN3D_CHANNELS, (2, 1, 1))
        )
        self.classifier = nn.Conv3d(FCN3D_CHANNELS[-1], num_classes, kernel_size=1)

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        volume = self.features(maps.transpose(1, 2))
        return self.classifier(volume).mean(dim=(2, 3, 4))
