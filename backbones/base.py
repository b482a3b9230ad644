"""Shared pieces of every backbone: input normalisation spec and the Backbone base class."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.func import functional_call
from torch.nn.modules.batchnorm import _BatchNorm


@dataclass(frozen=True)
class InputNorm:
    """How uint8 frames become the tensor the weights expect: x = uint8 as float * value_scale,
    channels reordered to BGR if bgr, then (x - mean) / std per channel."""

    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    value_scale: float
    bgr: bool = False

    def apply(self, frames: Tensor) -> Tensor:
        """Normalise RGB frames with channels at dim -3 (e.g. (N, 3, H, W) or (N, T, 3, H, W))."""
        if frames.shape[-3] != 3:
            raise ValueError(f"InputNorm.apply expects 3 RGB channels at dim -3, got shape {tuple(frames.shape)}")
        x = frames.float() * self.value_scale
        if self.bgr:
            x = x.flip(-3)
        mean = torch.tensor(self.mean, dtype=x.dtype, device=x.device).view(3, 1, 1)
        std = torch.tensor(self.std, dtype=x.dtype, device=x.device).view(3, 1, 1)
        return (x - mean) / std


TORCHVISION_NORM = InputNorm((0.485, 0.456, 0.406), (0.229, 0.224, 0.225), 1 / 255)


class Backbone(nn.Module):
    """Takes (N, C_in, H, W) float, returns feature maps (N, out_channels, h, w).

    Subclasses set ``out_channels``, ``input_norm``, ``first_conv_key`` (state-dict key of the
    first convolution's weight, used for cross-modality initialisation) and
    ``classifier_prefixes`` (state-dict prefixes of the ImageNet classifier, dropped on load).
    BatchNorm layers must be registered in forward order: the first one is the one that
    stays trainable under partial BN.
    """

    out_channels: int
    input_norm: InputNorm
    first_conv_key: str
    classifier_prefixes: tuple[str, ...] = ()

    def __init__(self, in_channels: int = 3) -> None:
        super().__init__()
        if in_channels < 1:
            raise ValueError(f"in_channels must be positive, got {in_channels}")
        self.in_channels = in_channels
        self.partial_bn = False

    def map_size(self, input_size: int) -> int:
        """Side of the output map for a square ``input_size`` input (shape-only pass on the meta device)."""
        was_training = self.training
        self.eval()
        try:
            tensors = {
                name: torch.empty_like(t, device="meta")
                for name, t in self.state_dict(keep_vars=True).items()
            }
            probe = torch.empty(1, self.in_channels, input_size, input_size, device="meta")
            with torch.no_grad():
                out = functional_call(self, tensors, (probe,))
        finally:
            self.train(was_training)
        if out.shape[-1] != out.shape[-2]:
            raise RuntimeError(f"non-square output map {tuple(out.shape)} for input {input_size}")
        return int(out.shape[-1])

    def adapt_checkpoint(self, state_dict: dict[str, Tensor]) -> dict[str, Tensor]:
        """Hook for format quirks of a published checkpoint; identity by default."""
        return state_dict

    def batchnorms(self) -> list[_BatchNorm]:
        """All BatchNorm layers in registration order."""
        return [m for m in self.modules() if isinstance(m, _BatchNorm)]

    def frozen_batchnorms(self) -> list[_BatchNorm]:
        """BatchNorm layers frozen by partial BN: all but the first."""
        return self.batchnorms()[1:] if self.partial_bn else []

    def set_partial_bn(self, enabled: bool = True) -> None:
        """Freeze (or unfreeze) every BatchNorm except the first one (TSN's partial BN).

        Frozen layers stay in eval mode even under ``train()`` so their running statistics
        stay fixed, and their affine parameters get ``requires_grad=False``.
        """
        for bn in self.batchnorms()[1:]:
            for p in bn.parameters(recurse=False):
                p.requires_grad_(not enabled)
        self.partial_bn = enabled
        self.train(self.training)

    def train(self, mode: bool = True) -> Backbone:
        super().train(mode)
        for bn in self.frozen_batchnorms():
            bn.eval()
        return self


def init_conv_bn_(module: nn.Module) -> None:
    """He (fan-out) normal init for convolutions with zero biases and identity BatchNorm, in place."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
