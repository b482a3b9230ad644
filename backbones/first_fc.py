"""The first fully-connected layer of the ImageNet backbones that have one (VGG-16's fc6, 4096-d).

The backbones stop at their last convolutional map, and a run's ImageNet classifier is dropped on
load. The hybrid framework's frame features are the output of the first fully-connected layer
(docs/protocols.md, section C), so for a backbone that has such a layer it is rebuilt here from the
same weight file, to be applied to the backbone's maps:
torchvision's VGG-16 takes ``classifier.0`` (Linear 512·7·7 → 4096, then ReLU) after an adaptive
average pool to 7×7.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torch import nn

from .weights import WeightsFileError, read_state_dict


@dataclass(frozen=True)
class FirstFC:
    """Where a backbone's first fully-connected layer lives in its ImageNet weight file."""

    name: str  # as rows and reports name it, e.g. "fc6"
    key: str  # state-dict prefix of the Linear layer
    pooled_side: int  # the map is average-pooled to this side first (torchvision's AdaptiveAvgPool2d)


FIRST_FC: dict[str, FirstFC] = {"vgg16": FirstFC("fc6", "classifier.0", 7)}


def first_fc_layer(backbone: str, weights: str | Path | None) -> nn.Sequential | None:
    """AdaptiveAvgPool → flatten → Linear → ReLU with the file's weights, in eval mode; None for a
    backbone without a fully-connected layer or without a weight file (a random layer is no feature)."""
    spec = FIRST_FC.get(backbone)
    if spec is None or weights is None:
        return None
    state = read_state_dict(weights)
    missing = [f"{spec.key}.{name}" for name in ("weight", "bias") if f"{spec.key}.{name}" not in state]
    if missing:
        raise WeightsFileError(weights, f"has no {spec.name} layer for {backbone} (missing {', '.join(missing)})")
    weight, bias = state[f"{spec.key}.weight"], state[f"{spec.key}.bias"]
    linear = nn.Linear(weight.shape[1], weight.shape[0])
    linear.load_state_dict({"weight": weight, "bias": bias})
    layer = nn.Sequential(nn.AdaptiveAvgPool2d(spec.pooled_side), nn.Flatten(), linear, nn.ReLU())
    return layer.eval()


def frame_feature_name(backbone: str, weights: str | Path | None) -> str:
    """What :func:`first_fc_layer` gives for this backbone ("fc6"), or "pooled maps" where it gives none."""
    spec = FIRST_FC.get(backbone)
    return spec.name if spec is not None and weights is not None else "pooled maps"
