"""Data-pipeline throughput: the training loader against the bare decoder and a naive full-decode baseline.

Three pipelines read the same clips (the same sampled frame indices of the same videos, in the same
order, at the same decode size), each spread over the same number of worker processes:

* ``train_loader`` — the training loader built by :class:`datamodules.datamodule.VideoDataModule`
  itself (ClipDataset + EpochKeyedSampler + DataLoader with its collate, batch size and persistent
  workers): decode, sampling, augmentation draws, tensor hand-over and collation;
* ``decoder`` — decord ``VideoReader`` + ``get_batch`` of the precomputed indices with the same
  resize-on-decode and cut to the decode size and nothing else (workers hand back only a frame
  count). On a file decord cannot seek in exactly (e.g. MPEG-1 ``.mpg``) it returns wrong frames
  fast: there the ratio is the price of the loader's exact in-order decode;
* ``naive_pyav`` — PyAV decodes every frame, cv2 resizes each one, then the indices are picked.

The decoder-only pipelines run in a DataLoader over a list of precomputed jobs, so that worker start,
prefetching and the warm-up batch treat all three alike. Pipelines are measured in interleaved
rounds (the order rotating each round) and the median is reported, so that load from other
processes on the machine affects every pipeline alike.
"""
from __future__ import annotations

import dataclasses
import functools
import statistics
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset

from backbones.base import TORCHVISION_NORM
from benchmark.perf.machine import machine_name, upsert_keyed
from datamodules.clip_dataset import ClipDataset, clip_seed
from datamodules.datamodule import VideoDataModule
from datamodules.datasets import get_dataset
from datamodules.decoding.base import METADATA_ERRORS
from datamodules.decoding.convert import frame_to_array
from datamodules.decoding.geometry import Fit, cut
from datamodules.decoding.video import RESIZE_COPY_ERROR, VideoFile, VideoReadError, decode_then_resize
from datamodules.records import VideoRecord
from datamodules.sampling.segments import segment_indices
from datamodules.workers import WatchedDataLoader, reading, worker_start_method

PIPELINES: tuple[str, ...] = ("train_loader", "decoder", "naive_pyav")
TABLE_COLUMNS: list[str] = [
    "machine", "source", "start_method", "workers", "pipeline", "clips_per_s", "ratio_to_decoder", "first_batch_s",
]  # fmt: skip
CSV_COLUMNS: list[str] = TABLE_COLUMNS + ["batch_size", "segments", "decode_size", "clips", "rounds", "timestamp"]
CSV_KEYS: tuple[str, ...] = (
    "machine", "source", "segments", "decode_size", "batch_size", "start_method", "workers", "pipeline",
)  # fmt: skip
# Short side 128 with a 4:3 frame (C3D / UCF-101 practice): the reference videos range from 176x144 to 1280x720.
VIDEO_FOLDER_DECODE_SIZE: tuple[int, int] = (128, 171)

VIDEO_SUFFIXES: tuple[str, ...] = (".mp4", ".avi", ".mpg", ".mpeg", ".webm", ".mkv", ".mov")

Size = tuple[int, int]


@dataclass(frozen=True)
class ClipJob:
    """One clip to decode: the video, its sampled frame indices, and how its frames fit the decode size."""

    path: str
    indices: tuple[int, ...]
    fit: Fit | None = None  # None: resize straight to the decode size


# -- what is read ----------------------------------------------------------------------------------
def dataset_records(dataset: str, root: str | Path | None, clips: int) -> list[VideoRecord]:
    """The first ``clips`` training records of a dataset (the built-in one is generated on first use)."""
    train = get_dataset(dataset).load(Path(root) if root else None, "default", False).train
    if len(train) < clips:
        raise ValueError(f"the {dataset} dataset has {len(train)} training clips, fewer than --clips {clips}")
    return train[:clips]


def folder_records(folder: str | Path, clips: int) -> list[VideoRecord]:
    """A record (label 0) for every video (:data:`VIDEO_SUFFIXES`) in ``folder``, the list repeated up to
    ``clips`` records."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder of videos")
    videos = sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())
    if not videos:
        raise FileNotFoundError(f"{folder}: no video files ({' '.join(VIDEO_SUFFIXES)})")
    return [
        VideoRecord(video_id=videos[i % len(videos)].stem, path=videos[i % len(videos)], label=0,
                    source=f"{folder}:{i % len(videos) + 1}")
        for i in range(clips)
    ]  # fmt: skip


def training_loader(records: Sequence[VideoRecord], dataset: str, root: str | Path | None, segments: int,
                    batch_size: int, decode_size: Size, workers: int, seed: int) -> DataLoader:  # fmt: skip
    """The training DataLoader as :class:`VideoDataModule` builds it (its own loader, on one process)
    over ``records``, decoding at ``decode_size``: dataset, sampler, collate and worker settings are
    training's by construction. ``dataset`` (at ``root``) supplies the flip and label policies."""
    module = VideoDataModule(
        dataset, segments, batch_size, input_size=1, input_norm=TORCHVISION_NORM, seed=seed,
        root=root, num_workers=workers, progress=False,
    )  # fmt: skip
    module.spec = dataclasses.replace(module.spec, decode_size=tuple(decode_size))
    module.setup("fit")
    return module.loader(list(records), "train")


