"""What every frame reader shares: the sampler it asks for frame indices and the error it raises."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

# Given a video's frame count, the 0-based indices of the frames to decode.
IndexSampler = Callable[[int], list[int]]
# How PyAV reads a container's metadata text: bytes that are not UTF-8 (a damaged or foreign tag) are replaced,
# so that they never stop the frames from being read.
METADATA_ERRORS = "replace"


class VideoReadError(RuntimeError):
    """A video could not be opened or decoded; the message names the file."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


_DECORD_PREFIX = re.compile(r"\[\d\d:\d\d:\d\d\] \S+:\d+: ")  # "[22:10:11] /src/video/x.cc:218: "


def short_error(error: BaseException) -> str:
    """The last line of an error message (decord puts a C++ backtrace and log prefix before it)."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    text = _DECORD_PREFIX.sub("", lines[-1]) if lines else type(error).__name__
    return text if len(text) <= 300 else text[:297] + "..."
