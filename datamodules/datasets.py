"""The datasets the harness knows, one explicit table: how to load each, and its training protocol."""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Callable

from datamodules.records import VideoRecord


@dataclass(frozen=True)
class TrainingProtocol:
    """Default training settings of a dataset; every field can be overridden per run."""

    segments: int
    input_size: int
    epochs: int
    batch_size: int
    lr: float
    lr_steps: tuple[int, ...]
    optimizer: str = "sgd"  # "sgd" (momentum) or "adam"
    momentum: float = 0.9
    weight_decay: float = 5e-4
    clip_grad_norm: float = 20.0
    transform_init_std: float = 0.001  # the study's, for ImageNet-pretrained backbones


@dataclass(frozen=True)
class DatasetSplits:
    """What an adapter returns: class names and the records of each split."""

    class_names: list[str]
    train: list[VideoRecord]
    val: list[VideoRecord]
    test: list[VideoRecord]
    reversed_pairs: tuple[tuple[str, str], ...] = field(default=())
    # A flipped clip of class i is labelled flip_label_map[i], when the labels depend on the data
    # (Something-Something's left/right templates); None: see DatasetSpec.flip_label_map.
    flip_label_map: tuple[int, ...] | None = None


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    num_classes: int
    flip: bool  # whether a horizontal flip keeps the label (see flip_label_map for label-swapping flips)
    decode_size: tuple[int, int]  # (height, width) frames are resized to while decoding
    protocol: TrainingProtocol
    load: Callable[[Path | None, str, bool], DatasetSplits]  # (root, split, progress)
    multi_label: bool = False  # CCV: BCE-with-logits loss and mAP over classes
    metric: str = "top1"  # the headline metric of the dataset's literature: "top1" or "map"
    # A flipped clip of class i is labelled flip_label_map[i] (Something-Something's left/right
    # templates); None with flip=True means flipping keeps every label.
    flip_label_map: tuple[int, ...] | None = None


def _load_synthetic(root: Path | None, split: str, progress: bool) -> DatasetSplits:
    from datamodules.synthetic import generate as synthetic
    from datamodules.annotations.jester_format import read_label_names, read_labelled_split

    if split not in ("default", ""):
        raise ValueError(f"the synthetic dataset has one split ('default'), got {split!r}")
    if root is not None and (Path(root) / synthetic.MANIFEST_NAME).is_file():
        directory = Path(root)  # an already generated dataset folder, e.g. a small one made for tests
    else:
        directory = synthetic.ensure_synthetic(root, progress=progress)
    names = read_label_names(directory / "synthetic-labels.csv")
    index = {name: i for i, name in enumerate(names)}

    def locate(video_id: str) -> Path:
        return directory / "videos" / f"{video_id}.mp4"

    splits = {
        part: read_labelled_split(directory / f"synthetic-{part}.csv", index, locate)
        for part in ("train", "validation", "test")
    }
    return DatasetSplits(names, splits["train"], splits["validation"], splits["test"], synthetic.REVERSED_PAIRS)


def _synthetic_spec() -> DatasetSpec:
    from datamodules.synthetic import generate as synthetic

    return DatasetSpec(
        name="synthetic",
        num_classes=len(synthetic.CLASS_NAMES),
        flip=False,  # left/right motions are classes of their own
        decode_size=(80, 80),
        # Trained from scratch on CPU: Adam reaches in 4 epochs what SGD needs far longer for.
        protocol=TrainingProtocol(
            segments=8,
            input_size=64,
            epochs=4,
            batch_size=16,
            lr=1e-3,
            lr_steps=(3,),
            optimizer="adam",
            weight_decay=1e-4,
        ),
        load=_load_synthetic,
    )


