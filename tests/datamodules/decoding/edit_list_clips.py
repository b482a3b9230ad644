"""Bar-coded MP4/MOV clips with edit lists, and the frames each edit list shows.

Two ways to make one, both from a clip of ``codec_clips`` (every frame shows its own index):

* :func:`shifted` remuxes the packets with their timestamps moved earlier by the presentation time of
  frame ``k``, as a stream-copy cut after a key frame leaves them (``ffmpeg -ss … -c copy``): FFmpeg's
  muxer then writes an edit list whose media_time skips the first ``k`` pictures (decoded, never shown).
  Moved later (``k`` < 0), it writes an empty edit that delays the start instead.
* :func:`with_edit_list` writes an edit list of any entries into a copy. Entries are given in frames of
  the 25 fps clip: ``(duration, first frame or None for an empty edit, rate)``. The moov box must follow
  the media data (as PyAV writes it) or the movie must be fragmented with offsets relative to each
  fragment, so that no chunk offset moves.

``spec`` is what a player that follows the edit list shows; ``refused`` names the reason the reader gives
instead where FFmpeg does not play the list as written (``spec`` is then what it should have shown).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import av

from tests.datamodules.decoding.codec_clips import CLIPS, Clip, encode

RATE = 25  # frames per second of the clips (codec_clips encodes at 25)
PLAIN = Clip("h264_plain", ".mp4", "mp4", "libx264", 48)  # no B-frames: the edit list is the only shift
BASES = {clip.name: clip for clip in (*CLIPS, PLAIN)}


@dataclass(frozen=True)
class EditClip:
    name: str
    base: str  # a clip of BASES
    spec: tuple[int, ...]  # the frames shown, in order
    shift: int = 0  # remux with the timestamps moved earlier by frame ``shift``'s time (< 0: later)
    edits: tuple[tuple[int, int | None, float], ...] | None = None  # written into a copy
    container: str = "mp4"  # "mov": a QuickTime file
    fragmented: bool = False
    refused: str = ""  # a part of the reason the reader refuses it with

    @property
    def file_name(self) -> str:
        return f"{self.name}.{self.container}"


def frames(first: int, stop: int) -> tuple[int, ...]:
    return tuple(range(first, stop))


EDIT_CLIPS: tuple[EditClip, ...] = (
    # stream-copy cuts: the edit list skips the leading pictures (B-pyramid, none, variable frame rate)
    EditClip("h264_b3_cut7", "h264_b3", frames(7, 60), shift=7),
    EditClip("h264_plain_cut5", "h264_plain", frames(5, 48), shift=5),
    EditClip("h264_vfr_cut4", "h264_vfr", frames(4, 50), shift=4),
    EditClip("h264_b3_cut7_mov", "h264_b3", frames(7, 60), shift=7, container="mov"),
    EditClip("hevc_b3_cut6", "hevc_mp4_b3", frames(6, 60), shift=6),
    EditClip("mpeg4_b2_cut4", "mpeg4_mp4_b2", frames(4, 60), shift=4),
    EditClip("vp9_mp4_cut5", "vp9_mp4", frames(5, 60), shift=5),
    # a start moved later: an empty edit delays it, every frame is shown
    EditClip("h264_b3_delay5", "h264_b3", frames(0, 60), shift=-5),
    EditClip("h264_plain_delay3", "h264_plain", frames(0, 48), shift=-3),
    # edit lists written into a copy
    EditClip("h264_b3_trim50", "h264_b3", frames(0, 50), edits=((50, 0, 1),)),
    EditClip("h264_b3_cut7_trim50", "h264_b3", frames(7, 50), edits=((43, 7, 1),)),
    EditClip("h264_b3_delay_cut7", "h264_b3", frames(7, 60), edits=((5, None, 1), (53, 7, 1))),
    EditClip("h264_b3_two_spans", "h264_b3", frames(0, 20) + frames(40, 60), edits=((20, 0, 1), (20, 40, 1))),
    EditClip("h264_b3_repeat", "h264_b3", frames(0, 20) * 2, edits=((20, 0, 1), (20, 0, 1))),
    EditClip("h264_plain_cut5_mov", "h264_plain", frames(5, 48), edits=((43, 5, 1),), container="mov"),
    EditClip("h264_fragmented_delay", "h264_b3", frames(0, 60), edits=((5, None, 1), (60, 0, 1)), fragmented=True),
    # refused: FFmpeg does not play these as written, or they show nothing
    EditClip("h264_b3_rate2", "h264_b3", frames(0, 60), edits=((30, 0, 2),), refused="rate 2"),
    EditClip("h264_b3_pause", "h264_b3", frames(0, 60), edits=((20, 0, 1), (5, None, 1), (40, 20, 1)),
             refused="empty edit after the start"),  # fmt: skip
    EditClip("h264_b3_dwell", "h264_b3", (10,) + frames(0, 60), edits=((10, 10, 0), (60, 0, 1)), refused="rate 0"),
    EditClip("h264_b3_past_end", "h264_b3", (), edits=((10, 70, 1),), refused="shows none"),
    EditClip("h264_fragmented_cut7", "h264_b3", frames(7, 60), edits=((53, 7, 1),), fragmented=True,
             refused="fragmented"),  # fmt: skip
)


def make(clip: EditClip, folder: Path) -> Path:
    """Write ``clip`` into ``folder`` (its base clip too, once); returns its path."""
    base = folder / BASES[clip.base].file_name
    if not base.exists():
        encode(BASES[clip.base], folder)
    path = folder / clip.file_name
    if clip.edits is None:
        shifted(base, path, clip.shift, clip.container)
        return path
    source = folder / f"{clip.name}.plain.{clip.container}"
    options = {"movflags": "frag_keyframe+empty_moov+default_base_moof"} if clip.fragmented else {}
    shifted(base, source, 0, clip.container, options)
    with_edit_list(source, path, clip.edits)
    return path


def shifted(source: Path, target: Path, shift: int, container: str = "mp4", options: dict | None = None) -> None:
    """Remux ``source``'s video packets into ``target`` with every timestamp moved earlier by the
    presentation time of frame ``shift`` (later by that of frame ``-shift`` when negative)."""
    with av.open(str(source)) as original:
        stream = original.streams.video[0]
        packets = [packet for packet in original.demux(stream) if packet.dts is not None]
        times = sorted(packet.pts for packet in packets)
        offset = times[shift] - times[0] if shift >= 0 else -(times[-shift] - times[0])
        with av.open(str(target), "w", format=container, options=options or {}) as output:
            copy = output.add_stream_from_template(stream)
            for packet in packets:
                packet.pts -= offset
                packet.dts -= offset
                packet.stream = copy
                output.mux(packet)


def _boxes(data: bytes, start: int, end: int):
    while start + 8 <= end:
        size, kind = struct.unpack(">I4s", data[start : start + 8])
        yield kind, start, start + size
        start += size


def _child(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int]:
    return next((s + 8, e) for k, s, e in _boxes(data, start, end) if k == kind)


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _timescale(data: bytes, box: tuple[int, int]) -> int:
    return struct.unpack(">I", data[box[0] + 12 : box[0] + 16])[0]  # version 0 header


def first_presentation_time(path: Path, data: bytes, trak: tuple[int, int]) -> int:
    """The earliest presentation time of the track (media timescale): the media_time of FFmpeg's own edit
    list, which starts at it, or PyAV's earliest packet time where there is none (fragmented files)."""
    edts = next((s + 8 for k, s, e in _boxes(data, *trak) if k == b"edts"), None)
    if edts is not None:
        elst = _child(data, edts, trak[1], b"elst")
        return struct.unpack(">i", data[elst[0] + 12 : elst[0] + 16])[0]
    with av.open(str(path)) as container:
        return min(packet.pts for packet in container.demux(video=0) if packet.pts is not None)


