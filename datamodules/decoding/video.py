"""Decode only the sampled frames of a video file, opening it once per clip, frame-exact on every codec."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from datamodules.decoding.base import IndexSampler, VideoReadError, short_error
from datamodules.decoding.frames import read_frames
from datamodules.decoding.geometry import Fit, Size, cover, cut, displayed, rotate
from datamodules.decoding.sequential import decode_in_order, decoded_count, remember_count, to_rgb
from datamodules.decoding.stream_info import stream_info
from datamodules.paths import NOT_FOUND, os_error_reason, path_problem
from datamodules.records import VideoRecord

__all__ = ["IndexSampler", "RESIZE_COPY_ERROR", "decode_then_resize", "VideoFile", "VideoReadError", "read_clip", "read_record"]


class VideoFile:
    """A video file opened once for any number of frame requests, each answered exactly.

    Files on which decord's seek is exact (:attr:`StreamInfo.exact_seek`) are read with decord, resized
    while decoding; the others, files decord cannot open (e.g. a WebM without cues) and files whose frames
    decord cannot hand out (it fails on some small sizes, e.g. 2×2) are decoded in order with PyAV
    (:mod:`datamodules.decoding.sequential`). ``size`` is the decode size (height, width): frames are scaled
    keeping their aspect to cover it and cut to it (:mod:`datamodules.decoding.geometry`); a display rotation
    is applied first. None keeps the displayed size. Sizes are the decoded pictures' (:func:`stream_info`;
    in order, each frame's own), never a container header's.
    """

    def __init__(self, path: str | Path, size: Size | None = None) -> None:
        self.path = Path(path)
        problem = path_problem(self.path, "file")
        if problem is not None:
            raise VideoReadError(self.path, "file not found" if problem == NOT_FOUND else problem)
        if self.path.stat().st_size == 0:
            raise VideoReadError(self.path, "empty file (0 bytes)")
        self.info = stream_info(self.path)
        shown = displayed((self.info.height, self.info.width), self.info.rotation)
        self.fit = cover(shown, tuple(size)) if size is not None else Fit(shown, (0, 0, *shown))
        self.size = tuple(size) if size is not None else None
        self.reader = None
        self.fallback_reason = self.info.inexact_reason
        if self.info.exact_seek:
            self.reader, self.num_frames = self._open_decord()
        if self.reader is None:
            self.num_frames = decoded_count(self.path, self.info.shown_packets)
        if self.num_frames < 1:
            raise VideoReadError(self.path, "no frames (the container lists none)")

    @property
    def sequential(self) -> bool:
        """True when frames are decoded in order with PyAV rather than fetched by decord."""
        return self.reader is None

    def _open_decord(self):
        import decord  # imported lazily: worker processes pay the import once, the CLI stays light

        height, width = self.fit.resized if self.size is not None else (-1, -1)
        try:
            reader = decord.VideoReader(str(self.path), ctx=decord.cpu(0), width=width, height=height, num_threads=1)
            return reader, len(reader)
        except Exception as error:  # decord raises its own DECORDError and RuntimeError types
            self.fallback_reason = f"decord cannot open it ({short_error(error)})"
            return None, 0

    def frames(self, indices: Sequence[int]) -> np.ndarray:
        """uint8 (len(indices), H, W, 3) RGB frames; any order, repeats allowed.

        Raises :class:`VideoReadError` for an index outside the frames that decode (``num_frames`` is
        then updated to that count).
        """
        indices = [int(index) for index in indices]
        outside = [index for index in indices if not 0 <= index < self.num_frames]
        if outside:
            raise VideoReadError(self.path, f"frame indices {outside} outside the {self.num_frames} frames")
        if self.reader is not None and (frames := self._decord_frames(indices)) is not None:
            return cut(frames, self.fit)
        frames, count = decode_in_order(self.path, indices, self._shown)
        if count != self.num_frames:
            remember_count(self.path, count)
            listed, self.num_frames = self.num_frames, count
            if not frames:
                raise FrameCountChanged(self.path, f"the container lists {listed} frames but {count} decode")
        if len({frame.shape for frame in frames}) > 1:
            sizes = sorted({f"{frame.shape[1]}×{frame.shape[0]}" for frame in frames})
            raise VideoReadError(self.path, f"its frames change size ({', '.join(sizes)}): read it at a decode size")
        return np.stack(frames)

    def _shown(self, frame) -> np.ndarray:
        """A PyAV frame as shown (rotated) and fitted to the decode size by its own size, whatever the
        container's header says."""
        rotation = self.info.rotation
        if self.size is None:
            return rotate(to_rgb(frame, None)[None], rotation)[0]
        fit = cover(displayed((frame.height, frame.width), rotation), self.size)
        coded = fit.resized[::-1] if rotation % 180 else fit.resized
        return cut(rotate(to_rgb(frame, coded)[None], rotation), fit)[0]

    def _decord_frames(self, indices: list[int]) -> np.ndarray | None:
        """decord's frames; None when decord cannot hand them out at this size (then the file is decoded in order)."""
        try:
            return self.reader.get_batch(indices).asnumpy()
        except Exception as error:
            if RESIZE_COPY_ERROR not in str(error):
                reason = f"cannot decode frames {indices} of {self.num_frames} ({short_error(error)})"
                raise VideoReadError(self.path, reason) from error
            copy_error = short_error(error)
        if self.size is not None:
            try:
                return decode_then_resize(self.path, indices, self.fit.resized)
            except VideoReadError as error:
                if RESIZE_COPY_ERROR not in error.reason:
                    raise
        self.reader = None
        height, width = displayed((self.info.height, self.info.width), self.info.rotation)
        self.fallback_reason = f"decord cannot hand out its {width}×{height} frames ({copy_error})"
        return None

    def close(self) -> None:
        self.reader = None

    def __enter__(self) -> "VideoFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class FrameCountChanged(VideoReadError):
    """Fewer (or more) frames decode than the container lists: sample again from the true count."""


