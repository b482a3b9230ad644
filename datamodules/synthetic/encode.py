"""Encoding rendered frames as H.264 ``.mp4`` files."""
from __future__ import annotations

from pathlib import Path

import numpy as np

# Encoder settings (libx264). No B-frames and a short fixed GOP keep random access cheap for decord.
CRF = 18
GOP = 12
PRESET = "veryfast"


def encode_mp4(frames: np.ndarray, path: Path, fps: int) -> None:
    """Write (T, H, W, 3) uint8 RGB frames as H.264 / yuv420p in an .mp4 container."""
    import av

    t, h, w, _ = frames.shape
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width = w
        stream.height = h
        stream.pix_fmt = "yuv420p"
        stream.gop_size = GOP
        stream.codec_context.thread_count = 1
        stream.options = {
            "crf": str(CRF),
            "preset": PRESET,
            "x264-params": f"keyint={GOP}:min-keyint={GOP}:scenecut=0:bframes=0:threads=1",
        }
        for i in range(t):
            frame = av.VideoFrame.from_ndarray(frames[i], format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
