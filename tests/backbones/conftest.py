from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
import torch


@pytest.fixture
def save_checkpoint(tmp_path: Path) -> Callable[..., Path]:
    """Write an object with torch.save under tmp_path and return the path."""

    def save(obj: object, name: str = "weights.pth") -> Path:
        path = tmp_path / name
        torch.save(obj, path)
        return path

    return save
