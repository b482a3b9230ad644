"""Fusion models of the two-stream, hybrid (LSTM + regularised feature fusion) and deep-fusion systems.

Not spatiotemporal heads: they take several streams (features or frames), so they are not in
``heads.HEADS``. Score-level fusion of trained streams lives in ``benchmark.systems.score_fusion``.
"""
from __future__ import annotations

from heads.fusion.deep_fusion import DeepFusionNet
from heads.fusion.feature_fusion import (
    EarlyFusionNet,
    FusionHistory,
    FusionNet,
    LateFusionNet,
    RegularizedFusionNet,
    evaluate_fusion_net,
    train_fusion_net,
)
from heads.fusion.hybrid_lstm import StreamLSTM
from heads.fusion.layernorm_lstm import LayerNormLSTM, LayerNormLSTMCell
from heads.fusion.proximal import (
    proximal_step_,
    sparse_group_penalty,
    zero_row_fraction,
)

__all__ = [
    "DeepFusionNet",
    "EarlyFusionNet",
    "FusionHistory",
    "FusionNet",
    "LateFusionNet",
    "LayerNormLSTM",
    "LayerNormLSTMCell",
    "RegularizedFusionNet",
    "StreamLSTM",
    "evaluate_fusion_net",
    "proximal_step_",
    "sparse_group_penalty",
    "train_fusion_net",
    "zero_row_fraction",
]
