"""SqueezeNet 1.1 feature extractor with torchvision's state-dict layout (``features.N...``)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .base import TORCHVISION_NORM, Backbone


class Fire(nn.Module):
    """1x1 squeeze, then parallel 1x1 and 3x3 expands concatenated on channels."""

    def __init__(self, in_channels: int, squeeze: int, expand1x1: int, expand3x3: int) -> None:
        super().__init__()
        self.squeeze = nn.Conv2d(in_channels, squeeze, kernel_size=1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze, expand1x1, kernel_size=1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze, expand3x3, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        x = self.squeeze_activation(self.squeeze(x))
        return torch.cat(
            [self.expand1x1_activation(self.expand1x1(x)), self.expand3x3_activation(self.expand3x3(x))],
            dim=1,
        )


def _max_pool() -> nn.MaxPool2d:
    return nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)


class SqueezeNet11(Backbone):
    """SqueezeNet 1.1 ``features`` (no BatchNorm): 512 channels, 13x13 map at 224."""

    out_channels = 512
    input_norm = TORCHVISION_NORM
    first_conv_key = "features.0.weight"
    classifier_prefixes = ("classifier.",)

    def __init__(self, in_channels: int = 3) -> None:
        super().__init__(in_channels)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 64, kernel_size=3, stride=2),
            nn.ReLU(inplace=True),
            _max_pool(),
            Fire(64, 16, 64, 64),
            Fire(128, 16, 64, 64),
            _max_pool(),
            Fire(128, 32, 128, 128),
            Fire(256, 32, 128, 128),
            _max_pool(),
            Fire(256, 48, 192, 192),
            Fire(384, 48, 192, 192),
            Fire(384, 64, 256, 256),
            Fire(512, 64, 256, 256),
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.features(x)
