"""What a video file holds (container, codec, size, rotation, B-frames) and whether decord's seek is exact on it.

decord seeks to the key frame before a requested frame and counts frames from there by timestamp. That
is exact on H.264 (B-frames and variable frame rate included), on VP9 in MP4, Matroska or WebM (alt-ref
frames included: they travel inside a superframe with a shown frame), on VP8 in Matroska or WebM without
hidden frames, and on MPEG-4 Part 2 without B-frames (Xvid AVI). Elsewhere it returns the wrong frames without an
error — MPEG-1/2 in program streams (UCF11's ``.mpg``), MPEG-1 in AVI, any codec with B-frames in AVI
(DivX/Xvid in HMDB-51 and UCF Sports), VP8 with hidden alt-ref frames (each is a packet of its own that
decord counts as a frame: asked for frame 59 of 60 it returns 55), MPEG-2, MPEG-4 Part 2 or HEVC with B-frames in MP4 or
Matroska — it cannot open a WebM without cues nor AV1, and it ignores a display rotation and an MP4's edit list
(:mod:`datamodules.decoding.edit_list`). Those files are decoded in order with PyAV instead
(:mod:`datamodules.decoding.sequential`). Every combination outside :data:`EXACT_SEEK` takes that path, so an
untested codec is slow rather than wrong. An edit list that FFmpeg does not play as written is refused.

Sizes are those of the decoded pictures, never a container's claim: an H.264 MP4's come from its sequence
parameter set (:mod:`datamodules.decoding.h264_sps`), any other file's from PyAV's decoder context.

Measured with clips whose frames carry their own index (``tests/datamodules/decoding/codec_clips.py``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

from datamodules.decoding.base import METADATA_ERRORS, VideoReadError
from datamodules.decoding.edit_list import IDENTITY, Presentation, fragment_presentation, presentation
from datamodules.decoding.h264_sps import picture_size
from datamodules.decoding.mp4_boxes import TrackFacts, is_mp4, video_track

# (container, codec) pairs on which decord's get_batch returned the frames asked for, in every request order.
EXACT_SEEK: frozenset[tuple[str, str]] = frozenset({
    ("mp4", "h264"), ("matroska", "h264"), ("matroska", "vp8"), ("matroska", "vp9"), ("mp4", "vp9"),
})  # fmt: skip
# Codecs whose frames decord finds exactly in these containers as long as there are no B-frames.
EXACT_WITHOUT_B_FRAMES: frozenset[tuple[str, str]] = frozenset({("avi", "mpeg4"), ("mp4", "mpeg4")})

CONTAINER_NAMES = {"mov,mp4,m4a,3gp,3g2,mj2": "mp4", "matroska,webm": "matroska", "mpeg": "mpeg-ps"}
CODEC_NAMES = {
    "mpeg1video": "MPEG-1", "mpeg2video": "MPEG-2", "mpeg4": "MPEG-4 Part 2", "h264": "H.264", "hevc": "HEVC",
    "vp8": "VP8", "vp9": "VP9", "av1": "AV1", "msmpeg4v3": "MS-MPEG-4 v3",
}  # fmt: skip


@dataclass(frozen=True)
class StreamInfo:
    """The first video stream of a file. ``height``/``width`` are the decoded size (before rotation)."""

    container: str  # "mp4", "matroska", "avi", "mpeg-ps", ... (PyAV's format name when not one of these)
    codec: str  # FFmpeg's decoder name
    height: int
    width: int
    rotation: int  # display rotation, degrees anticlockwise: 0, 90, 180 or 270
    b_frames: bool | None  # None where it does not matter (it was not looked up)
    hidden_frames: bool | None = None  # VP8 only: whether any packet is a frame never shown (an alt-ref)
    shown_packets: int | None = None  # frames shown, where the probe counted them: VP8, an MP4 edit list
    edit_list: str = ""  # what an MP4's edit list changes, e.g. "it starts 0.2 s late" ("" for none, or the identity)

    @property
    def exact_seek(self) -> bool:
        """Whether decord's random access returns exactly the frames asked for."""
        if self.rotation or self.hidden_frames or self.edit_list:
            return False
        pair = (self.container, self.codec)
        return pair in EXACT_SEEK or (pair in EXACT_WITHOUT_B_FRAMES and self.b_frames is False)

    @property
    def inexact_reason(self) -> str:
        """Why decord is not used ("" when it is)."""
        if self.rotation:
            return f"{self.describe()}: decord does not apply the display rotation"
        if self.edit_list:
            return f"{self.describe()}: decord does not follow edit lists"
        return "" if self.exact_seek else f"{self.describe()}: decord's seek is not frame-exact"

    def describe(self) -> str:
        """E.g. "MPEG-1 in mpeg-ps with B-frames"."""
        codec = CODEC_NAMES.get(self.codec, self.codec)
        b_frames = {True: " with B-frames", False: " without B-frames", None: ""}[self.b_frames]
        hidden = " with hidden (alt-ref) frames" if self.hidden_frames else ""
        rotation = f", rotated {self.rotation}°" if self.rotation else ""
        edits = f" with an edit list ({self.edit_list})" if self.edit_list else ""
        return f"{codec} in {self.container}{b_frames}{hidden}{rotation}{edits}"


