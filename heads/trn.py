"""TRN multiscale: one relation MLP per scale s = T, …, 2 over ordered s-frame tuples, scores summed.

Tuples per scale: scale T has its single tuple; every other scale uses 3 tuples of
``itertools.combinations(range(T), s)`` (all of them when there are fewer). In training they are
drawn at random on every forward pass with torch's global RNG, so seeding controls them. At
evaluation they are fixed at construction: the combinations at the centres of three equal slices
of the lexicographic combination list, so early, middle and late frame sets are all represented
and the test score never depends on the RNG.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from heads.base import FEATURE_DIM, Head
from heads.tuples import draw_ranks, spread_ranks, tuples_tensor

TUPLES_PER_SCALE = 3
RELATION_HIDDEN = 256


class RelationScale(nn.Module):
    """The relation MLP of one scale: ReLU → Linear(s · D → 256) → ReLU → Linear(256 → K),
    applied to each chosen s-frame tuple and summed over the tuples."""

    def __init__(self, num_frames: int, scale: int, feature_dim: int, num_classes: int) -> None:
        super().__init__()
        self.num_frames = num_frames
        self.scale = scale
        self.num_tuples = math.comb(num_frames, scale)
        self.mlp = nn.Sequential(
            nn.ReLU(),
            nn.Linear(scale * feature_dim, RELATION_HIDDEN),
            nn.ReLU(),
            nn.Linear(RELATION_HIDDEN, num_classes),
        )
        fixed = tuples_tensor(num_frames, scale, spread_ranks(self.num_tuples, TUPLES_PER_SCALE))
        self.register_buffer("eval_tuples", fixed, persistent=False)

    def tuples(self) -> torch.Tensor:
        """(n, s) frame indices used by the next forward pass: random in training, fixed at evaluation."""
        if not self.training:
            return self.eval_tuples
        drawn = draw_ranks(self.num_tuples, TUPLES_PER_SCALE)
        return tuples_tensor(self.num_frames, self.scale, drawn).to(self.eval_tuples.device)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        index = self.tuples()
        grouped = features[:, index]  # (B, n, s, D)
        return self.mlp(grouped.flatten(2)).sum(dim=1)


class TRNMultiscaleHead(Head):
    consumes = "vector"
    min_segments = 2  # a relation needs two frames

    def __init__(self, num_segments: int, num_classes: int, feature_dim: int = FEATURE_DIM) -> None:
        super().__init__(num_segments, num_classes, feature_dim)
        if num_segments < self.min_segments:
            raise ValueError(f"TRN multiscale needs at least {self.min_segments} segments, got {num_segments}")
        self.scales = nn.ModuleList(
            RelationScale(num_segments, scale, feature_dim, num_classes) for scale in range(num_segments, 1, -1)
        )

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if features.shape[1] != self.num_segments:
            raise ValueError(f"TRN head built for T={self.num_segments}, got {features.shape[1]} frames")
        return torch.stack([scale(features) for scale in self.scales]).sum(dim=0)
