"""Decode only the sampled frames of a folder of extracted JPEG frames (Jester's layout).

A folder holds one image per frame, named by ``template.format(number)`` (Jester: ``"{:05d}.jpg"``)
with numbers counting up from ``first_frame``. The frames of a folder are the files so named from
``first_frame`` to the highest number present; a number missing in between is a gap, and a folder
with a gap is refused (:class:`FrameGapError`, naming the missing file) rather than read as a
shorter video. Files not named by the template are ignored.
"""
from __future__ import annotations

import os
import re
import string
from pathlib import Path

import numpy as np
import torch

from datamodules.decoding.base import IndexSampler, VideoReadError
from datamodules.decoding.geometry import cover, cut
from datamodules.paths import NOT_FOUND, os_error_reason, path_problem


def frame_name(template: str, first_frame: int, index: int) -> str:
    """File name of the 0-based frame ``index``."""
    return template.format(first_frame + index)


class FrameGapError(VideoReadError):
    """A frame folder with a number missing between its first and last frame."""

    def __init__(self, folder: str | Path, missing: list[str], present: int, last: str) -> None:
        listed = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        reason = f"frame folder has a gap: {listed} missing ({present} frames present up to {last})"
        super().__init__(folder, reason)
        self.missing = missing


def frame_numbers(names: list[str], template: str) -> set[int]:
    """The frame numbers of the names that ``template`` produces exactly (``00007.jpg`` but not ``7.jpg``)."""
    parts = list(string.Formatter().parse(template))
    if len(parts) < 1 or parts[0][1] is None or any(field is not None for _, field, _, _ in parts[1:]):
        raise ValueError(f"a frame template needs exactly one field, got {template!r}")
    prefix, suffix = parts[0][0], "".join(text for text, _, _, _ in parts[1:])
    pattern = re.compile(re.escape(prefix) + r"(\d+)" + re.escape(suffix))
    numbers = set()
    for name in names:
        match = pattern.fullmatch(name)
        if match and template.format(int(match.group(1))) == name:
            numbers.add(int(match.group(1)))
    return numbers


def list_folder(folder: Path) -> list[str]:
    """The names in a frame folder; an unreadable folder is a :class:`VideoReadError` saying why."""
    try:
        return os.listdir(folder)
    except OSError as error:
        raise VideoReadError(folder, f"cannot list the frame folder: {os_error_reason(error)}") from None


def count_frames(folder: Path, template: str, first_frame: int) -> int:
    """Frames of ``folder`` (one directory listing): raises :class:`FrameGapError` when one is missing."""
    numbers = {n for n in frame_numbers(list_folder(folder), template) if n >= first_frame}
    if not numbers:
        return 0
    last = max(numbers)
    if len(numbers) != last - first_frame + 1:
        missing = [template.format(n) for n in range(first_frame, last) if n not in numbers]
        raise FrameGapError(folder, missing, len(numbers), template.format(last))
    return len(numbers)


def decode_frame(path: Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """One image file as uint8 (H, W, 3) RGB; with ``size = (height, width)`` scaled (INTER_AREA) keeping
    its aspect to cover that size and cut to it (see :mod:`datamodules.decoding.geometry`)."""
    import cv2  # imported lazily, like decord in datamodules.decoding.video

    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as error:
        reason = os_error_reason(error)
        raise VideoReadError(path, "frame file not found" if reason == NOT_FOUND else f"cannot read frame file: {reason}")
    if data.size == 0:
        raise VideoReadError(path, "empty frame file (0 bytes)")
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None:
        raise VideoReadError(path, "cannot decode frame image (corrupt or not an image)")
    if size is not None and image.shape[:2] != tuple(size):
        fit = cover(image.shape[:2], tuple(size))
        height, width = fit.resized
        image = cut(cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)[None], fit)[0]
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
    described in the module docstring (a gap raises :class:`FrameGapError`). Returns ``(frames, num_frames)`` like
    :func:`datamodules.decoding.video.read_clip`: frames a uint8 tensor ``(len(indices), H, W, 3)`` in RGB.
    Raises :class:`VideoReadError` naming the folder or frame file that is missing or unreadable.
    """
    folder = Path(folder)
    problem = path_problem(folder, "folder")
    if problem is not None:
        raise VideoReadError(folder, "frame folder not found" if problem == NOT_FOUND else f"frame folder: {problem}")
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
