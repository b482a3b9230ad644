import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from backbones import TORCHVISION_NORM
from datamodules.clip_dataset import clip_seed
from datamodules.flow.extract import FLOW_JSON
from datamodules.sampling.intervals import deep_fusion_indices
from datamodules.decoding.video import VideoReadError
from datamodules.records import VideoRecord
from datamodules.clip_transform import ClipTransform, TwoStreamTransform
from datamodules.modality import Modality
from datamodules.rgb_flow_clips import RgbFlowClipDataset, centred_pairs, collate_two_stream

FRAMES = 24  # frame i (0-based) is uniform 8 i; flow pair j (0-based) is x = 10 (j + 1), y = 250 - 10 (j + 1)


def transform_two_stream(frames, segments, input_size, norm, train_params, bound):
    """Both streams of a batch through one TwoStreamTransform (one crop box and flip per clip)."""
    transform = TwoStreamTransform(
        ClipTransform(Modality.RGB, input_size, segments, norm),
        ClipTransform(Modality.FLOW, input_size, segments, None, bound),
    )
    batch = {"frames": frames} if train_params is None else {"frames": frames, "augment": train_params}
    return transform(batch)["frames"]


def make_frames(folder: Path, count: int = FRAMES, size=(48, 64)) -> VideoRecord:
    folder.mkdir(parents=True)
    for i in range(count):
        cv2.imwrite(str(folder / f"{i + 1:05d}.jpg"), np.full((*size, 3), 8 * i, np.uint8))
    return VideoRecord(folder.name, folder, 0, "list.txt:1", frame_template="{:05d}.jpg")


def make_flow(folder: Path, num_pairs: int = FRAMES - 1, size=(24, 32)) -> None:
    folder.mkdir(parents=True)
    for j in range(1, num_pairs + 1):
        cv2.imwrite(str(folder / f"x_{j:05d}.jpg"), np.full(size, 10 * j, np.uint8))
        cv2.imwrite(str(folder / f"y_{j:05d}.jpg"), np.full(size, 250 - 10 * j, np.uint8))
    (folder / FLOW_JSON).write_text(json.dumps({"method": "dis", "bound": 20.0, "num_pairs": num_pairs}))


def frame_numbers(rgb: torch.Tensor) -> list[int]:
    return [int(v) for v in (rgb.float().mean(dim=(1, 2, 3)) / 8).round()]


def pair_numbers(flow: torch.Tensor) -> list[int]:
    """0-based pair index of every read flow image, checked on both channels."""
    x = (flow[..., 0].float().mean(dim=(1, 2)) / 10).round()
    y = ((250 - flow[..., 1].float().mean(dim=(1, 2))) / 10).round()
    assert torch.equal(x, y)
    return [int(v) - 1 for v in x]


@pytest.fixture
def video(tmp_path) -> tuple[VideoRecord, Path]:
    record = make_frames(tmp_path / "videos" / "v0")
    make_flow(tmp_path / "flow" / "v0")
    return record, tmp_path / "flow"


def dataset(records, flow_root, mode="train", length=4, steps=5, **kwargs) -> RgbFlowClipDataset:
    return RgbFlowClipDataset(records, steps, mode, None, seed=7, flow_root=flow_root, flow_length=length, **kwargs)


def test_centred_pairs_even_odd_and_clamped():
    assert centred_pairs([5], 4, 23) == [3, 4, 5, 6]
    assert centred_pairs([5], 3, 23) == [4, 5, 6]
    assert centred_pairs([0, 23], 4, 23) == [0, 0, 0, 1, 21, 22, 22, 22]
    assert centred_pairs([2], 1, 23) == [2]
    with pytest.raises(ValueError, match="stack length"):
        centred_pairs([0], 0, 5)


@pytest.mark.parametrize("mode", ["train", "test"])
def test_flow_stacks_are_centred_on_the_sampled_frames(video, mode):
    record, flow_root = video
    data = dataset([record], flow_root, mode)
    for epoch in range(4):
        item = data[(epoch, 0)]
        rgb, flow = item["frames"]["rgb"], item["frames"]["flow"]
        assert rgb.shape == (5, 48, 64, 3) and flow.shape == (20, 48, 64, 2)  # flow read at the RGB size
        frames = frame_numbers(rgb)
        generator = torch.Generator().manual_seed(clip_seed(7, epoch, 0))
        assert frames == deep_fusion_indices(FRAMES, 5, mode, generator)
        pairs = pair_numbers(flow)
        for step, frame in enumerate(frames):
            expected = [min(max(p, 0), FRAMES - 2) for p in range(frame - 2, frame + 2)]
            assert pairs[4 * step : 4 * step + 4] == expected
    if mode == "test":
        assert frame_numbers(data[(0, 0)]["frames"]["rgb"]) == frame_numbers(data[(3, 0)]["frames"]["rgb"])


