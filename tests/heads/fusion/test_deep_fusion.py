from __future__ import annotations

import pytest
import torch

from backbones import build_backbone
from benchmark.run.complexity import mac_analysis
from heads.fusion.deep_fusion import DeepFusionNet

B, T, K, SIDE, L = 2, 4, 5, 64, 4


def make(**options) -> DeepFusionNet:
    torch.manual_seed(0)
    return DeepFusionNet(
        build_backbone("smallcnn", in_channels=3),
        build_backbone("smallcnn", in_channels=2 * L),
        K,
        fc_dim=32,
        input_size=SIDE,
        **options,
    )


def clip() -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(B, T, 3, SIDE, SIDE), torch.randn(B, T, 2 * L, SIDE, SIDE)


def test_shapes_of_fused_maps_and_scores():
    net = make()
    rgb, flow = clip()
    x_conv = net.fused_maps(rgb, flow)
    assert x_conv.shape == (B, T, 128, 2, 2)
    assert bool((x_conv >= 0).all())  # the 3D convolution is followed by a ReLU
    assert net(rgb, flow).shape == (B, K)
    conv = net.fuse[0]
    assert conv.kernel_size == (3, 3, 3) and conv.padding == (1, 1, 1)
    assert (conv.in_channels, conv.out_channels) == (256, 128)
    assert net.fc6[0].in_features == 128 * 2 * 2
    assert [m.hidden_size for m in (net.lstm_conv, net.lstm_fc, net.lstm_out)] == [K, K, K]
    assert (net.lstm_conv.input_size, net.lstm_fc.input_size, net.lstm_out.input_size) == (128, 32, 2 * K)


def test_gradients_reach_both_backbones():
    net = make()
    net(*clip()).sum().backward()
    for backbone in (net.spatial, net.temporal):
        first_conv = backbone.features[0][0].weight
        assert first_conv.grad is not None and first_conv.grad.abs().sum() > 0
    assert all(p.grad is not None for p in net.parameters())


def test_flatten_summary_and_no_classifier_variant():
    net = make(conv_summary="flatten", classifier=False).eval()
    assert net.lstm_conv.input_size == 128 * 2 * 2
    rgb, flow = clip()
    with torch.no_grad():
        scores = net(rgb, flow)
        assert scores.shape == (B, K) and bool((scores.abs() < 1).all())  # logits are h_T itself
        # the prediction is read from the last time step of the seq2one LSTM
        x_conv = net.fused_maps(rgb, flow)
        conv_out, _ = net.lstm_conv(x_conv.flatten(2))
        fc_out, _ = net.lstm_fc(net.fc6(x_conv.flatten(2)))
        outputs, _ = net.lstm_out(torch.cat([conv_out, fc_out], dim=2))
        torch.testing.assert_close(scores, outputs[:, -1])


def test_time_order_matters():
    net = make().eval()
    rgb, flow = clip()
    with torch.no_grad():
        assert not torch.allclose(net(rgb, flow), net(rgb.flip(1), flow.flip(1)))


def test_mismatched_inputs_are_rejected():
    net = make()
    rgb, flow = clip()
    with pytest.raises(ValueError, match="flow"):
        net(rgb, flow[:, :, :2])
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        net(rgb, flow[:, :3])
    with pytest.raises(ValueError, match="same channels"):
        DeepFusionNet(build_backbone("smallcnn"), build_backbone("squeezenet1_1", in_channels=8), K, input_size=SIDE)


def test_parameter_cost_of_the_fusion_part():
    net = make()
    C, hw, F = 128, 4, 32

    def ln_lstm(n_in: int) -> int:
        return 4 * K * (n_in + K) + 4 * K + 2 * 4 * K + 2 * K  # weights, bias, two gate LN gains, cell LN

    fusion = 27 * 2 * C * C + C + (C * hw * F + F) + ln_lstm(C) + ln_lstm(F) + ln_lstm(2 * K) + K * K + K
    backbones = sum(p.numel() for p in net.spatial.parameters()) + sum(p.numel() for p in net.temporal.parameters())
    assert sum(p.numel() for p in net.parameters()) == backbones + fusion


def test_every_op_is_counted_layer_norm_included():
    rgb, flow = clip()
    inputs = (rgb[:1], flow[:1])
    plain = make(layer_norm=False).eval()
    by_module = mac_analysis(plain, inputs).by_module()
    positions = T * 2 * 2
    assert by_module["fuse"] == positions * (27 * 256 * 128 + 128)  # 3×3×3 conv over 2C → C, + bias
    assert by_module["lstm_out"] == T * (4 * K * (2 * K + K) + 4 * K + 4 * K + 3 * K + K)
    counted = mac_analysis(make().eval(), inputs).by_module()
    for lstm in ("lstm_out", "lstm_conv", "lstm_fc"):  # layer norm adds the same per step to each
        assert counted[lstm] == by_module[lstm] + T * (2 * (6 * 4 * K + 1) + 7 * K + 1)
