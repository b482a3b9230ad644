"""Recurrent heads: one recurrent layer over the T frame features, a classifier on the last step."""
from __future__ import annotations

import torch
from torch import nn

from heads.base import Head

HIDDEN = 256


class LSTMHead(Head):
    """One LSTM layer (hidden 256, zero initial state) → Linear(256 → K) on the last step."""

    consumes = "vector"

    def __init__(self, num_segments: int, num_classes: int, feature_dim: int = 256) -> None:
        super().__init__(num_segments, num_classes, feature_dim)
        self.rnn = nn.LSTM(feature_dim, HIDDEN, num_layers=1, batch_first=True)
        self.fc = nn.Linear(HIDDEN, num_classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        outputs, _ = self.rnn(features)
        return self.fc(outputs[:, -1])
