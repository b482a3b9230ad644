"""``stbench prepare --deep``: every frame of a video or frame folder decoded, and what is wrong said.

The default probe (:mod:`datamodules.decoding.probing`) decodes one frame, so bytes damaged in the
middle of a file pass it, and the decoder then conceals the damage (training sees smeared or grey
frames) or stops early. Here every frame is decoded in order with PyAV, with FFmpeg's error log
captured, and a video is a problem when:

* decoding stops with an error before the end (:data:`DAMAGED`);
* the decoder reports errors or marks frames corrupt (:data:`DAMAGED`, naming the first frames);
* decord — which the reader samples from — lists a different number of frames than decode
  (:data:`COUNT_MISMATCH`; files decoded in order already sample from the count that decodes, so
  for them the difference is only noted).

In a frame folder every JPEG is decoded strictly with Pillow, which refuses truncated or broken data,
and by OpenCV's libjpeg with its warnings captured ("Corrupt JPEG data: ... extraneous bytes"): damage
that leaves a decodable bitstream, which the reader would turn into a garbled picture without an error
(:data:`CORRUPT_JPEG`); gaps are found as by the default probe. Runs one video at a time per process:
FFmpeg's log and libjpeg's messages (on the process's stderr) are captured per process.
"""
from __future__ import annotations

import io
import os
import tempfile
from dataclasses import replace
from pathlib import Path

from datamodules.decoding.base import VideoReadError, short_error
from datamodules.decoding.probing import (
    CANNOT_OPEN,
    COUNT_MISMATCH,
    CORRUPT_JPEG,
    DAMAGED,
    SEQUENTIAL_NOTE,
    Probe,
    open_problem,
    probe_frame_folder,
    signature,
)
from datamodules.paths import os_error_reason
from datamodules.records import VideoRecord

LISTED = 5  # damaged frames or files named in a detail


def deep_probe(record: VideoRecord) -> Probe:
    """Decode every frame of one record's video or folder; never raises for a bad video."""
    sig = signature(record)
    path = Path(record.path)
    try:
        if record.is_frame_folder:
            result = deep_probe_folder(path, record.frame_template, record.first_frame)
        else:
            result = deep_probe_video(path)
    except OSError as error:
        result = Probe(None, CANNOT_OPEN, os_error_reason(error))
    return replace(result, signature=sig, deep=True)


def decode_checked(path: Path) -> tuple[int, list[int], str, str]:
    """Decode every frame: (frames decoded, frames with decoder errors, first error message, stop error)."""
    import av
    import av.logging

    from datamodules.decoding.sequential import iter_frames

    flagged: list[int] = []
    first_message, stop, decoded = "", "", 0
    previous_level = av.logging.get_level()
    av.logging.set_level(av.logging.ERROR)
    try:
        with av.logging.Capture(local=True) as logs:
            seen = 0
            try:
                for decoded, frame in enumerate(iter_frames(path), start=1):
                    if frame.is_corrupt or len(logs) > seen:
                        flagged.append(decoded - 1)
                        first_message = first_message or (logs[seen][2].strip() if len(logs) > seen else "corrupt")
                        seen = len(logs)
            except VideoReadError as error:
                stop = error.reason
            if len(logs) > seen and not flagged:  # errors after the last frame (a damaged tail)
                first_message = logs[seen][2].strip()
                flagged.append(decoded)
    finally:
        av.logging.set_level(previous_level)
    return decoded, flagged, first_message, stop


def deep_probe_video(path: Path) -> Probe:
    from datamodules.decoding.video import VideoFile

    try:
        video = VideoFile(path)
    except VideoReadError as error:
        return open_problem(path, error)
    with video:
        listed, sequential = video.num_frames, video.sequential
        note = f"{SEQUENTIAL_NOTE}: {video.fallback_reason}" if sequential else ""
    decoded, flagged, message, stop = decode_checked(path)
    if stop:
        return Probe(decoded, DAMAGED, f"{stop} (the container lists {listed})")
    if flagged:
        frames = ", ".join(map(str, flagged[:LISTED])) + (", ..." if len(flagged) > LISTED else "")
        detail = f"the decoder reports errors at {len(flagged)} frame(s) ({frames}): {message}"
        return Probe(decoded, DAMAGED, detail)
    if decoded != listed:
        if not sequential:
            return Probe(listed, COUNT_MISMATCH, f"decord lists {listed} frames but {decoded} decode")
        note += f"; the container lists {listed} frames, {decoded} decode"
    return Probe(decoded, note=note)


def strict_jpeg_error(path: Path) -> str:
    """Why ``path`` is not a whole, clean JPEG ("" when it is): Pillow's error, else libjpeg's warning."""
    from PIL import Image

    data = path.read_bytes()
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
    except OSError as error:  # Pillow's UnidentifiedImageError and truncation errors are OSErrors
        return short_error(error)
    return libjpeg_warning(data)


def libjpeg_warning(data: bytes) -> str:
    """The first message libjpeg prints while OpenCV decodes ``data`` ("" for none).

    libjpeg reports recoverable damage only as a line on stderr, so fd 2 is pointed at a temporary
    file for the call (the deep probe runs one file at a time per process).
    """
    import cv2
    import numpy as np

    with tempfile.TemporaryFile() as sink:
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        sink.seek(0)
        message = sink.read().decode("utf-8", "replace").strip().splitlines()
    if image is None:
        return message[0] if message else "OpenCV cannot decode it"
    return message[0] if message else ""


def deep_probe_folder(path: Path, template: str, first_frame: int) -> Probe:
    from datamodules.decoding.frames import frame_name

    result = probe_frame_folder(path, template, first_frame)
    if not result.ok:
        return result
    corrupt = []
    for index in range(result.num_frames):
        name = frame_name(template, first_frame, index)
        if reason := strict_jpeg_error(path / name):
            corrupt.append(f"{name} ({reason})")
    if corrupt:
        listed = "; ".join(corrupt[:LISTED]) + (f"; and {len(corrupt) - LISTED} more" if len(corrupt) > LISTED else "")
        return Probe(result.num_frames, CORRUPT_JPEG, f"{len(corrupt)} of {result.num_frames} frames: {listed}")
    return result
