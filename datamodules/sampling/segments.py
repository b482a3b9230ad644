"""Segment-based sparse sampling (TSN-style): which frames of a video a clip is made of.

A video of ``n`` frames is cut into ``T`` equal segments and one start frame is taken per segment;
each start yields ``L`` consecutive frames (``L = frames_per_segment``, 1 for RGB, the stack length
for optical flow). All indices are 0-based.

Definitions (``u = max(n - L + 1, 1)`` is the number of usable start positions):

* segment ``i`` is the integer range ``[floor(i*u/T), floor((i+1)*u/T))``;
* ``mode="train"`` draws each start uniformly inside its segment;
* ``mode="test"`` takes the segment centre ``int(tick/2 + tick*i)`` with ``tick = u/T``;
  multi-view testing (``test_view_indices``) takes ``V`` evenly spaced starts per segment instead,
  ``int(tick*(i + (v + 0.5)/V))`` for view ``v`` — with ``V = 1`` the centre, with ``T = 1`` and
  ``V = 25`` the two-stream protocol's 25 evenly spaced frames (or flow stacks).

Short videos: when ``u < T`` some segments are empty; in training such a segment yields its lower
bound ``floor(i*u/T)`` (so frames repeat, in order), at test the centre formula already repeats
frames. When ``n < L`` the stack runs past the last frame and is clamped to it (the last frame
repeats). No index is ever outside ``[0, n-1]`` and the returned list always has ``T*L`` entries.
"""
from __future__ import annotations

from typing import Literal

import torch

SamplingMode = Literal["train", "test"]


def segment_bounds(num_starts: int, num_segments: int) -> list[tuple[int, int]]:
    """Integer ``[lo, hi)`` start range of each segment over ``num_starts`` usable start positions."""
    return [
        (i * num_starts // num_segments, (i + 1) * num_starts // num_segments)
        for i in range(num_segments)
    ]


def segment_indices(
    num_frames: int,
    num_segments: int,
    mode: SamplingMode,
    frames_per_segment: int = 1,
    generator: torch.Generator | None = None,
) -> list[int]:
    """Frame indices of one clip: ``num_segments * frames_per_segment`` indices in temporal order.

    ``generator`` seeds the random starts in training (a fresh default draw when ``None``);
    it is not used at test, which is deterministic.
    """
    if num_frames < 1:
        raise ValueError(f"a video needs at least one frame, got num_frames={num_frames}")
    if num_segments < 1:
        raise ValueError(f"num_segments must be >= 1, got {num_segments}")
    if frames_per_segment < 1:
        raise ValueError(f"frames_per_segment must be >= 1, got {frames_per_segment}")
    if mode not in ("train", "test"):
        raise ValueError(f"mode must be 'train' or 'test', got {mode!r}")

    num_starts = max(num_frames - frames_per_segment + 1, 1)
    if mode == "train":
        starts = []
        for lo, hi in segment_bounds(num_starts, num_segments):
            if hi > lo:
                offset = int(torch.randint(hi - lo, (1,), generator=generator))
                starts.append(lo + offset)
            else:
                starts.append(lo)
    else:
        tick = num_starts / num_segments
        starts = [int(tick / 2.0 + tick * i) for i in range(num_segments)]

    last = num_frames - 1
    return [min(start + k, last) for start in starts for k in range(frames_per_segment)]


def test_view_indices(num_frames: int, num_segments: int, num_views: int, frames_per_segment: int = 1) -> list[int]:
    """Indices of ``num_views`` deterministic test clips, view after view (``V*T*L`` entries).

    View ``v`` takes start ``floor(tick*(i + (v + 0.5)/V))`` in segment ``i`` (exact integers); view 0 of a single
    view is exactly ``segment_indices(..., mode="test")``.
    """
    if num_views < 1:
        raise ValueError(f"num_views must be >= 1, got {num_views}")
    if num_frames < 1:
        raise ValueError(f"a video needs at least one frame, got num_frames={num_frames}")
    if num_views == 1:
        return segment_indices(num_frames, num_segments, "test", frames_per_segment)
    num_starts = max(num_frames - frames_per_segment + 1, 1)
    last = num_frames - 1
    indices: list[int] = []
    for view in range(num_views):
        for i in range(num_segments):
            # floor(tick * (i + (v + 0.5) / V)) in exact integer arithmetic
            numerator = num_starts * (2 * i * num_views + 2 * view + 1)
            start = min(numerator // (2 * num_views * num_segments), num_starts - 1)
            indices.extend(min(start + k, last) for k in range(frames_per_segment))
    return indices
