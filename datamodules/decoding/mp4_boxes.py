"""The few facts of an MP4/MOV video track that decide how to decode it, read from its box headers.

Reading a handful of ISO-BMFF box headers (``moov/trak/tkhd``, ``mdia/hdlr``, ``stsd``) costs tens of
microseconds, against about half a millisecond for opening the file with PyAV, which on small clips
is several percent of the whole decode. Anything unexpected returns None, and the caller asks PyAV.
The sample entry's width and height are the header's claim only; an H.264 track's sequence parameter
set (in ``avcC``) is kept for the size the decoder outputs. A track with an edit list (``edts/elst``)
also yields its sample timing tables (``mvhd``/``mdhd`` timescales, ``stts``, ``ctts``, ``stsz``), from
which :mod:`datamodules.decoding.edit_list` works out the frames shown.
"""
from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from fractions import Fraction
from typing import BinaryIO, Iterator

import numpy as np

# sample-entry four-character codes → FFmpeg decoder names
FOURCC_CODECS: dict[bytes, str] = {
    b"avc1": "h264", b"avc3": "h264", b"hvc1": "hevc", b"hev1": "hevc",
    b"vp08": "vp8", b"vp09": "vp9", b"av01": "av1", b"mp4v": "mpeg4",
    b"mp2v": "mpeg2video", b"mp1v": "mpeg1video", b"s263": "h263", b"jpeg": "mjpeg", b"mjpa": "mjpeg",
}  # fmt: skip
MP4_TYPES = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot")
SAMPLE_ENTRY_HEADER = 86  # box header + VisualSampleEntry fields before the entry's own boxes (avcC, ...)
MAX_TABLE_ENTRIES = 1 << 22  # stts/ctts rows read at most (a longer table then does not add up to the samples)
MAX_EDITS = 1000  # edit list entries read at most (one more is read, to tell a longer list)


@dataclass(frozen=True)
class Edit:
    """One edit list entry: ``duration`` in the movie timescale, ``media_time`` in the media timescale
    (-1: an empty edit, a span where the track shows nothing), ``rate`` the playback rate (1: normal)."""

    duration: int
    media_time: int
    rate: Fraction


@dataclass(frozen=True)
class SampleTables:
    """What a track's timing boxes say: timescales, the decode-time deltas (``stts``: count, delta rows),
    the composition offsets (``ctts``: count, offset rows; None without the box) and the sample count."""

    movie_timescale: int
    media_timescale: int
    stts: np.ndarray
    ctts: np.ndarray | None
    sample_count: int


@dataclass(frozen=True)
class TrackFacts:
    """The first video track: its codec, header size, display rotation (degrees anticlockwise), its
    H.264 sequence parameter set, and its edit list with the tables to interpret it."""

    codec: str
    height: int
    width: int
    rotation: int | None  # None: a display matrix that is not a pure rotation (e.g. a mirror)
    sps: bytes | None = None  # the first SPS NAL unit of an avcC box
    edits: tuple[Edit, ...] | None = None  # None: no edit list
    tables: SampleTables | None = None  # read only when there is an edit list; None when unreadable
    fragmented: bool = False  # the movie has fragments (mvex): its samples are not in the moov tables


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


def _full_box(handle: BinaryIO, box: tuple[int, int] | None, limit: int = MAX_TABLE_ENTRIES * 12 + 8) -> bytes:
    """The payload of a box (version and flags first), at most ``limit`` bytes; b"" for no box."""
    if box is None:
        return b""
    handle.seek(box[0])
    return handle.read(min(box[1] - box[0], limit))


def _timescale(payload: bytes) -> int:
    """The timescale of an ``mvhd`` or ``mdhd`` payload (0 when it is too short)."""
    offset = 20 if payload[:1] == b"\x01" else 12
    return struct.unpack(">I", payload[offset : offset + 4])[0] if len(payload) >= offset + 4 else 0


def _table(payload: bytes, columns: str) -> np.ndarray:
    """The rows of an ``stts``/``ctts``-style table (version/flags, entry count, rows of 32-bit fields)."""
    count = min(struct.unpack(">I", payload[4:8])[0], (len(payload) - 8) // 8)
    return np.frombuffer(payload, np.dtype(columns), count * 2, 8).reshape(-1, 2).astype(np.int64)


def _edits(payload: bytes) -> tuple[Edit, ...]:
    wide = payload[:1] == b"\x01"
    row = ">Qqi" if wide else ">Iii"
    size = struct.calcsize(row)
    count = min(struct.unpack(">I", payload[4:8])[0], (len(payload) - 8) // size)
    entries = (struct.unpack_from(row, payload, 8 + i * size) for i in range(count))
    return tuple(Edit(duration, time, Fraction(rate, 65536)) for duration, time, rate in entries)  # rate: 16.16


def _sample_tables(handle: BinaryIO, moov: tuple[int, int], mdia: tuple[int, int], stbl: tuple[int, int]):
    mvhd, mdhd = _full_box(handle, _child(handle, *moov, b"mvhd")), _full_box(handle, _child(handle, *mdia, b"mdhd"))
    stts, ctts = (_full_box(handle, _child(handle, *stbl, kind)) for kind in (b"stts", b"ctts"))
    stsz = _full_box(handle, _child(handle, *stbl, b"stsz"), 12)
    if not _timescale(mvhd) or not _timescale(mdhd) or len(stts) < 8 or len(stsz) < 12:
        return None
    return SampleTables(
        _timescale(mvhd), _timescale(mdhd), _table(stts, ">u4"), _table(ctts, ">i4") if len(ctts) >= 8 else None,
        struct.unpack(">I", stsz[8:12])[0],
    )  # fmt: skip


def _first_sps(handle: BinaryIO, entry_start: int, entry_size: int) -> bytes | None:
    avcc = _child(handle, entry_start + SAMPLE_ENTRY_HEADER, entry_start + entry_size, b"avcC")
    if avcc is None:
        return None
    handle.seek(avcc[0])
    record = handle.read(min(avcc[1] - avcc[0], 1 << 16))
    if len(record) < 8 or not record[5] & 0x1F:
        return None
    length = struct.unpack(">H", record[6:8])[0]
    return record[8 : 8 + length] if len(record) >= 8 + length else None


def _track(handle: BinaryIO, start: int, end: int, moov: tuple[int, int]) -> TrackFacts | None:
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
    codec = FOURCC_CODECS[entry[4:8]]
    sps = _first_sps(handle, stsd[0] + 8, struct.unpack(">I", entry[:4])[0]) if codec == "h264" else None
    elst = _child(handle, *edts, b"elst") if (edts := _child(handle, start, end, b"edts")) else None
    edits = tables = None
    if elst is not None and len(payload := _full_box(handle, elst, 8 + (MAX_EDITS + 1) * 20)) >= 8:
        edits, tables = _edits(payload), _sample_tables(handle, moov, mdia, stbl)
    fragmented = _child(handle, *moov, b"mvex") is not None
    return TrackFacts(codec, height, width, _rotation(struct.unpack(">9i", matrix)), sps, edits, tables, fragmented)


def video_track(handle: BinaryIO, size: int) -> TrackFacts | None:
    """The first video track of the MP4/MOV file open in ``handle`` (``size`` bytes), or None."""
    try:
        moov = _child(handle, 0, size, b"moov")
        if moov is None:
            return None
        for kind, start, end in _boxes(handle, *moov):
            if kind == b"trak" and (facts := _track(handle, start, end, moov)) is not None:
                return facts
    except (OSError, struct.error, ValueError):
        return None
    return None
