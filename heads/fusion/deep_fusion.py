"""Spatiotemporal deep fusion network: conv-level two-stream fusion, then layer-normalised LSTMs.

Per video, T time steps; at each step the spatial backbone sees one RGB frame and the temporal
backbone a stack of 2L flow channels centred on it (frame choice: ``datamodules.sampling.intervals``).

    rgb (B, T, 3, H, W) ──spatial──▶ (B, T, C, h, w) ┐
                                                      ├─ concat channels (B, T, 2C, h, w)
    flow (B, T, 2L, H, W) ─temporal─▶ (B, T, C, h, w) ┘
    Conv3d 3×3×3 over (T, h, w), padding 1, 2C → C, + ReLU      → X_conv (B, T, C, h, w)
    FC6: Linear(C·h·w → fc_dim) per step + ReLU + Dropout(0.5)  → X_fc   (B, T, fc_dim)
    LN-LSTM seq2seq over X_conv (summarised per step, below)    → (B, T, K), Dropout(0.25)
    LN-LSTM seq2seq over X_fc                                   → (B, T, K), Dropout(0.25)
    concatenate the two per step                                → (B, T, 2K)
    LN-LSTM seq2one, last hidden state                          → (B, K), Dropout(0.25)
    classifier: Linear(K → K) (or none)                         → (B, K) logits for the softmax

Choices the published description leaves open, and what they cost (C channels, h×w map, K
classes, F = fc_dim; VGG-16 here returns its map after the last pool, C·h·w = 512·7·7 = 25,088
at 224 px, so FC6 has VGG's own 25,088 × 4,096 shape):

* the 3D convolution is followed by a ReLU (X_conv is a post-activation map like the backbone
  maps it fuses); it has 27·2C·C + C parameters (14.2 M for C = 512);
* ``conv_summary="pool"`` (default) feeds the X_conv LSTM the spatial average of each step's map
  (C inputs, 4K(C + K) + 4K + LN weights: 0.25 M for C = 512, K = 101); ``"flatten"`` feeds the
  whole map (C·h·w inputs: 4K·C·h·w input weights instead of 4K·C, 10.1 M for VGG at 224 and
  K = 101). Pooling is a deviation from feeding the map itself; ``"flatten"`` is the faithful
  variant;
* every LSTM has K hidden units as published; since h = σ(o)·tanh(·) lies in (−1, 1), a softmax
  on h directly cannot put more than e²/(e² + K − 1) on one class (0.07 for K = 101), so by
  default a Linear(K → K) maps the last state to logits (``classifier=False``: logits = h_T);
* the two seq2seq outputs are merged by concatenation (2K inputs to the last LSTM).

MAC counting (``benchmark.run.complexity``): every op is counted, the layer normalisations of the LSTMs
(three per step) by the convention stated there.
"""
from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from backbones import Backbone
from heads.fusion.layernorm_lstm import LayerNormLSTM

ConvSummary = Literal["pool", "flatten"]

FC_DIM = 4096
DROPOUT_FC = 0.5
DROPOUT_LSTM = 0.25


class DeepFusionNet(nn.Module):
    """Two backbones fused at the conv level at every time step, then three LN-LSTMs (see module doc).

    ``input_size`` is the frame side the net is built for (it fixes h×w and so FC6's width).
    """

    def __init__(
        self,
        spatial_backbone: Backbone,
        temporal_backbone: Backbone,
        num_classes: int,
        fc_dim: int = FC_DIM,
        dropout_fc: float = DROPOUT_FC,
        dropout_lstm: float = DROPOUT_LSTM,
        input_size: int = 224,
        conv_summary: ConvSummary = "pool",
        classifier: bool = True,
        layer_norm: bool = True,
    ) -> None:
        super().__init__()
        if spatial_backbone.out_channels != temporal_backbone.out_channels:
            raise ValueError(
                f"the streams' maps must have the same channels to be fused: spatial "
                f"{spatial_backbone.out_channels}, temporal {temporal_backbone.out_channels}"
            )
        side = spatial_backbone.map_size(input_size)
        if temporal_backbone.map_size(input_size) != side:
            raise ValueError(
                f"the streams' maps differ in size at {input_size} px: spatial {side}, "
                f"temporal {temporal_backbone.map_size(input_size)}"
            )
        if conv_summary not in ("pool", "flatten"):
            raise ValueError(f"conv_summary must be 'pool' or 'flatten', got {conv_summary!r}")
        channels = spatial_backbone.out_channels
        self.num_classes = num_classes
        self.input_size = input_size
        self.map_side = side
        self.conv_summary = conv_summary
        self.spatial = spatial_backbone
        self.temporal = temporal_backbone
        self.fuse = nn.Sequential(nn.Conv3d(2 * channels, channels, kernel_size=3, padding=1), nn.ReLU())
        self.fc6 = nn.Sequential(nn.Linear(channels * side * side, fc_dim), nn.ReLU(), nn.Dropout(dropout_fc))
        conv_inputs = channels if conv_summary == "pool" else channels * side * side
        self.lstm_conv = LayerNormLSTM(conv_inputs, num_classes, layer_norm)
        self.lstm_fc = LayerNormLSTM(fc_dim, num_classes, layer_norm)
        self.lstm_out = LayerNormLSTM(2 * num_classes, num_classes, layer_norm)
        self.dropout_lstm = nn.Dropout(dropout_lstm)
        self.classifier: nn.Module = nn.Linear(num_classes, num_classes) if classifier else nn.Identity()

    def _check(self, rgb: Tensor, flow: Tensor) -> None:
        for name, x, backbone in (("rgb", rgb, self.spatial), ("flow", flow, self.temporal)):
            expected = (backbone.in_channels, self.input_size, self.input_size)
            if x.dim() != 5 or tuple(x.shape[2:]) != expected:
                raise ValueError(f"{name}: expected (B, T, {', '.join(map(str, expected))}), got {tuple(x.shape)}")
        if rgb.shape[:2] != flow.shape[:2]:
            raise ValueError(f"rgb and flow disagree on (B, T): {tuple(rgb.shape[:2])} vs {tuple(flow.shape[:2])}")

    def fused_maps(self, rgb: Tensor, flow: Tensor) -> Tensor:
        """X_conv: (B, T, C, h, w), the 3D-convolved concatenation of both streams' maps."""
        self._check(rgb, flow)
        batch, steps = rgb.shape[:2]
        spatial = self.spatial(rgb.flatten(0, 1))
        temporal = self.temporal(flow.flatten(0, 1))
        both = torch.cat([spatial, temporal], dim=1)
        both = both.view(batch, steps, *both.shape[1:]).transpose(1, 2)  # (B, 2C, T, h, w)
        return self.fuse(both).transpose(1, 2)

    def forward(self, rgb: Tensor, flow: Tensor) -> Tensor:
        x_conv = self.fused_maps(rgb, flow)
        x_fc = self.fc6(x_conv.flatten(2))
        conv_steps = x_conv.mean(dim=(3, 4)) if self.conv_summary == "pool" else x_conv.flatten(2)
        conv_out, _ = self.lstm_conv(conv_steps)
        fc_out, _ = self.lstm_fc(x_fc)
        merged = torch.cat([self.dropout_lstm(conv_out), self.dropout_lstm(fc_out)], dim=2)
        _, (last, _) = self.lstm_out(merged)
        return self.classifier(self.dropout_lstm(last))
