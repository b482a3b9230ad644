"""One SGD step with the study's parameter groups must move every trainable parameter.

This guards against the reference implementation's defect of training only part of a head
(input-to-hidden weights only, no recurrent weights, biases, reverse direction or BatchNorm).

One exception, by construction: the bias of a convolution that feeds a train-mode BatchNorm (the
FCN heads keep those biases, as the study does) gets a zero gradient, because the BatchNorm
subtracts the batch mean and so cancels any constant added before it. Those biases are in the
optimizer like every other parameter; the test checks that their gradient is zero instead.
"""
from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from benchmark.run.network import VideoNet
from benchmark.run.optim import parameter_groups
from heads import HEADS


def biases_before_batchnorm(net: nn.Module) -> set[str]:
    """Names of the biases of convolutions followed directly by a BatchNorm in a Sequential."""
    found = set()
    for prefix, module in net.named_modules():
        if not isinstance(module, nn.Sequential):
            continue
        children = list(module.named_children())
        for (name, layer), (_, after) in zip(children, children[1:]):
            if isinstance(layer, nn.modules.conv._ConvNd) and isinstance(after, nn.modules.batchnorm._BatchNorm):
                if layer.bias is not None:
                    found.add(f"{prefix}.{name}.bias" if prefix else f"{name}.bias")
    return found


@pytest.mark.parametrize("name", sorted(HEADS))
def test_one_step_updates_every_trainable_parameter(name):
    torch.manual_seed(0)
    net = VideoNet("smallcnn", name, num_segments=4, num_classes=5).train()
    groups = parameter_groups(net, lr=0.1, weight_decay=5e-4)
    trainable = {pname: p for pname, p in net.named_parameters() if p.requires_grad}
    grouped = [id(p) for group in groups for p in group["params"]]
    assert len(grouped) == len(set(grouped)) == len(trainable)
    assert set(grouped) == {id(p) for p in trainable.values()}
    assert any(pname.startswith("head.") for pname in trainable) == (name != "tsn")

    cancelled = biases_before_batchnorm(net)
    assert bool(cancelled) == (name in ("fcn2d", "fcn3d"))  # the FCN heads keep them, as the study does
    assert all(pname.startswith("head.") for pname in cancelled)  # smallcnn's convs have no bias

    optimizer = torch.optim.SGD(groups, lr=0.1, momentum=0.9)
    before = {pname: p.detach().clone() for pname, p in trainable.items()}
    clips = torch.randn(2, 4, 3, 64, 64)
    loss = F.cross_entropy(net(clips), torch.tensor([1, 3]))
    optimizer.zero_grad()
    loss.backward()
    learning = {pname: p for pname, p in trainable.items() if pname not in cancelled}
    no_gradient = [pname for pname, p in learning.items() if p.grad is None or not p.grad.any()]
    assert no_gradient == []
    optimizer.step()

    unchanged = [pname for pname, p in learning.items() if torch.equal(p.detach(), before[pname])]
    assert unchanged == []
    for prefix in ("backbone.", "transform.", "head."):
        if name == "tsn" and prefix == "head.":
            continue
        assert any(pname.startswith(prefix) for pname in trainable)


def test_blstm_update_covers_recurrent_and_reverse_parameters():
    names = {pname for pname, _ in VideoNet("smallcnn", "blstm", num_segments=4, num_classes=5).named_parameters()}
    for suffix in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
        assert f"head.rnn.{suffix}" in names and f"head.rnn.{suffix}_reverse" in names


@pytest.mark.parametrize("name", ["fcn2d", "fcn3d"])
def test_biases_before_a_train_mode_batchnorm_get_a_zero_gradient(name):
    """The stated exception above, checked in double precision (zero up to rounding)."""
    torch.manual_seed(0)
    net = VideoNet("smallcnn", name, num_segments=4, num_classes=5).double().train()
    loss = F.cross_entropy(net(torch.randn(2, 4, 3, 64, 64, dtype=torch.float64)), torch.tensor([1, 3]))
    loss.backward()
    parameters = dict(net.named_parameters())
    cancelled = biases_before_batchnorm(net)
    assert len(cancelled) == {"fcn2d": 5, "fcn3d": 3}[name]
    for pname in cancelled:
        weight_grad = parameters[pname.removesuffix("bias") + "weight"].grad.abs().max()
        assert parameters[pname].grad.abs().max() < 1e-9 * weight_grad, pname
