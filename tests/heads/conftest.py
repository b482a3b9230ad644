from __future__ import annotations

from typing import Callable

import pytest
import torch

from heads import Head

BATCH = 2
MAP_SIDE = 3


@pytest.fixture
def head_input() -> Callable[..., torch.Tensor]:
    """A random input of the kind ``head`` consumes, for ``steps`` frames."""

    def make(head: Head, steps: int, batch: int = BATCH, side: int = MAP_SIDE) -> torch.Tensor:
        width = head.feature_dim
        if head.consumes == "map":
            return torch.randn(batch, steps, width, side, side)
        return torch.randn(batch, steps, width)

    return make
