"""Reader for the 20BN-Jester v1 annotation format, shared by Jester and the synthetic dataset.

* labels file: one class name per line, in label-index order;
* split files: ``<video_id>;<class name>`` per line (the official test list has ids only).

Line ends may be LF or CRLF. Blank lines carry no record and are skipped; every other malformed
line (wrong column count, unknown label, duplicate id, an id that is no path inside the dataset,
bytes that are not UTF-8) raises :class:`AnnotationError` naming the file and line. Labels are
compared in Unicode normal form C (:mod:`datamodules.annotations.labels`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

from datamodules.annotations.labels import LabelTable, label_name
from datamodules.annotations.lines import check_id, numbered_lines
from datamodules.records import AnnotationError, VideoRecord


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    for number, line in numbered_lines(path):
        if line.strip():
            yield number, line


def read_label_names(path: str | Path) -> list[str]:
    """Class names in label-index order, in normal form C; duplicates (in any Unicode form) are an error."""
    path = Path(path)
    table = LabelTable(path)
    names = [table.add(line.strip(), number) for number, line in _lines(path)]
    if not names:
        raise AnnotationError(path, 0, "no class names in the labels file")
    return names


def read_labelled_split(
    path: str | Path,
    class_index: dict[str, int],
    locate: Callable[[str], Path],
) -> list[VideoRecord]:
    """Records of a ``<video_id>;<class name>`` split file; ``locate(video_id)`` gives the video's path."""
    path = Path(path)
    records: list[VideoRecord] = []
    seen: dict[str, int] = {}
    for number, line in _lines(path):
        fields = line.split(";")
        if len(fields) != 2:
            raise AnnotationError(path, number, f"expected '<video_id>;<label>', got {line!r}")
        video_id, label = fields[0].strip(), label_name(fields[1].strip())
        if not video_id:
            raise AnnotationError(path, number, "empty video id")
        check_id(video_id, path, number)
        if label not in class_index:
            raise AnnotationError(path, number, f"unknown label {label!r}")
        if video_id in seen:
            raise AnnotationError(path, number, f"duplicate video id {video_id!r} (first on line {seen[video_id]})")
        seen[video_id] = number
        records.append(VideoRecord(video_id, locate(video_id), class_index[label], f"{path}:{number}"))
    return records
