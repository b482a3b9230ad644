"""The feature cache of frozen-backbone runs: decode and run the backbone once per (video, view).

Every head of a frozen-backbone sweep then trains from the stored maps (``datamodules.cached_features``
describes the format and which view an epoch uses). Training views are drawn by the clip
datamodule's own training dataset keyed ``(view, index)`` and augmented by its own device-side
transform, so view ``v`` is exactly the clip that training epoch ``v`` would see; val/test videos
get their one deterministic test view. Only ``min(cached_views, epochs)`` training views are built:
the others would never be read.

The backbone runs in eval mode (BatchNorm on its running statistics), so ``partial_bn`` does not
change the maps and is not part of the key. The weights are identified by a digest of the
backbone's state dict, which covers a loaded weight file as well as a seeded random init.
The cache lives in ``<work_dir>/feature_cache/<key>/`` and is built in a temporary folder that is
renamed into place, under a file lock, so that concurrent or DDP processes build it once.
"""
from __future__ import annotations

import copy
import hashlib
import json
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from benchmark.run.config import RunConfig
from datamodules.cached_features import (
    META_NAME,
    SPLITS,
    CachedFeatureDataModule,
    features_path,
    labels_path,
)
from datamodules.datamodule import VideoDataModule
from datamodules.dataset_spec import DatasetSplits
from datamodules.modality import Modality
from datamodules.storage import build_directory_once, canonical_json, short_hash
from datamodules.workers import WatchedDataLoader

FORMAT_VERSION = 1
CACHE_FOLDER = "feature_cache"


def state_digest(module: nn.Module) -> str:
    """sha256 of a module's state dict (names, dtypes, shapes and values), buffers included."""
    digest = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)};".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def records_digest(splits: DatasetSplits) -> str:
    """sha256 of every split's (video id, label(s), path) list: a changed annotation file changes it."""
    digest = hashlib.sha256()
    for split in (splits.train, splits.val, splits.test):
        for record in split:
            digest.update(f"{record.video_id}\t{record.label}\t{record.labels}\t{record.path}\n".encode())
        digest.update(b"--\n")
    return digest.hexdigest()


def cache_identity(config: RunConfig, clips: VideoDataModule, backbone: nn.Module) -> dict[str, Any]:
    """Everything that decides the cached maps; its hash is the cache key."""
    if config.modality is not Modality.RGB:
        raise ValueError(f"the feature cache supports the rgb modality only, got {str(config.modality)!r}")
    if config.test_clips != 1 or config.test_crops != 1:
        raise ValueError(
            f"the feature cache holds one test view per video; test_clips={config.test_clips}, "
            f"test_crops={config.test_crops} need the uncached mode"
        )
    if config.cached_views < 1:
        raise ValueError(f"cached_views must be >= 1, got {config.cached_views}")
    clips.setup()
    assert clips.splits is not None
    return {
        "format": FORMAT_VERSION,
        "dataset": config.dataset,
        "split": config.split,
        "modality": config.modality,
        "data_root": str(Path(clips.root).resolve()) if clips.root is not None else None,
        "records": records_digest(clips.splits),
        "backbone": config.backbone,
        "backbone_state": state_digest(backbone),
        "backbone_mode": "eval",
        "input_size": clips.input_size,
        "input_norm": asdict(clips.input_norm),
        "segments": clips.num_segments,
        "frames_per_segment": clips.frames_per_segment,
        "seed": clips.seed,
        "cached_views": cached_view_count(config),
        "decode_size": list(clips.spec.decode_size),
        "flip": clips.spec.flip,
        "flip_labels": list(clips.splits.flip_label_map or clips.spec.flip_label_map or ()),
    }


def cached_view_count(config: RunConfig) -> int:
    """Training views the cache holds: ``cached_views``, but no more than the run has epochs.

    Epoch ``e`` reads view ``e mod cached_views``, so with ``epochs <= cached_views`` views
    ``epochs, …`` are never read; leaving them out changes nothing in training.
    """
    return min(config.cached_views, config.epochs)


def cache_key(identity: dict[str, Any]) -> str:
    return short_hash(canonical_json(identity), length=16)


