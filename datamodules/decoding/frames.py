"""Decode only the sampled frames of a folder of extracted JPEG frames (Jester's layout).

A folder holds one image per frame, named by ``template.format(number)`` (Jester: ``"{:05d}.jpg"``)
with numbers counting up from ``first_frame``. The frame count of a folder is the length of the
contiguous run of existing names ``first_frame, first_frame + 1, ...``: the run stops at the first
missing number, so a stray file after a gap (or any other file in the folder) is not a frame.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from datamodules.decoding.base import IndexSampler, VideoReadError


def frame_name(template: str, first_frame: int, index: int) -> str:
    """File name of the 0-based frame ``index``."""
    return template.format(first_frame + index)


def count_frames(folder: Path, template: str, first_frame: int) -> int:
    """Length of the contiguous run of frame files from ``first_frame`` (one directory listing)."""
    names = set(os.listdir(folder))
    count = 0
    while frame_name(template, first_frame, count) in names:
        count += 1
    return count


def decode_frame(path: Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """One image file as uint8 (H, W, 3) RGB, resized to ``size = (height, width)`` with INTER_AREA."""
    import cv2  # imported lazily, like decord in datamodules.decoding.video

    try:
        data = np.fromfile(path, dtype=np.uint8)
    except FileNotFoundError:
        raise VideoReadError(path, "frame file not found") from None
    except OSError as error:
        raise VideoReadError(path, f"cannot read frame file ({error})") from error
    if data.size == 0:
        raise VideoReadError(path, "empty frame file (0 bytes)")
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None:
        raise VideoReadError(path, "cannot decode frame image (corrupt or not an image)")
    if size is not None and image.shape[:2] != tuple(size):
        height, width = size
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_frames(
    folder: str | Path,
    template: str,
    first_frame: int,
    sample: IndexSampler,
    size: tuple[int, int] | None = None,
    num_frames: int | None = None,
) -> tuple[torch.Tensor, int]:
    """Ask ``sample(num_frames)`` for 0-based indices and decode just those frames of ``folder``.

    ``num_frames`` (e.g. from the index cache) saves listing the folder; when None it is counted as
    described in the module docstring. Returns ``(frames, num_frames)`` like
    :func:`datamodules.decoding.video.read_clip`: frames a uint8 tensor ``(len(indices), H, W, 3)`` in RGB.
    Raises :class:`VideoReadError` naming the folder or frame file that is missing or unreadable.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise VideoReadError(folder, "frame folder not found")
    if num_frames is None:
        num_frames = count_frames(folder, template, first_frame)
    if num_frames < 1:
        expected = frame_name(template, first_frame, 0)
        raise VideoReadError(folder, f"frame folder has no frames (expected the first frame {expected})")
    indices = sample(num_frames)
    outside = [index for index in indices if not 0 <= index < num_frames]
    if outside:
        raise VideoReadError(folder, f"frame indices {outside} outside the {num_frames} frames")
    decoded = {index: decode_frame(folder / frame_name(template, first_frame, index), size) for index in set(indices)}
    shapes = {frame.shape for frame in decoded.values()}
    if len(shapes) > 1:
        raise VideoReadError(folder, f"frames of different sizes {sorted(shapes)}; pass a decode size")
    frames = np.stack([decoded[index] for index in indices])
    return torch.from_numpy(frames), num_frames
