"""The reader on MP4/MOV clips with edit lists: the frames are the ones the edit list shows, in order, or
the file is refused with the reason.

Each clip (``edit_list_clips.EDIT_CLIPS``: stream-copy cuts that skip leading pictures in H.264 with and
without B-frames, variable frame rate, MOV, HEVC, MPEG-4 Part 2 and VP9; delayed starts; trimmed tails;
two spans; a repeated span; fragmented movies; and lists FFmpeg does not play as written) is read with
the request sequence of the codec matrix, at the native size and at a decode size, by one reader and by
a fresh reader per request. The default probe must see the edit list.
"""
from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from datamodules.decoding.base import VideoReadError
from datamodules.decoding.convert import frame_to_array
from datamodules.decoding.probing import CANNOT_OPEN, probe_video
from datamodules.decoding.stream_info import stream_info
from datamodules.decoding.video import VideoFile, read_clip
from tests.datamodules.decoding.codec_clips import CLIPS, frame_index
from tests.datamodules.decoding.edit_list_clips import EDIT_CLIPS, make
from tests.datamodules.decoding.test_codec_matrix import requests

READ = [clip for clip in EDIT_CLIPS if not clip.refused]
REFUSED = [clip for clip in EDIT_CLIPS if clip.refused]


@pytest.fixture(scope="module")
def edit_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("edit_list_clips")
    for clip in EDIT_CLIPS:
        make(clip, folder)
    return folder


def shown_by_pyav(path: Path) -> list[int]:
    with av.open(str(path)) as container:
        container.streams.video[0].codec_context.thread_count = 1
        return [frame_index(frame_to_array(frame)) for frame in container.decode(video=0)]


def has_edit_list(path: Path) -> bool:
    return b"elst" in path.read_bytes()


@pytest.mark.parametrize("clip", EDIT_CLIPS, ids=[clip.name for clip in EDIT_CLIPS])
def test_each_clip_has_the_edit_list_it_is_named_for(edit_folder, clip):
    """The clips cover their cases: an edit list is there, and FFmpeg shows what it says where it is read
    (and something else where it is refused for that)."""
    path = edit_folder / clip.file_name
    assert has_edit_list(path)
    shown = shown_by_pyav(path)
    if not clip.refused:
        assert shown == list(clip.spec)
    elif clip.spec:
        assert shown != list(clip.spec)


def wrong(frames: np.ndarray, asked: list[int], spec: tuple[int, ...]) -> list[tuple[int, int, int]]:
    """(asked, frame it should be, frame returned) for each wrong frame."""
    got = [frame_index(frame) for frame in frames]
    return [(a, spec[a], g) for a, g in zip(asked, got) if spec[a] != g]


DECODE_SIZE = (72, 96)  # 1.5 × the 48×64 clips: resized on decode, nothing cut


@pytest.mark.parametrize("resized", [False, True], ids=["native", "resized"])
@pytest.mark.parametrize("clip", READ, ids=[clip.name for clip in READ])
def test_every_request_returns_the_shown_frames_asked_for(edit_folder, clip, resized):
    size = DECODE_SIZE if resized else None
    with VideoFile(edit_folder / clip.file_name, size) as video:
        assert video.num_frames == len(clip.spec), video.fallback_reason
        assert video.sequential and "edit list" in video.fallback_reason
        bad = {}
        for name, asked in requests(len(clip.spec)).items():
            frames = video.frames(asked)
            assert frames.shape == (len(asked), *(size or (48, 64)), 3)
            if errors := wrong(frames, asked, clip.spec):
                bad[name] = errors
        assert not bad, f"{clip.name}: (asked, shown, got) {bad}"
        assert video.num_frames == len(clip.spec)
        everything = list(range(len(clip.spec)))
        assert not wrong(video.frames(everything), everything, clip.spec)
        with pytest.raises(VideoReadError, match="outside"):
            video.frames([len(clip.spec)])


@pytest.mark.parametrize("clip", READ, ids=[clip.name for clip in READ])
def test_a_fresh_reader_per_request_returns_the_shown_frames(edit_folder, clip):
    for name, asked in requests(len(clip.spec)).items():
        frames, count = read_clip(edit_folder / clip.file_name, lambda n, asked=asked: asked)
        assert count == len(clip.spec) and not wrong(frames.numpy(), asked, clip.spec), name


@pytest.mark.parametrize("clip", READ, ids=[clip.name for clip in READ])
def test_the_default_probe_sees_the_edit_list(edit_folder, clip):
    path = edit_folder / clip.file_name
    assert stream_info(path).edit_list and not stream_info(path).exact_seek
    probe = probe_video(path)
    assert probe.ok and probe.num_frames == len(clip.spec)
    assert "with an edit list" in probe.note and "decoded in order" in probe.note
    assert "the container lists" not in probe.note  # counted right before any decoding


@pytest.mark.parametrize("clip", REFUSED, ids=[clip.name for clip in REFUSED])
def test_an_edit_list_that_cannot_be_shown_as_written_is_refused_with_the_reason(edit_folder, clip):
    path = edit_folder / clip.file_name
    with pytest.raises(VideoReadError, match=clip.refused):
        VideoFile(path)
    with pytest.raises(VideoReadError, match=clip.refused):
        read_clip(path, lambda n: [0])
    probe = probe_video(path)
    assert probe.problem == CANNOT_OPEN and clip.refused in probe.detail and "edit list" in probe.detail


def test_the_identity_edit_list_of_a_b_frame_clip_keeps_decord(edit_folder):
    """FFmpeg writes an edit list into every MP4 with B-frames (its media_time is the first presentation
    time): that list shows every frame and the file stays on decord's fast path."""
    clip = next(c for c in CLIPS if c.name == "h264_b3")
    path = edit_folder / clip.file_name
    assert has_edit_list(path)
    with VideoFile(path) as video:
        assert not video.sequential and video.num_frames == clip.frames
        assert [frame_index(frame) for frame in video.frames([0, 59])] == [0, 59]
