"""The picture size read from an H.264 SPS is the size the decoder outputs, across profiles and croppings."""
from __future__ import annotations

import os
from pathlib import Path

import av
import numpy as np
import pytest

from datamodules.decoding.h264_sps import picture_size, unescape
from datamodules.decoding.mp4_boxes import video_track

CASES = [  # (height, width, pixel format, x264 parameters)
    (2, 2, "yuv420p", ""),
    (96, 160, "yuv420p", ""),
    (98, 170, "yuv420p", ""),  # not a multiple of 16: cropped
    (1080, 1920, "yuv420p", ""),
    (98, 170, "yuv444p", ""),  # High 4:4:4
    (97, 171, "yuv444p", ""),  # odd sizes, cropped by single pixels
    (98, 170, "yuv422p", ""),
    (55, 35, "gray", ""),  # monochrome
    (100, 170, "yuv420p", "interlaced=1"),  # field coding: frame_mbs_only_flag 0
    (98, 170, "yuv420p", "cqm=jvt"),  # scaling matrices in the SPS
    (720, 1280, "yuv420p10le", ""),  # High 10
]


def encode(path: Path, height: int, width: int, pixel_format: str, parameters: str) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, pixel_format
        stream.options = {"x264-params": ":".join(filter(None, ["threads=1", parameters]))}
        image = np.zeros((height, width, 3), np.uint8)
        for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):  # the encoder converts it
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


@pytest.mark.parametrize("height, width, pixel_format, parameters", CASES)
def test_the_sps_size_is_the_decoded_size(tmp_path, height, width, pixel_format, parameters):
    path = encode(tmp_path / "clip.mp4", height, width, pixel_format, parameters)
    with open(path, "rb") as handle:
        track = video_track(handle, os.path.getsize(path))
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
    assert picture_size(track.sps) == (frame.height, frame.width) == (height, width)


def test_what_is_not_an_sps_has_no_size():
    assert picture_size(b"") is None
    assert picture_size(b"\x68\xee\x3c\x80") is None  # a PPS
    assert picture_size(b"\x67\x64\x00") is None  # cut short
    assert picture_size(b"\x67" + b"\x00" * 20) is None  # an Exp-Golomb code with no end


def test_emulation_prevention_bytes_are_removed():
    assert unescape(b"\x00\x00\x03\x01\x00\x00\x03\x00\x03") == b"\x00\x00\x01\x00\x00\x00\x03"
