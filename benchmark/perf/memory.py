"""Decoder memory: does the process grow while the training reader decodes thousands of clips?

``stbench bench memory`` decodes ``--clips`` clips one after another in this process with the
training reader (:func:`datamodules.decoding.video.read_record`: one decord ``VideoReader`` opened per clip,
segment-sampled training indices, resize-on-decode) and records the resident set size (RSS) before
the first clip and after every ``--every`` clips. A reader that leaks (decord's native buffers kept
alive by a reader that is never freed) shows as RSS growing with the clip count; a sound one levels
off after the first clips have loaded the codec libraries. The records are cycled when there are
fewer videos than clips: the same files are decoded again, which is what training epochs do.

Sources: the built-in dataset's training split at its decode size, and, with ``--videos DIR``, every
``.mp4`` in a folder (e.g. real H.264 videos) at :data:`benchmark.perf.data.VIDEO_FOLDER_DECODE_SIZE`.
Results go to ``results/perf/memory_<machine>.csv``, one row per (source, clip count).
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import psutil
import torch

from benchmark.perf.machine import machine_name, upsert_keyed
from datamodules.clip_dataset import clip_seed
from datamodules.decoding.video import IndexSampler, read_record
from datamodules.records import VideoRecord
from datamodules.sampling.segments import segment_indices

DEFAULT_OUT_DIR = "results/perf"
CSV_COLUMNS: list[str] = [
    "machine", "source", "clips", "rss_mib", "growth_mib", "segments", "decode_size", "seconds", "timestamp",
]  # fmt: skip
CSV_KEYS: tuple[str, ...] = ("machine", "source", "segments", "decode_size", "clips")

Size = tuple[int, int]


def rss_mib() -> float:
    """This process's resident set size in MiB."""
    return psutil.Process().memory_info().rss / 2**20


def train_sampler(segments: int, generator: torch.Generator) -> IndexSampler:
    """The training loader's index choice: one random frame in each of ``segments`` segments."""
    return lambda num_frames: segment_indices(num_frames, segments, "train", 1, generator)


def decode_loop(
    records: Sequence[VideoRecord],
    clips: int,
    segments: int,
    decode_size: Size,
    every: int = 100,
    seed: int = 0,
    memory: Callable[[], float] = rss_mib,
) -> list[tuple[int, float, float]]:
    """Decode ``clips`` clips (cycling over ``records``); ``(clips done, RSS MiB, seconds)`` at 0,
    after every ``every`` clips and after the last one."""
    if not records:
        raise ValueError("no videos to decode")
    if clips < 1 or every < 1:
        raise ValueError(f"clips and every must be >= 1, got {clips} and {every}")
    started = time.perf_counter()
    samples = [(0, memory(), 0.0)]
    for clip in range(clips):
        generator = torch.Generator().manual_seed(clip_seed(seed, 0, clip))
        frames, _ = read_record(records[clip % len(records)], train_sampler(segments, generator), decode_size)
        del frames
        done = clip + 1
        if done % every == 0 or done == clips:
            samples.append((done, memory(), time.perf_counter() - started))
    return samples


def measure_memory(
    records: Sequence[VideoRecord], source: str, clips: int, segments: int, decode_size: Size, every: int = 100
) -> pd.DataFrame:
    """One row per sample of :func:`decode_loop`; ``growth_mib`` is the RSS above the first sample's."""
    samples = decode_loop(records, clips, segments, decode_size, every)
    start = samples[0][1]
    timestamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    table = pd.DataFrame(samples, columns=["clips", "rss_mib", "seconds"])
    table["growth_mib"] = (table["rss_mib"] - start).round(1)
    table["rss_mib"] = table["rss_mib"].round(1)
    table["seconds"] = table["seconds"].round(1)
    table = table.assign(
        machine=machine_name(), source=source, segments=segments, decode_size=f"{decode_size[0]}x{decode_size[1]}",
        timestamp=timestamp,
    )
    return table[CSV_COLUMNS]


def growth_between(table: pd.DataFrame, first: int, last: int) -> float:
    """RSS growth (MiB) of one source from ``first`` to ``last`` clips: the leak figure once warmed up."""
    by_clips = table.set_index("clips")["rss_mib"]
    return float(by_clips.loc[last] - by_clips.loc[first])


def format_table(table: pd.DataFrame) -> str:
    """RSS (MiB) by clip count, one column per source."""
    wide = table.pivot_table(index="clips", columns="source", values="rss_mib", aggfunc="last")
    return wide.to_string(float_format=lambda value: f"{value:.1f}")


def write_results(table: pd.DataFrame, out_dir: str | Path) -> Path:
    path = Path(out_dir) / f"memory_{machine_name()}.csv"
    upsert_keyed(path, table.to_dict("records"), CSV_KEYS)
    return path


# -- command line ----------------------------------------------------------------------------------
def add_memory_parser(bench_subparsers: argparse._SubParsersAction) -> None:
    """Register ``memory`` on the ``stbench bench`` sub-commands."""
    from datamodules.datasets import DATASETS

    parser = bench_subparsers.add_parser(
        "memory", help="process RSS while the training reader decodes many clips (decoder leak check)"
    )
    parser.add_argument("--clips", type=int, default=1000, help="clips decoded per source")
    parser.add_argument("--every", type=int, default=100, help="RSS is recorded after every this many clips")
    parser.add_argument("--dataset", default="synthetic", choices=sorted(DATASETS), help="training records to decode")
    parser.add_argument("--data-root", default=None, help="dataset folder (synthetic: a generated dataset or cache folder)")
    parser.add_argument("--videos", default=None, metavar="DIR", help="also decode every .mp4 in DIR")
    parser.add_argument("--segments", type=int, default=None, metavar="T", help="frames per clip (default: the dataset's)")
    parser.add_argument("--out-dir", default=DEFAULT_OUT_DIR, help="memory_<machine>.csv is written here")
    parser.set_defaults(handler=command_bench_memory)


def command_bench_memory(args: argparse.Namespace) -> int:
    from datamodules.datasets import get_dataset

    spec = get_dataset(args.dataset)
    segments = args.segments or spec.protocol.segments
    train = spec.load(Path(args.data_root) if args.data_root else None, "default", False).train
    tables = [measure_memory(train, args.dataset, args.clips, segments, spec.decode_size, args.every)]
    if args.videos:
        from benchmark.perf import data as bench_data  # imports Lightning: only when a folder is measured

        folder = Path(args.videos).resolve()
        videos = bench_data.folder_records(folder, args.clips)
        size = bench_data.VIDEO_FOLDER_DECODE_SIZE
        tables.append(measure_memory(videos, f"videos:{folder.parent.name}/{folder.name}", args.clips, segments, size, args.every))
    table = pd.concat(tables, ignore_index=True)
    path = write_results(table, args.out_dir)
    print(format_table(table))
    for source, part in table.groupby("source", sort=False):
        first = min(args.every, args.clips)
        print(
            f"{source}: {part['rss_mib'].iloc[0]:.1f} MiB at start, {growth_between(part, 0, first):+.1f} MiB over the "
            f"first {first} clips, {growth_between(part, first, args.clips):+.1f} MiB from clip {first} to {args.clips} "
            f"({part['seconds'].iloc[-1]:.0f} s)"
        )
    print(f"\n{segments} frames per clip, one process; written to {path}")
    return 0