def stream_info(path: str | Path) -> StreamInfo:
    """The facts of ``path``'s first video stream; raises :class:`VideoReadError` when it has none.

    Memoised per process by (path, size, modification time): a training worker looks a video up once.
    """
    path = str(path)
    status = os.stat(path)
    return _cached(path, status.st_size, status.st_mtime_ns)


@lru_cache(maxsize=65536)
def _cached(path: str, size: int, mtime_ns: int) -> StreamInfo:
    with open(path, "rb") as handle:
        track = video_track(handle, size) if is_mp4(handle.read(12)) else None
    if track is None:
        return probe_with_pyav(path)
    if track.rotation is None:
        raise VideoReadError(path, "the display matrix mirrors the picture; only rotations are supported")
    edits = track_presentation(path, track)
    if edits.refusal:
        raise VideoReadError(path, edits.refusal)
    decoded = picture_size(track.sps) if track.sps else None
    if track.codec == "h264" and decoded is not None:
        info = StreamInfo("mp4", "h264", *decoded, track.rotation, None)
    else:  # the sample entry's size is a claim: PyAV's decoder context has the pictures' own
        info = probe_with_pyav(path, track.rotation)
    return replace(info, edit_list=edits.change, shown_packets=edits.shown) if edits.change else info


def track_presentation(path: str, track: TrackFacts) -> Presentation:
    """What the edit list of an MP4 track does (:mod:`datamodules.decoding.edit_list`); a fragmented
    file's packet times are read with PyAV for it."""
    if track.edits is None:
        return IDENTITY
    if not track.fragmented:
        return presentation(track.edits, track.tables)
    movie_timescale = track.tables.movie_timescale if track.tables is not None else 0
    return fragment_presentation(track.edits, movie_timescale, packet_times(path))


def packet_times(path: str) -> list[Fraction]:
    """The presentation time (seconds) of every video packet that holds a picture, as FFmpeg's demuxer gives it."""
    import av

    try:
        with av.open(path, metadata_errors=METADATA_ERRORS) as container:
            stream = container.streams.video[0]
            return [packet.pts * stream.time_base for packet in container.demux(stream)
                    if packet.size and packet.pts is not None]  # fmt: skip
    except (av.FFmpegError, IndexError) as error:
        raise VideoReadError(path, f"cannot open video (PyAV: {error})") from error


def probe_with_pyav(path: str, rotation: int | None = None) -> StreamInfo:
    """Open the file with PyAV (its headers only; the first frame too for an MP4's rotation, unless given)."""
    import av

    try:
        with av.open(path, metadata_errors=METADATA_ERRORS) as container:
            if not container.streams.video:
                raise VideoReadError(path, "no video stream (audio only, or not a video)")
            stream = container.streams.video[0]
            context = stream.codec_context
            name = CONTAINER_NAMES.get(container.format.name, container.format.name)
            if rotation is None:
                rotation = _first_frame_rotation(container, stream) if name == "mp4" else 0
            if context.width < 1 or context.height < 1:
                raise VideoReadError(path, "no frames: the video stream has no picture size (a header without data)")
            b_frames = bool(context.has_b_frames) if (name, context.name) in EXACT_WITHOUT_B_FRAMES else None
            hidden, shown = vp8_packet_counts(container, stream) if context.name == "vp8" else (None, None)
            return StreamInfo(name, context.name, context.height, context.width, rotation, b_frames, hidden, shown)
    except av.FFmpegError as error:
        raise VideoReadError(path, f"cannot open video (PyAV: {error})") from error


def is_hidden_vp8_frame(packet) -> bool:
    """Whether a VP8 packet (PyAV ``Packet``) is a frame that is never shown, as libvpx's alt-ref frames
    are: its frame tag's show_frame bit (bit 4 of the first byte) is 0."""
    return bool(packet.size) and not memoryview(packet)[0] >> 4 & 1


def vp8_packet_counts(container, stream) -> tuple[bool, int]:
    """(whether any packet of a VP8 stream is a hidden frame, how many hold a shown one). Reads the packets
    without decoding them, once: the shown count is the frame count in-order decoding starts from."""
    hidden = shown = 0
    for packet in container.demux(stream):
        if packet.size:
            is_hidden = is_hidden_vp8_frame(packet)
            hidden += is_hidden
            shown += not is_hidden
    return hidden > 0, shown


def _first_frame_rotation(container, stream) -> int:
    for frame in container.decode(stream):
        return int(frame.rotation) % 360
    return 0
