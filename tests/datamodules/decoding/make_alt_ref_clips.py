"""Writes the alt-ref test clips in ``alt_ref_clips/`` (committed; run again only to remake them).

libvpx makes hidden alt-ref frames only in a two-pass encode, which PyAV cannot run (it exposes no
first-pass statistics), so these two clips are made with an ``ffmpeg`` binary: ``$FFMPEG``, else the one
on PATH, else the one the ``imageio-ffmpeg`` package bundles (``pip install imageio-ffmpeg``). The frames
are ``codec_clips.pattern`` (each shows its own index), 60 frames at 25 fps, GOP 12, with
``-auto-alt-ref 1 -lag-in-frames 16``. ``test_codec_matrix`` checks that each file does hold hidden frames.

    python -m tests.datamodules.decoding.make_alt_ref_clips
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from tests.datamodules.decoding.codec_clips import HEIGHT, WIDTH, pattern

FOLDER = Path(__file__).parent / "alt_ref_clips"
FRAMES = 60
ENCODERS = {"vp8_alt_ref.webm": "libvpx", "vp9_alt_ref.webm": "libvpx-vp9"}


def ffmpeg() -> str:
    found = os.environ.get("FFMPEG") or shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def two_pass(encoder: str, target: Path, frames: np.ndarray) -> None:
    command = [
        ffmpeg(), "-y", "-hide_banner", "-loglevel", "error",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{WIDTH}x{HEIGHT}", "-r", "25", "-i", "-",
        "-c:v", encoder, "-pix_fmt", "yuv420p", "-g", "12", "-b:v", "300k", "-threads", "1",
        "-auto-alt-ref", "1", "-lag-in-frames", "16",
    ]  # fmt: skip
    with tempfile.TemporaryDirectory() as scratch:
        log = str(Path(scratch) / "pass")
        raw = frames.tobytes()
        subprocess.run([*command, "-pass", "1", "-passlogfile", log, "-f", "null", "-"], input=raw, check=True)
        subprocess.run([*command, "-pass", "2", "-passlogfile", log, str(target)], input=raw, check=True)


def main() -> None:
    frames = np.stack([pattern(i) for i in range(FRAMES)])
    FOLDER.mkdir(exist_ok=True)
    for name, encoder in ENCODERS.items():
        two_pass(encoder, FOLDER / name, frames)
        print(f"wrote {FOLDER / name} ({(FOLDER / name).stat().st_size} bytes)")


if __name__ == "__main__":
    main()
