"""What a dataset adapter produces: one record per video, and the errors it raises."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class VideoRecord:
    """One annotated video: where it is, its label(s), and the annotation line it came from.

    ``path`` is a video file, or a folder of extracted JPEG frames when ``frame_template`` is set
    (e.g. ``"{:05d}.jpg"``, numbered from ``first_frame``). Single-label datasets set ``label``
    (-1 when the split has no labels, e.g. an unlabelled test list); multi-label datasets (CCV)
    set ``labels`` to the tuple of class indices, possibly empty, and leave ``label`` at -1.
    ``num_frames`` is filled when known without decoding (frame folders, the index cache);
    ``problem`` by the index cache for a video it marks unusable (reading it then fails with that).
    """

    video_id: str
    path: Path
    label: int
    source: str  # "file:line", so that any later error can point back to the annotation
    labels: tuple[int, ...] | None = None
    num_frames: int | None = None
    frame_template: str | None = None
    first_frame: int = 1
    problem: str | None = None  # why the video is unusable, when `stbench prepare` found it so

    @property
    def is_frame_folder(self) -> bool:
        return self.frame_template is not None


class AnnotationError(ValueError):
    """A malformed annotation line; the message names the file and the line number."""

    def __init__(self, path: str | Path, line_number: int, reason: str) -> None:
        super().__init__(f"{path}:{line_number}: {reason}")
        self.path = str(path)
        self.line_number = line_number
        self.reason = reason


class AnnotationFileError(AnnotationError):
    """An annotation file that is there but cannot be read (a folder, a link loop, no permission)."""

    def __init__(self, path: str | Path, reason: str) -> None:
        ValueError.__init__(self, f"{path}: {reason}")
        self.path = str(path)
        self.line_number = 0
        self.reason = reason
