"""UCF Sports, which ships no list; splits are built by scanning the root.

Layout: ``root/<Class-View>/<NNN>/`` holding the sequence's ``.avi`` (and its JPEG frames). The
13 folders make 10 classes (:data:`FOLDER_CLASSES`); labels follow the sorted class names. A
sequence folder without an ``.avi`` is an error naming it.

Splits: ``"random<seed>"``, a seeded 7:3 division within each class (``random0`` by default). There
is no validation set: ``val`` is the test set (only the test metrics are reported).
"""

from __future__ import annotations

from pathlib import Path

from datamodules.annotations.random_split import random_seed, stratified_split
from datamodules.dataset_spec import RANDOM_SPLITS, DatasetSpec, DatasetSplits
from datamodules.records import AnnotationError, VideoRecord

FOLDER_CLASSES: dict[str, str] = {
    "Diving-Side": "Diving",
    "Golf-Swing-Back": "Golf",
    "Golf-Swing-Front": "Golf",
    "Golf-Swing-Side": "Golf",
    "Kicking-Front": "Kicking",
    "Kicking-Side": "Kicking",
    "Lifting": "Lifting",
    "Riding-Horse": "Riding",
    "Run-Side": "Run",
    "SkateBoarding-Front": "SkateBoarding",
    "Swing-Bench": "Swing-Bench",
    "Swing-SideAngle": "Swing-Side",
    "Walk-Front": "Walk",
}
CLASS_NAMES: tuple[str, ...] = tuple(sorted(set(FOLDER_CLASSES.values())))


def scan(root: Path) -> list[VideoRecord]:
    """One record per sequence folder, in sorted folder order."""
    if not root.is_dir():
        raise FileNotFoundError(f"UCF Sports root not found: {root}")
    index = {name: i for i, name in enumerate(CLASS_NAMES)}
    records = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if folder.name not in FOLDER_CLASSES:
            raise AnnotationError(
                folder, 0, f"unknown UCF Sports folder {folder.name!r}; expected one of {', '.join(FOLDER_CLASSES)}"
            )
        label = index[FOLDER_CLASSES[folder.name]]
        for sequence in sorted(p for p in folder.iterdir() if p.is_dir() and p.name.isdigit()):
            videos = sorted(sequence.glob("*.avi"))
            if len(videos) != 1:
                raise FileNotFoundError(f"expected one .avi in {sequence}, found {len(videos)}")
            records.append(VideoRecord(f"{folder.name}/{sequence.name}", videos[0], label, str(sequence)))
    if not records:
        raise FileNotFoundError(f"no UCF Sports sequences (<Class-View>/<NNN>/*.avi) under {root}")
    return records


def load(root: Path, split: str, annotations: Path | None = None) -> DatasetSplits:
    """Train and test records of ``"random<seed>"``; ``annotations`` is unused (there is no list)."""
    seed = random_seed(split)
    if seed is None:
        raise ValueError(f"unknown UCF Sports split {split!r}; valid: random<seed> (e.g. random0)")
    train, test = stratified_split(scan(Path(root)), seed)
    return DatasetSplits(list(CLASS_NAMES), train, test, test)


SPEC = DatasetSpec(name="ucfsports", num_classes=len(CLASS_NAMES), read=load, splits=(RANDOM_SPLITS,))
