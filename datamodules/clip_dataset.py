"""A map-style dataset of clips whose randomness is a function of (seed, epoch, index) alone."""
from __future__ import annotations

import hashlib
from typing import Any, Callable, Iterator, Literal, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler, default_collate

from datamodules.augment import draw_train_params
from datamodules.decoding.video import IndexSampler, VideoReadError, read_record
from datamodules.records import VideoRecord
from datamodules.sampling.segments import SamplingMode, segment_indices, test_view_indices
from datamodules.workers import WatchedDataLoader, reading


def clip_seed(seed: int, epoch: int, index: int) -> int:
    """A stable 63-bit seed for one clip draw (independent of worker count and process)."""
    digest = hashlib.blake2b(f"{seed}:{epoch}:{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & ((1 << 63) - 1)


BadVideoPolicy = Literal["fail", "skip"]
# (record, index sampler, decode size) -> (uint8 frames (N, H, W, C), frame count): RGB frames by
# default, flow stacks for the temporal stream (see VideoDataModule).
RecordReader = Callable[[VideoRecord, IndexSampler, "tuple[int, int] | None"], "tuple[torch.Tensor, int]"]


class ClipDataset(Dataset):
    """Item ``(epoch, index)`` → the sampled frames of record ``index`` as drawn in ``epoch``.

    Returns a dict: ``frames`` uint8 (V*T*L, H, W, 3) (V test views, 1 in training), ``label``
    (a class index, or a multi-hot float vector for multi-label datasets), ``index``, and in
    training ``augment`` — the clip's crop/flip choice, applied later on the device. A flipped
    clip of a dataset with a ``flip_label_map`` gets its mirrored class as label.

    Bad videos: with ``on_bad_video="fail"`` a read error is raised, naming the video and its
    annotation line; with ``"skip"`` the item is ``{"index", "failed": reason}`` and
    :func:`collate_clips` moves it to the batch's ``failed`` list, so the run can count and list it.
    """

    def __init__(
        self,
        records: Sequence[VideoRecord],
        num_segments: int,
        mode: SamplingMode,
        decode_size: tuple[int, int] | None,
        seed: int,
        frames_per_segment: int = 1,
        allow_flip: bool = False,
        on_bad_video: BadVideoPolicy = "fail",
        test_views: int = 1,
        num_classes: int | None = None,
        multi_label: bool = False,
        flip_label_map: Sequence[int] | None = None,
        reader: RecordReader = read_record,
    ) -> None:
        if on_bad_video not in ("fail", "skip"):
            raise ValueError(f"on_bad_video must be 'fail' or 'skip', got {on_bad_video!r}")
        if multi_label and num_classes is None:
            raise ValueError("a multi-label dataset needs num_classes")
        self.records = list(records)
        self.num_segments = num_segments
        self.mode = mode
        self.decode_size = decode_size
        self.seed = seed
        self.frames_per_segment = frames_per_segment
        self.allow_flip = allow_flip
        self.on_bad_video = on_bad_video
        self.test_views = test_views if mode == "test" else 1
        self.num_classes = num_classes
        self.multi_label = multi_label
        self.flip_label_map = tuple(flip_label_map) if flip_label_map is not None else None
        self.reader = reader

    def __len__(self) -> int:
        return len(self.records)

    def _indices(self, generator: torch.Generator) -> IndexSampler:
        def sample(num_frames: int) -> list[int]:
            if self.mode == "test" and self.test_views > 1:
                return test_view_indices(num_frames, self.num_segments, self.test_views, self.frames_per_segment)
            return segment_indices(num_frames, self.num_segments, self.mode, self.frames_per_segment, generator)

        return sample

    def _target(self, record: VideoRecord) -> torch.Tensor | int:
        if not self.multi_label:
            return record.label
        target = torch.zeros(self.num_classes, dtype=torch.float32)
        target[list(record.labels or ())] = 1.0
        return target

    def __getitem__(self, key: tuple[int, int] | int) -> dict[str, Any]:
        epoch, index = key if isinstance(key, tuple) else (0, key)
        record = self.records[index]
        generator = torch.Generator().manual_seed(clip_seed(self.seed, epoch, index))
        try:
            with reading(f"{record.path} (listed at {record.source})"):
                frames, _ = self.reader(record, self._indices(generator), self.decode_size)
        except VideoReadError as error:
            error = VideoReadError(error.path, f"{error.reason} (listed at {record.source})")
            if self.on_bad_video == "fail":
                raise error from None
            return {"index": index, "failed": str(error)}
        item: dict[str, Any] = {"frames": frames, "label": self._target(record), "index": index}
        if self.mode == "train":
            params = draw_train_params(generator, self.allow_flip)
            item["augment"] = params
            if self.flip_label_map is not None and int(params[3]) and not self.multi_label:
                item["label"] = self.flip_label_map[record.label]
        return item


def collate_clips(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Collate the readable clips; unreadable ones go to ``failed`` as ``(index, reason)`` pairs.

    A batch whose every clip failed has no ``frames`` key (the step then counts and skips it).
    """
    good = [item for item in items if "failed" not in item]
    batch: dict[str, Any] = {}
    if good:
        # Frames are stacked with NumPy (one thread): torch.stack's intra-op threads compete with
        # the training step for the cores when the loader runs in the main process (0 workers).
        frames = np.stack([item["frames"].numpy() for item in good])
        batch = default_collate([{k: v for k, v in item.items() if k != "frames"} for item in good])
        batch["frames"] = torch.from_numpy(frames)
    batch["failed"] = [(int(item["index"]), item["failed"]) for item in items if "failed" in item]
    return batch


class EpochKeyedSampler(Sampler[tuple[int, int]]):
    """Yields ``(epoch, index)`` keys for this process's share of a dataset.

    Training (``shuffle=True, pad=True``): a permutation seeded by (seed, epoch), padded by
    wrapping around so that every process gets the same number of items, as DDP's gradient
    synchronisation needs. Evaluation (``shuffle=False, pad=False``): process ``rank`` takes
    items ``rank, rank + world, …`` with no padding, so every item is seen exactly once overall.
    """

    def __init__(
        self,
        size: int,
        shuffle: bool,
        seed: int,
        num_replicas: int = 1,
        rank: int = 0,
        pad: bool = False,
    ) -> None:
        if not 0 <= rank < num_replicas:
            raise ValueError(f"rank {rank} outside [0, {num_replicas})")
        self.size = size
        self.shuffle = shuffle
        self.seed = seed
        self.num_replicas = num_replicas
        self.rank = rank
        self.pad = pad
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _order(self) -> list[int]:
        if self.shuffle:
            generator = torch.Generator().manual_seed(clip_seed(self.seed, self.epoch, -1))
            order = torch.randperm(self.size, generator=generator).tolist()
        else:
            order = list(range(self.size))
        if self.pad and self.size and self.size % self.num_replicas:
            missing = self.num_replicas - self.size % self.num_replicas
            order += (order * (missing // self.size + 1))[:missing]
        return order[self.rank :: self.num_replicas]

    def __iter__(self) -> Iterator[tuple[int, int]]:
        epoch = self.epoch
        return iter([(epoch, index) for index in self._order()])

    def __len__(self) -> int:
        if self.pad:
            return -(-self.size // self.num_replicas)
        return len(range(self.rank, self.size, self.num_replicas))


def next_fit_epoch(trainer: Any) -> int:
    """The epoch a fit trains next: 0 when it starts, the restored epoch count when it resumes."""
    loop = getattr(trainer, "fit_loop", None)
    return int(loop.epoch_progress.current.processed) if loop is not None else 0


def epoch_keyed_loader(
    dataset: Dataset,
    batch_size: int,
    training: bool,
    seed: int,
    world: tuple[int, int],
    num_workers: int,
    collate_fn: Callable[[list[Any]], Any],
    epoch: int = 0,
) -> DataLoader:
    """The loader every datamodule uses: an :class:`EpochKeyedSampler` share of ``dataset`` for
    process ``rank`` of ``world = (size, rank)`` (training: shuffled and padded; evaluation: every
    item once), persistent workers, the last short training batch dropped when there are others.

    ``epoch`` is the sampler's epoch until Lightning sets it: a resumed fit builds the iterator of
    its first epoch before setting the epoch, and loader workers draw their first keys as the
    iterator is built (Lightning issue #21938), so the training loader starts at
    :func:`next_fit_epoch`. Workers start from a fork server and a batch is awaited for a bounded
    time (:class:`~datamodules.workers.WatchedDataLoader`)."""
    size, rank = world
    sampler = EpochKeyedSampler(len(dataset), shuffle=training, seed=seed, num_replicas=size, rank=rank, pad=training)
    sampler.set_epoch(epoch)
    return WatchedDataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=num_workers,
        persistent_workers=num_workers > 0,
        drop_last=training and len(sampler) >= batch_size,
        pin_memory=torch.cuda.is_available(),
        collate_fn=collate_fn,
    )
