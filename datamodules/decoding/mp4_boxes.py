"""The few facts of an MP4/MOV video track that decide how to decode it, read from its box headers.

Reading a handful of ISO-BMFF box headers (``moov/trak/tkhd``, ``mdia/hdlr``, ``stsd``) costs tens of
microseconds, against about half a millisecond for opening the file with PyAV, which on small clips
is several percent of the whole decode. Anything unexpected returns None, and the caller asks PyAV.
"""
from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import BinaryIO, Iterator

# sample-entry four-character codes → FFmpeg decoder names
FOURCC_CODECS: dict[bytes, str] = {
    b"avc1": "h264", b"avc3": "h264", b"hvc1": "hevc", b"hev1": "hevc",
    b"vp08": "vp8", b"vp09": "vp9", b"av01": "av1", b"mp4v": "mpeg4",
    b"mp2v": "mpeg2video", b"mp1v": "mpeg1video", b"s263": "h263", b"jpeg": "mjpeg", b"mjpa": "mjpeg",
}  # fmt: skip
MP4_TYPES = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot")


@dataclass(frozen=True)
class TrackFacts:
    """The first video track: its codec, coded size and display rotation (degrees anticlockwise)."""

    codec: str
    height: int
    width: int
    rotation: int | None  # None: a display matrix that is not a pure rotation (e.g. a mirror)


def is_mp4(head: bytes) -> bool:
    return len(head) >= 8 and head[4:8] in MP4_TYPES


def _boxes(handle: BinaryIO, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, box end) of the boxes in [start, end)."""
    position = start
    while position + 8 <= end:
        handle.seek(position)
        header = handle.read(16)
        if len(header) < 8:
            return
        size, kind = struct.unpack(">I4s", header[:8])
        payload = position + 8
        if size == 1 and len(header) == 16:
            size, payload = struct.unpack(">Q", header[8:16])[0], position + 16
        elif size == 0:
            size = end - position
        if size < payload - position:
            return
        yield kind, payload, min(position + size, end)
        position += size


def _child(handle: BinaryIO, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    return next(((s, e) for k, s, e in _boxes(handle, start, end) if k == kind), None)


def _rotation(matrix: tuple[int, ...]) -> int | None:
    a, b, _, c, d = matrix[:5]
    if a * d - b * c <= 0:
        return None
    degrees = -math.degrees(math.atan2(b, a))
    turns = round(degrees / 90)
    return (turns * 90) % 360 if abs(degrees - turns * 90) < 1 else None


def _track(handle: BinaryIO, start: int, end: int) -> TrackFacts | None:
    mdia = _child(handle, start, end, b"mdia")
    tkhd = _child(handle, start, end, b"tkhd")
    if mdia is None or tkhd is None:
        return None
    hdlr = _child(handle, *mdia, b"hdlr")
    if hdlr is None:
        return None
    handle.seek(hdlr[0] + 8)
    if handle.read(4) != b"vide":
        return None
    minf = _child(handle, *mdia, b"minf")
    stbl = _child(handle, *minf, b"stbl") if minf else None
    stsd = _child(handle, *stbl, b"stsd") if stbl else None
    if stsd is None:
        return None
    handle.seek(stsd[0] + 8)
    entry = handle.read(36)
    handle.seek(tkhd[0])
    version = handle.read(1)
    handle.seek(tkhd[0] + (4 + 32 + 16 if version == b"\x01" else 4 + 20 + 16))
    matrix = handle.read(36)
    if len(entry) < 36 or len(matrix) < 36 or entry[4:8] not in FOURCC_CODECS:
        return None
    width, height = struct.unpack(">HH", entry[32:36])
    return TrackFacts(FOURCC_CODECS[entry[4:8]], height, width, _rotation(struct.unpack(">9i", matrix)))


def video_track(handle: BinaryIO, size: int) -> TrackFacts | None:
    """The first video track of the MP4/MOV file open in ``handle`` (``size`` bytes), or None."""
    try:
        moov = _child(handle, 0, size, b"moov")
        if moov is None:
            return None
        for kind, start, end in _boxes(handle, *moov):
            if kind == b"trak" and (facts := _track(handle, start, end)) is not None:
                return facts
    except (OSError, struct.error):
        return None
    return None
