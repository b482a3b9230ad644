"""TSN: the mean of the T per-frame class scores (order-agnostic, no parameters)."""
from __future__ import annotations

import torch

from heads.base import Head


class TSNHead(Head):
    consumes = "scores"

    def forward(self, scores: torch.Tensor) -> torch.Tensor:
        return scores.mean(dim=1)
