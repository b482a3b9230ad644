"""HMDB-51 from the official ``testTrainMulti_7030_splits`` files (three splits: "1", "2", "3").

Annotation folder: the one holding the ``<class>_test_split<N>.txt`` files, looked up in
``root``, ``root/annotations``, ``root/annotations/testTrainMulti_7030_splits``, then
``root/testTrainMulti_7030_splits`` (an explicit ``annotations`` folder is searched the same way).
``class_list.txt`` is read from that folder, or from its parent when it is the
``testTrainMulti_7030_splits`` folder.

Each split file lists ``<video>.avi <id>`` (with a trailing space): id 1 = train, 2 = test,
0 = unused. Class names come from the split file names, sorted (the conventional label order), in
Unicode normal form C; when ``class_list.txt`` is present it must list the same classes. Videos:
``root/<class>/<video>.avi``, the class folder spelt as its split file's name.

There is no official validation set: ``val`` is the test part (only the test metrics are reported).
"""

from __future__ import annotations

import re
from pathlib import Path

from datamodules.annotations.labels import label_name, unicode_twin
from datamodules.annotations.lines import check_id, check_split, iter_lines, read_names, source
from datamodules.dataset_spec import DatasetSpec, DatasetSplits
from datamodules.records import AnnotationError, VideoRecord

SPLITS: tuple[str, ...] = ("1", "2", "3")
SPLIT_FOLDER = "testTrainMulti_7030_splits"
CLASS_LIST_FILE = "class_list.txt"
_SPLIT_FILE = re.compile(r"^(?P<name>.+)_test_split(?P<split>\d+)\.txt$")
_TRAIN, _TEST, _UNUSED = "1", "2", "0"


def find_split_folder(root: Path) -> Path:
    """The folder holding the ``<class>_test_split<N>.txt`` files (see the module docstring)."""
    candidates = [root, root / "annotations", root / "annotations" / SPLIT_FOLDER, root / SPLIT_FOLDER]
    for folder in candidates:
        if folder.is_dir() and any(folder.glob("*_test_split1.txt")):
            return folder
    looked = ", ".join(str(folder) for folder in candidates)
    raise FileNotFoundError(f"HMDB-51 split files (<class>_test_split1.txt) not found; looked in {looked}")


def split_files(folder: Path, split: str) -> dict[str, Path]:
    """Class name (normal form C) → its split file for ``split``, in sorted class order. Two files whose
    class names differ only in Unicode form would be two classes that print the same: an error."""
    files: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        match = _SPLIT_FILE.match(path.name)
        if match and match["split"] == split:
            name = label_name(match["name"])
            if name in files:
                raise unicode_twin(path, "class", match["name"], f"also the class of {files[name].name}")
            files[name] = path
    if not files:
        raise FileNotFoundError(f"no *_test_split{split}.txt files in {folder}")
    return dict(sorted(files.items()))


def _class_folder(split_file: Path) -> str:
    """The class folder of a split file, spelt as the file's name spells it."""
    match = _SPLIT_FILE.match(split_file.name)
    assert match is not None
    return match["name"]


def check_class_list(path: Path, names: list[str]) -> None:
    """``class_list.txt`` (when present) must name exactly the classes found in the split files."""
    listed = read_names(path)
    known = set(names)
    for number, name in listed:
        if name not in known:
            raise AnnotationError(path, number, f"class {name!r} has no split file")
    missing = known - {name for _, name in listed}
    if missing:
        raise AnnotationError(path, len(listed), f"classes with split files but not listed: {sorted(missing)}")


def load(root: Path, split: str, annotations: Path | None = None) -> DatasetSplits:
    """Train and test records of official split ``split``; ``val`` is the test part."""
    check_split("HMDB-51", split, SPLITS)
    root = Path(root)
    folder = find_split_folder(Path(annotations) if annotations is not None else root)
    files = split_files(folder, split)
    names = list(files)
    class_lists = [folder / CLASS_LIST_FILE]
    if folder.name == SPLIT_FOLDER:
        class_lists.append(folder.parent / CLASS_LIST_FILE)
    for class_list in class_lists:
        if class_list.is_file():
            check_class_list(class_list, names)
            break
    parts: dict[str, list[VideoRecord]] = {_TRAIN: [], _TEST: []}
    taken: dict[str, str] = {}
    for label, path in enumerate(files.values()):
        name = check_id(_class_folder(path), path, 0, "class (from the split file's name)")
        for number, line in iter_lines(path):
            fields = line.split()
            if len(fields) != 2:
                raise AnnotationError(path, number, f"expected '<video>.avi <0|1|2>', got {line!r}")
            video, part = check_id(fields[0], path, number), fields[1]
            if part not in (_TRAIN, _TEST, _UNUSED):
                raise AnnotationError(path, number, f"split id must be 0, 1 or 2, got {part!r}")
            if video in taken:
                raise AnnotationError(path, number, f"video {video!r} already listed at {taken[video]}")
            taken[video] = source(path, number)
            if part != _UNUSED:
                parts[part].append(VideoRecord(Path(video).stem, root / name / video, label, source(path, number)))
    return DatasetSplits(names, parts[_TRAIN], parts[_TEST], parts[_TEST])


SPEC = DatasetSpec(name="hmdb51", num_classes=51, read=load, splits=SPLITS)
