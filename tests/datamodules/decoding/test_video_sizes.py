"""Frame sizes come from the decoded pictures: never from a container header, and tiny pictures decode.

An MP4's sample entry and track header state a width and height that nothing checks against the
bitstream: a file claiming 16000×16000 (or 40×24) for 160×96 pictures must decode exactly as the honest
file does, at its native size and at a decode size (scaled by its real aspect, not stretched). decord
cannot hand out frames of some small sizes (2×2 among them) that PyAV decodes: those are read too.
"""
from __future__ import annotations

import struct
from pathlib import Path

import av
import numpy as np
import pytest

from datamodules.decoding.stream_info import stream_info
from datamodules.decoding.video import VideoFile, read_clip
from tests.datamodules.decoding.codec_clips import pattern

HEIGHT, WIDTH, FRAMES = 96, 160, 24
CODECS = {"h264": "libx264", "hevc": "libx265", "vp9": "libvpx-vp9"}


def write_clip(path: Path, codec: str, height: int, width: int, images: list[np.ndarray]) -> Path:
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream(codec, rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.thread_count = 1
        stream.gop_size = 12
        if codec == "libx264":
            stream.options = {"x264-params": "threads=1", "crf": "18"}
        elif codec == "libx265":
            stream.options = {"x265-params": "log-level=error"}
        for image in images:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def claiming(source: Path, target: Path, height: int, width: int) -> Path:
    """A remux of ``source`` whose headers (sample entry, track header) claim ``height`` × ``width``."""
    with av.open(str(source)) as original, av.open(str(target), "w", format="mp4") as output:
        stream = original.streams.video[0]
        copy = output.add_stream_from_template(stream)
        copy.codec_context.width, copy.codec_context.height = width, height
        for packet in original.demux(stream):
            if packet.dts is not None:
                packet.stream = copy
                output.mux(packet)
    return target


def header_size(path: Path) -> tuple[int, int]:
    """(height, width) of the first sample entry of an MP4's stsd box."""
    data = path.read_bytes()
    entry = data.index(b"stsd") + 12  # after the box type, version/flags and entry count
    width, height = struct.unpack(">HH", data[entry + 32 : entry + 36])
    return height, width


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, dict[str, Path]]:
    folder = tmp_path_factory.mktemp("sizes")
    images = [pattern(i, HEIGHT, WIDTH) for i in range(FRAMES)]
    made = {}
    for name, codec in CODECS.items():
        honest = write_clip(folder / f"{name}.mp4", codec, HEIGHT, WIDTH, images)
        made[name] = {
            "honest": honest,
            "16000x16000": claiming(honest, folder / f"{name}_16000.mp4", 16000, 16000),
            "40x24": claiming(honest, folder / f"{name}_40x24.mp4", 24, 40),
        }
    return made


@pytest.mark.parametrize("claim", ["16000x16000", "40x24"])
@pytest.mark.parametrize("codec", CODECS)
def test_a_header_that_lies_about_the_size_changes_nothing(clips, codec, claim):
    honest, lying = clips[codec]["honest"], clips[codec][claim]
    claimed = tuple(int(side) for side in claim.split("x"))[::-1]
    assert header_size(lying) == claimed and header_size(honest) == (HEIGHT, WIDTH)
    asked = [0, 5, FRAMES - 1, 5]
    for size in (None, (80, 80), (48, 120)):
        with VideoFile(honest, size) as reference, VideoFile(lying, size) as video:
            expected, frames = reference.frames(asked), video.frames(asked)
            assert frames.shape == (len(asked), *(size or (HEIGHT, WIDTH)), 3), size
            np.testing.assert_array_equal(frames, expected, err_msg=f"decode size {size}")
            assert video.fit == reference.fit and video.sequential == reference.sequential
    info = stream_info(lying)
    assert (info.height, info.width) == (HEIGHT, WIDTH)


def test_a_decode_size_of_another_aspect_is_covered_not_stretched(clips):
    """160×96 into 80×80: scaled to 133×80 and the middle 80 columns kept, as for the honest file."""
    with VideoFile(clips["h264"]["16000x16000"], (80, 80)) as video:
        assert video.fit.resized == (80, 133) and video.fit.window == (0, 26, 80, 80)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[tuple[int, int], Path]:
    """H.264 clips of a few small sizes decord cannot hand out; frame i is flat grey 20 + 20·i."""
    folder = tmp_path_factory.mktemp("tiny")
    levels = [np.full((1, 1, 3), 20 + 20 * i, np.uint8) for i in range(10)]
    sizes = [(2, 2), (4, 6), (8, 16), (16, 8)]
    return {
        (h, w): write_clip(folder / f"{h}x{w}.mp4", "libx264", h, w, [np.tile(level, (h, w, 1)) for level in levels])
        for h, w in sizes
    }


@pytest.mark.parametrize("size", [None, (8, 8), (32, 48)], ids=["native", "8x8", "32x48"])
@pytest.mark.parametrize("shape", [(2, 2), (4, 6), (8, 16), (16, 8)], ids=["2x2", "4x6", "8x16", "16x8"])
def test_tiny_h264_pictures_are_read(tiny, shape, size):
    asked = [9, 0, 4, 4]
    frames, count = read_clip(tiny[shape], lambda n: asked, size)
    assert count == 10 and tuple(frames.shape) == (4, *(size or shape), 3)
    levels = frames.numpy().reshape(4, -1).mean(axis=1)
    np.testing.assert_allclose(levels, [20 + 20 * i for i in asked], atol=6)
