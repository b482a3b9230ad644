from __future__ import annotations

import torch
from fvcore.nn import FlopCountAnalysis
from torch import nn

from backbones import build_backbone

WIDTHS = (16, 32, 32, 64, 64, 128, 128)


def test_documented_parameter_count() -> None:
    backbone = build_backbone("smallcnn")
    assert sum(p.numel() for p in backbone.parameters()) == 291_664


def test_documented_macs_at_64() -> None:
    backbone = build_backbone("smallcnn").eval()
    counter = FlopCountAnalysis(backbone, torch.zeros(1, 3, 64, 64))
    counter.unsupported_ops_warnings(False)
    by_op = counter.by_operator()
    assert by_op["conv"] == 9_289_728
    assert counter.total() == 9_376_768
    assert 5e6 <= counter.total() <= 15e6


def test_output_is_2x2_with_128_channels_at_64() -> None:
    out = build_backbone("smallcnn")(torch.randn(2, 3, 64, 64))
    assert out.shape == (2, 128, 2, 2)


def test_layer_layout_and_keys() -> None:
    backbone = build_backbone("smallcnn")
    convs = [m for m in backbone.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == list(WIDTHS)
    assert all(c.kernel_size == (3, 3) and c.bias is None for c in convs)
    shapes = {k: tuple(v.shape) for k, v in backbone.state_dict().items()}
    prev = 3
    for i, width in enumerate(WIDTHS):
        assert shapes[f"features.{i}.0.weight"] == (width, prev, 3, 3)
        for buf in ("weight", "bias", "running_mean", "running_var"):
            assert shapes[f"features.{i}.1.{buf}"] == (width,)
        assert shapes[f"features.{i}.1.num_batches_tracked"] == ()
        prev = width
    assert len(shapes) == len(WIDTHS) * 6


def test_kaiming_init_scale() -> None:
    torch.manual_seed(0)
    conv = build_backbone("smallcnn").features[4][0]
    fan_out = conv.out_channels * 9
    assert abs(conv.weight.std().item() - (2.0 / fan_out) ** 0.5) < 0.1 * (2.0 / fan_out) ** 0.5