def ensure_feature_cache(
    config: RunConfig,
    clips: VideoDataModule,
    backbone: nn.Module,
    cache_root: str | Path,
    device: torch.device | str = "cpu",
    num_workers: int = 0,
    progress: bool = True,
    batch_size: int | None = None,
) -> Path:
    """The folder of the cache for this run's data and backbone, built first if it does not exist."""
    identity = cache_identity(config, clips, backbone)
    key = cache_key(identity)

    def build(building: Path) -> None:
        started = time.perf_counter()
        # The build draws from the global RNG (data loader seeds): forked, so that a run that
        # builds the cache trains exactly like one that finds it.
        with torch.random.fork_rng(devices=[]):
            shapes, failed = write_features(
                building, clips, backbone, identity["cached_views"], torch.device(device), num_workers, progress,
                batch_size or clips.batch_size, key,
            )  # fmt: skip
        meta = {
            **identity,
            "key": key,
            "shapes": shapes,
            "failed": failed,
            "build_seconds": round(time.perf_counter() - started, 2),
            "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "device": str(device),
            "view_of_epoch": "epoch mod views; view v = the training draw of epoch v",
        }
        (building / META_NAME).write_text(json.dumps(meta, indent=2) + "\n")

    # Built once under a lock, in a temporary folder renamed into place (replacing an incomplete one).
    return build_directory_once(Path(cache_root) / key, lambda final: (final / META_NAME).is_file(), build)


def _empty_or_memmap(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    if 0 in shape:  # a zero-length file cannot be memory-mapped
        array = np.zeros(shape, dtype=np.float16)
        np.save(path, array)
        return array
    return np.lib.format.open_memmap(path, mode="w+", dtype=np.float16, shape=shape)


def write_features(
    directory: Path,
    clips: VideoDataModule,
    backbone: nn.Module,
    views: int,
    device: torch.device,
    num_workers: int,
    progress: bool,
    batch_size: int,
    name: str = "",
) -> tuple[dict[str, list[int]], list[list[Any]]]:
    """Write ``<split>.npy`` and ``<split>_labels.npy`` for every split.

    Returns the feature shapes and the ``[split, view, index, reason]`` of every unreadable clip
    (only under the clip datamodule's ``on_bad_video="skip"``; otherwise a read error stops the build).
    """
    encoder = copy.deepcopy(backbone).to(device).eval()
    channels = int(encoder.out_channels)
    side = encoder.map_size(clips.input_size)
    # The clip datamodule's own loaders: the same datasets (sampling, crop/flip draws, labels) and collate.
    sources = {"train": clips.train_dataloader(), "val": clips.val_dataloader(), "test": clips.test_dataloader()}
    split_views = {"train": views, "val": 1, "test": 1}
    total = sum(split_views[s] * -(-len(sources[s].dataset) // batch_size) for s in SPLITS)
    shapes: dict[str, list[int]] = {}
    failed: list[list[Any]] = []
    with tqdm(total=total, desc=f"feature cache {name}".strip(), unit="batch", disable=not progress) as bar:
        for split in SPLITS:
            dataset, collate = sources[split].dataset, sources[split].collate_fn
            size = len(dataset)
            shape = (split_views[split], size, clips.num_segments, channels, side, side)
            out = _empty_or_memmap(features_path(directory, split), shape)
            if clips.spec.multi_label:
                labels = np.zeros((split_views[split], size, clips.spec.num_classes), dtype=np.float32)
            else:
                labels = np.full((split_views[split], size), -1, dtype=np.int64)
            for view in range(split_views[split]):
                keys = [(view, index) for index in range(size)]  # view v = the draw of training epoch v
                loader = WatchedDataLoader(
                    dataset, batch_size=batch_size, sampler=keys, num_workers=num_workers, collate_fn=collate
                )
                for batch in loader:
                    failed += [[split, view, index, reason] for index, reason in batch.get("failed", ())]
                    if "frames" in batch:
                        indices = batch["index"].numpy()
                        out[view, indices] = _encode(encoder, clips, batch, device).to(torch.float16).cpu().numpy()
                        labels[view, indices] = batch["label"].numpy()
                    bar.update(1)
            if isinstance(out, np.memmap):
                out.flush()
            del out
            np.save(labels_path(directory, split), labels)
            shapes[split] = list(shape)
    return shapes, failed


@torch.inference_mode()
def _encode(encoder: nn.Module, clips: VideoDataModule, batch: dict[str, Any], device: torch.device) -> torch.Tensor:
    """The clip datamodule's device-side transform, then the backbone: (B, T, C, h, w) maps."""
    batch = {**batch, "frames": batch["frames"].to(device, non_blocking=True)}
    frames = clips.on_after_batch_transfer(batch, 0)["frames"]
    maps = encoder(frames.flatten(0, 1))
    return maps.reshape(*frames.shape[:2], *maps.shape[1:])


def cached_datamodule(
    config: RunConfig,
    clips: VideoDataModule,
    backbone: nn.Module,
    work_dir: str | Path,
    num_workers: int = 0,
    progress: bool = True,
) -> CachedFeatureDataModule:
    """A datamodule serving the cached maps of ``clips`` (built on first use in ``<work_dir>/feature_cache``)."""
    root = Path(work_dir) / CACHE_FOLDER

    def build(device: torch.device) -> Path:
        return ensure_feature_cache(config, clips, backbone, root, device, num_workers, progress)

    return CachedFeatureDataModule(clips, build)
