"""A head added the way a new one is: this module, plus one line in the table ``heads.HEADS``
(``tests/heads/test_adding_a_head.py`` adds that line with ``monkeypatch``).

The toy head learns one weight per time step (a Linear(T → 1) over time, so it sees the order of
the frames), then classifies the weighted sum of the T features.
"""
from __future__ import annotations

import torch
from torch import nn

from heads.base import FEATURE_DIM, Head


class ToyHead(Head):
    """(B, T, D) → Linear(T → 1) over time → (B, D) → Linear(D → K)."""

    consumes = "vector"

    def __init__(self, num_segments: int, num_classes: int, feature_dim: int = FEATURE_DIM) -> None:
        super().__init__(num_segments, num_classes, feature_dim)
        self.over_time = nn.Linear(num_segments, 1)
        self.classifier = nn.Linear(feature_dim, num_classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.over_time(features.transpose(1, 2)).squeeze(-1))
