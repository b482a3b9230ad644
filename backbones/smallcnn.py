"""A small plain CNN for fast CPU runs on 64x64 frames."""

from __future__ import annotations

from torch import Tensor, nn

from .base import TORCHVISION_NORM, Backbone, init_conv_bn_

# (out_channels, stride) of each conv3x3-BN-ReLU layer; total stride 32, so that at 64x64 the
# receptive field of the 2x2 output (87 px) spans the whole frame: a globally pooled feature can
# then still tell where an object is, which time-reversed motions need.
SMALLCNN_LAYERS: tuple[tuple[int, int], ...] = (
    (16, 2),
    (32, 2),
    (32, 1),
    (64, 2),
    (64, 1),
    (128, 2),
    (128, 2),
)


def conv_bn_relu(in_channels: int, out_channels: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class SmallCNN(Backbone):
    """Seven conv3x3-BN-ReLU layers (widths 16-32-32-64-64-128-128, strides 2-2-1-2-1-2-2).

    64x64 input -> (128, 2, 2) map. With 3 input channels: 291,664 parameters. Per 64x64
    frame: 9,289,728 conv MACs plus 87,040 BatchNorm MACs, 9,376,768 (about 9.4 M) in total
    (fvcore FlopCountAnalysis count).
    """

    out_channels = 128
    input_norm = TORCHVISION_NORM
    first_conv_key = "features.0.0.weight"
    classifier_prefixes = ("classifier.", "fc.")

    def __init__(self, in_channels: int = 3) -> None:
        super().__init__(in_channels)
        layers = []
        prev = in_channels
        for width, stride in SMALLCNN_LAYERS:
            layers.append(conv_bn_relu(prev, width, stride))
            prev = width
        self.features = nn.Sequential(*layers)
        init_conv_bn_(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.features(x)
