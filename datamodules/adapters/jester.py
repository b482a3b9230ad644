"""20BN-Jester v1 from the official CSV files (one split: "default").

Annotation folder: the one holding ``jester-v1-labels.csv``, ``jester-v1-train.csv`` and
``jester-v1-validation.csv`` (``<id>;<label>``), looked up in ``root``, then ``root/annotations``.

Jester ships JPEG frame folders: ``root/<id>/`` with frames ``00001.jpg``, ``00002.jpg``, ...
(``frame_template`` and ``first_frame`` override the naming). The official test list has no
labels, so the validation list is the test set, as in the study, and also serves as ``val``.
"""

from __future__ import annotations

from pathlib import Path

from datamodules.annotations.lines import check_disjoint, check_split, find_annotations
from datamodules.dataset_spec import WIDESCREEN_DECODE_SIZE, STUDY_PROTOCOL, DatasetSpec, DatasetSplits
from datamodules.annotations.jester_format import read_label_names, read_labelled_split
from datamodules.records import VideoRecord

SPLITS: tuple[str, ...] = ("default",)
LABELS_FILE = "jester-v1-labels.csv"
TRAIN_FILE = "jester-v1-train.csv"
VALIDATION_FILE = "jester-v1-validation.csv"
FRAME_TEMPLATE = "{:05d}.jpg"


def load(
    root: Path,
    split: str,
    annotations: Path | None = None,
    frame_template: str = FRAME_TEMPLATE,
    first_frame: int = 1,
) -> DatasetSplits:
    """Train and validation records (validation = test = val) as frame-folder records."""
    check_split("Jester", split, SPLITS)
    root = Path(root)
    folder = Path(annotations) if annotations is not None else find_annotations(root, LABELS_FILE)
    names = read_label_names(folder / LABELS_FILE)
    index = {name: i for i, name in enumerate(names)}

    def read(name: str) -> list[VideoRecord]:
        records = read_labelled_split(folder / name, index, lambda video_id: root / video_id)
        return [
            VideoRecord(r.video_id, r.path, r.label, r.source, frame_template=frame_template, first_frame=first_frame)
            for r in records
        ]

    train, validation = read(TRAIN_FILE), read(VALIDATION_FILE)
    check_disjoint(train, validation, "train")
    return DatasetSplits(names, train, validation, validation)


# Left/right gestures are classes of their own, so no flip.
SPEC = DatasetSpec(
    name="jester",
    num_classes=27,
    read=load,
    splits=SPLITS,
    flip=False,
    decode_size=WIDESCREEN_DECODE_SIZE,
    protocol=STUDY_PROTOCOL,
)
