from __future__ import annotations

import pytest
import torch
from torch import nn

from backbones import build_backbone

WITH_BN = ["smallcnn", "resnet18", "resnet50", "mobilenet_v2", "bninception"]
FIRST_BN = {
    "smallcnn": "features.0.1",
    "resnet18": "bn1",
    "resnet50": "bn1",
    "mobilenet_v2": "features.0.1",
    "bninception": "conv1_7x7_s2_bn",
}


def _running_stats(backbone: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in backbone.state_dict().items() if "running_" in k}


@pytest.mark.parametrize("name", WITH_BN)
def test_only_first_bn_updates_running_stats(name: str) -> None:
    torch.manual_seed(0)
    backbone = build_backbone(name, partial_bn=True)
    backbone.train()
    before = _running_stats(backbone)
    backbone(torch.randn(2, 3, 64, 64)).sum().backward()
    after = _running_stats(backbone)
    first = FIRST_BN[name] + "."
    for key in before:
        changed = not torch.equal(before[key], after[key])
        assert changed == key.startswith(first), key
    assert len(before) > 2


@pytest.mark.parametrize("name", WITH_BN)
def test_frozen_bns_stay_in_eval_and_lose_grad(name: str) -> None:
    backbone = build_backbone(name, partial_bn=True)
    parent = nn.Sequential(backbone)
    parent.train()
    bns = [(n, m) for n, m in backbone.named_modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns[0][0] == FIRST_BN[name]
    assert bns[0][1].training
    assert all(p.requires_grad for p in bns[0][1].parameters())
    for _, bn in bns[1:]:
        assert not bn.training
        assert not any(p.requires_grad for p in bn.parameters())
    convs = [m for m in backbone.modules() if isinstance(m, nn.Conv2d)]
    assert all(c.weight.requires_grad for c in convs)


def test_frozen_bn_params_get_no_gradient() -> None:
    backbone = build_backbone("smallcnn", partial_bn=True).train()
    backbone(torch.randn(2, 3, 64, 64)).sum().backward()
    assert backbone.features[0][1].weight.grad is not None
    assert backbone.features[1][1].weight.grad is None
    assert backbone.features[1][0].weight.grad is not None


def test_without_partial_bn_every_bn_trains() -> None:
    backbone = build_backbone("smallcnn").train()
    before = _running_stats(backbone)
    backbone(torch.randn(2, 3, 64, 64))
    after = _running_stats(backbone)
    assert all(not torch.equal(before[k], after[k]) for k in before)
    assert all(p.requires_grad for p in backbone.parameters())


def test_partial_bn_can_be_switched_off() -> None:
    backbone = build_backbone("smallcnn", partial_bn=True).train()
    backbone.set_partial_bn(False)
    assert all(m.training for m in backbone.modules())
    assert all(p.requires_grad for p in backbone.parameters())


def test_eval_mode_still_applies_to_all() -> None:
    backbone = build_backbone("smallcnn", partial_bn=True).train().eval()
    assert not any(m.training for m in backbone.modules())


@pytest.mark.parametrize("name", ["squeezenet1_1", "vgg16"])
def test_partial_bn_is_a_no_op_without_batchnorm(name: str) -> None:
    backbone = build_backbone(name, partial_bn=True).train()
    assert backbone.training
    assert all(p.requires_grad for p in backbone.parameters())
