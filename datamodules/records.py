"""What a dataset adapter produces: one record per video, and the errors it raises."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class VideoRecord:
    """One annotated video: where it is, its label, and the annotation line it came from."""

    video_id: str
    path: Path
    label: int
    source: str  # "file:line", so that any later error can point back to the annotation


class AnnotationError(ValueError):
    """A malformed annotation line; the message names the file and the line number."""

    def __init__(self, path: str | Path, line_number: int, reason: str) -> None:
        super().__init__(f"{path}:{line_number}: {reason}")
        self.path = str(path)
        self.line_number = line_number
        self.reason = reason
