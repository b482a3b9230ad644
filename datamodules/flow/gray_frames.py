"""Every frame of a video file or a JPEG frame folder, in order, as grayscale for flow."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from datamodules.decoding.base import VideoReadError
from datamodules.decoding.convert import frame_to_array
from datamodules.decoding.frames import count_frames
from datamodules.decoding.geometry import cover, cut, rotate

DECODE_CHUNK = 32  # frames decoded per decord call: bounded memory for long videos


def resize_gray(frame: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    """``frame`` fitted to ``size`` = (height, width) as RGB frames are (aspect kept, centre cut; INTER_AREA),
    so that flow and RGB frames show the same region; None keeps it as it is."""
    if size is None or frame.shape[:2] == tuple(size):
        return frame
    fit = cover(frame.shape[:2], tuple(size))
    resized = cv2.resize(frame, (fit.resized[1], fit.resized[0]), interpolation=cv2.INTER_AREA)
    return cut(resized[None], fit)[0]


def video_frames(video: Path, size: tuple[int, int] | None) -> Iterator[np.ndarray]:
    """Every frame of a video file, decoded a chunk at a time by the frame-exact reader (native size,
    resized by OpenCV: decord's own resize fails for some widths, e.g. 48)."""
    from datamodules.decoding.sequential import iter_frames
    from datamodules.decoding.video import VideoFile

    with VideoFile(video) as reader:
        count, sequential, rotation = reader.num_frames, reader.sequential, reader.info.rotation
        if not sequential:
            for start in range(0, count, DECODE_CHUNK):
                for rgb in reader.frames(range(start, min(start + DECODE_CHUNK, count))):
                    yield resize_gray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), size)
            return
    for frame in iter_frames(video):
        gray = rotate(frame_to_array(frame, "gray")[None, :, :, None], rotation)[0, :, :, 0]
        yield resize_gray(np.ascontiguousarray(gray), size)


def folder_frames(
    folder: Path, template: str, first_frame: int, num_frames: int | None, size: tuple[int, int] | None
) -> Iterator[np.ndarray]:
    """Frames of a JPEG folder, numbered from ``first_frame``; all of them when ``num_frames`` is None
    (a gap in the numbering is an error, as when reading RGB frames)."""
    if not folder.is_dir():
        raise VideoReadError(folder, "frame folder not found")
    if num_frames is None:
        num_frames = count_frames(folder, template, first_frame)
    number = first_frame
    while num_frames is None or number < first_frame + num_frames:
        path = folder / template.format(number)
        if not path.is_file():
            if num_frames is None:
                return
            raise VideoReadError(path, "missing frame")
        frame = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if frame is None:
            raise VideoReadError(path, "cannot decode frame image")
        yield resize_gray(frame, size)
        number += 1
