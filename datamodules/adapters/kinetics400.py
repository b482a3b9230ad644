"""Kinetics-400 from the official CSV files (one split: "default").

Annotation folder: the one holding ``kinetics-400_val.csv`` (and ``kinetics-400_train.csv``,
optional ``label_map.txt``), looked up in ``root``, then ``root/annotations``. The CSVs have the
header ``label,youtube_id,time_start,time_end,split`` plus, in the 2017 release, ``is_cc``; extra
columns are accepted. Class order: ``label_map.txt`` when present (the I3D order), else the sorted
labels of the CSVs read. Labels are compared in Unicode normal form C, so a label spelt in two forms
is one class; its video folder is the one the CSV line spells.

Videos use the common trimmed-clip layout
``root/<train|val>/<label>/<youtube_id>_<time_start:06d>_<time_end:06d>.mp4`` (the label verbatim,
spaces included). The validation set is the test set and also serves as ``val``. Without the train
CSV :func:`load` raises a FileNotFoundError saying so, unless ``require_train=False`` (evaluation
only), which gives an empty train list.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from datamodules.annotations.labels import label_name
from datamodules.annotations.lines import (
    check_disjoint,
    check_id,
    check_split,
    find_annotations,
    iter_lines,
    read_names,
    source,
)
from datamodules.dataset_spec import STUDY_PROTOCOL, DatasetSpec, DatasetSplits
from datamodules.records import AnnotationError, VideoRecord

SPLITS: tuple[str, ...] = ("default",)
TRAIN_FILE = "kinetics-400_train.csv"
VALIDATION_FILE = "kinetics-400_val.csv"
LABEL_MAP_FILE = "label_map.txt"
COLUMNS: tuple[str, ...] = ("label", "youtube_id", "time_start", "time_end", "split")


@dataclass(frozen=True)
class Clip:
    """One CSV row."""

    label: str
    youtube_id: str
    start: int
    end: int
    source: str

    @property
    def clip_id(self) -> str:
        return f"{self.youtube_id}_{self.start:06d}_{self.end:06d}"


def _seconds(path: Path, number: int, column: str, text: str) -> int:
    try:
        value = float(text)
    except ValueError:
        raise AnnotationError(path, number, f"{column} must be a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value < 0 or value != int(value):
        raise AnnotationError(path, number, f"{column} must be a whole non-negative number of seconds, got {text!r}")
    return int(value)


def read_csv(path: Path, expected_split: str) -> list[Clip]:
    """The rows of a labelled Kinetics CSV; ``split`` must be ``expected_split`` on every row."""
    clips: list[Clip] = []
    header: list[str] | None = None
    seen: dict[str, int] = {}
    for number, line in iter_lines(path):
        try:
            fields = [field.strip() for field in next(csv.reader([line]))]
        except csv.Error as error:
            raise AnnotationError(path, number, f"not a CSV line ({error})") from None
        if header is None:
            if tuple(fields[: len(COLUMNS)]) != COLUMNS:
                raise AnnotationError(path, number, f"expected a header starting {','.join(COLUMNS)}, got {line!r}")
            header = fields
            continue
        if len(fields) != len(header):
            raise AnnotationError(
                path, number, f"expected {len(header)} columns ({','.join(header)}), got {len(fields)}"
            )
        label, youtube_id, start, end, split = fields[:5]
        if not label or not youtube_id:
            raise AnnotationError(path, number, "empty label or youtube_id")
        check_id(label, path, number, "label"), check_id(youtube_id, path, number, "youtube_id")
        if split != expected_split:
            raise AnnotationError(path, number, f"split column is {split!r}, expected {expected_split!r}")
        clip = Clip(
            label,
            youtube_id,
            _seconds(path, number, "time_start", start),
            _seconds(path, number, "time_end", end),
            source(path, number),
        )
        if clip.end <= clip.start:
            raise AnnotationError(path, number, f"time_end {clip.end} is not after time_start {clip.start}")
        if clip.clip_id in seen:
            raise AnnotationError(path, number, f"duplicate clip {clip.clip_id!r} (first on line {seen[clip.clip_id]})")
        seen[clip.clip_id] = number
        clips.append(clip)
    if header is None:
        raise AnnotationError(path, 0, "empty file: no header")
    return clips


def _records(clips: list[Clip], class_index: dict[str, int], folder: Path) -> list[VideoRecord]:
    records = []
    for clip in clips:
        label = label_name(clip.label)
        if label not in class_index:
            file, line = clip.source.rsplit(":", 1)
            raise AnnotationError(file, int(line), f"unknown label {label!r}")
        path = folder / clip.label / f"{clip.clip_id}.mp4"  # the folder as the CSV spells it
        records.append(VideoRecord(clip.clip_id, path, class_index[label], clip.source))
    return records


def load(root: Path, split: str, annotations: Path | None = None, require_train: bool = True) -> DatasetSplits:
    """Train and validation records (validation = test = val)."""
    check_split("Kinetics-400", split, SPLITS)
    root = Path(root)
    folder = Path(annotations) if annotations is not None else find_annotations(root, VALIDATION_FILE)
    if (folder / TRAIN_FILE).is_file():
        train_clips = read_csv(folder / TRAIN_FILE, "train")
    elif require_train:
        raise FileNotFoundError(
            f"{folder / TRAIN_FILE} not found: training on Kinetics-400 needs it "
            "(evaluation alone can load with require_train=False)"
        )
    else:
        train_clips = []
    validation_clips = read_csv(folder / VALIDATION_FILE, "val")
    if (folder / LABEL_MAP_FILE).is_file():
        names = [name for _, name in read_names(folder / LABEL_MAP_FILE)]
    else:
        names = sorted({label_name(clip.label) for clip in train_clips + validation_clips})
    index = {name: i for i, name in enumerate(names)}
    train = _records(train_clips, index, root / "train")
    validation = _records(validation_clips, index, root / "val")
    check_disjoint(train, validation, "train")
    return DatasetSplits(names, train, validation, validation)


SPEC = DatasetSpec(name="kinetics400", num_classes=400, read=load, splits=SPLITS, protocol=STUDY_PROTOCOL)
