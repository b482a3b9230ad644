from pathlib import Path

import av
import numpy as np
import pytest
import torch

from datamodules.decoding.convert import frame_to_array
from datamodules.decoding.geometry import cover
from datamodules.decoding.video import VideoReadError, read_clip
from datamodules.sampling.segments import segment_indices
from tests.reference import require_reference

REFERENCE_VIDEOS = ("bigbuckbunny.mp4", "bikes.mp4", "carphone_distorted.mp4", "carphone_pristine.mp4")


def decode_all_with_pyav(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([frame_to_array(frame) for frame in container.decode(video=0)])


@pytest.fixture(scope="module", params=REFERENCE_VIDEOS)
def video(request):
    path = require_reference() / "videos" / request.param
    return path, decode_all_with_pyav(path)


def test_every_reference_video_is_covered():
    videos = sorted(p.name for p in (require_reference() / "videos").glob("*.mp4"))
    assert videos == sorted(REFERENCE_VIDEOS)


def test_reader_returns_exactly_the_requested_frames(video):
    path, reference = video
    generator = torch.Generator().manual_seed(0)
    requests = [
        lambda n: segment_indices(n, 8, "test"),
        lambda n: segment_indices(n, 8, "train", generator=generator),
        lambda n: segment_indices(n, 3, "train", frames_per_segment=4, generator=generator),
        lambda n: [0, n - 1, n // 2, n // 2],  # unordered and repeated indices
    ]
    for sample in requests:
        asked: list[int] = []

        def recording(n, sample=sample):
            asked.extend(sample(n))
            return asked

        frames, num_frames = read_clip(path, recording)
        assert num_frames == len(reference)
        assert frames.dtype == torch.uint8
        assert frames.shape == (len(asked), *reference.shape[1:])
        np.testing.assert_array_equal(frames.numpy(), reference[asked])


def test_resize_on_decode_keeps_the_requested_frames(video):
    path, reference = video
    indices = segment_indices(len(reference), 8, "test")
    frames, _ = read_clip(path, lambda n: indices, size=(72, 96))
    assert frames.shape == (8, 72, 96, 3)
    # each resized frame is closest to the reference frame of the same index scaled and cut alike
    fit = cover(reference.shape[1:3], (72, 96))
    top, left, height, width = fit.window
    reference_small = torch.nn.functional.interpolate(
        torch.from_numpy(reference).permute(0, 3, 1, 2).float(), size=fit.resized, mode="area"
    )[:, :, top : top + height, left : left + width]
    for position, index in enumerate(indices):
        distances = (reference_small - frames[position].permute(2, 0, 1).float()).abs().mean(dim=(1, 2, 3))
        neighbours = distances[max(0, index - 3) : index + 4]
        # 1 %: consecutive frames of a still shot differ by less than two resize filters do
        assert float(distances[index]) <= float(neighbours.min()) * 1.01 + 1e-6


def test_missing_and_empty_files_name_the_file(tmp_path):
    with pytest.raises(VideoReadError, match="missing.mp4: file not found"):
        read_clip(tmp_path / "missing.mp4", lambda n: [0])
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(VideoReadError, match="empty.mp4: empty file"):
        read_clip(empty, lambda n: [0])
    text = tmp_path / "text.mp4"
    text.write_text("not a video")
    with pytest.raises(VideoReadError, match="text.mp4: cannot open video"):
        read_clip(text, lambda n: [0])


@pytest.mark.parametrize("size", [(48, 48), (24, 24), (64, 48)])
def test_sizes_decord_cannot_resize_to_fall_back_to_decode_then_resize(tmp_path, size):
    from datamodules.synthetic.generate import encode_mp4

    frames = np.zeros((6, 32, 32, 3), dtype=np.uint8)
    frames[:, :, :, 0] = (np.arange(6) * 40)[:, None, None]  # frame number in red
    path = tmp_path / "small.mp4"
    encode_mp4(frames, path, fps=25)
    clip, count = read_clip(path, lambda n: [1, 4], size)
    assert count == 6 and tuple(clip.shape) == (2, *size, 3)
    assert (clip[:, size[0] // 2, size[1] // 2, 0].float() / 40).round().tolist() == [1, 4]


@pytest.mark.parametrize("side", [64, 80, 96])
def test_square_synthetic_clips_decode_as_decord_resizes_them(tmp_path, side):
    """The built-in dataset's clips are square, like its decode size: fitting keeps its frames unchanged."""
    import decord

    from datamodules.adapters.synthetic import SPEC
    from datamodules.synthetic.generate import clip_rng, encode_mp4, render_clip

    path = tmp_path / f"{side}.mp4"
    encode_mp4(render_clip("Rotating Clockwise", clip_rng(0, side), 20, side), path, fps=12)
    indices = segment_indices(20, 8, "test")
    frames, _ = read_clip(path, lambda n: indices, SPEC.decode_size)
    height, width = SPEC.decode_size
    direct = decord.VideoReader(str(path), width=width, height=height, num_threads=1).get_batch(indices).asnumpy()
    np.testing.assert_array_equal(frames.numpy(), direct)
