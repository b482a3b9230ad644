"""Training from a feature cache: backbone output maps stored once, served from numpy memmaps.

On-disk format of one cache folder (written by ``benchmark.run.feature_cache``):

* ``<split>.npy`` — float16 ``(views, N, T, C, h, w)``: the backbone map of every sampled frame;
  ``train`` holds ``min(cached_views, epochs)`` views per video, ``val`` and ``test`` their one test view;
* ``<split>_labels.npy`` — the label of every view: int64 ``(views, N)``, or float32 multi-hot
  ``(views, N, K)`` for multi-label datasets (per view, as a flip may mirror the class);
* ``meta.json`` — what the cache was built from, and ``failed``: ``[split, view, index, reason]`` of
  every clip that could not be read (skipped videos); written last, its presence marks a complete cache.

Training view of an epoch: epoch ``e`` serves view ``e mod views`` of every video. View ``v`` is
the training draw of epoch ``v`` (segment sampling + crop/flip keyed by ``(seed, v, index)``), so
for ``e < views`` a cached epoch sees exactly the clips that epoch ``e`` of an uncached run sees;
later epochs cycle through the same views again.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset, default_collate

from datamodules.clip_dataset import epoch_keyed_loader, next_fit_epoch
from datamodules.datamodule import VideoDataModule
from datamodules.datasets import DatasetSplits

SPLITS: tuple[str, ...] = ("train", "val", "test")
META_NAME = "meta.json"


def features_path(directory: Path, split: str) -> Path:
    return directory / f"{split}.npy"


def labels_path(directory: Path, split: str) -> Path:
    return directory / f"{split}_labels.npy"


@dataclass(frozen=True)
class FeatureCache:
    """A complete cache folder opened read-only: memmapped features and labels per split."""

    directory: Path
    meta: dict[str, Any]
    features: dict[str, np.ndarray]
    labels: dict[str, np.ndarray]
    failed: dict[str, dict[tuple[int, int], str]]  # split → (view, index) → why the clip was unreadable

    @classmethod
    def open(cls, directory: str | Path) -> FeatureCache:
        directory = Path(directory)
        meta_file = directory / META_NAME
        if not meta_file.is_file():
            raise FileNotFoundError(f"{meta_file}: no complete feature cache here (meta.json missing)")
        meta = json.loads(meta_file.read_text())
        features = {split: np.load(features_path(directory, split), mmap_mode="r") for split in SPLITS}
        labels = {split: np.load(labels_path(directory, split)) for split in SPLITS}
        for split in SPLITS:
            if features[split].ndim != 6 or features[split].shape[:2] != labels[split].shape[:2]:
                raise ValueError(
                    f"{features_path(directory, split)}: shape {features[split].shape} does not match the labels' "
                    f"{labels[split].shape} (expected (views, N, T, C, h, w) and (views, N, ...))"
                )
        failed: dict[str, dict[tuple[int, int], str]] = {split: {} for split in SPLITS}
        for split, view, index, reason in meta.get("failed", []):
            failed[split][(int(view), int(index))] = reason
        return cls(directory, meta, features, labels, failed)

    def size_bytes(self) -> int:
        return sum(path.stat().st_size for path in self.directory.iterdir() if path.is_file())


class FeatureDataset(Dataset):
    """Item ``(epoch, index)`` → ``{"features": float16 (T, C, h, w), "label", "index"}`` of view
    ``epoch mod views``; a clip that was unreadable when the cache was built gives
    ``{"index", "failed": reason}`` as ``ClipDataset`` does under ``on_bad_video="skip"``."""

    def __init__(self, features: np.ndarray, labels: np.ndarray, failed: dict[tuple[int, int], str] | None = None) -> None:
        self.features = features
        self.labels = labels
        self.failed = failed or {}

    @property
    def views(self) -> int:
        return int(self.features.shape[0])

    def __len__(self) -> int:
        return int(self.features.shape[1])

    def view_of_epoch(self, epoch: int) -> int:
        return epoch % self.views

    def __getitem__(self, key: tuple[int, int] | int) -> dict[str, torch.Tensor | int]:
        epoch, index = key if isinstance(key, tuple) else (0, key)
        view = self.view_of_epoch(epoch)
        if (view, index) in self.failed:
            return {"index": index, "failed": self.failed[(view, index)]}
        maps = np.array(self.features[view, index])  # copies out of the memmap
        label = self.labels[view, index]
        target = torch.from_numpy(np.array(label)) if label.ndim else int(label)
        return {"features": torch.from_numpy(maps), "label": target, "index": index}


def collate_features(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Collate the cached clips; failed ones go to ``failed`` as ``(index, reason)`` pairs, as the clip
    loaders do (a batch whose every clip failed has no ``features`` key and is skipped by the step)."""
    good = [item for item in items if "failed" not in item]
    batch: dict[str, Any] = default_collate(good) if good else {}
    batch["failed"] = [(int(item["index"]), item["failed"]) for item in items if "failed" in item]
    return batch


class CachedFeatureDataModule(pl.LightningDataModule):
    """Serves cached backbone maps instead of decoded clips, with the clip datamodule's splits,
    batch size, seed and sharding rules (shuffled + padded in training, disjoint shares without
    padding at evaluation, so that each test video is counted once under DDP).

    ``build_cache(device)`` makes sure the cache exists (building it on ``device`` if needed, under
    a lock, so concurrent processes build it once) and returns its folder; it runs in ``setup``.
    """

    def __init__(self, clips: VideoDataModule, build_cache: Callable[[torch.device], Path], num_workers: int = 0) -> None:
        super().__init__()
        self.clips = clips
        self.build_cache = build_cache
        self.batch_size = clips.batch_size
        self.seed = clips.seed
        self.num_workers = num_workers
        self.splits: DatasetSplits | None = None
        self.cache: FeatureCache | None = None

    def prepare_data(self) -> None:
        self.clips.prepare_data()

    def setup(self, stage: str | None = None) -> None:
        if self.cache is not None:
            return
        self.clips.setup()
        self.splits = self.clips.splits
        trainer = getattr(self, "trainer", None)
        device = trainer.strategy.root_device if trainer is not None else torch.device("cpu")
        self.cache = FeatureCache.open(self.build_cache(device))

    @property
    def class_names(self) -> list[str]:
        return self.clips.class_names

    def _world(self) -> tuple[int, int]:
        trainer = getattr(self, "trainer", None)
        if trainer is None:
            return 1, 0
        return trainer.world_size, trainer.global_rank

    def _loader(self, split: str) -> DataLoader:
        self.setup()
        assert self.cache is not None
        world, rank = self._world()
        training = split == "train"
        dataset = FeatureDataset(self.cache.features[split], self.cache.labels[split], self.cache.failed[split])
        epoch = next_fit_epoch(getattr(self, "trainer", None)) if training else 0
        return epoch_keyed_loader(
            dataset, self.batch_size, training, self.seed, (world, rank), self.num_workers, collate_features, epoch
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train")

    def val_dataloader(self) -> DataLoader:
        return self._loader("val")

    def test_dataloader(self) -> DataLoader:
        return self._loader("test")
