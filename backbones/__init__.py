"""2D-CNN backbones shared by all heads, looked up by name in one explicit table."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from .base import TORCHVISION_NORM, Backbone, InputNorm
from .bninception import CAFFE_BGR_NORM, BNInception
from .first_fc import FIRST_FC, first_fc_layer, frame_feature_name
from .mobilenet import MobileNetV2
from .resnet import resnet18, resnet50
from .smallcnn import SmallCNN
from .squeezenet import SqueezeNet11
from .vgg import VGG16
from .weights import load_weights

BACKBONES: dict[str, Callable[..., Backbone]] = {
    "smallcnn": SmallCNN,
    "squeezenet1_1": SqueezeNet11,
    "resnet18": resnet18,
    "resnet50": resnet50,
    "vgg16": VGG16,
    "mobilenet_v2": MobileNetV2,
    "bninception": BNInception,
}


def build_backbone(
    name: str,
    in_channels: int = 3,
    weights: str | Path | None = None,
    partial_bn: bool = False,
) -> Backbone:
    """Build backbone ``name`` with ``in_channels`` input channels.

    ``weights`` is a local ImageNet checkpoint loaded strictly (see ``load_weights``); with
    ``in_channels != 3`` its first conv is initialised from the RGB filters' mean.
    ``partial_bn`` freezes every BatchNorm except the first.
    """
    try:
        factory = BACKBONES[name]
    except KeyError:
        known = ", ".join(sorted(BACKBONES))
        raise ValueError(f"unknown backbone {name!r}; known backbones: {known}") from None
    backbone = factory(in_channels=in_channels)
    if weights is not None:
        load_weights(backbone, weights)
    if partial_bn:
        backbone.set_partial_bn(True)
    return backbone


__all__ = [
    "BACKBONES",
    "Backbone",
    "CAFFE_BGR_NORM",
    "FIRST_FC",
    "InputNorm",
    "TORCHVISION_NORM",
    "build_backbone",
    "first_fc_layer",
    "frame_feature_name",
    "load_weights",
]
