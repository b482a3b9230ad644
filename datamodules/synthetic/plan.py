"""The dataset plan: which video id has which class and split, and the rendering of each clip.

Clip ``i`` is drawn from ``numpy.random.SeedSequence([seed, i])`` only, so the output does not
depend on the number of worker processes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from datamodules.synthetic.config import SyntheticConfig
from datamodules.synthetic.draw import render_clip
from datamodules.synthetic.layout import CLASS_NAMES, SPLITS


def split_counts(n: int, fractions: Sequence[float]) -> tuple[int, ...]:
    """Split ``n`` items by ``fractions`` (largest remainder); every split with a positive fraction gets at least
    one item when ``n`` allows it."""
    raw = [n * f for f in fractions]
    counts = [int(math.floor(r)) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - counts[i]), i))
    for i in order[: n - sum(counts)]:
        counts[i] += 1
    positive = [i for i, f in enumerate(fractions) if f > 0]
    if n >= len(positive):
        for i in positive:
            while counts[i] == 0:
                donor = max(range(len(counts)), key=lambda j: (counts[j], -j))
                counts[donor] -= 1
                counts[i] += 1
    return tuple(counts)


@dataclass(frozen=True)
class ClipJob:
    video_id: int
    label: str
    split: str
    seed: int
    min_frames: int
    max_frames: int
    sizes: tuple[int, ...]
    fps: int


def plan(config: SyntheticConfig) -> list[ClipJob]:
    """All clips of the dataset, ordered by video id (1..N)."""
    n = config.clips_per_class
    counts = split_counts(n, config.split_fractions)
    per_class = [split for split, c in zip(SPLITS, counts) for _ in range(c)]
    slots = [(label, split) for label in CLASS_NAMES for split in per_class]
    perm_rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(config.seed, spawn_key=(0x5EED,))))
    order = perm_rng.permutation(len(slots))
    jobs = []
    for vid, slot in enumerate(order, start=1):
        label, split = slots[int(slot)]
        jobs.append(
            ClipJob(vid, label, split, config.seed, config.min_frames, config.max_frames, config.sizes, config.fps)
        )
    return jobs


def clip_rng(seed: int, video_id: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, video_id])))


def make_clip(job: ClipJob) -> tuple[np.ndarray, int, int]:
    """Render the clip of a job: (frames, num_frames, size). Depends only on the job."""
    rng = clip_rng(job.seed, job.video_id)
    num_frames = int(rng.integers(job.min_frames, job.max_frames + 1))
    size = int(job.sizes[int(rng.integers(len(job.sizes)))])
    return render_clip(job.label, rng, num_frames, size), num_frames, size
