"""The datasets the harness knows, one explicit table: how to load each, and its training protocol."""
from __future__ import annotations

from dataclasses import dataclass, field
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
    from datamodules import synthetic
    from datamodules.jester_format import read_label_names, read_labelled_split

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
    from datamodules import synthetic

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


DATASETS: dict[str, Callable[[], DatasetSpec]] = {
    "synthetic": _synthetic_spec,
}


def get_dataset(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(sorted(DATASETS))}")
    return DATASETS[name]()
