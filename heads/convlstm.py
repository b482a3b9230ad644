"""ConvLSTM head over the unpooled (B, T, D, h, w) feature maps."""
from __future__ import annotations

import torch
from torch import nn

from heads.base import FEATURE_DIM, Head

HIDDEN = 256


class ConvLSTMCell(nn.Module):
    """One ConvLSTM step: a single 3×3 convolution (padding 1, bias) over concat[x_t, h_{t−1}]
    gives the four gates, split in the order input, forget, cell candidate, output.

    i, f, o = σ(·);  g = tanh(·);  c_t = f ⊙ c_{t−1} + i ⊙ g;  h_t = o ⊙ tanh(c_t).
    """

    def __init__(self, in_channels: int, hidden_channels: int, kernel_size: int = 3) -> None:
        super().__init__()
        self.hidden_channels = hidden_channels
        self.conv = nn.Conv2d(
            in_channels + hidden_channels, 4 * hidden_channels, kernel_size, padding=kernel_size // 2, bias=True
        )

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h, c = state
        gates = self.conv(torch.cat([x, h], dim=1))
        i, f, g, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c

    def zero_state(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Zero (h, c) matching the batch and spatial size of an input step x (N, C, h, w)."""
        zeros = x.new_zeros(x.shape[0], self.hidden_channels, *x.shape[2:])
        return zeros, zeros


class ConvLSTMHead(Head):
    """ConvLSTM (256 hidden channels, zero initial state) → last h → global average pool → Linear(256 → K)."""

    consumes = "map"

    def __init__(self, num_segments: int, num_classes: int, feature_dim: int = FEATURE_DIM) -> None:
        super().__init__(num_segments, num_classes, feature_dim)
        self.cell = ConvLSTMCell(feature_dim, HIDDEN)
        self.fc = nn.Linear(HIDDEN, num_classes)

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        state = self.cell.zero_state(maps[:, 0])
        for t in range(maps.shape[1]):
            state = self.cell(maps[:, t], state)
        h, _ = state
        return self.fc(h.mean(dim=(2, 3)))
