"""Decode only the sampled frames of a video file, opening it once per clip."""
from __future__ import annotations

from pathlib import Path

import torch

from datamodules.decoding.base import IndexSampler, VideoReadError
from datamodules.decoding.frames import read_frames
from datamodules.records import VideoRecord

__all__ = ["IndexSampler", "RESIZE_COPY_ERROR", "VideoReadError", "read_clip", "read_record"]


def read_clip(
    path: str | Path,
    sample: IndexSampler,
    size: tuple[int, int] | None = None,
) -> tuple[torch.Tensor, int]:
    """Open ``path`` once, ask ``sample(num_frames)`` for indices and decode just those frames.

    ``size`` is ``(height, width)`` to resize to while decoding (None keeps the native size).
    Returns ``(frames, num_frames)`` with frames a uint8 tensor ``(len(indices), H, W, 3)`` in RGB.
    """
    import decord  # imported lazily: worker processes pay the import once, the CLI stays light

    path = Path(path)
    if not path.is_file():
        raise VideoReadError(path, "file not found")
    if path.stat().st_size == 0:
        raise VideoReadError(path, "empty file (0 bytes)")
    height, width = size if size is not None else (-1, -1)
    try:
        reader = decord.VideoReader(str(path), ctx=decord.cpu(0), width=width, height=height, num_threads=1)
        num_frames = len(reader)
    except Exception as error:  # decord raises its own DECORDError and RuntimeError types
        raise VideoReadError(path, f"cannot open video ({error})") from error
    if num_frames < 1:
        raise VideoReadError(path, "video has no frames")
    indices = sample(num_frames)
    try:
        frames = reader.get_batch(indices).asnumpy()
    except Exception as error:
        if size is None or RESIZE_COPY_ERROR not in str(error):
            raise VideoReadError(path, f"cannot decode frames {indices} of {num_frames} ({error})") from error
        frames = _decode_then_resize(decord, path, indices, size)
    finally:
        del reader
    return torch.from_numpy(frames), num_frames


# decord 0.6 cannot resize on decode to some widths (e.g. 16, 24 or 48 px from a 32 px source):
# copying the scaled frame out then fails with this message.
RESIZE_COPY_ERROR = "size must exactly match"


def _decode_then_resize(decord, path: Path, indices: list[int], size: tuple[int, int]):
    """Fallback for those sizes: decode the sampled frames at their native size, then resize them
    with OpenCV (bilinear; INTER_AREA when shrinking)."""
    import cv2
    import numpy as np

    height, width = size
    try:
        native = decord.VideoReader(str(path), ctx=decord.cpu(0), num_threads=1).get_batch(indices).asnumpy()
    except Exception as error:
        raise VideoReadError(path, f"cannot decode frames {indices} ({error})") from error
    shrink = native.shape[1] * native.shape[2] > height * width
    method = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    return np.stack([cv2.resize(frame, (width, height), interpolation=method) for frame in native])


def read_record(
    record: VideoRecord,
    sample: IndexSampler,
    size: tuple[int, int] | None = None,
) -> tuple[torch.Tensor, int]:
    """Decode the sampled frames of a record: its video file, or its folder of JPEG frames.

    A frame folder's known ``num_frames`` (from the adapter or the index cache) saves a directory
    listing; a video file is always opened, which yields its frame count anyway.
    """
    if record.is_frame_folder:
        return read_frames(record.path, record.frame_template, record.first_frame, sample, size, record.num_frames)
    return read_clip(record.path, sample, size)
