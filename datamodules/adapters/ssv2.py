"""Something-Something v2 from the official JSON files (one split: "default").

Annotation folder: the one holding ``something-something-v2-labels.json`` (``{"<template>":
"<index>"}``), ``-train.json`` and ``-validation.json`` (arrays of ``{"id", "template", ...}``),
looked up in ``root``, ``root/annotations``, then ``root/labels``. A template's label is the
template with its ``[`` / ``]`` placeholders' brackets removed. Videos: ``root/<id>.webm``.

The validation set is the test set, as in the study, and also serves as ``val``. Without
``-train.json`` :func:`load` raises a FileNotFoundError saying so, unless ``require_train=False``
(evaluation only), which gives an empty train list.

Horizontal flip: used, with label swapping. :func:`flip_label_map` maps every class whose template
names a side ("left" / "right" as whole words) to the class whose template has the sides swapped
("Pushing something from left to right" <-> "... from right to left"); every other class keeps its
label. A side word whose swapped template is not a class is not a direction: in the official labels
the one such template is "... pulling it right out ..." ("right" = at once), which a mirror does
not change, so it keeps its label (:func:`unpaired_side_classes` lists these for inspection).
"""

from __future__ import annotations

import re
from pathlib import Path

from datamodules.annotations.json_file import iter_array, iter_object
from datamodules.annotations.labels import LabelTable, label_name
from datamodules.annotations.lines import (
    check_disjoint,
    check_id,
    check_split,
    find_annotations,
    source,
    whole_number,
)
from datamodules.dataset_spec import WIDESCREEN_DECODE_SIZE, STUDY_PROTOCOL, DatasetSpec, DatasetSplits
from datamodules.records import AnnotationError, VideoRecord

SPLITS: tuple[str, ...] = ("default",)
LABELS_FILE = "something-something-v2-labels.json"
TRAIN_FILE = "something-something-v2-train.json"
VALIDATION_FILE = "something-something-v2-validation.json"
ANNOTATION_SUBFOLDER = "labels"
VIDEO_SUFFIX = ".webm"
_SIDE = re.compile(r"\b(left|right)\b", re.IGNORECASE)
_SWAP = {"left": "right", "right": "left", "Left": "Right", "Right": "Left", "LEFT": "RIGHT", "RIGHT": "LEFT"}


def strip_brackets(template: str) -> str:
    """``"Putting [something] on [something]"`` → ``"Putting something on something"``."""
    return template.replace("[", "").replace("]", "")


def read_labels(path: Path) -> list[str]:
    """Class names (templates without brackets, in Unicode normal form C) in label-index order; indices
    must be 0..K-1, and a template may be listed once (in any Unicode form)."""
    by_index: dict[int, str] = {}
    table = LabelTable(path, what="template")
    for number, written, value in iter_object(path):
        index = _label_index(value)
        if index is None:
            raise AnnotationError(path, number, f"label index must be an integer, got {_shown(value)}")
        name = table.add(written, number)
        if index in by_index:
            raise AnnotationError(path, number, f"label index {index} already used by {by_index[index]!r}")
        by_index[index] = name
    if not by_index:
        raise AnnotationError(path, 0, "no labels listed")
    for number_of_classes, index in enumerate(sorted(by_index)):
        if index != number_of_classes:
            raise AnnotationError(
                path, table.line_of(by_index[index]), f"label index {index} out of range 0..{len(by_index) - 1}"
            )
    return [by_index[i] for i in range(len(by_index))]


def read_split(path: Path, class_index: dict[str, int], root: Path) -> list[VideoRecord]:
    """Records of a train / validation JSON array."""
    records: list[VideoRecord] = []
    seen: dict[str, int] = {}
    for number, entry in iter_array(path):
        if not isinstance(entry, dict) or "id" not in entry or "template" not in entry:
            raise AnnotationError(path, number, "expected an object with 'id' and 'template'")
        if not isinstance(entry["id"], (str, int)) or isinstance(entry["id"], bool):
            raise AnnotationError(path, number, f"'id' must be a string or an integer, got {_shown(entry['id'])}")
        if not isinstance(entry["template"], str):
            raise AnnotationError(path, number, f"'template' must be a string, got {_shown(entry['template'])}")
        video_id, name = str(entry["id"]).strip(), label_name(strip_brackets(entry["template"]))
        if not video_id:
            raise AnnotationError(path, number, "empty video id")
        check_id(video_id, path, number)
        if name not in class_index:
            raise AnnotationError(path, number, f"unknown label {name!r}")
        if video_id in seen:
            raise AnnotationError(path, number, f"duplicate video id {video_id!r} (first on line {seen[video_id]})")
        seen[video_id] = number
        records.append(
            VideoRecord(video_id, root / f"{video_id}{VIDEO_SUFFIX}", class_index[name], source(path, number))
        )
    return records


def _label_index(value: object) -> int | None:
    """A label index given as an integer or as its decimal text (the official file's form)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return whole_number(value.strip()) if isinstance(value, str) else None


def _shown(value: object) -> str:
    """``repr`` of a JSON value, cut short (a value may be a whole nested document)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def mirrored(name: str) -> str | None:
    """The template with "left" and "right" swapped, or None when it names no side."""
    if not _SIDE.search(name):
        return None
    return _SIDE.sub(lambda m: _SWAP.get(m.group(0), m.group(0)), name)


def flip_label_map(class_names: list[str]) -> tuple[int, ...]:
    """Label of a horizontally flipped clip of each class (see the module docstring)."""
    index = {name: i for i, name in enumerate(class_names)}
    result = []
    for i, name in enumerate(class_names):
        partner = mirrored(name)
        result.append(index.get(partner, i) if partner is not None else i)
    return tuple(result)


def unpaired_side_classes(class_names: list[str]) -> list[str]:
    """Classes naming "left" or "right" whose mirrored template is not a class (they keep their label)."""
    known = set(class_names)
    return [name for name in class_names if (partner := mirrored(name)) is not None and partner not in known]


def load(root: Path, split: str, annotations: Path | None = None, require_train: bool = True) -> DatasetSplits:
    """Train and validation records (validation = test = val)."""
    check_split("Something-Something v2", split, SPLITS)
    root = Path(root)
    folder = Path(annotations) if annotations is not None else find_annotations(root, LABELS_FILE, ANNOTATION_SUBFOLDER)
    names = read_labels(folder / LABELS_FILE)
    index = {name: i for i, name in enumerate(names)}
    if (folder / TRAIN_FILE).is_file():
        train = read_split(folder / TRAIN_FILE, index, root)
    elif require_train:
        raise FileNotFoundError(
            f"{folder / TRAIN_FILE} not found: training on Something-Something v2 needs it "
            "(evaluation alone can load with require_train=False)"
        )
    else:
        train = []
    validation = read_split(folder / VALIDATION_FILE, index, root)
    check_disjoint(train, validation, "train")
    return DatasetSplits(names, train, validation, validation)


# A flip swaps the left/right classes: the map is built from the labels file read (flip_label_map).
SPEC = DatasetSpec(
    name="ssv2",
    num_classes=174,
    read=load,
    splits=SPLITS,
    decode_size=WIDESCREEN_DECODE_SIZE,
    protocol=STUDY_PROTOCOL,
    flip_labels=flip_label_map,
)
