"""UCF11 (UCF YouTube Action), which has no official split; splits are built by scanning the root.

Layout: ``root/<class_dir>/v_<prefix>_<GG>/v_<prefix>_<GG>_<CC>.avi`` (``.mpg`` in the
``UCF11_updated_mpg`` release), 25 groups GG per class. Other entries (e.g. the ``Annotation``
folders of ViPER files) are ignored. Labels follow the sorted class folder names, in Unicode normal
form C (two folders whose names differ only in that form are an error).

Splits:

* ``"logo<G>"`` (G = 1..25): leave-one-group-out, group G is the test set (``logo1`` by default);
* ``"random<seed>"``: a seeded, class-stratified 7:3 division of the clips;
* ``"lists"``: the third-party ``trainUCF11.txt`` / ``testUCF11.txt`` lists
  (``<class_dir>/<group_dir>/<clip> <label>``, no file extension), found in ``annotations`` or
  looked up in ``root``, then ``root/annotations``.

There is no validation set: ``val`` is the test set (only the test metrics are reported).
"""

from __future__ import annotations

import re
from pathlib import Path

from datamodules.annotations.labels import label_name, unicode_twin
from datamodules.annotations.lines import check_disjoint, check_id, find_annotations, iter_lines, source
from datamodules.annotations.random_split import random_seed, stratified_split
from datamodules.dataset_spec import RANDOM_SPLITS, DatasetSpec, DatasetSplits, describe_splits
from datamodules.records import AnnotationError, VideoRecord

NUM_GROUPS = 25
LIST_SPLIT = "lists"
TRAIN_LIST, TEST_LIST = "trainUCF11.txt", "testUCF11.txt"
SPLITS: tuple[str, ...] = (*(f"logo{group}" for group in range(1, NUM_GROUPS + 1)), RANDOM_SPLITS, LIST_SPLIT)
VIDEO_SUFFIXES: tuple[str, ...] = (".avi", ".mpg")
_GROUP_DIR = re.compile(r"^v_.+_(?P<group>\d+)$")
_CLIP = re.compile(r"^v_.+_(?P<group>\d+)_(?P<clip>\d+)\.(avi|mpg)$", re.IGNORECASE)


def _check_split(split: str) -> None:
    if split not in SPLITS and random_seed(split) is None:
        raise ValueError(f"unknown UCF11 split {split!r}; valid: {describe_splits(SPLITS)}")


def scan(root: Path) -> tuple[list[str], list[tuple[VideoRecord, int]]]:
    """Class names (normal form C) and ``(record, group)`` of every clip under ``root``, in sorted path order."""
    if not root.is_dir():
        raise FileNotFoundError(f"UCF11 root not found: {root}")
    classes: dict[str, list[tuple[Path, int]]] = {}
    folders: dict[str, Path] = {}
    for class_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        clips = []
        for group_dir in sorted(p for p in class_dir.iterdir() if p.is_dir() and _GROUP_DIR.match(p.name)):
            for clip in sorted(group_dir.iterdir()):
                match = _CLIP.match(clip.name)
                if match and clip.is_file():
                    clips.append((clip, int(match["group"])))
        if clips:
            name = label_name(class_dir.name)
            if name in folders:
                raise unicode_twin(class_dir, "class folder", class_dir.name, ascii(folders[name].name))
            folders[name] = class_dir
            classes[name] = clips
    if not classes:
        raise FileNotFoundError(f"no UCF11 clips (<class>/v_<prefix>_<GG>/v_<prefix>_<GG>_<CC>.avi|mpg) under {root}")
    names = list(classes)
    found = [
        (VideoRecord(clip.stem, clip, label, str(clip)), group)
        for label, name in enumerate(names)
        for clip, group in classes[name]
    ]
    return names, found


def read_list(path: Path, root: Path, names: list[str]) -> list[VideoRecord]:
    """Records of a third-party list; the clip's extension is whichever of .avi / .mpg exists, its class
    folder the one on disk whose name is the list's in any Unicode form."""
    folders = {label_name(p.name): p for p in root.iterdir() if p.is_dir()} if root.is_dir() else {}
    records = []
    for number, line in iter_lines(path):
        fields = line.split()
        if len(fields) != 2 or len(fields[0].split("/")) != 3:
            raise AnnotationError(path, number, f"expected '<class_dir>/<group_dir>/<clip> <label>', got {line!r}")
        relative, label_text = check_id(fields[0], path, number, "clip"), fields[1]
        class_dir = label_name(relative.split("/")[0])
        if class_dir not in names:
            raise AnnotationError(path, number, f"class folder {class_dir!r} not found under {root}")
        if label_text != str(names.index(class_dir)):
            raise AnnotationError(
                path, number, f"label {label_text} does not match {class_dir!r} (index {names.index(class_dir)})"
            )
        inside = relative.split("/", 1)[1]
        candidates = [folders.get(class_dir, root / class_dir) / f"{inside}{suffix}" for suffix in VIDEO_SUFFIXES]
        existing = [p for p in candidates if p.is_file()]
        if not existing:
            raise AnnotationError(path, number, f"no video {relative}.avi or .mpg under {root}")
        records.append(VideoRecord(existing[0].stem, existing[0], names.index(class_dir), source(path, number)))
    return records


def load(root: Path, split: str, annotations: Path | None = None) -> DatasetSplits:
    """Train and test records of ``split`` (see the module docstring); ``val`` is the test set."""
    _check_split(split)
    root = Path(root)
    names, found = scan(root)
    if split == LIST_SPLIT:
        folder = Path(annotations) if annotations is not None else find_annotations(root, TRAIN_LIST)
        train, test = read_list(folder / TRAIN_LIST, root, names), read_list(folder / TEST_LIST, root, names)
        check_disjoint(train, test, TRAIN_LIST)
    elif split.startswith("logo"):
        held_out = int(split[len("logo") :])
        train = [record for record, group in found if group != held_out]
        test = [record for record, group in found if group == held_out]
        if not test:
            raise FileNotFoundError(f"UCF11 split {split}: no clips of group {held_out:02d} under {root}")
    else:
        train, test = stratified_split([record for record, _ in found], random_seed(split))
    return DatasetSplits(names, train, test, test)


SPEC = DatasetSpec(name="ucf11", num_classes=11, read=load, splits=SPLITS)
