"""The LightningDataModule: segment-sampled clips for train / val / test, augmented on the device."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from torch.utils.data import DataLoader

from backbones.base import InputNorm
from datamodules.clip_transform import ClipTransform
from datamodules.clip_dataset import ClipDataset, collate_clips, epoch_keyed_loader, next_fit_epoch
from datamodules.datasets import DatasetSplits, get_dataset
from datamodules.flow.extract import DEFAULT_BOUND
from datamodules.modality import Modality
from datamodules.flow.records import FlowStackReader, default_flow_root, flow_splits
from datamodules.sampling.holdout import hold_out
from datamodules.decoding.video import read_record
from datamodules.decoding.index import annotation_files, apply_index, load_index


class VideoDataModule(pl.LightningDataModule):
    """Loads a dataset from the table in :mod:`datamodules.datasets`.

    Workers only decode the sampled frames; crop, resize, flip and normalisation run batched on
    the model's device in :meth:`on_after_batch_transfer`. Under DDP, evaluation loaders give
    each process a disjoint share of the videos with no padding (each video counted once).
    """

    def __init__(
        self,
        dataset: str,
        num_segments: int,
        batch_size: int,
        input_size: int,
        input_norm: InputNorm,
        seed: int = 0,
        root: str | Path | None = None,
        split: str = "default",
        num_workers: int = 2,
        frames_per_segment: int = 1,
        progress: bool = True,
        on_bad_video: str = "fail",
        test_views: int = 1,
        modality: Modality | str = Modality.RGB,
        flow_root: str | Path | None = None,
        holdout_fraction: float = 0.0,
        test_crops: int = 1,
    ) -> None:
        super().__init__()
        self.spec = get_dataset(dataset)
        self.num_segments = num_segments
        self.batch_size = batch_size
        self.input_size = input_size
        self.input_norm = input_norm
        self.seed = seed
        self.root = Path(root) if root is not None else None
        self.split = split
        self.num_workers = num_workers
        self.frames_per_segment = frames_per_segment
        self.progress = progress
        self.on_bad_video = on_bad_video
        self.test_views = test_views  # temporal test clips per video
        self.test_crops = test_crops  # spatial test crops per clip (see ClipTransform)
        modality = Modality(modality)
        if modality not in (Modality.RGB, Modality.FLOW):
            raise ValueError(f"modality must be 'rgb' or 'flow', got {str(modality)!r}")
        self.modality = modality
        self.flow_root = Path(flow_root) if flow_root is not None else None
        self.flow_bound = DEFAULT_BOUND
        self.holdout_fraction = holdout_fraction
        self.splits: DatasetSplits | None = None

    # -- data preparation -------------------------------------------------------------------
    def prepare_data(self) -> None:
        """Runs on one process per node: generates the built-in dataset if needed."""
        self.spec.load(self.root, self.split, self.progress)

    def setup(self, stage: str | None = None) -> None:
        if self.splits is not None:
            return
        splits = self.spec.load(self.root, self.split, False)
        if not splits.test:
            where = self.root if self.root is not None else "the built-in dataset's folder"
            raise ValueError(f"{self.spec.name} at {where}: the test split {self.split!r} is empty; nothing to evaluate")
        if self.root is not None and not self.spec.generated:
            splits = with_known_frame_counts(splits, self.root)
        if self.holdout_fraction > 0:
            train, held_out = hold_out(splits.train, self.holdout_fraction, self.seed)
            splits = replace(splits, train=train, val=held_out)
        if self.modality is Modality.FLOW:
            splits, self.flow_bound = flow_splits(splits, self._flow_root())
        self.splits = splits

    def _flow_root(self) -> Path:
        if self.flow_root is not None:
            return self.flow_root
        return default_flow_root(self.spec.name, self.root)

    @property
    def class_names(self) -> list[str]:
        self.setup()
        assert self.splits is not None
        return self.splits.class_names

    # -- loaders ----------------------------------------------------------------------------
    def _world(self) -> tuple[int, int]:
        trainer = getattr(self, "trainer", None)
        if trainer is None:
            return 1, 0
        return trainer.world_size, trainer.global_rank

    def clip_dataset(self, records: list, mode: str) -> ClipDataset:
        """The dataset of one split's clips (``mode``: "train", "val" or "test")."""
        return ClipDataset(
            records,
            self.num_segments,
            "train" if mode == "train" else "test",
            self.spec.decode_size,
            self.seed,
            self.frames_per_segment,
            allow_flip=self.spec.flip,
            on_bad_video=self.on_bad_video,
            test_views=self.test_views if mode == "test" else 1,
            num_classes=self.spec.num_classes,
            multi_label=self.spec.multi_label,
            flip_label_map=self.splits.flip_label_map or self.spec.flip_label_map,
            reader=FlowStackReader(self.frames_per_segment) if self.modality is Modality.FLOW else read_record,
        )

    collate = staticmethod(collate_clips)

    def loader(self, records: list, mode: str) -> DataLoader:
        """A loader of ``records`` (``mode``: "train", "val" or "test"); evaluation loaders shard
        the records over the processes without padding."""
        dataset = self.clip_dataset(records, mode)
        training = mode == "train"
        epoch = next_fit_epoch(getattr(self, "trainer", None)) if training else 0
        return epoch_keyed_loader(
            dataset, self.batch_size, training, self.seed, self._world(), self.num_workers, self.collate, epoch
        )

    def train_dataloader(self) -> DataLoader:
        self.setup()
        return self.loader(self.splits.train, "train")

    def val_dataloader(self) -> DataLoader:
        self.setup()
        return self.loader(self.splits.val, "val")

    def test_dataloader(self) -> DataLoader:
        self.setup()
        return self.loader(self.splits.test, "test")

    # -- device-side transform ---------------------------------------------------------------
    def clip_transform(self, stage: str = "fit") -> ClipTransform:
        """The transform of this data's clips; at ``stage="test"`` with its several test views."""
        testing = stage == "test"
        return ClipTransform(
            self.modality,
            self.input_size,
            self.num_segments,
            self.input_norm,
            self.flow_bound,
            test_clips=self.test_views if testing else 1,
            test_crops=self.test_crops if testing else 1,
        )

    def on_after_batch_transfer(self, batch: dict[str, Any], dataloader_idx: int) -> dict[str, Any]:
        """Training batches carry their clips' crop/flip draws; the others get the test view(s)."""
        trainer = getattr(self, "trainer", None)
        testing = trainer is not None and trainer.testing
        return self.clip_transform("test" if testing else "fit")(batch)


def with_known_frame_counts(splits: DatasetSplits, root: Path) -> DatasetSplits:
    """Fill ``num_frames`` from the index ``stbench prepare`` cached for this root and these
    annotation files, if there is one (frame folders then need no directory listing)."""
    records = [*splits.train, *splits.val, *splits.test]
    index = load_index(root, annotation_files(records))
    if index is None:
        return splits
    return replace(
        splits,
        train=apply_index(splits.train, index),
        val=apply_index(splits.val, index),
        test=apply_index(splits.test, index),
    )
