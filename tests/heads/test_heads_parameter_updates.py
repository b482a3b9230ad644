"""One SGD step with the study's parameter groups must move every trainable parameter.

This guards against the reference implementation's defect of training only part of a head
(input-to-hidden weights only, no recurrent weights, biases, reverse direction or BatchNorm).
"""
from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from benchmark.run.network import VideoNet
from benchmark.run.optim import parameter_groups
from heads import HEADS


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

    optimizer = torch.optim.SGD(groups, lr=0.1, momentum=0.9)
    before = {pname: p.detach().clone() for pname, p in trainable.items()}
    clips = torch.randn(2, 4, 3, 64, 64)
    loss = F.cross_entropy(net(clips), torch.tensor([1, 3]))
    optimizer.zero_grad()
    loss.backward()
    no_gradient = [pname for pname, p in trainable.items() if p.grad is None or not p.grad.any()]
    assert no_gradient == []
    optimizer.step()

    unchanged = [pname for pname, p in trainable.items() if torch.equal(p.detach(), before[pname])]
    assert unchanged == []
    for prefix in ("backbone.", "transform.", "head."):
        if name == "tsn" and prefix == "head.":
            continue
        assert any(pname.startswith(prefix) for pname in trainable)


def test_blstm_update_covers_recurrent_and_reverse_parameters():
    names = {pname for pname, _ in VideoNet("smallcnn", "blstm", num_segments=4, num_classes=5).named_parameters()}
    for suffix in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
        assert f"head.rnn.{suffix}" in names and f"head.rnn.{suffix}_reverse" in names
