"""Simple MLP head over the ordered concatenation of the T frame features."""
from __future__ import annotations

import torch
from torch import nn

from heads.base import FEATURE_DIM, Head

HIDDEN = 512
DROPOUT = 0.2


class MLPHead(Head):
    """concat(T · D) → ReLU → Linear(T · D → 512) → Dropout(0.2) → ReLU → Linear(512 → K)."""

    consumes = "vector"

    def __init__(self, num_segments: int, num_classes: int, feature_dim: int = FEATURE_DIM) -> None:
        super().__init__(num_segments, num_classes, feature_dim)
        self.mlp = nn.Sequential(
            nn.ReLU(),
            nn.Linear(num_segments * feature_dim, HIDDEN),
            nn.Dropout(DROPOUT),
            nn.ReLU(),
            nn.Linear(HIDDEN, num_classes),
        )

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if features.shape[1] != self.num_segments:
            raise ValueError(f"MLP head built for T={self.num_segments}, got {features.shape[1]} frames")
        return self.mlp(features.flatten(1))
