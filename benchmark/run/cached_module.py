"""Frozen-backbone training: only the backbone-to-head transform and the head learn.

The backbone stays part of the network (its weights are in the checkpoint and in the parameter /
MAC counts) but never trains: ``requires_grad`` is off, so the optimizer's parameter groups leave
it out, and it is kept in eval mode, so BatchNorm uses its running statistics.

A batch either carries cached backbone maps (``"features"``, from
``datamodules.cached_features.CachedFeatureDataModule``) or decoded, augmented clips (``"frames"``,
from ``VideoDataModule``); in the second case the frozen backbone is run here, without gradients,
on every step — the uncached baseline of the same run (multi-view testing works there too).
"""
from __future__ import annotations

from typing import Any

import torch

from benchmark.run.config import RunConfig
from benchmark.run.module import VideoClassifier


class FrozenBackboneClassifier(VideoClassifier):
    """A VideoClassifier whose forward takes backbone maps (B, T, C, h, w) and runs transform → head.

    Inputs shaped like clips, (B, T, C_in, S, S) at the run's input size, are encoded by the frozen
    backbone first (no gradients); the two shapes cannot coincide, since a backbone's map has
    ``out_channels`` channels at a smaller side (checked at construction).
    """

    def __init__(self, config: RunConfig, num_classes: int, multi_label: bool = False) -> None:
        super().__init__(config, num_classes, multi_label=multi_label)
        backbone = self.net.backbone
        backbone.requires_grad_(False)
        backbone.eval()
        side = backbone.map_size(config.input_size)
        self.map_shape = (int(backbone.out_channels), side, side)
        self.clip_shape = (int(backbone.in_channels), config.input_size, config.input_size)
        if self.map_shape == self.clip_shape:
            raise ValueError(f"backbone {config.backbone!r} keeps the input shape {self.clip_shape}: maps and clips are indistinguishable")

    def train(self, mode: bool = True) -> FrozenBackboneClassifier:
        super().train(mode)
        self.net.backbone.eval()
        return self

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        shape = tuple(inputs.shape[2:])
        if shape == self.clip_shape:
            maps = self.encode(inputs)
        elif shape == self.map_shape:
            maps = inputs
        else:
            raise ValueError(
                f"expected backbone maps (B, T, {', '.join(map(str, self.map_shape))}) or clips "
                f"(B, T, {', '.join(map(str, self.clip_shape))}), got {tuple(inputs.shape)}"
            )
        batch, steps = maps.shape[:2]
        features = self.net.transform(maps.flatten(0, 1).float())
        return self.net.head(features.reshape(batch, steps, *features.shape[1:]))

    @torch.no_grad()
    def encode(self, clips: torch.Tensor) -> torch.Tensor:
        """Frozen backbone on (B, T, C_in, H, W) clips → (B, T, C, h, w) maps."""
        maps = self.net.backbone(clips.flatten(0, 1))
        return maps.reshape(*clips.shape[:2], *maps.shape[1:])

    @staticmethod
    def _maps_batch(batch: dict[str, Any]) -> dict[str, Any]:
        """A cached batch with its maps in the slot the parent's steps read (``"frames"``)."""
        return {**batch, "frames": batch["features"]} if "features" in batch else batch

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor | None:
        return super().training_step(self._maps_batch(batch), batch_idx)

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        super().validation_step(self._maps_batch(batch), batch_idx)

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        super().test_step(self._maps_batch(batch), batch_idx)
