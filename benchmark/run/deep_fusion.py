"""The spatiotemporal deep fusion network (SYSTEMS.md part D) as a trainable run.

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

import copy
from typing import TYPE_CHECKING, Any

import torch
from fvcore.nn import parameter_count

from backbones import Backbone, build_backbone
from backbones.base import init_conv_bn_
from benchmark.run.complexity import PARTS, mac_analysis
from benchmark.run.config import RunConfig
from benchmark.run.module import VideoClassifier
from datamodules.rgb_flow_clips import RgbFlowDataModule
from heads.fusion.deep_fusion import DeepFusionNet

if TYPE_CHECKING:  # the runner imports this module when it runs a deep fusion config
    from benchmark.run.runner import RunOptions

HEAD = "deep_fusion"
MODALITY = "rgb+flow"
FIRST_CONV_INITS = ("random", "cross_modality")
STREAMS = ("spatial", "temporal")


def check_config(config: RunConfig) -> None:
    """Raise a ValueError naming every setting a deep fusion run cannot take."""
    problems = []
    if config.head != HEAD:
        problems.append(f"head must be {HEAD!r}, got {config.head!r}")
    if config.modality != MODALITY:
        problems.append(f"modality must be {MODALITY!r}, got {config.modality!r}")
    if config.temporal_first_conv not in FIRST_CONV_INITS:
        problems.append(f"temporal_first_conv must be one of {FIRST_CONV_INITS}, got {config.temporal_first_conv!r}")
    if config.test_clips != 1 or config.test_crops != 1:
        problems.append(f"one test view only (test_clips = test_crops = 1), got {config.test_clips} × {config.test_crops}")
    if config.frozen_backbone:
        problems.append("frozen_backbone is not supported: both streams train end to end")
    if config.flow_length < 1:
        problems.append(f"flow_length must be >= 1, got {config.flow_length}")
    if problems:
        raise ValueError(f"deep fusion run {config.run_id}: " + "; ".join(problems))


def reset_first_conv(backbone: Backbone) -> None:
    """Re-initialise the first convolution (weight and bias) with the backbone's own random init."""
    owner = backbone.first_conv_key.rsplit(".", 1)[0]
    init_conv_bn_(backbone.get_submodule(owner))


def build_deep_fusion_net(config: RunConfig, num_classes: int) -> DeepFusionNet:
    """The two streams (RGB: 3 channels, flow: 2L channels) and the fusion network on top."""
    spatial = build_backbone(config.backbone, 3, config.backbone_weights, config.partial_bn)
    temporal = build_backbone(config.backbone, 2 * config.flow_length, config.backbone_weights, config.partial_bn)
    if config.backbone_weights is not None and config.temporal_first_conv == "random":
        reset_first_conv(temporal)
    return DeepFusionNet(
        spatial, temporal, num_classes, input_size=config.input_size, conv_summary=config.fusion_conv_summary
    )


class DeepFusionClassifier(VideoClassifier):
    """:class:`VideoClassifier` over a :class:`DeepFusionNet`; batches carry ``frames`` as a dict
    ``{"rgb": (B, T, 3, S, S), "flow": (B, T, 2L, S, S)}`` (see :mod:`datamodules.rgb_flow_clips`).

    Everything but the network (metrics, losses, bad-video bookkeeping) is the parent's.
    """

    def __init__(self, config: RunConfig | dict[str, Any], num_classes: int, multi_label: bool = False) -> None:
        config = RunConfig.from_dict(config) if isinstance(config, dict) else config
        check_config(config)
        super().__init__(config, num_classes, multi_label)

    def build_net(self, config: RunConfig, num_classes: int) -> DeepFusionNet:
        return build_deep_fusion_net(config, num_classes)

    def forward(self, frames: dict[str, torch.Tensor]) -> torch.Tensor:  # type: ignore[override]
        return self.net(frames["rgb"], frames["flow"])


def deep_fusion_datamodule(config: RunConfig, options: RunOptions, model: DeepFusionClassifier) -> RgbFlowDataModule:
    """The two-stream data of a run (flow from ``options.flow_root``, default ``<data root>/flow``)."""
    return RgbFlowDataModule(
        config.dataset,
        num_segments=config.segments,
        batch_size=config.batch_size,
        input_size=config.input_size,
        input_norm=model.net.spatial.input_norm,
        flow_length=config.flow_length,
        seed=config.seed,
        root=options.data_root,
        split=config.split,
        num_workers=options.num_workers,
        progress=options.progress,
        on_bad_video=options.on_bad_video,
        flow_root=options.flow_root,
        holdout_fraction=config.holdout_fraction,
    )


def count_deep_fusion(net: DeepFusionNet, segments: int, strict: bool = True) -> dict[str, int]:
    """Parameters and MACs of one clip of ``segments`` steps, in the leaderboard's columns:
    backbone = both streams, head = fusion conv + FC6 + LSTMs + classifier, transform = 0
    (eval mode, one clip; the network is left unchanged)."""
    net = copy.deepcopy(net).eval()
    size = net.input_size
    rgb = torch.zeros(1, segments, net.spatial.in_channels, size, size)
    flow = torch.zeros(1, segments, net.temporal.in_channels, size, size)
    macs = mac_analysis(net, (rgb, flow), strict).by_module()
    params = parameter_count(net)
    row: dict[str, int] = {}
    for kind, counts in (("params", params), ("macs", macs)):
        total = int(counts.get("", 0))
        backbone = sum(int(counts.get(stream, 0)) for stream in STREAMS)
        parts = {"backbone": backbone, "transform": 0, "head": total - backbone}
        row.update({f"{part}_{kind}": parts[part] for part in PARTS})
        row[f"total_{kind}"] = total
    return row
