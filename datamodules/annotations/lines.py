"""Line-level reading shared by the adapters: numbered lines, annotation folders, split names.

Every annotation line is read with its 1-based line number so that errors and record sources can
say ``file:line``. Line ends may be LF or CRLF; trailing whitespace (HMDB-51 and CCV lines end in a
space) and blank lines are accepted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from datamodules.records import AnnotationError, VideoRecord

ANNOTATIONS_SUBFOLDER = "annotations"


def iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """``(line_number, stripped_line)`` for every non-blank line of ``path``."""
    if not path.is_file():
        raise FileNotFoundError(f"annotation file not found: {path}")
    with path.open("r", encoding="utf-8", newline="") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.strip()
            if line:
                yield number, line


def source(path: Path, line_number: int) -> str:
    return f"{path}:{line_number}"


def read_names(path: Path) -> list[tuple[int, str]]:
    """``(line_number, name)`` of a one-name-per-line file; a repeated name is an error."""
    names: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for number, name in iter_lines(path):
        if name in seen:
            raise AnnotationError(path, number, f"{name!r} already listed on line {seen[name]}")
        seen[name] = number
        names.append((number, name))
    if not names:
        raise AnnotationError(path, 0, "the file lists no names")
    return names


def find_annotations(root: Path, marker: str, subfolder: str | None = None) -> Path:
    """The folder holding the official file ``marker``.

    Looked up, in order, in ``root`` itself, ``root/annotations`` and ``root/<subfolder>`` (the
    dataset's conventional place), so a dataset root can carry its own copy of the official files
    without any environment setting.
    """
    candidates = [root, root / ANNOTATIONS_SUBFOLDER]
    if subfolder is not None:
        candidates.append(root / subfolder)
    for folder in candidates:
        if (folder / marker).exists():
            return folder
    looked = ", ".join(str(folder) for folder in candidates)
    raise FileNotFoundError(f"{marker} not found; looked in {looked}")


def check_split(dataset: str, split: str, valid: Iterable[str]) -> None:
    """Raise a ValueError listing the valid split names when ``split`` is not one of them."""
    valid = list(valid)
    if split not in valid:
        raise ValueError(f"unknown {dataset} split {split!r}; valid: {', '.join(valid)}")


def check_disjoint(earlier: list[VideoRecord], later: list[VideoRecord], earlier_name: str) -> None:
    """A video id of ``later`` that is also in ``earlier`` is an error at its line in ``later``."""
    seen = {record.video_id: record.source for record in earlier}
    for record in later:
        if record.video_id in seen:
            file, line = record.source.rsplit(":", 1)
            raise AnnotationError(
                file,
                int(line),
                f"video {record.video_id!r} is also in the {earlier_name} list ({seen[record.video_id]})",
            )
