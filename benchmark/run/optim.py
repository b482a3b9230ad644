"""Optimizer parameter groups of the study: biases lr ×2 and no weight decay, norms no weight decay.

Every trainable parameter of the model lands in exactly one group (checked), so no weight of a
recurrent layer, reverse direction or BatchNorm is left out of training.
"""
from __future__ import annotations

from typing import Any, Iterable

import torch
from torch import nn

from benchmark.run.config import RunConfig
from benchmark.run.setting_rules import OPTIMIZERS

NORM_TYPES = (nn.modules.batchnorm._NormBase, nn.GroupNorm, nn.LayerNorm)


def parameter_groups(model: nn.Module, lr: float, weight_decay: float) -> list[dict]:
    weights, biases, norms = [], [], []
    norm_params = {
        id(p) for module in model.modules() if isinstance(module, NORM_TYPES) for p in module.parameters(recurse=False)
    }
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if id(param) in norm_params:
            norms.append(param)
        elif name.rsplit(".", 1)[-1].startswith("bias"):
            biases.append(param)  # includes recurrent layers' bias_ih_l0, bias_hh_l0_reverse, …
        else:
            weights.append(param)
    groups = [
        {"name": "weights", "params": weights, "lr": lr, "weight_decay": weight_decay},
        {"name": "biases", "params": biases, "lr": 2 * lr, "weight_decay": 0.0},
        {"name": "norms", "params": norms, "lr": lr, "weight_decay": 0.0},
    ]
    trainable = [p for p in model.parameters() if p.requires_grad]
    grouped = [p for group in groups for p in group["params"]]
    if len(grouped) != len(trainable) or {id(p) for p in grouped} != {id(p) for p in trainable}:
        raise AssertionError("parameter groups do not cover every trainable parameter exactly once")
    return [group for group in groups if group["params"]]


def make_optimizer(name: str, params: Iterable[Any], lr: float, momentum: float = 0.9) -> torch.optim.Optimizer:
    """SGD with momentum, or Adam, over ``params`` (parameters or parameter groups)."""
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}; known: {', '.join(OPTIMIZERS)}")


def build_optimizer(config: RunConfig, model: nn.Module) -> dict[str, Any]:
    """The run's optimizer over ``model``'s parameter groups and its step schedule (lr ×0.1 at
    ``lr_steps``), as Lightning's ``configure_optimizers`` returns them. The two-stage schedule has
    no scheduler: a callback lowers the lr (:mod:`benchmark.run.schedule`)."""
    groups = parameter_groups(model, config.lr, config.weight_decay)
    optimizer = make_optimizer(config.optimizer, groups, config.lr, config.momentum)
    if config.lr_schedule == "two_stage":
        return {"optimizer": optimizer}
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=list(config.lr_steps), gamma=0.1)
    return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}