def frame_counts(paths: Sequence[str | Path], size: Size) -> dict[str, tuple[int, Fit]]:
    """Frame count and fit of each distinct video, as the training reader finds them (what it samples from)."""
    counts: dict[str, tuple[int, Fit]] = {}
    for path in map(str, paths):
        if path not in counts:
            with VideoFile(path, size) as video:
                counts[path] = (video.num_frames, video.fit)
    return counts


def plan_clips(dataset: ClipDataset, keys: Sequence[tuple[int, int]]) -> list[ClipJob]:
    """The frame indices ``dataset[key]`` reads for each key, computed without decoding.

    Mirrors :meth:`ClipDataset.__getitem__`: the clip's generator is seeded from (seed, epoch,
    index) and the segment sampler is its first user.
    """
    folders = [record.source for record in dataset.records if record.is_frame_folder]
    if folders:
        raise ValueError(f"only video files can be compared with the decoder; frame folders listed at {folders[0]}")
    counts = frame_counts([record.path for record in dataset.records], dataset.decode_size)
    jobs = []
    for epoch, index in keys:
        record = dataset.records[index]
        generator = torch.Generator().manual_seed(clip_seed(dataset.seed, epoch, index))
        num_frames, fit = counts[str(record.path)]
        indices = segment_indices(num_frames, dataset.num_segments, dataset.mode, dataset.frames_per_segment, generator)
        jobs.append(ClipJob(str(record.path), tuple(indices), fit))
    return jobs


# -- the two baselines ----------------------------------------------------------------------------
def decode_with_decord(job: ClipJob, size: Size) -> Any:
    """Only the sampled frames, resized while decoding and cut to ``size``, as a uint8 array (T, H, W, 3)."""
    import decord

    fit = job.fit or Fit(tuple(size), (0, 0, *size))
    height, width = fit.resized
    reader = decord.VideoReader(job.path, ctx=decord.cpu(0), width=width, height=height, num_threads=1)
    try:
        frames = reader.get_batch(list(job.indices)).asnumpy()
    except Exception as error:  # the sizes decord cannot resize to: the reader's own fallback
        if RESIZE_COPY_ERROR not in str(error):
            raise
        frames = decode_then_resize(Path(job.path), list(job.indices), fit.resized)
    return cut(frames, fit)


def decode_with_pyav(job: ClipJob, size: Size) -> Any:
    """Every frame decoded to RGB and resized with cv2 (one thread each), then the sampled ones picked.

    An index past the frames PyAV yields (container frame counts can differ by one or two) takes the
    last frame.
    """
    import av
    import cv2
    import numpy as np

    cv2.setNumThreads(1)
    fit = job.fit or Fit(tuple(size), (0, 0, *size))
    height, width = fit.resized
    with av.open(job.path, metadata_errors=METADATA_ERRORS) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        frames = [
            cv2.resize(frame_to_array(frame), (width, height), interpolation=cv2.INTER_LINEAR)
            for frame in container.decode(stream)
        ]
    if not frames:
        raise VideoReadError(job.path, "PyAV decoded no frames")
    return cut(np.stack([frames[min(i, len(frames) - 1)] for i in job.indices]), fit)


class DecodeJobs(Dataset):
    """Item ``i`` decodes ``jobs[i]`` and returns only its frame count, so no frames cross processes."""

    def __init__(self, jobs: Sequence[ClipJob], decode: Callable[[ClipJob], Any]) -> None:
        self.jobs = list(jobs)
        self.decode = decode

    def __len__(self) -> int:
        return len(self.jobs)

    def __getitem__(self, index: int) -> int:
        with reading(self.jobs[index].path):
            return len(self.decode(self.jobs[index]))


