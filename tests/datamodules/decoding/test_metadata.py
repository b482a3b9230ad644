"""A container whose metadata text is not UTF-8 is still read: PyAV's strict reading raised UnicodeDecodeError,
which no bad-video policy catches."""
from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from datamodules.decoding.sequential import decode_in_order, to_rgb
from datamodules.decoding.stream_info import probe_with_pyav

TITLE = b"QWERTYUIOPASDFGH"


@pytest.fixture(scope="module")
def bad_metadata_video(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("metadata")
    path = folder / "made.mp4"
    with av.open(str(path), "w", format="mp4") as container:
        container.metadata["title"] = TITLE.decode()
        stream = container.add_stream("libx264", rate=25)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        stream.codec_context.thread_count = 1
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), i * 20, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    data = path.read_bytes()
    assert data.count(TITLE) == 1
    damaged = folder / "damaged_title.mp4"
    damaged.write_bytes(data.replace(TITLE, b"\xff\xfe\xc3\x28" * 4))  # same length, not UTF-8
    return damaged


def test_the_damaged_title_would_stop_strict_reading(bad_metadata_video):
    with pytest.raises(UnicodeDecodeError):
        av.open(str(bad_metadata_video)).close()


def test_probe_and_in_order_decoding_read_past_the_damaged_title(bad_metadata_video):
    info = probe_with_pyav(str(bad_metadata_video))
    assert (info.height, info.width) == (64, 64)
    frames, count = decode_in_order(bad_metadata_video, [0, 9], lambda frame: to_rgb(frame, None))
    assert count == 10 and len(frames) == 2 and frames[1].shape == (64, 64, 3)
    assert abs(int(frames[1].mean()) - 180) <= 3
