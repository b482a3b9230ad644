"""The first fully-connected layer (VGG-16's fc6) rebuilt from a weight file for frame features."""
from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from backbones import first_fc_layer, frame_feature_name
from backbones.weights import WeightsFileError


def test_vgg16_fc6_is_the_files_classifier_0_over_the_maps_pooled_to_7x7(tmp_path):
    torch.manual_seed(0)
    weight, bias = torch.randn(8, 512 * 7 * 7) * 0.01, torch.randn(8)  # 8 units instead of 4096, same input
    path = tmp_path / "vgg16.pth"
    torch.save({"features.0.weight": torch.zeros(1), "classifier.0.weight": weight, "classifier.0.bias": bias}, path)
    layer = first_fc_layer("vgg16", path)
    maps = torch.rand(3, 512, 14, 14)
    expected = F.relu(F.linear(F.adaptive_avg_pool2d(maps, 7).flatten(1), weight, bias))
    assert torch.allclose(layer(maps), expected, atol=1e-6)
    assert not layer.training and frame_feature_name("vgg16", path) == "fc6"


def test_backbones_without_a_fully_connected_layer_or_weights_give_pooled_maps(tmp_path):
    assert first_fc_layer("smallcnn", tmp_path / "any.pth") is None
    assert first_fc_layer("vgg16", None) is None  # a random fc6 is no feature
    assert frame_feature_name("resnet18", "w.pth") == frame_feature_name("vgg16", None) == "pooled maps"


def test_a_weight_file_without_fc6_is_refused_naming_it(tmp_path):
    path = tmp_path / "convs_only.pth"
    torch.save({"features.0.weight": torch.zeros(1)}, path)
    with pytest.raises(WeightsFileError, match="convs_only.pth.*no fc6 layer"):
        first_fc_layer("vgg16", path)
