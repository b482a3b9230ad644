"""A dataset added the way a new one is: this module (its reader and its ``SPEC``) plus one table line.

Layout: ``root/<class>/<clip>.mp4``; labels follow the sorted class folders; the third clip of
every class (and every third after it) is the test set, which also serves as ``val``.
"""
from __future__ import annotations

from pathlib import Path

from datamodules.annotations.lines import check_split
from datamodules.dataset_spec import DatasetSpec, DatasetSplits, TrainingProtocol
from datamodules.records import VideoRecord


def load(root: Path, split: str) -> DatasetSplits:
    check_split("toy", split, ("default",))
    names = sorted(folder.name for folder in Path(root).iterdir() if folder.is_dir())
    train: list[VideoRecord] = []
    test: list[VideoRecord] = []
    for label, name in enumerate(names):
        for i, video in enumerate(sorted((Path(root) / name).glob("*.mp4"))):
            (test if i % 3 == 2 else train).append(VideoRecord(f"{name}/{video.stem}", video, label, str(video)))
    return DatasetSplits(names, train, test, test)


SPEC = DatasetSpec(
    name="toy",
    num_classes=2,
    read=load,
    flip=True,
    decode_size=(40, 40),
    protocol=TrainingProtocol(
        segments=3, input_size=32, epochs=2, batch_size=2, lr=0.01, lr_steps=(1,), optimizer="adam", weight_decay=0.0
    ),
)
