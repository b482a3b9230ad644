"""Read stacks of quantised flow pairs (written by :mod:`datamodules.flow.extract`) for a clip.

A clip of T segments with stacks of L pairs is ``T * L`` pair indices (0-based: index i is the
pair of frames i+1 -> i+2, stored as ``x_{i+1:05d}.jpg`` / ``y_{i+1:05d}.jpg``). The indices come
either from a sampler ``sample(num_pairs) -> indices`` — e.g.
``lambda n: segment_indices(n, T, mode, frames_per_segment=L, generator=g)``, the same sampler
the RGB reader gets — or from a list of segment start pairs, each expanded to ``s .. s + L - 1``.
Both clamp a stack that runs past the last pair to that last pair (it repeats), which is what
:func:`datamodules.sampling.segments.segment_indices` does for videos shorter than L + 1 frames.

Values stay quantised (uint8, see :func:`datamodules.flow.quantise.quantise_flow`); resizing a flow
image to ``size`` does not rescale its values (displacements stay in the extraction's pixels,
as the crop-and-resize augmentation later does too).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np
import torch

from datamodules.decoding.base import VideoReadError
from datamodules.flow.layout import X_TEMPLATE, Y_TEMPLATE, read_flow_info

PairSampler = Callable[[int], Sequence[int]]


def count_pairs(folder: Path) -> int:
    """Number of flow pairs in ``folder``, from its ``flow.json``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise VideoReadError(folder, "flow folder not found (extract it with `stbench flow`)")
    info = read_flow_info(folder)
    if info is None:
        reason = "missing or unreadable: the flow extraction of this video did not finish"
        raise VideoReadError(folder / "flow.json", reason)
    num_pairs = info.get("num_pairs")
    if isinstance(num_pairs, bool) or not isinstance(num_pairs, int):
        raise VideoReadError(folder / "flow.json", f"no valid num_pairs (a whole number; got {str(num_pairs)[:40]!r})")
    if num_pairs < 1:
        raise VideoReadError(folder / "flow.json", f"num_pairs must be >= 1, got {num_pairs}")
    return num_pairs


def expand_starts(starts: Sequence[int], length: int, num_pairs: int) -> list[int]:
    """``s .. s + length - 1`` for each start, clamped to the last pair."""
    if length < 1:
        raise ValueError(f"the stack length must be >= 1, got {length}")
    last = num_pairs - 1
    return [min(int(s) + k, last) for s in starts for k in range(length)]


def _read_image(path: Path, size: tuple[int, int] | None) -> np.ndarray:
    if not path.is_file():
        raise VideoReadError(path, "missing flow image")
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise VideoReadError(path, "cannot decode flow image")
    if size is not None and image.shape != tuple(size):
        image = cv2.resize(image, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)
    return image


def read_flow_stack(
    folder: Path,
    sample: PairSampler | Sequence[int],
    length: int,
    size: tuple[int, int] | None = None,
) -> tuple[torch.Tensor, int]:
    """Read the flow stacks of one clip: ``(uint8 (T * length, H, W, 2), num_pairs)``.

    ``sample`` is a sampler returning all ``T * length`` pair indices, or a sequence of T start
    indices (see the module doc). Channel 0 is x (horizontal), 1 is y. ``size`` = (height, width).
    """
    folder = Path(folder)
    num_pairs = count_pairs(folder)
    if callable(sample):
        indices = [int(i) for i in sample(num_pairs)]
        if len(indices) % length:
            raise ValueError(
                f"the sampler gave {len(indices)} pair indices, not a multiple of the stack length {length}"
            )
    else:
        indices = expand_starts(sample, length, num_pairs)
    bad = [i for i in indices if not 0 <= i < num_pairs]
    if bad:
        raise VideoReadError(folder, f"pair indices {bad} outside [0, {num_pairs - 1}]")
    cache: dict[int, np.ndarray] = {}  # clamped stacks and overlapping segments repeat pairs
    for index in indices:
        if index not in cache:
            x = _read_image(folder / X_TEMPLATE.format(index + 1), size)
            y = _read_image(folder / Y_TEMPLATE.format(index + 1), size)
            if x.shape != y.shape:
                raise VideoReadError(folder / Y_TEMPLATE.format(index + 1), f"shape {y.shape} differs from x {x.shape}")
            cache[index] = np.stack([x, y], axis=-1)
    stack = np.stack([cache[i] for i in indices]) if indices else np.zeros((0, 0, 0, 2), np.uint8)
    return torch.from_numpy(stack), num_pairs
