"""Fixed-interval frame sampling of the deep fusion network: T frames at t, t + τ, …, t + (T−1)τ.

All indices are 0-based and in temporal order; ``n`` is the number of frames, ``T`` the number of
time steps.

* ``mode="train"``: τ is drawn uniformly from the integers [2, 10] (``intervals``), capped at the
  largest interval whose T frames fit, ``τ_max = (n − 1) // (T − 1)``; the start t is then drawn
  uniformly from [0, n − 1 − (T − 1)τ].
* ``mode="test"``: τ = floor(n / T), the evenly spaced interval; the T frames span
  (T − 1)τ + 1 ≤ n frames and are centred in the video (start ``(n − 1 − (T − 1)τ) // 2``).

Short videos: in training, when τ_max < 2 the interval is reduced to τ_max (1 when n ≥ T); when
even τ = 1 does not fit (n < T, and at test whenever floor(n / T) = 0) the T steps take frames
``floor(i·n / T)``: every frame is used, in order, some of them twice. T = 1 takes a uniformly
random frame in training and the middle frame at test. No index is ever outside [0, n − 1].

The frame at each index is the centre of the step's flow stack; building the stack (L pairs
around it, clamped at the video's ends) is the flow loader's job.
"""
from __future__ import annotations

from typing import Literal

import torch

SamplingMode = Literal["train", "test"]

INTERVALS = (2, 10)


def _draw(high: int, generator: torch.Generator | None) -> int:
    """A uniform integer in [0, high]."""
    return int(torch.randint(high + 1, (1,), generator=generator))


def _spread(num_frames: int, steps: int) -> list[int]:
    return [i * num_frames // steps for i in range(steps)]


def deep_fusion_indices(
    num_frames: int,
    steps: int,
    mode: SamplingMode,
    generator: torch.Generator | None = None,
    intervals: tuple[int, int] = INTERVALS,
) -> list[int]:
    """Frame indices of one clip of ``steps`` time steps (see the module docstring for the rule).

    ``generator`` seeds the training draws (a fresh default draw when ``None``); test is
    deterministic. ``intervals`` is the inclusive [lowest, highest] training interval.
    """
    if num_frames < 1:
        raise ValueError(f"a video needs at least one frame, got num_frames={num_frames}")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if mode not in ("train", "test"):
        raise ValueError(f"mode must be 'train' or 'test', got {mode!r}")
    low, high = intervals
    if not 1 <= low <= high:
        raise ValueError(f"intervals must be 1 <= lowest <= highest, got {intervals}")

    if steps == 1:
        return [_draw(num_frames - 1, generator)] if mode == "train" else [(num_frames - 1) // 2]
    if mode == "train":
        largest = (num_frames - 1) // (steps - 1)
        if largest < 1:
            return _spread(num_frames, steps)
        if largest < low:
            interval = largest
        else:
            top = min(high, largest)
            interval = low + _draw(top - low, generator)
        start = _draw(num_frames - 1 - (steps - 1) * interval, generator)
    else:
        interval = num_frames // steps
        if interval < 1:
            return _spread(num_frames, steps)
        start = (num_frames - 1 - (steps - 1) * interval) // 2
    return [start + i * interval for i in range(steps)]
