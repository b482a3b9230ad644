import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from datamodules.flow import extract as flow
from datamodules.flow import methods as flow_methods
from datamodules.flow.extract import (
    FLOW_JSON,
    JPEG_QUALITY,
    best_flow_method,
    compute_flow,
    dequantise_flow,
    extract_dataset_flow,
    extract_video_flow,
    flow_folder,
    quantise_flow,
    resolve_method,
)
from datamodules.decoding.base import VideoReadError
from datamodules.records import VideoRecord
from datamodules.synthetic.generate import encode_mp4


def texture(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth random grayscale texture (uint8), rich enough for every flow method."""
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.random((height, width)).astype(np.float32) * 255, (0, 0), 2.0)
    return cv2.normalize(noise, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)


def moving_frames(num_frames: int, size: int, dx: int, dy: int = 0) -> np.ndarray:
    """Gray frames (N, size, size) of a texture translating by (dx, dy) pixels per frame."""
    margin = (num_frames + 1) * max(abs(dx), abs(dy))
    big = texture(size + 2 * margin, size + 2 * margin)
    tops = [margin - dy * t for t in range(num_frames)]
    lefts = [margin - dx * t for t in range(num_frames)]
    return np.stack([big[top : top + size, left : left + size] for top, left in zip(tops, lefts)])


def write_video(path: Path, gray: np.ndarray) -> Path:
    encode_mp4(np.repeat(gray[..., None], 3, axis=-1), path, fps=12)
    return path


# --- quantisation ------------------------------------------------------------------------------


@pytest.mark.parametrize("bound", [20.0, 7.5])
def test_round_trip_inside_the_bound_is_within_half_a_step(bound):
    values = np.linspace(-bound, bound, 10_000, dtype=np.float32).reshape(-1, 1, 2)
    q = quantise_flow(values, bound)
    assert q.dtype == np.uint8 and q.min() == 0 and q.max() == 255
    error = np.abs(dequantise_flow(q, bound) - values)
    step = 2 * bound / 255
    assert error.max() <= step / 2 + 1e-5
    assert error.max() > step / 4  # the quantisation is really coarse-grained


def test_values_outside_the_bound_are_clipped():
    q = quantise_flow(np.array([[[-1e6, -20.01], [20.01, 1e6]]], dtype=np.float32), 20.0)
    np.testing.assert_array_equal(q, [[[0, 0], [255, 255]]])
    np.testing.assert_allclose(dequantise_flow(q, 20.0), [[[-20, -20], [20, 20]]], atol=1e-5)


def test_zero_maps_to_128_and_the_mapping_is_odd_symmetric():
    assert quantise_flow(np.zeros((1, 1, 2), np.float32), 20.0)[0, 0, 0] == 128
    q = np.arange(256, dtype=np.uint8)
    np.testing.assert_allclose(dequantise_flow(255 - q, 20.0), -dequantise_flow(q, 20.0), atol=1e-5)


@pytest.mark.parametrize("bound", [0.0, -1.0, float("nan")])
def test_bad_bound_is_refused(bound):
    with pytest.raises(ValueError, match="bound"):
        quantise_flow(np.zeros((2, 2, 2), np.float32), bound)


# --- methods -----------------------------------------------------------------------------------


def test_best_method_prefers_tvl1_then_dis_then_farneback(monkeypatch):
    monkeypatch.setattr(flow_methods, "_tvl1_factory", lambda: object)
    assert best_flow_method() == "tvl1"
    monkeypatch.setattr(flow_methods, "_tvl1_factory", lambda: None)
    assert best_flow_method() == "dis"
    monkeypatch.delattr(cv2, "DISOpticalFlow_create")
    assert best_flow_method() == "farneback"
    with pytest.raises(ValueError, match="not provided"):
        resolve_method("dis")


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="unknown flow method 'lk'"):
        resolve_method("lk")


@pytest.mark.parametrize("method", flow.available_methods())
def test_compute_flow_measures_a_translation(method):
    frames = moving_frames(2, 64, dx=3, dy=-2)
    result = compute_flow(frames[0], frames[1], method)
    assert result.shape == (64, 64, 2) and result.dtype == np.float32
    centre = result[16:48, 16:48]
    assert centre[..., 0].mean() == pytest.approx(3.0, abs=0.2)
    assert centre[..., 1].mean() == pytest.approx(-2.0, abs=0.2)


# --- one video ---------------------------------------------------------------------------------


def test_extract_video_writes_one_pair_per_frame_pair(tmp_path):
    video = write_video(tmp_path / "clip.mp4", moving_frames(6, 64, dx=2))
    out = tmp_path / "flow" / "clip"
    result = extract_video_flow(video, out, "dis", 20.0, (48, 48))
    assert not result.skipped and result.num_pairs == 5
    names = sorted(p.name for p in out.iterdir())
    assert names == [FLOW_JSON] + [f"x_{i:05d}.jpg" for i in range(1, 6)] + [f"y_{i:05d}.jpg" for i in range(1, 6)]
    info = json.loads((out / FLOW_JSON).read_text())
    jpeg_bytes = sum(p.stat().st_size for p in out.glob("*.jpg"))
    assert info == {"method": "dis", "bound": 20.0, "num_pairs": 5, "size": [48, 48],
                    "jpeg_quality": JPEG_QUALITY, "bytes": jpeg_bytes}  # fmt: skip
    assert result.bytes == jpeg_bytes
    x = dequantise_flow(cv2.imread(str(out / "x_00003.jpg"), cv2.IMREAD_GRAYSCALE), 20.0)
    y = dequantise_flow(cv2.imread(str(out / "y_00003.jpg"), cv2.IMREAD_GRAYSCALE), 20.0)
    assert x.shape == (48, 48)
    # 2 px per frame at 64 px is 1.5 px at 48 px
    assert x[12:36, 12:36].mean() == pytest.approx(1.5, abs=0.25)
    assert y[12:36, 12:36].mean() == pytest.approx(0.0, abs=0.25)
    assert [p.name for p in out.parent.iterdir()] == ["clip"]  # no temporary folder left


def test_a_finished_video_is_skipped(tmp_path):
    video = write_video(tmp_path / "clip.mp4", moving_frames(4, 32, dx=1))
    out = tmp_path / "flow" / "clip"
    first = extract_video_flow(video, out, "dis", 20.0, None)
    stamp = (out / "x_00001.jpg").stat().st_mtime_ns
    video.unlink()  # a skip must not even open the video
    again = extract_video_flow(video, out, "dis", 20.0, None)
    assert again.skipped and again.num_pairs == first.num_pairs == 3 and again.bytes == first.bytes
    assert (out / "x_00001.jpg").stat().st_mtime_ns == stamp


def test_an_incomplete_folder_is_redone(tmp_path):
    video = write_video(tmp_path / "clip.mp4", moving_frames(3, 32, dx=1))
    out = tmp_path / "flow" / "clip"
    out.mkdir(parents=True)
    (out / "x_00001.jpg").write_bytes(b"partial")
    result = extract_video_flow(video, out, "farneback", 20.0, None)
    assert not result.skipped and result.num_pairs == 2
    assert cv2.imread(str(out / "x_00001.jpg"), cv2.IMREAD_GRAYSCALE).shape == (32, 32)


def test_frame_folder_input(tmp_path):
    frames = tmp_path / "frames"
    frames.mkdir()
    for i, gray in enumerate(moving_frames(4, 32, dx=1), start=1):
        cv2.imwrite(str(frames / f"{i:05d}.jpg"), gray)
    result = extract_video_flow(frames, tmp_path / "flow", "dis", 20.0, None, frame_template="{:05d}.jpg")
    assert result.num_pairs == 3
    with pytest.raises(VideoReadError, match="00005.jpg: missing frame"):
        extract_video_flow(frames, tmp_path / "flow2", "dis", 20.0, None, "{:05d}.jpg", first_frame=2, num_frames=8)


def test_unreadable_and_too_short_videos_raise_naming_the_file(tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    with pytest.raises(VideoReadError, match="broken.mp4: cannot open video"):
        extract_video_flow(broken, tmp_path / "flow" / "broken", "dis", 20.0, None)
    single = write_video(tmp_path / "single.mp4", moving_frames(1, 32, dx=1))
    with pytest.raises(VideoReadError, match="single.mp4: needs at least 2 frames"):
        extract_video_flow(single, tmp_path / "flow" / "single", "dis", 20.0, None)
    assert list((tmp_path / "flow").iterdir()) == []  # nothing half-written


# --- layout and datasets -----------------------------------------------------------------------


def test_flow_folder_keeps_class_subfolders_and_refuses_escapes(tmp_path):
    assert flow_folder(tmp_path, "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01") == (
        tmp_path / "ApplyEyeMakeup" / "v_ApplyEyeMakeup_g08_c01"
    )
    for bad in ["../x", "/abs/x", "a/../../b", ""]:
        with pytest.raises(ValueError, match="not a relative path"):
            flow_folder(tmp_path, bad)


def _records(tmp_path: Path) -> list[VideoRecord]:
    videos = tmp_path / "videos" / "Walk"
    videos.mkdir(parents=True)
    good = write_video(videos / "v_Walk_g01.mp4", moving_frames(4, 32, dx=1))
    (videos / "v_Walk_g02.mp4").write_bytes(b"")
    return [
        VideoRecord("Walk/v_Walk_g01", good, 0, "list.txt:1"),
        VideoRecord("Walk/v_Walk_g02", videos / "v_Walk_g02.mp4", 0, "list.txt:2"),
        VideoRecord("Walk/v_Walk_g01", good, 0, "other.txt:7"),  # listed twice: extracted once
        VideoRecord("../outside", good, 0, "list.txt:3"),
    ]


def test_dataset_extraction_lists_failures_and_resumes(tmp_path):
    records = _records(tmp_path)
    summary = extract_dataset_flow(records, tmp_path / "flow", "dis", 20.0, None, workers=1, progress=False)
    assert (summary.done, summary.skipped, summary.method) == (1, 0, "dis")
    failed = [(f.video_id, f.source) for f in summary.failed]
    assert failed == [("../outside", "list.txt:3"), ("Walk/v_Walk_g02", "list.txt:2")]
    assert "v_Walk_g02.mp4: empty file" in summary.failed[1].error
    assert (tmp_path / "flow" / "Walk" / "v_Walk_g01" / FLOW_JSON).is_file()
    assert summary.pairs_computed == 3
    assert summary.mean_bytes_per_video == summary.total_bytes > 0
    again = extract_dataset_flow(records, tmp_path / "flow", "dis", 20.0, None, workers=1, progress=False)
    assert (again.done, again.skipped, len(again.failed)) == (0, 1, 2)
    assert again.total_bytes == summary.total_bytes and again.pairs_computed == 0


@pytest.mark.slow
def test_dataset_extraction_in_worker_processes_matches_one_process(tmp_path):
    records = _records(tmp_path)[:2]
    one = extract_dataset_flow(records, tmp_path / "one", "dis", 20.0, None, workers=1, progress=False)
    two = extract_dataset_flow(records, tmp_path / "two", "dis", 20.0, None, workers=2, progress=False)
    assert (two.done, len(two.failed), two.total_bytes) == (one.done, len(one.failed), one.total_bytes)
    a = tmp_path / "one" / "Walk" / "v_Walk_g01" / "x_00002.jpg"
    b = tmp_path / "two" / "Walk" / "v_Walk_g01" / "x_00002.jpg"
    assert a.read_bytes() == b.read_bytes()
