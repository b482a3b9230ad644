"""What every frame reader shares: the sampler it asks for frame indices and the error it raises."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

# Given a video's frame count, the 0-based indices of the frames to decode.
IndexSampler = Callable[[int], list[int]]


class VideoReadError(RuntimeError):
    """A video could not be opened or decoded; the message names the file."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason
