"""The spatiotemporal deep fusion network (docs/protocols.md, section D) as a trainable run.

A run is a :class:`RunConfig` with ``head="deep_fusion"`` and ``modality="rgb+flow"``: the spatial
stream is ``backbone`` on RGB frames, the temporal stream the same architecture on ``flow_length``
(L) flow pairs per time step (2L input channels), both loaded from ``backbone_weights`` when given.
The temporal stream's first conv is then re-initialised at random (``temporal_first_conv="random"``,
as published) with the backbone's own initialisation, or kept as the mean of the RGB filters
(``"cross_modality"``). ``segments`` is T; ``fusion_conv_summary`` picks how X_conv reaches its
LSTM (see :mod:`heads.fusion.deep_fusion`). The network's own dropouts (0.5 after FC6, 0.25 on the
LSTM outputs) are the published ones; ``dropout``, ``feature_dim`` and ``transform_init_std`` do
not apply. One test view per video (``test_clips = test_crops = 1``).

Training, metrics, bad videos and the optimizer's parameter groups are :class:`VideoClassifier`'s;
only the network and the two-stream input differ. On the leaderboard both streams count as the
backbone and everything after them (3D fusion conv, FC6, the three LSTMs, classifier) as the head;
there is no backbone-to-head transform.
"""
from __future__ import annotations

from typing import Any

import torch

from benchmark.run.config import RunConfig
from benchmark.run.deep_fusion_net import check_config
from benchmark.run.module import VideoClassifier


class DeepFusionClassifier(VideoClassifier):
    """:class:`VideoClassifier` over a :class:`DeepFusionNet`; batches carry ``frames`` as a dict
    ``{"rgb": (B, T, 3, S, S), "flow": (B, T, 2L, S, S)}`` (see :mod:`datamodules.rgb_flow_clips`).

    Everything but the network's input (metrics, losses, bad-video bookkeeping) is the parent's.
    """

    def __init__(self, config: RunConfig | dict[str, Any], num_classes: int, multi_label: bool = False) -> None:
        config = RunConfig.from_dict(config) if isinstance(config, dict) else config
        check_config(config)
        super().__init__(config, num_classes, multi_label)

    def forward(self, frames: dict[str, torch.Tensor]) -> torch.Tensor:  # type: ignore[override]
        return self.net(frames["rgb"], frames["flow"])
