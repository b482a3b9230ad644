"""Facts about each backbone shared by the backbone tests."""

from __future__ import annotations

import torch

# name -> (out_channels, input side used in tests, expected map side at that input)
SPECS: dict[str, tuple[int, int, int]] = {
    "smallcnn": (128, 64, 2),
    "squeezenet1_1": (512, 224, 13),
    "resnet18": (512, 224, 7),
    "resnet50": (2048, 224, 7),
    "vgg16": (512, 224, 7),
    "mobilenet_v2": (1280, 224, 7),
    "bninception": (1024, 224, 7),
}

# ImageNet classifier entries as they appear in the published checkpoints (small stand-in shapes:
# they are dropped on load, so only the names matter).
CLASSIFIER_KEYS: dict[str, tuple[str, ...]] = {
    "smallcnn": ("fc.weight", "fc.bias"),
    "squeezenet1_1": ("classifier.1.weight", "classifier.1.bias"),
    "resnet18": ("fc.weight", "fc.bias"),
    "resnet50": ("fc.weight", "fc.bias"),
    "vgg16": tuple(f"classifier.{i}.{p}" for i in (0, 3, 6) for p in ("weight", "bias")),
    "mobilenet_v2": ("classifier.1.weight", "classifier.1.bias"),
    "bninception": ("fc.weight", "fc.bias"),
}

# First conv weight key of each backbone.
FIRST_CONV: dict[str, str] = {
    "smallcnn": "features.0.0.weight",
    "squeezenet1_1": "features.0.weight",
    "resnet18": "conv1.weight",
    "resnet50": "conv1.weight",
    "vgg16": "features.0.weight",
    "mobilenet_v2": "features.0.0.weight",
    "bninception": "conv1_7x7_s2.weight",
}


def with_classifier(name: str, state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Add the ImageNet classifier entries a published checkpoint would carry."""
    extra = {key: torch.zeros(3, 2) if key.endswith("weight") else torch.zeros(3) for key in CLASSIFIER_KEYS[name]}
    return {**state_dict, **extra}