def job_loader(
    jobs: Sequence[ClipJob], decode: Callable[[ClipJob], Any], batch_size: int, workers: int, drop_last: bool
) -> DataLoader:
    return WatchedDataLoader(
        DecodeJobs(jobs, decode),
        batch_size=batch_size,
        num_workers=workers,
        persistent_workers=workers > 0,
        drop_last=drop_last,
    )


# -- measuring -------------------------------------------------------------------------------------
def _batch_clips(batch: Any) -> int:
    return len(batch["label"]) if isinstance(batch, dict) else len(batch)


def timed_pass(loader: DataLoader) -> tuple[int, float, float]:
    """One pass over ``loader``: the first batch is a warm-up; returns (clips, seconds) of the rest and the
    seconds to the first batch (worker start-up included where the workers start with this pass)."""
    started = time.perf_counter()
    iterator = iter(loader)
    next(iterator)
    start = time.perf_counter()
    clips = sum(_batch_clips(batch) for batch in iterator)
    return clips, time.perf_counter() - start, start - started


def pipelines_for(records: Sequence[VideoRecord], dataset: str, root: str | Path | None, segments: int,
                  decode_size: Size, batch_size: int, workers: int, seed: int) -> dict[str, DataLoader]:  # fmt: skip
    """The three loaders of one worker count, reading the same clips in the same order."""
    train = training_loader(records, dataset, root, segments, batch_size, decode_size, workers, seed)
    jobs = plan_clips(train.dataset, list(train.sampler))
    drop_last = bool(train.drop_last)
    decord_only = functools.partial(decode_with_decord, size=decode_size)
    naive = functools.partial(decode_with_pyav, size=decode_size)
    return {
        "train_loader": train,
        "decoder": job_loader(jobs, decord_only, batch_size, workers, drop_last),
        "naive_pyav": job_loader(jobs, naive, batch_size, workers, drop_last),
    }


def measure(
    records: Sequence[VideoRecord],
    source: str,
    dataset: str,
    root: str | Path | None,
    workers_list: Sequence[int],
    segments: int,
    batch_size: int,
    decode_size: Size,
    rounds: int = 3,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> pd.DataFrame:
    """One row per (workers, pipeline): median clips/s over ``rounds`` interleaved rounds.

    ``ratio_to_decoder`` is the median over rounds of each round's clips/s divided by the decoder's
    clips/s in the same round (pairs measured back to back).
    """
    if len(records) < 2 * batch_size:
        raise ValueError(f"need at least two batches: {len(records)} clips < 2 x batch size {batch_size}")
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    machine = machine_name()
    start_method = worker_start_method()
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    rows = []
    for workers in workers_list:
        loaders = pipelines_for(records, dataset, root, segments, decode_size, batch_size, workers, seed)
        speeds: dict[str, list[float]] = {name: [] for name in PIPELINES}
        first_batch: dict[str, float] = {}  # the first round's: the persistent workers start then
        clips_read = 0
        for round_number in range(rounds):
            order = PIPELINES[round_number % len(PIPELINES) :] + PIPELINES[: round_number % len(PIPELINES)]
            for name in order:
                clips_read, seconds, to_first = timed_pass(loaders[name])
                speeds[name].append(clips_read / seconds)
                first_batch.setdefault(name, to_first)
                log(f"[bench data] {source} workers={workers} round {round_number + 1}/{rounds} "
                    f"{name}: {clips_read / seconds:.1f} clips/s")  # fmt: skip
        del loaders  # ends this worker count's persistent workers before the next starts its own
        for name in PIPELINES:
            ratios = [speed / base for speed, base in zip(speeds[name], speeds["decoder"])]
            rows.append({
                "machine": machine, "source": source, "start_method": start_method, "workers": workers,
                "pipeline": name, "first_batch_s": first_batch[name],
                "clips_per_s": statistics.median(speeds[name]), "ratio_to_decoder": statistics.median(ratios),
                "batch_size": batch_size, "segments": segments, "decode_size": f"{decode_size[0]}x{decode_size[1]}",
                "clips": clips_read, "rounds": rounds, "timestamp": stamp,
            })  # fmt: skip
    return pd.DataFrame(rows, columns=CSV_COLUMNS)


def write_results(table: pd.DataFrame, out_dir: str | Path) -> Path:
    """Upsert the rows into ``<out_dir>/data_<machine>.csv`` (one row per setting and pipeline)."""
    path = Path(out_dir) / f"data_{machine_name()}.csv"
    upsert_keyed(path, table.to_dict("records"), CSV_KEYS)
    return path


def format_table(table: pd.DataFrame) -> str:
    return table[TABLE_COLUMNS].to_string(index=False, float_format=lambda value: f"{value:.2f}")
