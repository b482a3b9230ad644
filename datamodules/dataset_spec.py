"""What a dataset declares about itself (:class:`DatasetSpec`), what loading it gives
(:class:`DatasetSplits`), and the training protocols the datasets share.

Every adapter in :mod:`datamodules.adapters` declares one module-level ``SPEC``;
:mod:`datamodules.datasets` lists them. Declaring a spec imports nothing heavy and touches no data,
so the facts of a dataset (class count, protocol, flip policy, ...) are known without its files.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from datamodules.annotations.random_split import random_seed
from datamodules.records import VideoRecord

# In DatasetSpec.splits: every seeded 7:3 division "random0", "random1", ... (datasets without an official split).
RANDOM_SPLITS = "random<seed>"
_NUMBERED = re.compile(r"^(?P<prefix>\D*)(?P<number>\d+)$")


class UnknownSplitError(ValueError):
    """A split name the dataset does not have; the message lists the ones it has."""


def describe_splits(splits: tuple[str, ...]) -> str:
    """The split names for a message, a run of numbered names shortened: ``logo1 .. logo25, lists``."""
    shown: list[str] = []
    run: list[str] = []

    def close_run() -> None:
        shown.extend(run if len(run) < 4 else [f"{run[0]} .. {run[-1]}"])
        run.clear()

    for name in splits:
        match, last = _NUMBERED.match(name), _NUMBERED.match(run[-1]) if run else None
        if match and last and match["prefix"] == last["prefix"] and int(match["number"]) == int(last["number"]) + 1:
            run.append(name)
            continue
        close_run()
        run.append(name)
    close_run()
    return ", ".join(f"{name} (e.g. random0)" if name == RANDOM_SPLITS else name for name in shown)


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
    # the study's, for ImageNet-pretrained backbones: heads.transform.STUDY_INIT_STD, typed here so that
    # reading a dataset's facts imports no torch (tests/datamodules/test_dataset_table.py checks both)
    transform_init_std: float = 0.001


# The study's protocol (Jester, Something-Something v2; also Kinetics-400, of the same scale):
# SGD lr 0.001, momentum 0.9, weight decay 5e-4, lr x0.1 at epochs 15 and 25 of 30, 224 input,
# T = 8, batch 16, gradient norm clipped at 20.
STUDY_PROTOCOL = TrainingProtocol(segments=8, input_size=224, epochs=30, batch_size=16, lr=1e-3, lr_steps=(15, 25))
# Fine-tuning ImageNet-pretrained backbones on the smaller sets (UCF-101, HMDB-51, CCV, UCF11,
# UCF Sports): the study's optimiser and settings, over 20 epochs with steps at 10 and 15, since
# a few thousand videos converge in fewer epochs.
FINE_TUNING_PROTOCOL = TrainingProtocol(segments=8, input_size=224, epochs=20, batch_size=16, lr=1e-3, lr_steps=(10, 15))
# Decode sizes (height, width): the canvas every frame is brought to while decoding. A frame is scaled
# keeping its aspect until it covers the canvas and is centred on it (datamodules.decoding.geometry):
# the study's "shorter side to 256" for a source at least as wide as the canvas, never a stretch. Each
# canvas has its dataset's usual aspect, so those sources lose at most a pixel: 4:3 (320x240 UCF-101,
# HMDB-51, UCF11; wider sources such as UCF Sports' 720x480 lose width) and 16:9 (Jester's ~176x100,
# Something-Something v2's 427x240).
WIDE_DECODE_SIZE = (256, 340)
WIDESCREEN_DECODE_SIZE = (256, 455)


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
    """The facts of one dataset and how to read it.

    ``read(folder, split)`` is the adapter's reader of the official files under ``folder``; ``splits``
    names the splits it reads, the default one first (the dataset's first official split).
    A dataset the harness makes itself (the built-in ``synthetic``) sets ``generate(root, progress)``,
    which returns its folder under ``root`` (None: the default cache), generating it on first use.
    """

    name: str
    num_classes: int
    read: Callable[[Path, str], DatasetSplits]
    flip: bool = True  # whether a horizontal flip keeps the label (see flip_label_map for label-swapping flips)
    decode_size: tuple[int, int] = WIDE_DECODE_SIZE  # (height, width) canvas frames are fitted to while decoding
    protocol: TrainingProtocol = FINE_TUNING_PROTOCOL
    multi_label: bool = False  # CCV: BCE-with-logits loss and mAP over classes
    metric: str = "top1"  # the headline metric of the dataset's literature: "top1" or "map"
    # A flipped clip of class i is labelled flip_label_map[i]; None with flip=True means flipping
    # keeps every label.
    flip_label_map: tuple[int, ...] | None = None
    # The flip map when it depends on the class names read (Something-Something's left/right
    # templates): called on every load, its result is the loaded splits' flip_label_map.
    flip_labels: Callable[[list[str]], tuple[int, ...]] | None = None
    generate: Callable[[Path | None, bool], Path] | None = None
    # the split names read() accepts, the default first; RANDOM_SPLITS stands for every "random<seed>"
    splits: tuple[str, ...] = ("default",)

    @property
    def default_split(self) -> str:
        """The split a run uses when it names none: the first of :attr:`splits` (``random0`` for seeded ones)."""
        return "random0" if self.splits[0] == RANDOM_SPLITS else self.splits[0]

    def check_split(self, split: str) -> str:
        """``split`` when the dataset has it, else an :class:`UnknownSplitError` listing the valid ones."""
        if split in self.splits or (RANDOM_SPLITS in self.splits and random_seed(split) is not None):
            return split
        raise UnknownSplitError(f"unknown {self.name} split {split!r}; valid: {describe_splits(self.splits)}")

    @property
    def generated(self) -> bool:
        """Made by the harness on first use: needs no data root, and is never probed by ``stbench prepare``."""
        return self.generate is not None

    def data_root(self, root: Path | None, progress: bool = False) -> Path:
        """The folder the dataset's files are in: ``root``, or a generated dataset's own folder."""
        if self.generate is not None:
            return self.generate(Path(root) if root is not None else None, progress)
        if root is None:
            raise ValueError(f"--data-root is required for {self.name}")
        return Path(root)

    def load(self, root: Path | None, split: str, progress: bool = True) -> DatasetSplits:
        """The splits of the dataset at ``root``; the class count read must be the declared one.

        Real datasets look their official annotation files up in ``root`` itself, then
        ``root/annotations``, then the dataset's conventional subfolder (see each adapter's
        docstring), so each dataset root can carry its own copy.
        """
        self.check_split(split)  # before the data root: a wrong split needs no data to be told
        splits = self.read(self.data_root(root, progress), split)
        if self.flip_labels is not None:
            splits = replace(splits, flip_label_map=self.flip_labels(splits.class_names))
        if len(splits.class_names) != self.num_classes:
            found = len(splits.class_names)
            raise ValueError(f"{self.name} at {root}: found {found} classes, expected {self.num_classes}")
        return splits
