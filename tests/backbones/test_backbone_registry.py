from __future__ import annotations

import pytest
import torch

from backbone_specs import SPECS
from backbones import BACKBONES, TORCHVISION_NORM, Backbone, InputNorm, build_backbone


def test_table_lists_every_backbone() -> None:
    assert set(BACKBONES) == set(SPECS)


def test_unknown_name_lists_known_backbones() -> None:
    with pytest.raises(ValueError) as info:
        build_backbone("nope")
    message = str(info.value)
    assert "'nope'" in message
    for name in BACKBONES:
        assert name in message


@pytest.mark.parametrize("name", list(SPECS))
def test_output_channels_and_map_size(name: str) -> None:
    channels, side, map_side = SPECS[name]
    torch.manual_seed(0)
    backbone = build_backbone(name).eval()
    assert isinstance(backbone, Backbone)
    assert backbone.out_channels == channels
    assert backbone.map_size(side) == map_side
    with torch.no_grad():
        out = backbone(torch.randn(1, 3, side, side))
    assert out.shape == (1, channels, map_side, map_side)


@pytest.mark.parametrize("name", list(SPECS))
def test_map_size_agrees_with_forward_at_small_input(name: str) -> None:
    backbone = build_backbone(name, in_channels=2)
    backbone.train()
    with torch.no_grad():
        out = backbone.eval()(torch.randn(1, 2, 64, 64))
    backbone.train()
    assert backbone.map_size(64) == out.shape[-1] == out.shape[-2]
    assert backbone.training, "map_size must restore the training mode"
    assert all(p.device.type == "cpu" for p in backbone.state_dict().values())


@pytest.mark.parametrize("name", [n for n in SPECS if n != "bninception"])
def test_torchvision_architectures_use_torchvision_norm(name: str) -> None:
    assert build_backbone(name).input_norm == TORCHVISION_NORM


def test_bninception_norm_is_caffe_bgr() -> None:
    assert build_backbone("bninception").input_norm == InputNorm((104, 117, 128), (1, 1, 1), 1.0, bgr=True)


def test_input_norm_apply_scales_reorders_and_standardises() -> None:
    frames = torch.tensor([10, 20, 30], dtype=torch.uint8).view(1, 3, 1, 1).expand(2, 3, 4, 4)
    bgr = InputNorm((1.0, 2.0, 3.0), (1.0, 2.0, 4.0), 1.0, bgr=True).apply(frames)
    assert torch.allclose(bgr[0, :, 0, 0], torch.tensor([29.0, 9.0, 1.75]))
    rgb = TORCHVISION_NORM.apply(frames)
    mean, std = torch.tensor(TORCHVISION_NORM.mean), torch.tensor(TORCHVISION_NORM.std)
    expected = (torch.tensor([10.0, 20.0, 30.0]) / 255 - mean) / std
    assert torch.allclose(rgb[1, :, 3, 3], expected)
