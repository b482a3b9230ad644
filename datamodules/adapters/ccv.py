"""Columbia Consumer Video (CCV) from the official release files (one split: "default").

Annotation folder: the one holding ``categoryName.txt`` (20 class names, in label-column order),
``trainVidID.txt`` / ``trainLabel.txt`` and ``testVidID.txt`` / ``testLabel.txt`` (row i of a
label file is a 0/1 vector, space-separated, for line i of the id file), looked up in ``root``,
then ``root/annotations``. Videos: ``root/videos/<YouTube id>.mp4``.

Multi-label: ``VideoRecord.labels`` is the tuple of class indices set to 1. Rows of all zeros are
kept in both splits: those videos belong to none of the 20 classes and are negatives for every
class (:func:`count_unlabelled` gives how many per split). There is no validation set: ``val`` is
the test set (only the test metrics are reported).
"""

from __future__ import annotations

from pathlib import Path

from datamodules.annotations.lines import (
    check_disjoint,
    check_id,
    check_split,
    find_annotations,
    iter_lines,
    read_names,
    source,
)
from datamodules.dataset_spec import DatasetSpec, DatasetSplits
from datamodules.records import AnnotationError, VideoRecord

SPLITS: tuple[str, ...] = ("default",)
CATEGORY_FILE = "categoryName.txt"
VIDEO_FOLDER = "videos"
VIDEO_SUFFIX = ".mp4"


def read_label_rows(path: Path, width: int) -> list[tuple[int, tuple[int, ...]]]:
    """``(line_number, class indices set to 1)`` per row of a 0/1 label matrix of ``width`` columns."""
    rows = []
    for number, line in iter_lines(path):
        values = line.split()
        if len(values) != width:
            raise AnnotationError(path, number, f"expected {width} 0/1 values, got {len(values)}")
        if any(value not in ("0", "1") for value in values):
            raise AnnotationError(path, number, f"label values must be 0 or 1, got {line!r}")
        rows.append((number, tuple(i for i, value in enumerate(values) if value == "1")))
    return rows


def read_part(ids_path: Path, labels_path: Path, num_classes: int, root: Path) -> list[VideoRecord]:
    """Records of one split from its id list and its label matrix (read line for line)."""
    ids = list(iter_lines(ids_path))
    rows = read_label_rows(labels_path, num_classes)
    if len(ids) != len(rows):
        shorter, count = (ids_path, len(ids)) if len(ids) < len(rows) else (labels_path, len(rows))
        raise AnnotationError(
            shorter, count, f"{ids_path.name} has {len(ids)} ids but {labels_path.name} has {len(rows)} label rows"
        )
    records = []
    seen: dict[str, int] = {}
    for (number, video_id), (_, labels) in zip(ids, rows):
        if len(video_id.split()) != 1:
            raise AnnotationError(ids_path, number, f"expected one video id, got {video_id!r}")
        check_id(video_id, ids_path, number)
        if video_id in seen:
            raise AnnotationError(ids_path, number, f"duplicate video id {video_id!r} (first on line {seen[video_id]})")
        seen[video_id] = number
        path = root / VIDEO_FOLDER / f"{video_id}{VIDEO_SUFFIX}"
        records.append(VideoRecord(video_id, path, -1, source(ids_path, number), labels=labels))
    return records


def count_unlabelled(records: list[VideoRecord]) -> int:
    """Videos in none of the classes (an empty label set)."""
    return sum(1 for record in records if not record.labels)


def load(root: Path, split: str, annotations: Path | None = None) -> DatasetSplits:
    """Train and test records; ``val`` is the test set."""
    check_split("CCV", split, SPLITS)
    root = Path(root)
    folder = Path(annotations) if annotations is not None else find_annotations(root, CATEGORY_FILE)
    names = [name for _, name in read_names(folder / CATEGORY_FILE)]
    train = read_part(folder / "trainVidID.txt", folder / "trainLabel.txt", len(names), root)
    test = read_part(folder / "testVidID.txt", folder / "testLabel.txt", len(names), root)
    check_disjoint(train, test, "train")
    return DatasetSplits(names, train, test, test)


SPEC = DatasetSpec(name="ccv", num_classes=20, read=load, splits=SPLITS, multi_label=True, metric="map")