def with_edit_list(source: Path, target: Path, entries) -> None:
    """A copy of ``source`` whose video track has the edit list ``entries`` (see the module docstring)."""
    data = source.read_bytes()
    top = list(_boxes(data, 0, len(data)))
    moov = next((s, e) for k, s, e in top if k == b"moov")
    mdat = next((s for k, s, e in top if k == b"mdat"), None)
    fragmented = any(k == b"moof" for k, s, e in top)
    assert fragmented or (mdat is not None and mdat < moov[0]), "the moov must follow the media data"
    movie = _timescale(data, _child(data, moov[0] + 8, moov[1], b"mvhd"))
    out = b""
    for kind, start, end in _boxes(data, moov[0] + 8, moov[1]):
        if kind != b"trak" or b"vide" not in data[start:end]:
            out += data[start:end]
            continue
        media = _timescale(data, _child(data, *_child(data, start + 8, end, b"mdia"), b"mdhd"))
        first = first_presentation_time(source, data, (start + 8, end))
        rows = b""
        for duration, frame, rate in entries:
            media_time = -1 if frame is None else first + frame * media // RATE
            rows += struct.pack(">Iii", duration * movie // RATE, media_time, int(rate * 65536))
        elst = _box(b"edts", _box(b"elst", struct.pack(">II", 0, len(entries)) + rows))
        track = b""
        for k, s, e in _boxes(data, start + 8, end):
            if k != b"edts":
                track += data[s:e] + (elst if k == b"tkhd" else b"")
        out += _box(b"trak", track)
    target.write_bytes(data[: moov[0]] + _box(b"moov", out) + data[moov[1] :])