def read_clip(
    path: str | Path,
    sample: IndexSampler,
    size: tuple[int, int] | None = None,
) -> tuple[torch.Tensor, int]:
    """Open ``path`` once, ask ``sample(num_frames)`` for indices and decode just those frames.

    ``size`` is the ``(height, width)`` decode size (see :class:`VideoFile`; None keeps the native size).
    Returns ``(frames, num_frames)`` with frames a uint8 tensor ``(len(indices), H, W, 3)`` in RGB and
    ``num_frames`` the number of frames that decode.
    """
    with VideoFile(path, size) as video:
        listed = video.num_frames
        try:
            frames = video.frames(sample(listed))
        except FrameCountChanged:
            frames = None
        if frames is None or video.num_frames != listed:  # sample again from the count that decodes
            frames = video.frames(sample(video.num_frames))
        return torch.from_numpy(frames), video.num_frames


# decord 0.6 cannot resize on decode to some widths (e.g. 16, 24 or 48 px from a 32 px source):
# copying the scaled frame out then fails with this message.
RESIZE_COPY_ERROR = "size must exactly match"


def decode_then_resize(path: Path, indices: list[int], size: tuple[int, int]):
    """Fallback for those sizes: decode the sampled frames at their native size, then resize them
    with OpenCV (bilinear; INTER_AREA when shrinking)."""
    import cv2
    import decord

    height, width = size
    try:
        native = decord.VideoReader(str(path), ctx=decord.cpu(0), num_threads=1).get_batch(indices).asnumpy()
    except Exception as error:
        raise VideoReadError(path, f"cannot decode frames {indices} ({short_error(error)})") from error
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
    listing; a video file is always opened, which yields its frame count anyway. A record the index
    marks unusable (``record.problem``) is refused with that problem; a filesystem error is a
    :class:`VideoReadError` too, so that it follows the run's bad-video policy.
    """
    if record.problem is not None:
        raise VideoReadError(record.path, record.problem)
    try:
        if record.is_frame_folder:
            return read_frames(record.path, record.frame_template, record.first_frame, sample, size, record.num_frames)
        return read_clip(record.path, sample, size)
    except OSError as error:
        raise VideoReadError(record.path, f"cannot read it: {os_error_reason(error)}") from error
