"""Frame-exact decoding for the files decord cannot seek in exactly: every frame decoded in order with PyAV.

Frame ``i`` is the ``i``-th picture the decoder outputs from the start of the file: the definition
the whole harness uses (and what the tests compare with). FFmpeg applies an MP4's edit list here: the
pictures it hides are decoded and dropped, so the frames are the shown ones in presentation order. No
seek is ever made, so the answer does not depend on timestamps or on earlier requests. Each request
decodes the file from its start to its end (converting only the frames asked for), which also yields
the number of frames that actually decode; the count before the first request comes from the probe
(:mod:`datamodules.decoding.edit_list`, VP8's shown packets) or from demuxing (packets are not decoded).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from datamodules.decoding.base import METADATA_ERRORS, VideoReadError
from datamodules.decoding.convert import frame_to_array
from datamodules.decoding.stream_info import vp8_packet_counts

INTERPOLATION = "BICUBIC"  # FFmpeg's scale filter default, as decord's resize-on-decode uses


def _open(path: str):
    import av

    try:
        container = av.open(path, metadata_errors=METADATA_ERRORS)
    except av.FFmpegError as error:
        raise VideoReadError(path, f"cannot open video (PyAV: {error})") from error
    if not container.streams.video:
        container.close()
        raise VideoReadError(path, "no video stream")
    stream = container.streams.video[0]
    stream.codec_context.thread_count = 1
    return container, stream


def count_packets(path: str | Path) -> int:
    """Video packets in the container that hold a shown frame, none decoded: one per frame in every format
    the harness reads (a VP8 alt-ref frame is a packet of its own that is never shown, and a packet an MP4
    edit list hides is flagged "discard": neither is counted)."""
    import av

    container, stream = _open(str(path))
    try:
        if stream.codec_context.name == "vp8":
            return vp8_packet_counts(container, stream)[1]
        return sum(1 for packet in container.demux(stream) if packet.size and not packet.is_discard)
    except av.FFmpegError as error:
        raise VideoReadError(path, f"cannot read the container (PyAV: {error})") from error
    finally:
        container.close()


# Frame counts that decoding found, by (path, size, modification time): later requests in this process
# sample from the true count at once.
_DECODED: dict[tuple[str, int, int], int] = {}


def _key(path: str | Path) -> tuple[str, int, int]:
    status = os.stat(path)
    return str(path), status.st_size, status.st_mtime_ns


def decoded_count(path: str | Path, shown_packets: int | None = None) -> int:
    """The frame count to sample from: what decoding found earlier in this process, else the packet count
    (``shown_packets`` where the probe already counted them: VP8)."""
    known = _DECODED.get(_key(path))
    if known is not None:
        return known
    return shown_packets if shown_packets is not None else count_packets(path)


def remember_count(path: str | Path, count: int) -> None:
    _DECODED[_key(path)] = count


def iter_frames(path: str | Path) -> Iterator:
    """Every decoded frame (PyAV ``VideoFrame``) of ``path`` in order; a decode error is a VideoReadError
    naming the frame where decoding stopped."""
    import av

    container, stream = _open(str(path))
    decoded = 0
    try:
        for frame in container.decode(stream):
            yield frame
            decoded += 1
    except av.FFmpegError as error:
        raise VideoReadError(path, f"decoding stops at frame {decoded} (PyAV: {error})") from error
    finally:
        container.close()


def to_rgb(frame, size: tuple[int, int] | None) -> np.ndarray:
    """A PyAV frame as uint8 (H, W, 3) RGB, scaled to ``size = (height, width)`` when given."""
    return frame_to_array(frame, "rgb24", size, INTERPOLATION if size is not None else None)


def decode_in_order(
    path: str | Path, indices: Sequence[int], convert: Callable[..., np.ndarray]
) -> tuple[list[np.ndarray], int]:
    """The frames ``indices`` (any order, repeats allowed), each made an array by ``convert`` (which gets
    the PyAV frame), and the number of frames that decode.

    Frames past the last one that decodes are missing from the result (an empty list): the caller compares
    the count.
    """
    wanted = set(indices)
    kept: dict[int, np.ndarray] = {}
    count = 0
    for count, frame in enumerate(iter_frames(path), start=1):
        if count - 1 in wanted:
            kept[count - 1] = convert(frame)
    if any(index not in kept for index in indices):
        return [], count
    return [kept[index] for index in indices], count
