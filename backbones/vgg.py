"""VGG-16 convolutional part with torchvision's state-dict layout (``features.N``)."""

from __future__ import annotations

from torch import Tensor, nn

from .base import TORCHVISION_NORM, Backbone, init_conv_bn_

# Configuration "D" of Simonyan & Zisserman; "M" is a 2x2 max pool.
VGG16_CONFIG: tuple[int | str, ...] = (
    64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M",
)


def _make_features(config: tuple[int | str, ...], in_channels: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    prev = in_channels
    for item in config:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(prev, int(item), kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            prev = int(item)
    return nn.Sequential(*layers)


class VGG16(Backbone):
    """VGG-16 (no BatchNorm) up to and including the last max pool: 512 channels, 7x7 at 224."""

    out_channels = 512
    input_norm = TORCHVISION_NORM
    first_conv_key = "features.0.weight"
    classifier_prefixes = ("classifier.",)

    def __init__(self, in_channels: int = 3) -> None:
        super().__init__(in_channels)
        self.features = _make_features(VGG16_CONFIG, in_channels)
        init_conv_bn_(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.features(x)
