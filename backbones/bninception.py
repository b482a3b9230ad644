"""BN-Inception (Ioffe & Szegedy, 2015) with the flat key layout of the Caffe-ported ImageNet
checkpoint used by TSN/TRN (``conv1_7x7_s2.weight``, ``inception_3a_1x1_bn.running_mean``, ...)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .base import Backbone, InputNorm, init_conv_bn_

# The Caffe port expects BGR values in 0..255 with the per-channel mean subtracted.
CAFFE_BGR_NORM = InputNorm(mean=(104.0, 117.0, 128.0), std=(1.0, 1.0, 1.0), value_scale=1.0, bgr=True)


@dataclass(frozen=True)
class InceptionSpec:
    """Widths of one inception block; 0 disables the 1x1 branch / the pool projection.

    Stride-2 blocks (3c, 4e) have no 1x1 branch and pass the max-pooled input through unprojected.
    """

    name: str
    in_channels: int
    b1x1: int
    b3x3_reduce: int
    b3x3: int
    double_reduce: int
    double_3x3: int
    pool: str
    pool_proj: int
    stride: int = 1

    @property
    def out_channels(self) -> int:
        pooled = self.pool_proj if self.pool_proj else self.in_channels
        return self.b1x1 + self.b3x3 + self.double_3x3 + pooled


INCEPTION_BLOCKS: tuple[InceptionSpec, ...] = (
    InceptionSpec("3a", 192, 64, 64, 64, 64, 96, "avg", 32),
    InceptionSpec("3b", 256, 64, 64, 96, 64, 96, "avg", 64),
    InceptionSpec("3c", 320, 0, 128, 160, 64, 96, "max", 0, stride=2),
    InceptionSpec("4a", 576, 224, 64, 96, 96, 128, "avg", 128),
    InceptionSpec("4b", 576, 192, 96, 128, 96, 128, "avg", 128),
    InceptionSpec("4c", 576, 160, 128, 160, 128, 160, "avg", 128),
    InceptionSpec("4d", 608, 96, 128, 192, 160, 192, "avg", 128),
    InceptionSpec("4e", 608, 0, 128, 192, 192, 256, "max", 0, stride=2),
    InceptionSpec("5a", 1056, 352, 192, 320, 160, 224, "avg", 128),
    InceptionSpec("5b", 1024, 352, 192, 320, 192, 224, "max", 128),
)


def _pool(kind: str, stride: int) -> nn.Module:
    # Caffe pools round up; with stride 1 and padding 1 they keep the spatial size.
    if kind == "max" and stride == 2:
        return nn.MaxPool2d(3, stride=2, ceil_mode=True)
    if kind == "max":
        return nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True)
    return nn.AvgPool2d(3, stride=1, padding=1, ceil_mode=True, count_include_pad=True)


class BNInception(Backbone):
    """BN-Inception up to inception_5b: 1024 channels, 7x7 map at 224.

    Every conv is followed by BatchNorm and ReLU; convs keep their Caffe biases. Modules are
    registered flat on this class under the checkpoint's names. Input sides should be
    multiples of 32 so the two branches of the stride-2 blocks stay the same size.
    """

    out_channels = 1024
    input_norm = CAFFE_BGR_NORM
    first_conv_key = "conv1_7x7_s2.weight"
    classifier_prefixes = ("fc.", "last_linear.")

    def __init__(self, in_channels: int = 3) -> None:
        super().__init__(in_channels)
        self._add_conv_bn("conv1_7x7_s2", in_channels, 64, 7, stride=2)
        self.pool1_3x3_s2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self._add_conv_bn("conv2_3x3_reduce", 64, 64, 1)
        self._add_conv_bn("conv2_3x3", 64, 192, 3)
        self.pool2_3x3_s2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        for spec in INCEPTION_BLOCKS:
            self._add_inception(spec)
        self.relu = nn.ReLU(inplace=True)
        init_conv_bn_(self)

    def _add_conv_bn(self, name: str, cin: int, cout: int, kernel: int, stride: int = 1) -> None:
        conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2)
        self.add_module(name, conv)
        self.add_module(f"{name}_bn", nn.BatchNorm2d(cout))

    def _add_inception(self, s: InceptionSpec) -> None:
        p = f"inception_{s.name}"
        if s.b1x1:
            self._add_conv_bn(f"{p}_1x1", s.in_channels, s.b1x1, 1)
        self._add_conv_bn(f"{p}_3x3_reduce", s.in_channels, s.b3x3_reduce, 1)
        self._add_conv_bn(f"{p}_3x3", s.b3x3_reduce, s.b3x3, 3, s.stride)
        self._add_conv_bn(f"{p}_double_3x3_reduce", s.in_channels, s.double_reduce, 1)
        self._add_conv_bn(f"{p}_double_3x3_1", s.double_reduce, s.double_3x3, 3)
        self._add_conv_bn(f"{p}_double_3x3_2", s.double_3x3, s.double_3x3, 3, s.stride)
        self.add_module(f"{p}_pool", _pool(s.pool, s.stride))
        if s.pool_proj:
            self._add_conv_bn(f"{p}_pool_proj", s.in_channels, s.pool_proj, 1)

    def _unit(self, name: str, x: Tensor) -> Tensor:
        """conv -> BN -> ReLU for the conv registered as ``name``."""
        return self.relu(getattr(self, f"{name}_bn")(getattr(self, name)(x)))

    def _inception(self, s: InceptionSpec, x: Tensor) -> Tensor:
        p = f"inception_{s.name}"
        branches = []
        if s.b1x1:
            branches.append(self._unit(f"{p}_1x1", x))
        branches.append(self._unit(f"{p}_3x3", self._unit(f"{p}_3x3_reduce", x)))
        double = self._unit(f"{p}_double_3x3_reduce", x)
        branches.append(self._unit(f"{p}_double_3x3_2", self._unit(f"{p}_double_3x3_1", double)))
        pooled = getattr(self, f"{p}_pool")(x)
        branches.append(self._unit(f"{p}_pool_proj", pooled) if s.pool_proj else pooled)
        return torch.cat(branches, dim=1)

    def forward(self, x: Tensor) -> Tensor:
        x = self.pool1_3x3_s2(self._unit("conv1_7x7_s2", x))
        x = self._unit("conv2_3x3", self._unit("conv2_3x3_reduce", x))
        x = self.pool2_3x3_s2(x)
        for spec in INCEPTION_BLOCKS:
            x = self._inception(spec, x)
        return x

    def adapt_checkpoint(self, state_dict: dict[str, Tensor]) -> dict[str, Tensor]:
        """The original TSN release stores BatchNorm vectors as (1, C); squeeze them to (C,)."""
        adapted = {}
        for key, value in state_dict.items():
            if "_bn." in key and value.dim() == 2 and value.shape[0] == 1:
                value = value.squeeze(0)
            adapted[key] = value
        return adapted
