"""The deep fusion network of a run config: its checks, its two streams and the fusion net.

See :mod:`benchmark.run.deep_fusion` for the run (docs/protocols.md, part D, for the system).
"""
from __future__ import annotations

from backbones import Backbone, build_backbone
from backbones.base import init_conv_bn_
from benchmark.run.config import RunConfig
from benchmark.run.setting_rules import DEEP_FUSION_HEAD, FIRST_CONV_INITS
from datamodules.modality import Modality
from heads.fusion.deep_fusion import DeepFusionNet

HEAD = DEEP_FUSION_HEAD
MODALITY = Modality.RGB_FLOW
STREAMS = ("spatial", "temporal")


def check_config(config: RunConfig) -> None:
    """Raise a ValueError naming every setting a deep fusion run cannot take."""
    problems = []
    if config.head != HEAD:
        problems.append(f"head must be {HEAD!r}, got {config.head!r}")
    if config.modality != MODALITY:
        problems.append(f"modality must be {str(MODALITY)!r}, got {str(config.modality)!r}")
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
