"""UCF-101 from the official ``ucfTrainTestlist`` files (three splits: "1", "2", "3").

Annotation folder: the one holding ``classInd.txt`` (``<index 1..101> <ClassName>``),
``trainlist0N.txt`` (``<ClassDir>/v_<Class>_gXX_cYY.avi <index>``) and ``testlist0N.txt`` (the
same paths without a label). It is looked up in ``root``, ``root/annotations``, then
``root/ucfTrainTestlist``. All files use CRLF line ends.

Videos: ``root/<ClassDir>/v_<Class>_gXX_cYY.avi``. Labels are 0-based classInd order. Test lines
carry no label: it comes from the class folder, matched case-insensitively against classInd, which
resolves the official ``HandstandPushups`` (classInd, folder) vs ``HandStandPushups`` (file names,
some extracted copies' folder) mismatch; the folder on disk is used in whichever case (and Unicode
form: names are compared in normal form C) it exists.

There is no official validation set: ``val`` is the test list (only the test metrics are reported).
"""

from __future__ import annotations

from pathlib import Path

from datamodules.annotations.labels import LabelTable, label_name
from datamodules.annotations.lines import (
    check_id,
    check_split,
    find_annotations,
    iter_lines,
    source,
    whole_number,
)
from datamodules.dataset_spec import DatasetSpec, DatasetSplits
from datamodules.records import AnnotationError, VideoRecord

SPLITS: tuple[str, ...] = ("1", "2", "3")
CLASS_INDEX_FILE = "classInd.txt"
ANNOTATION_SUBFOLDER = "ucfTrainTestlist"


def read_class_index(path: Path) -> list[str]:
    """Class names (Unicode normal form C) in label order; indices must run 1, 2, 3, ... without gaps or
    repeats, and a name may be listed once (in any letter case or Unicode form)."""
    names: list[str] = []
    table = LabelTable(path, ignore_case=True)
    for number, line in iter_lines(path):
        fields = line.split()
        index = whole_number(fields[0]) if len(fields) == 2 else None
        if index is None:
            raise AnnotationError(path, number, f"expected '<index> <ClassName>', got {line!r}")
        if index != len(names) + 1:
            raise AnnotationError(path, number, f"class index {index} out of order (expected {len(names) + 1})")
        names.append(table.add(fields[1], number))
    if not names:
        raise AnnotationError(path, 0, "no classes listed")
    return names


class _FolderResolver:
    """Maps a class folder named in a list to the folder on disk, ignoring case when it differs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.on_disk = {p.name: p.name for p in root.iterdir() if p.is_dir()} if root.is_dir() else {}
        self.by_lower = {label_name(name).lower(): name for name in self.on_disk}
        self.resolved: dict[str, Path] = {}

    def __call__(self, folder: str) -> Path:
        if folder not in self.resolved:
            name = folder if folder in self.on_disk else self.by_lower.get(label_name(folder).lower(), folder)
            self.resolved[folder] = self.root / name
        return self.resolved[folder]


def _read_list(
    path: Path,
    class_of_folder: dict[str, int],
    names: list[str],
    resolve: _FolderResolver,
    labelled: bool,
    taken: dict[str, str],
) -> list[VideoRecord]:
    records: list[VideoRecord] = []
    expected = "'<ClassDir>/<video>.avi <index>'" if labelled else "'<ClassDir>/<video>.avi'"
    for number, line in iter_lines(path):
        fields = line.split()
        if len(fields) != (2 if labelled else 1):
            raise AnnotationError(path, number, f"expected {expected}, got {line!r}")
        relative = fields[0].replace("\\", "/")
        parts = relative.split("/")
        if len(parts) != 2 or not parts[1]:
            raise AnnotationError(path, number, f"expected '<ClassDir>/<video>.avi', got {relative!r}")
        folder, filename = check_id(parts[0], path, number, "class folder"), check_id(parts[1], path, number)
        label = class_of_folder.get(label_name(folder).lower())
        if label is None:
            raise AnnotationError(path, number, f"class folder {folder!r} is not in {CLASS_INDEX_FILE}")
        if labelled:
            index = whole_number(fields[1])
            if index is None or not 1 <= index <= len(names):
                raise AnnotationError(path, number, f"label {fields[1]!r} is not a class index 1..{len(names)}")
            if index - 1 != label:
                raise AnnotationError(
                    path, number, f"label {fields[1]} ({names[index - 1]}) does not match folder {folder!r}"
                )
        key = label_name(relative).lower()
        if key in taken:
            raise AnnotationError(path, number, f"video {relative!r} already listed at {taken[key]}")
        taken[key] = source(path, number)
        video_id = Path(filename).stem
        records.append(VideoRecord(video_id, resolve(folder) / filename, label, source(path, number)))
    return records


def load(root: Path, split: str, annotations: Path | None = None) -> DatasetSplits:
    """Train and test records of official split ``split`` ("1", "2" or "3"); ``val`` is the test list."""
    check_split("UCF-101", split, SPLITS)
    root = Path(root)
    folder = (
        Path(annotations) if annotations is not None else find_annotations(root, CLASS_INDEX_FILE, ANNOTATION_SUBFOLDER)
    )
    names = read_class_index(folder / CLASS_INDEX_FILE)
    class_of_folder = {name.lower(): i for i, name in enumerate(names)}  # names are in normal form C
    resolve = _FolderResolver(root)
    taken: dict[str, str] = {}
    train = _read_list(folder / f"trainlist0{split}.txt", class_of_folder, names, resolve, True, taken)
    test = _read_list(folder / f"testlist0{split}.txt", class_of_folder, names, resolve, False, taken)
    return DatasetSplits(names, train, test, test)


SPEC = DatasetSpec(name="ucf101", num_classes=101, read=load, splits=SPLITS)