def _load_adapter(name: str, root: Path | None, split: str, progress: bool) -> DatasetSplits:
    """``load`` of a real dataset: its adapter in :mod:`datamodules.adapters`, on the data at ``root``.

    The official annotation files are looked up in ``root`` itself, then ``root/annotations``,
    then the dataset's conventional subfolder (see each adapter's docstring), so each dataset root
    can carry its own copy. The class count must match :mod:`datamodules.class_counts`.
    """
    from datamodules.class_counts import num_classes

    if root is None:
        raise ValueError(f"--data-root is required for {name}")
    adapter = importlib.import_module(f"datamodules.adapters.{name}")
    splits = adapter.load(Path(root), split)
    if name == "ssv2":  # flipping swaps the left/right templates of the labels file that was read
        splits = replace(splits, flip_label_map=adapter.flip_label_map(splits.class_names))
    if len(splits.class_names) != num_classes(name):
        raise ValueError(f"{name} at {root}: found {len(splits.class_names)} classes, expected {num_classes(name)}")
    return splits


# The study's protocol (Jester, Something-Something v2; also Kinetics-400, of the same scale):
# SGD lr 0.001, momentum 0.9, weight decay 5e-4, lr x0.1 at epochs 15 and 25 of 30, 224 input,
# T = 8, batch 16, gradient norm clipped at 20.
STUDY_PROTOCOL = TrainingProtocol(segments=8, input_size=224, epochs=30, batch_size=16, lr=1e-3, lr_steps=(15, 25))
# Fine-tuning ImageNet-pretrained backbones on the smaller sets (UCF-101, HMDB-51, CCV, UCF11,
# UCF Sports): the study's optimiser and settings, over 20 epochs with steps at 10 and 15, since
# a few thousand videos converge in fewer epochs.
FINE_TUNING_PROTOCOL = TrainingProtocol(segments=8, input_size=224, epochs=20, batch_size=16, lr=1e-3, lr_steps=(10, 15))
# Decoded frame sizes (height, width) for 256-short-side real runs. 4:3 sources are kept at 4:3
# (256, 340); Jester (about 176x100) and Something-Something v2 (mostly 427x240) are decoded to
# (256, 256), so that the 224 crops keep nearly the whole width, where the left/right motion is.
WIDE_DECODE_SIZE = (256, 340)
SQUARE_DECODE_SIZE = (256, 256)


def _real_spec(name: str, **fields: object) -> DatasetSpec:
    from datamodules.class_counts import num_classes

    fields.setdefault("flip", True)
    fields.setdefault("decode_size", WIDE_DECODE_SIZE)
    fields.setdefault("protocol", FINE_TUNING_PROTOCOL)
    return DatasetSpec(name=name, num_classes=num_classes(name), load=partial(_load_adapter, name), **fields)


def _ssv2_spec() -> DatasetSpec:
    """Something-Something v2. A flip swaps the left/right classes ("Pushing something from left to
    right" ↔ "… right to left", …): the map comes with the loaded splits, built from the labels file
    by :func:`datamodules.adapters.ssv2.flip_label_map`; every other class keeps its label."""
    return _real_spec("ssv2", flip=True, decode_size=SQUARE_DECODE_SIZE, protocol=STUDY_PROTOCOL)


DATASETS: dict[str, Callable[[], DatasetSpec]] = {
    "synthetic": _synthetic_spec,
    "ucf101": partial(_real_spec, "ucf101"),
    "hmdb51": partial(_real_spec, "hmdb51"),
    # Jester: left/right gestures are classes of their own, so no flip.
    "jester": partial(_real_spec, "jester", flip=False, decode_size=SQUARE_DECODE_SIZE, protocol=STUDY_PROTOCOL),
    "ssv2": _ssv2_spec,
    "kinetics400": partial(_real_spec, "kinetics400", protocol=STUDY_PROTOCOL),
    "ccv": partial(_real_spec, "ccv", multi_label=True, metric="map"),
    "ucf11": partial(_real_spec, "ucf11"),
    "ucfsports": partial(_real_spec, "ucfsports"),
}


def get_dataset(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(sorted(DATASETS))}")
    return DATASETS[name]()
