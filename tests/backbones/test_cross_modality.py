"""Cross-modality initialisation of a flow network (2L input channels) from RGB ImageNet weights."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from backbone_specs import FIRST_CONV, with_classifier

from backbones import build_backbone

FLOW_CHANNELS = 10  # L = 10 flow pairs, x and y each


def rgb_state(name: str) -> dict[str, torch.Tensor]:
    """An RGB state dict whose three colour filters clearly differ, so an average is observable."""
    generator = torch.Generator().manual_seed(7)
    state = build_backbone(name).state_dict()
    for key, value in state.items():
        if value.is_floating_point():
            state[key] = torch.randn(value.shape, generator=generator)
            if key.endswith("running_var"):
                state[key] = state[key].abs() + 0.5
    weight = state[FIRST_CONV[name]]
    state[FIRST_CONV[name]] = weight + torch.tensor([3.0, 0.0, -1.5]).view(1, 3, 1, 1)
    return state


@pytest.mark.parametrize("name", ["smallcnn", "vgg16"])
def test_every_flow_channel_gets_the_mean_rgb_filter(name: str, save_checkpoint) -> None:
    source = rgb_state(name)
    kept = {k: v.clone() for k, v in source.items()}
    backbone = build_backbone(name, in_channels=FLOW_CHANNELS, weights=save_checkpoint(with_classifier(name, source)))
    loaded = backbone.state_dict()
    key = FIRST_CONV[name]
    rgb = source[key]
    weight = loaded[key]
    assert weight.shape == (rgb.shape[0], FLOW_CHANNELS, *rgb.shape[2:])
    mean = (rgb[:, 0] + rgb[:, 1] + rgb[:, 2]) / 3
    for channel in range(FLOW_CHANNELS):
        assert torch.allclose(weight[:, channel], mean, atol=1e-6), channel
    assert not torch.allclose(mean, rgb[:, 0], atol=0.5)  # the average differs from any colour filter
    assert loaded.keys() == source.keys()
    for other in source:
        if other != key:
            assert torch.equal(loaded[other], source[other]), other
    for other, value in kept.items():  # the checkpoint's tensors are not modified in place
        assert torch.equal(source[other], value), other


@pytest.mark.parametrize("name", ["smallcnn", "vgg16"])
def test_first_conv_of_a_uniform_stack_scales_the_grey_rgb_response(name: str, save_checkpoint) -> None:
    """With g in every one of C channels, the first conv gives C / 3 times the RGB net's answer to grey g."""
    source = rgb_state(name)
    path = save_checkpoint(with_classifier(name, source))
    flow_net = build_backbone(name, in_channels=FLOW_CHANNELS, weights=path)
    rgb_net = build_backbone(name, weights=path)
    key = FIRST_CONV[name]
    grey = torch.randn(1, 1, 16, 16, generator=torch.Generator().manual_seed(1))
    flow_weights, rgb_weights = flow_net.state_dict(), rgb_net.state_dict()
    flow_out = F.conv2d(grey.expand(1, FLOW_CHANNELS, 16, 16), flow_weights[key], padding=1)
    rgb_out = F.conv2d(grey.expand(1, 3, 16, 16), rgb_weights[key], padding=1)
    assert torch.allclose(flow_out, rgb_out * FLOW_CHANNELS / 3, atol=1e-4)
