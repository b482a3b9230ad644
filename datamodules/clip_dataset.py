"""A map-style dataset of clips whose randomness is a function of (seed, epoch, index) alone."""
from __future__ import annotations

import hashlib
from typing import Iterator, Sequence

import torch
from torch.utils.data import Dataset, Sampler

from datamodules.augment import draw_train_params
from datamodules.reader import VideoReadError, read_clip
from datamodules.records import VideoRecord
from datamodules.sampling import SamplingMode, segment_indices


def clip_seed(seed: int, epoch: int, index: int) -> int:
    """A stable 63-bit seed for one clip draw (independent of worker count and process)."""
    digest = hashlib.blake2b(f"{seed}:{epoch}:{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & ((1 << 63) - 1)


class ClipDataset(Dataset):
    """Item ``(epoch, index)`` → the sampled frames of record ``index`` as drawn in ``epoch``.

    Returns a dict: ``frames`` uint8 (T*L, H, W, 3), ``label``, ``index``, and in training
    ``augment`` — the clip's crop/flip choice, applied later on the device.
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
    ) -> None:
        self.records = list(records)
        self.num_segments = num_segments
        self.mode = mode
        self.decode_size = decode_size
        self.seed = seed
        self.frames_per_segment = frames_per_segment
        self.allow_flip = allow_flip

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, key: tuple[int, int] | int) -> dict[str, torch.Tensor | int]:
        epoch, index = key if isinstance(key, tuple) else (0, key)
        record = self.records[index]
        generator = torch.Generator().manual_seed(clip_seed(self.seed, epoch, index))

        def sample(num_frames: int) -> list[int]:
            return segment_indices(num_frames, self.num_segments, self.mode, self.frames_per_segment, generator)

        try:
            frames, _ = read_clip(record.path, sample, self.decode_size)
        except VideoReadError as error:
            raise VideoReadError(error.path, f"{error.reason} (listed at {record.source})") from error
        item: dict[str, torch.Tensor | int] = {"frames": frames, "label": record.label, "index": index}
        if self.mode == "train":
            item["augment"] = draw_train_params(generator, self.allow_flip)
        return item


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
