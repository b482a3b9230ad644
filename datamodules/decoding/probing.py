"""Probing one video file or frame folder: its frame count, how it is decoded, or what is wrong with it.

The default probe opens a video as the training reader does (:class:`datamodules.decoding.video.VideoFile`:
container, codec, and whether decord's seek is exact on it) and decodes its **last** frame: an mp4 cut
short usually fails to open at all, but a file damaged past its header can open, report a length and
still fail to decode its tail. With decord that costs one decode from the nearest preceding key frame
(1–5 ms for short clips of a 12-frame GOP, up to ~0.35 s for a long-GOP 720p video, on one CPU core);
a file decord cannot seek in exactly is decoded in order to its end, which also counts the frames that
actually decode. A frame folder is listed (a gap in its numbering is a problem) and its last frame
decoded. :mod:`datamodules.decoding.deep_probe` decodes every frame instead.

A probe never raises for a bad video: the problem is recorded (see :data:`PROBLEM_KINDS`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from datamodules.decoding.base import VideoReadError, short_error
from datamodules.paths import NOT_FOUND, os_error_reason, path_problem
from datamodules.records import VideoRecord

MISSING = "missing"
ZERO_BYTE = "zero-byte"
CANNOT_OPEN = "cannot open"
NO_FRAMES = "no frames"
CANNOT_DECODE = "cannot decode"
FRAME_GAP = "frame gap"
DAMAGED = "damaged frames"
COUNT_MISMATCH = "frame-count mismatch"
CORRUPT_JPEG = "corrupt JPEG"
PROBLEM_KINDS = (MISSING, ZERO_BYTE, CANNOT_OPEN, NO_FRAMES, CANNOT_DECODE, FRAME_GAP, DAMAGED, COUNT_MISMATCH,
                 CORRUPT_JPEG)  # fmt: skip
SEQUENTIAL_NOTE = "decoded in order with PyAV"

Signature = tuple[str | None, int, int | None, int | None]  # (frame template, first frame, size, mtime_ns)


@dataclass(frozen=True)
class Probe:
    """What probing one video file or frame folder found: its frame count, or the problem."""

    num_frames: int | None
    problem: str | None = None  # one of PROBLEM_KINDS, None when the video is readable
    detail: str = ""
    signature: Signature | None = None  # what was probed; a changed signature means probe again
    note: str = ""  # how a readable video is decoded when not by decord's seek (see SEQUENTIAL_NOTE)
    deep: bool = False  # every frame was decoded

    @property
    def ok(self) -> bool:
        return self.problem is None


def signature(record: VideoRecord) -> Signature:
    try:
        stat = os.stat(record.path)
    except OSError:
        return (record.frame_template, record.first_frame, None, None)
    size = None if record.is_frame_folder else stat.st_size
    return (record.frame_template, record.first_frame, size, stat.st_mtime_ns)


def open_problem(path: Path, error: VideoReadError) -> Probe:
    """The probe of a video that the reader refuses to open."""
    reason = error.reason.replace(str(path), path.name)
    if reason == "file not found":
        return Probe(None, MISSING, reason)
    if reason.startswith("empty file"):
        return Probe(None, ZERO_BYTE, reason)
    if reason.startswith("no frames"):
        return Probe(0, NO_FRAMES, reason)
    if reason.startswith("cannot open video"):
        reason = "cannot open it (truncated, corrupt or not a video): " + reason.removeprefix("cannot open video ")
    return Probe(None, CANNOT_OPEN, reason)


def probe_video(path: Path) -> Probe:
    """Frame count of a video file as the reader sees it, then a decode of the last frame."""
    from datamodules.decoding.video import FrameCountChanged, VideoFile

    try:
        video = VideoFile(path)
    except VideoReadError as error:
        return open_problem(path, error)
    listed = video.num_frames
    with video:
        try:
            video.frames([listed - 1])
        except FrameCountChanged:
            pass
        except VideoReadError as error:
            return Probe(listed, CANNOT_DECODE, f"last frame ({listed - 1}) does not decode: {short_error(error)}")
        note = f"{SEQUENTIAL_NOTE}: {video.fallback_reason}" if video.sequential else ""  # decord may have given up
    if video.num_frames != listed:
        note += f"; the container lists {listed} frames, {video.num_frames} decode"
    return Probe(video.num_frames, note=note)


def probe_frame_folder(path: Path, template: str, first_frame: int) -> Probe:
    """Frame count of a JPEG frame folder (a gap is a problem), then a decode of the last frame."""
    from datamodules.decoding.frames import FrameGapError, count_frames, decode_frame, frame_name

    problem = path_problem(path, "folder")
    if problem is not None:
        return Probe(None, MISSING if problem == NOT_FOUND else CANNOT_OPEN, f"frame folder {problem}")
    try:
        num_frames = count_frames(path, template, first_frame)
    except FrameGapError as error:
        return Probe(None, FRAME_GAP, error.reason)
    except VideoReadError as error:
        return Probe(None, CANNOT_OPEN, error.reason)
    if num_frames < 1:
        return Probe(0, NO_FRAMES, f"no frame {frame_name(template, first_frame, 0)} in the folder")
    last = path / frame_name(template, first_frame, num_frames - 1)
    try:
        decode_frame(last)
    except VideoReadError as error:
        kind = ZERO_BYTE if "0 bytes" in error.reason else CANNOT_DECODE
        return Probe(num_frames, kind, f"last frame {last.name}: {error.reason}")
    return Probe(num_frames)


def probe(record: VideoRecord) -> Probe:
    """Probe one record's video file or frame folder; never raises for a bad video."""
    sig = signature(record)
    path = Path(record.path)
    try:
        if record.is_frame_folder:
            result = probe_frame_folder(path, record.frame_template, record.first_frame)
        else:
            result = probe_video(path)
    except OSError as error:  # a filesystem error the probes did not foresee
        result = Probe(None, CANNOT_OPEN, os_error_reason(error))
    return replace(result, signature=sig)


def unusable_reason(entry: Probe) -> str:
    """How a training run names a video the index marks unusable."""
    return f"{entry.problem}: {entry.detail} (found by `stbench prepare`; re-run it once the file is fixed)"