def test_short_video_clamps_stacks_at_both_ends(tmp_path):
    record = make_frames(tmp_path / "videos" / "s", count=4)
    make_flow(tmp_path / "flow" / "s", num_pairs=3)
    item = dataset([record], tmp_path / "flow", "test", length=4, steps=6)[0]
    frames = frame_numbers(item["frames"]["rgb"])
    assert frames == [0, 0, 1, 2, 2, 3]
    assert pair_numbers(item["frames"]["flow"])[:4] == [0, 0, 0, 1]  # frame 0: pairs -2..1
    assert pair_numbers(item["frames"]["flow"])[-4:] == [1, 2, 2, 2]  # frame 3: pairs 1..4


def test_missing_flow_follows_the_bad_video_policy(video, tmp_path):
    record, _ = video
    with pytest.raises(VideoReadError, match=r"flow folder not found.*list\.txt:1"):
        dataset([record], tmp_path / "elsewhere")[0]
    item = dataset([record], tmp_path / "elsewhere", on_bad_video="skip")[0]
    assert item["index"] == 0 and "flow folder not found" in item["failed"]
    batch = collate_two_stream([item, dataset([record], video[1])[0]])
    assert batch["failed"] == [(0, item["failed"])] and batch["label"].tolist() == [0]
    assert batch["frames"]["rgb"].shape == (1, 5, 48, 64, 3) and batch["frames"]["flow"].shape == (1, 20, 48, 64, 2)
    assert "frames" not in collate_two_stream([item])


def patterned(batch=1, steps=2, length=2, size=16) -> dict[str, torch.Tensor]:
    """RGB bright on the left, flow x large on the left: mirroring is visible in both."""
    gen = torch.Generator().manual_seed(0)
    rgb = torch.randint(0, 256, (batch, steps, size, size, 3), generator=gen, dtype=torch.uint8)
    flow = torch.randint(0, 256, (batch, steps * length, size, size, 2), generator=gen, dtype=torch.uint8)
    return {"rgb": rgb, "flow": flow}


def test_one_flip_mirrors_both_streams_and_negates_flow_x():
    frames = patterned()
    # scale index 0 on a square frame: the crop is the whole frame, so only the flip differs
    plain = transform_two_stream(frames, 2, 16, TORCHVISION_NORM, torch.tensor([[0, 0, 0, 0]]), 20.0)
    flipped = transform_two_stream(frames, 2, 16, TORCHVISION_NORM, torch.tensor([[0, 0, 0, 1]]), 20.0)
    assert plain["rgb"].shape == (1, 2, 3, 16, 16) and plain["flow"].shape == (1, 2, 4, 16, 16)
    assert not torch.allclose(plain["rgb"], flipped["rgb"])
    torch.testing.assert_close(flipped["rgb"], plain["rgb"].flip(-1))
    torch.testing.assert_close(flipped["flow"][:, :, 0::2], -plain["flow"][:, :, 0::2].flip(-1))  # x
    torch.testing.assert_close(flipped["flow"][:, :, 1::2], plain["flow"][:, :, 1::2].flip(-1))  # y


def test_dataset_flip_draw_drives_both_streams(tmp_path):
    """Halves of different values in both streams; each clip's one draw crops and mirrors both."""
    folder = tmp_path / "videos" / "h"
    folder.mkdir(parents=True)
    for i in range(FRAMES):
        image = np.full((32, 32, 3), 50, np.uint8)
        image[:, :16] = 200
        cv2.imwrite(str(folder / f"{i + 1:05d}.jpg"), image)
    flow = tmp_path / "flow" / "h"
    flow.mkdir(parents=True)
    for j in range(1, FRAMES):
        x = np.full((32, 32), 30, np.uint8)
        x[:, :16] = 220
        cv2.imwrite(str(flow / f"x_{j:05d}.jpg"), x)
        cv2.imwrite(str(flow / f"y_{j:05d}.jpg"), x.T.copy())
    (flow / FLOW_JSON).write_text(json.dumps({"method": "dis", "bound": 20.0, "num_pairs": FRAMES - 1}))
    record = VideoRecord("h", folder, 0, "list.txt:1", frame_template="{:05d}.jpg")
    items = [dataset([record], tmp_path / "flow", allow_flip=True)[(epoch, 0)] for epoch in range(12)]
    batch = collate_two_stream(items)
    params = batch["augment"]
    flips = params[:, 3].bool()
    assert 0 < int(flips.sum()) < len(items)  # both outcomes drawn
    unflipped = params.clone()
    unflipped[:, 3] = 0
    out = transform_two_stream(batch["frames"], 5, 24, TORCHVISION_NORM, params, 20.0)
    ref = transform_two_stream(batch["frames"], 5, 24, TORCHVISION_NORM, unflipped, 20.0)
    assert not torch.allclose(out["rgb"][flips], ref["rgb"][flips])
    for name, x_sign in (("rgb", 1.0), ("flow", -1.0)):
        torch.testing.assert_close(out[name][~flips], ref[name][~flips])
        mirrored = ref[name][flips].flip(-1)
        if name == "flow":
            mirrored[:, :, 0::2] *= x_sign
        torch.testing.assert_close(out[name][flips], mirrored)


def test_transform_rejects_streams_of_different_sizes():
    frames = patterned()
    frames["flow"] = frames["flow"][:, :, :8]
    with pytest.raises(ValueError, match="differ"):
        transform_two_stream(frames, 2, 16, TORCHVISION_NORM, None, 20.0)
