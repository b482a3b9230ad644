"""PyAV conversions survive a fork: a frame converted in the parent leaves nothing that hangs the child.

With PyAV 18.1.1 a plain conversion (``to_ndarray`` with its default threads) in the parent makes the same call in a forked child
wait forever (``shared/notes/pyav-fork.md``); :func:`frame_to_array` converts on the calling thread.
"""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import av
import numpy as np
import pytest

from datamodules.decoding.convert import frame_to_array
from tests.datamodules.decoding.codec_clips import CLIPS, encode, frame_index

CHILD_LIMIT_S = 30.0


@pytest.fixture(scope="module")
def mpeg1_clip(tmp_path_factory) -> Path:
    clip = next(c for c in CLIPS if c.name == "mpeg1_ps_gop12")
    return encode(clip, tmp_path_factory.mktemp("convert"))


def first_frames(path: Path, count: int, **options) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        frames = []
        for frame in container.decode(video=0):
            frames.append(frame_to_array(frame, **options))
            if len(frames) == count:
                return frames
    return frames


def run_in_forked_child(job) -> int:
    """Exit status of ``job()`` run in a forked child (0: it returned and was right), killed past the limit."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os._exit(0 if job() else 1)
        except BaseException:
            os._exit(2)
    deadline = time.monotonic() + CHILD_LIMIT_S
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return -1  # hung


@pytest.mark.parametrize(
    "options",
    [dict(), dict(format="gray"), dict(size=(24, 32), interpolation="BICUBIC"), dict(size=(48, 64))],
    ids=["rgb", "gray", "scaled", "native-size-given"],
)
def test_a_child_converts_after_its_parent_did(mpeg1_clip, options):
    parent = first_frames(mpeg1_clip, 3, **options)
    if "format" not in options:
        assert [frame_index(frame) for frame in parent] == [0, 1, 2]

    def child_job() -> bool:
        again = first_frames(mpeg1_clip, 3, **options)
        return all(np.array_equal(a, b) for a, b in zip(parent, again)) and len(again) == 3

    assert run_in_forked_child(child_job) == 0, "the forked child hung or converted differently"


def test_conversion_shape_and_format(mpeg1_clip):
    (rgb,) = first_frames(mpeg1_clip, 1)
    (gray,) = first_frames(mpeg1_clip, 1, format="gray")
    (small,) = first_frames(mpeg1_clip, 1, size=(24, 32))
    assert rgb.shape == (48, 64, 3) and rgb.dtype == np.uint8
    assert gray.shape == (48, 64)
    assert small.shape == (24, 32, 3)
