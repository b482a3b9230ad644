from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from datamodules.decoding.frames import FrameGapError, count_frames, read_frames
from datamodules.decoding.video import VideoReadError, read_clip, read_record
from datamodules.records import VideoRecord
from datamodules.sampling.segments import segment_indices
from datamodules.synthetic.generate import clip_rng, encode_mp4, render_clip

TEMPLATE = "{:05d}.jpg"


def frame_colours(count: int) -> np.ndarray:
    """One flat RGB colour per frame, far apart so that JPEG loss cannot confuse two frames."""
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(count, 3)).astype(np.uint8)


def write_frames(folder: Path, colours: np.ndarray, size=(24, 40), first: int = 1) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for offset, rgb in enumerate(colours):
        image = np.broadcast_to(rgb, (*size, 3))
        assert cv2.imwrite(str(folder / TEMPLATE.format(first + offset)), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))


@pytest.fixture
def folder(tmp_path) -> tuple[Path, np.ndarray]:
    colours = frame_colours(12)
    write_frames(tmp_path / "clip", colours)
    return tmp_path / "clip", colours


def test_reads_exactly_the_sampled_frames_in_rgb(folder):
    path, colours = folder
    for indices in ([0, 11, 5, 5], segment_indices(12, 8, "test")):
        asked: list[int] = []

        def sample(n, indices=indices, asked=asked):
            asked.append(n)
            return list(indices)

        frames, num_frames = read_frames(path, TEMPLATE, 1, sample)
        assert asked == [12] and num_frames == 12
        assert frames.dtype == torch.uint8 and frames.shape == (len(indices), 24, 40, 3)
        means = frames.float().mean(dim=(1, 2))
        assert torch.allclose(means, torch.from_numpy(colours[indices]).float(), atol=3)


def test_resize_to_height_width(folder):
    path, colours = folder
    frames, _ = read_frames(path, TEMPLATE, 1, lambda n: [3], size=(16, 20))
    assert frames.shape == (1, 16, 20, 3)
    assert torch.allclose(frames.float().mean(dim=(0, 1, 2)), torch.from_numpy(colours[3]).float(), atol=3)


def test_a_gap_in_the_numbering_is_an_error_naming_the_missing_file(tmp_path):
    colours = frame_colours(9)
    write_frames(tmp_path / "gap", colours[:5])  # 00001..00005
    write_frames(tmp_path / "gap", colours[6:], first=7)  # 00007..00009 after a gap
    (tmp_path / "gap" / "notes.txt").write_text("not a frame")
    (tmp_path / "gap" / "8.jpg").write_text("not named by the template")
    with pytest.raises(FrameGapError, match=r"gap: frame folder has a gap: 00006.jpg missing \(8 frames present up to 00009"):
        count_frames(tmp_path / "gap", TEMPLATE, 1)
    with pytest.raises(FrameGapError, match="00006.jpg missing"):
        read_frames(tmp_path / "gap", TEMPLATE, 1, lambda n: [n - 1])
    assert count_frames(tmp_path / "gap", TEMPLATE, 7) == 3  # numbered from 7: no gap
    frames, num_frames = read_frames(tmp_path / "gap", TEMPLATE, 7, lambda n: [n - 1])
    assert num_frames == 3
    assert torch.allclose(frames.float().mean(dim=(0, 1, 2)), torch.from_numpy(colours[8]).float(), atol=3)
    (tmp_path / "late").mkdir()
    write_frames(tmp_path / "late", colours[:2], first=3)  # the first frame is missing
    with pytest.raises(FrameGapError, match="00001.jpg, 00002.jpg missing"):
        count_frames(tmp_path / "late", TEMPLATE, 1)


def test_a_known_frame_count_is_used_without_listing(folder):
    path, colours = folder
    asked = []
    frames, num_frames = read_frames(path, TEMPLATE, 1, lambda n: asked.append(n) or [0, n - 1], num_frames=4)
    assert asked == [4] and num_frames == 4
    assert torch.allclose(frames.float().mean(dim=(1, 2)), torch.from_numpy(colours[[0, 3]]).float(), atol=3)


def test_errors_name_the_folder_or_frame(tmp_path, folder):
    path, _ = folder
    with pytest.raises(VideoReadError, match="nowhere: frame folder not found"):
        read_frames(tmp_path / "nowhere", TEMPLATE, 1, lambda n: [0])
    (tmp_path / "empty").mkdir()
    with pytest.raises(VideoReadError, match=r"empty: frame folder has no frames \(expected the first frame 00001"):
        read_frames(tmp_path / "empty", TEMPLATE, 1, lambda n: [0])
    with pytest.raises(VideoReadError, match="00013.jpg: frame file not found"):
        read_frames(path, TEMPLATE, 1, lambda n: [12], num_frames=13)  # a stale count: the frame is gone
    with pytest.raises(VideoReadError, match=r"outside the 12 frames"):
        read_frames(path, TEMPLATE, 1, lambda n: [12])
    (path / "00004.jpg").write_bytes(b"")
    with pytest.raises(VideoReadError, match=r"00004.jpg: empty frame file \(0 bytes\)"):
        read_frames(path, TEMPLATE, 1, lambda n: [3])
    (path / "00006.jpg").write_text("not a jpeg")
    with pytest.raises(VideoReadError, match="00006.jpg: cannot decode frame image"):
        read_frames(path, TEMPLATE, 1, lambda n: [0, 5])


def test_read_record_dispatches_on_frame_folders(tmp_path, folder):
    path, colours = folder
    record = VideoRecord("clip", path, 0, "list.csv:1", num_frames=12, frame_template=TEMPLATE)
    frames, num_frames = read_record(record, lambda n: [2, 7])
    assert num_frames == 12
    assert torch.allclose(frames.float().mean(dim=(1, 2)), torch.from_numpy(colours[[2, 7]]).float(), atol=3)

    video = tmp_path / "clip.mp4"
    encode_mp4(render_clip("Growing", clip_rng(0, 1), 10, 32), video, fps=12)
    expected, expected_count = read_clip(video, lambda n: [0, n - 1])
    frames, num_frames = read_record(VideoRecord("v", video, 0, "list.csv:2"), lambda n: [0, n - 1])
    assert num_frames == expected_count == 10
    assert torch.equal(frames, expected)
