"""The reader is frame-exact on every codec and container of the eight datasets.

Each clip (``codec_clips.CLIPS``, made once per session) shows its frame index in its pixels. One reader
per clip answers a sequence of requests — test, training and multi-frame training draws, unsorted and
repeated indices, the last frame from several earlier positions — at the native size and at a decode
size, and every frame returned must be the frame asked for. The clips decord seeks in exactly must be
read by decord (its speed is kept), the others decoded in order.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from datamodules.decoding.frames import read_frames
from datamodules.decoding.video import VideoFile, read_clip
from datamodules.sampling.segments import segment_indices
from datamodules.decoding.stream_info import is_hidden_vp8_frame
from tests.datamodules.decoding.codec_clips import (
    ALT_REF_CLIPS,
    CLIPS,
    Clip,
    can_encode,
    encode,
    frame_index,
    jpeg_folder,
)

FRAME_FOLDER_FRAMES = 37  # a typical Jester clip


def requests(n: int) -> dict[str, list[int]]:
    """The request sequence asked of one reader, by name (in this order)."""
    generator = torch.Generator().manual_seed(0)
    return {
        "test": segment_indices(n, 8, "test"),
        "train": segment_indices(n, 8, "train", generator=generator),
        "train again": segment_indices(n, 8, "train", generator=generator),
        "train L=4": segment_indices(n, 3, "train", frames_per_segment=4, generator=generator),
        "unsorted, repeated": [n - 1, 0, n // 2, n // 2, 3, n - 2, 1],
        "last": [n - 1],
        "last twice": [n - 1, n - 1],
        "first then last": [0, n - 1],
        "test again": segment_indices(n, 8, "test"),
        "last from the end": [n - 2, n - 1],
    }


@pytest.fixture(scope="session")
def clip_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("codec_clips")
    for clip in CLIPS:
        if not can_encode(clip):
            encode(clip, folder)
    jpeg_folder(folder / "jpeg_frames", FRAME_FOLDER_FRAMES)
    return folder


def clip_path(folder: Path, clip: Clip) -> Path:
    if reason := can_encode(clip):
        pytest.skip(reason)
    return folder / clip.file_name


def decode_size(clip: Clip) -> tuple[int, int]:
    """1.5 × the displayed size: resized on decode, nothing cut, so the index pattern stays whole."""
    height, width = (64, 48) if clip.rotate % 180 else (48, 64)
    return height * 3 // 2, width * 3 // 2


def wrong_frames(frames: np.ndarray, asked: list[int]) -> list[tuple[int, int]]:
    got = [frame_index(frame) for frame in frames]
    return [(a, g) for a, g in zip(asked, got) if a != g]


@pytest.mark.parametrize("resized", [False, True], ids=["native", "resized"])
@pytest.mark.parametrize("clip", CLIPS, ids=[clip.name for clip in CLIPS])
def test_every_request_on_one_reader_returns_the_frames_asked_for(clip_folder, clip, resized):
    path = clip_path(clip_folder, clip)
    size = decode_size(clip) if resized else None
    with VideoFile(path, size) as video:
        assert video.num_frames == clip.frames
        assert video.sequential != clip.decord, video.fallback_reason
        expected_shape = size or ((64, 48) if clip.rotate % 180 else (48, 64))
        wrong = {}
        for name, asked in requests(clip.frames).items():
            frames = video.frames(asked)
            assert frames.shape == (len(asked), *expected_shape, 3)
            if bad := wrong_frames(frames, asked):
                wrong[name] = bad
        assert not wrong, f"{clip.name}: (asked, got) {wrong}"


@pytest.mark.parametrize("clip", CLIPS, ids=[clip.name for clip in CLIPS])
def test_a_fresh_reader_per_clip_returns_the_frames_asked_for(clip_folder, clip):
    path = clip_path(clip_folder, clip)
    for name, asked in requests(clip.frames).items():
        frames, count = read_clip(path, lambda n, asked=asked: asked)
        assert count == clip.frames and not wrong_frames(frames.numpy(), asked), name


def test_a_frame_folder_returns_the_frames_asked_for(clip_folder):
    folder = clip_folder / "jpeg_frames"
    for name, asked in requests(FRAME_FOLDER_FRAMES).items():
        for size in (None, (72, 96)):
            frames, count = read_frames(folder, "{:05d}.jpg", 1, lambda n, asked=asked: asked, size)
            assert count == FRAME_FOLDER_FRAMES and not wrong_frames(frames.numpy(), asked), (name, size)


def test_the_display_rotation_is_applied_and_never_stretched(clip_folder):
    clip = next(c for c in CLIPS if c.rotate)
    path = clip_path(clip_folder, clip)
    with VideoFile(path) as video:
        assert (video.info.rotation, video.num_frames) == (90, clip.frames)
        assert video.frames([0]).shape == (1, 64, 48, 3)  # coded 64×48, shown 48 wide × 64 high
    with VideoFile(path, (80, 80)) as video:  # a square decode size: scaled to 80 wide, the middle rows kept
        assert video.fit.resized == (107, 80) and video.frames([5]).shape == (1, 80, 80, 3)


# decord turns a 180° display rotation itself (90° and 270° break it); rotated files are still decoded in order.
IN_ORDER = [c for c in CLIPS if not c.decord and c.rotate != 180]


@pytest.mark.parametrize("clip", IN_ORDER, ids=[c.name for c in IN_ORDER])
def test_bare_decord_is_wrong_on_every_clip_decoded_in_order(clip_folder, clip):
    """Why those clips are not read with decord: on each, decord fails or returns a wrong frame."""
    import decord

    path = clip_path(clip_folder, clip)
    try:
        reader = decord.VideoReader(str(path), num_threads=1)
        results = [(asked, reader.get_batch(asked).asnumpy()) for asked in requests(clip.frames).values()]
    except Exception:  # decord cannot open or decode it
        return
    shown = (64, 48) if clip.rotate % 180 else (48, 64)
    assert any(frames.shape[1:3] != shown or wrong_frames(frames, asked) for asked, frames in results)


def hidden_frames(path: Path) -> int:
    """Frames coded but never shown: VP8 packets whose show_frame bit is 0; VP9 frames inside a superframe
    (a packet ending in a superframe index, marker 0b110xxxxx) whose uncompressed header says show_frame 0."""
    import av

    hidden = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for packet in container.demux(stream):
            if not packet.size:
                continue
            data = bytes(packet)
            if stream.codec_context.name == "vp8":
                hidden += is_hidden_vp8_frame(packet)
            elif data[-1] & 0xE0 == 0xC0:  # VP9 superframe: the first frame is hidden when its bit 1 is 0
                hidden += data[0] >> 6 == 2 and not data[0] >> 3 & 1 and not data[0] >> 1 & 1
    return hidden


@pytest.mark.parametrize("name", ["vp8_alt_ref.webm", "vp9_alt_ref.webm"])
def test_the_alt_ref_clips_hold_hidden_frames(name):
    """The committed two-pass clips cover what they are named for: frames coded but never shown."""
    assert hidden_frames(ALT_REF_CLIPS / name) >= 3


def test_vp8_alt_ref_frames_are_not_counted_as_frames(clip_folder):
    clip = next(c for c in CLIPS if c.name == "vp8_alt_ref")
    with VideoFile(clip_path(clip_folder, clip)) as video:
        assert video.num_frames == clip.frames and "hidden (alt-ref) frames" in video.fallback_reason


def test_a_vp8_files_packets_are_read_once_on_first_open(clip_folder, monkeypatch):
    """The probe that looks for hidden frames also counts the shown ones: no second pass over the packets."""
    from datamodules.decoding import sequential

    def second_pass(path):
        raise AssertionError(f"{path}: the packets were read a second time")

    monkeypatch.setattr(sequential, "count_packets", second_pass)
    clip = next(c for c in CLIPS if c.name == "vp8_alt_ref_no_cues")  # decord cannot open it: in order
    path = clip_path(clip_folder, clip)
    with VideoFile(path) as video:
        assert video.sequential and video.num_frames == clip.frames
        assert video.info.shown_packets == clip.frames and video.info.hidden_frames
