"""Every frame of a video file or a JPEG frame folder, in order, as grayscale for flow."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from datamodules.decoding.base import VideoReadError

DECODE_CHUNK = 32  # frames decoded per decord call: bounded memory for long videos


def resize_gray(frame: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    """``frame`` at ``size`` = (height, width) (INTER_AREA); None keeps it as it is."""
    if size is None or frame.shape[:2] == tuple(size):
        return frame
    return cv2.resize(frame, (size[1], size[0]), interpolation=cv2.INTER_AREA)


def video_frames(video: Path, size: tuple[int, int] | None) -> Iterator[np.ndarray]:
    """Every frame of a video file, decoded a chunk at a time."""
    import decord

    if not video.is_file():
        raise VideoReadError(video, "file not found")
    if video.stat().st_size == 0:
        raise VideoReadError(video, "empty file (0 bytes)")
    try:
        # Native size, resized by OpenCV: decord's own resize fails for some widths (e.g. 48).
        reader = decord.VideoReader(str(video), ctx=decord.cpu(0), num_threads=1)
        count = len(reader)
    except Exception as error:  # decord raises its own DECORDError and RuntimeError types
        raise VideoReadError(video, f"cannot open video ({error})") from error
    for start in range(0, count, DECODE_CHUNK):
        indices = list(range(start, min(start + DECODE_CHUNK, count)))
        try:
            batch = reader.get_batch(indices).asnumpy()
        except Exception as error:
            where = f"frames {indices[0]}..{indices[-1]} of {count}"
            raise VideoReadError(video, f"cannot decode {where} ({error})") from error
        for rgb in batch:
            yield resize_gray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), size)


def folder_frames(
    folder: Path, template: str, first_frame: int, num_frames: int | None, size: tuple[int, int] | None
) -> Iterator[np.ndarray]:
    """Frames of a JPEG folder, numbered from ``first_frame``; all of them when ``num_frames`` is None."""
    if not folder.is_dir():
        raise VideoReadError(folder, "frame folder not found")
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
