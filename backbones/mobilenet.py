"""MobileNetV2 (width 1.0) features with torchvision's state-dict layout (``features.N...``)."""

from __future__ import annotations

from torch import Tensor, nn

from .base import TORCHVISION_NORM, Backbone, init_conv_bn_

# (expansion t, output channels c, repeats n, first stride s) per stage.
MOBILENET_V2_SETTING: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def conv_bn_relu6(
    in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1, groups: int = 1
) -> nn.Sequential:
    """Conv-BN-ReLU6 as a Sequential, so its keys are ``.0`` (conv) and ``.1`` (BN)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, (kernel_size - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    """Optional 1x1 expansion, depthwise 3x3, linear 1x1 projection; residual when shapes allow."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, expand_ratio: int) -> None:
        super().__init__()
        hidden = in_channels * expand_ratio
        self.use_res_connect = stride == 1 and in_channels == out_channels
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(conv_bn_relu6(in_channels, hidden, kernel_size=1))
        layers += [
            conv_bn_relu6(hidden, hidden, stride=stride, groups=hidden),
            nn.Conv2d(hidden, out_channels, kernel_size=1, bias=False),
            nn.BatchNorm2d(out_channels),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv(x)
        return x + out if self.use_res_connect else out


class MobileNetV2(Backbone):
    """MobileNetV2 ``features`` up to the 1x1 conv to 1280 channels; 7x7 map at 224."""

    out_channels = 1280
    input_norm = TORCHVISION_NORM
    first_conv_key = "features.0.0.weight"
    classifier_prefixes = ("classifier.",)

    def __init__(self, in_channels: int = 3) -> None:
        super().__init__(in_channels)
        layers: list[nn.Module] = [conv_bn_relu6(in_channels, 32, stride=2)]
        prev = 32
        for t, c, n, s in MOBILENET_V2_SETTING:
            for i in range(n):
                layers.append(InvertedResidual(prev, c, s if i == 0 else 1, t))
                prev = c
        layers.append(conv_bn_relu6(prev, self.out_channels, kernel_size=1))
        self.features = nn.Sequential(*layers)
        init_conv_bn_(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.features(x)
