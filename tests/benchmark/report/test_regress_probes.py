"""The regression check's training-coverage probe finds parameters left out of training."""
from dataclasses import replace

import pytest

import benchmark.run.optim as optim
from benchmark.report.regress_probes import training_coverage
from benchmark.run.config import resolve_config
from heads import HEADS


def _config(head: str, **changes):
    return replace(resolve_config("synthetic", head=head, segments=3, input_size=32), **changes)


@pytest.mark.parametrize("head", list(HEADS))
def test_every_head_trains_every_parameter(head):
    result = training_coverage(_config(head), num_classes=10)
    assert result.passed, result.problems


def test_declared_freezing_is_not_a_problem():
    assert training_coverage(_config("lstm", frozen_backbone=True), 10).passed
    assert training_coverage(_config("lstm", partial_bn=True), 10).passed


def _dropping(monkeypatch, should_drop):
    original = optim.parameter_groups

    def groups(model, lr, weight_decay):
        dropped = {id(p) for name, p in model.named_parameters() if should_drop(name)}
        return [{**g, "params": [p for p in g["params"] if id(p) not in dropped]} for g in original(model, lr, weight_decay)]

    monkeypatch.setattr(optim, "parameter_groups", groups)


def test_recurrent_hidden_weights_left_out_of_the_optimizer_are_found(monkeypatch):
    _dropping(monkeypatch, lambda name: "weight_hh" in name)
    result = training_coverage(_config("blstm"), 10)
    names = {problem.split(":")[0] for problem in result.problems}
    assert {"net.head.rnn.weight_hh_l0", "net.head.rnn.weight_hh_l0_reverse"} <= names
    assert all("not in the optimizer" in p or "unchanged" in p for p in result.problems)


def test_batchnorms_after_the_first_left_out_are_found(monkeypatch):
    _dropping(monkeypatch, lambda name: name.startswith("backbone.features.") and not name.startswith("backbone.features.0."))
    result = training_coverage(_config("tsn"), 10)
    assert not result.passed and any("backbone.features.1." in p for p in result.problems)


def test_a_parameter_switched_off_is_found(monkeypatch):
    import benchmark.run.module as module

    original = module.build_network

    def build(config, num_classes):
        net = original(config, num_classes)
        net.head.rnn.weight_hh_l0.requires_grad_(False)
        return net

    monkeypatch.setattr(module, "build_network", build)
    result = training_coverage(_config("gru"), 10)
    assert any(p.endswith("weight_hh_l0: requires_grad is off") for p in result.problems)
