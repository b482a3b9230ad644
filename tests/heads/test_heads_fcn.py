from __future__ import annotations

import pytest
import torch
from torch import nn

from heads.fcn import FCN2DHead, FCN3DHead


def conv_output_shapes(head: nn.Module, x: torch.Tensor, kind: type[nn.Module]) -> list[tuple[int, ...]]:
    shapes: list[tuple[int, ...]] = []
    hooks = [
        m.register_forward_hook(lambda _m, _i, out: shapes.append(tuple(out.shape)))
        for m in head.modules()
        if isinstance(m, kind)
    ]
    with torch.no_grad():
        head(x)
    for hook in hooks:
        hook.remove()
    return shapes


@pytest.mark.parametrize("steps", [3, 8, 16])
def test_fcn2d_halves_width_to_8_and_keeps_time(steps):
    head = FCN2DHead(steps, 5).eval()
    shapes = conv_output_shapes(head, torch.randn(2, steps, 256), nn.Conv2d)
    assert shapes == [
        (2, 64, steps, 128), (2, 64, steps, 64), (2, 128, steps, 32), (2, 128, steps, 16), (2, 256, steps, 8),
        (2, 5, steps, 8),
    ]  # fmt: skip
    norms = [m for m in head.modules() if isinstance(m, nn.BatchNorm2d)]
    assert [m.num_features for m in norms] == [64, 64, 128, 128, 256]


@pytest.mark.parametrize("steps, out_steps", [(3, 1), (8, 1), (16, 2), (1, 1), (24, 3)])
def test_fcn3d_divides_time_by_8(steps, out_steps):
    head = FCN3DHead(steps, 5).eval()
    shapes = conv_output_shapes(head, torch.randn(2, steps, 256, 3, 3), nn.Conv3d)
    mid = [steps]
    for _ in range(3):
        mid.append((mid[-1] + 1) // 2)
    assert shapes == [
        (2, 64, mid[1], 3, 3), (2, 128, mid[2], 3, 3), (2, 256, mid[3], 3, 3), (2, 5, out_steps, 3, 3),
    ]  # fmt: skip
    assert mid[3] == out_steps


def test_fcn3d_sees_channels_as_conv_channels_and_time_as_depth():
    head = FCN3DHead(8, 5).eval()
    maps = torch.randn(2, 8, 256, 3, 3)
    seen = []
    head.features.register_forward_pre_hook(lambda _m, args: seen.append(args[0]))
    with torch.no_grad():
        head(maps)
    torch.testing.assert_close(seen[0], maps.permute(0, 2, 1, 3, 4))


def test_fcn_heads_use_strides_and_relu_first():
    head2 = FCN2DHead(8, 5)
    head3 = FCN3DHead(8, 5)
    assert isinstance(head2.features[0], nn.ReLU) and isinstance(head3.features[0], nn.ReLU)
    assert all(m.stride == (1, 2) for m in head2.features.modules() if isinstance(m, nn.Conv2d))
    assert all(m.stride == (2, 1, 1) for m in head3.features.modules() if isinstance(m, nn.Conv3d))
    assert head2.classifier.kernel_size == (1, 1) and head3.classifier.kernel_size == (1, 1, 1)
