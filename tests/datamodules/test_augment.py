import pytest
import torch

from backbones.base import TORCHVISION_NORM, InputNorm
from datamodules.augment import (
    POSITIONS,
    SCALE_PAIRS,
    SCALES,
    crop_resize_normalise,
    draw_train_params,
    eval_boxes,
    train_boxes,
)

from datamodules.clip_transform import ClipTransform
from datamodules.modality import Modality

IDENTITY = InputNorm((0.0, 0.0, 0.0), (1.0, 1.0, 1.0), 1.0)


def augment_batch(frames, input_size, norm, train_params):
    """An RGB ClipTransform's training view (with ``train_params``) or centre test view."""
    transform = ClipTransform(Modality.RGB, input_size, frames.shape[1], norm)
    return transform.test(frames) if train_params is None else transform.train(frames, train_params)


def coordinate_frames(batch=2, steps=3, height=40, width=60):
    """uint8 frames whose red channel is the column, green the row, blue the time step."""
    rows = torch.arange(height).view(height, 1).expand(height, width)
    cols = torch.arange(width).view(1, width).expand(height, width)
    frames = torch.zeros(batch, steps, height, width, 3, dtype=torch.uint8)
    for t in range(steps):
        frames[:, t, :, :, 0] = cols
        frames[:, t, :, :, 1] = rows
        frames[:, t, :, :, 2] = t
    return frames


def test_drawn_params_cover_the_allowed_choices():
    generator = torch.Generator().manual_seed(0)
    draws = torch.stack([draw_train_params(generator, allow_flip=True) for _ in range(2000)])
    assert draws.dtype == torch.int64
    pairs = {(int(a), int(b)) for a, b in draws[:, :2]}
    assert pairs == set(SCALE_PAIRS)
    assert all(abs(a - b) <= 1 for a, b in pairs)
    assert set(draws[:, 2].tolist()) == set(range(len(POSITIONS)))
    assert 0.4 < draws[:, 3].float().mean() < 0.6


def test_flip_never_drawn_when_the_policy_forbids_it():
    generator = torch.Generator().manual_seed(0)
    draws = torch.stack([draw_train_params(generator, allow_flip=False) for _ in range(500)])
    assert draws[:, 3].sum() == 0


def test_train_boxes_follow_scales_and_fixed_positions():
    height, width = 80, 120
    base = min(height, width)
    params = torch.tensor([[0, 0, 0, 0], [1, 2, 1, 0], [3, 3, 4, 0], [2, 1, 2, 0], [1, 0, 3, 0]])
    boxes = train_boxes(params, height, width)
    expected_h = [int(base * SCALES[i]) for i in params[:, 0]]
    expected_w = [int(base * SCALES[i]) for i in params[:, 1]]
    assert boxes[:, 2].tolist() == expected_h
    assert boxes[:, 3].tolist() == expected_w
    # centre, top-left, bottom-right, top-right, bottom-left
    assert boxes[0, :2].tolist() == [(height - expected_h[0]) // 2, (width - expected_w[0]) // 2]
    assert boxes[1, :2].tolist() == [0, 0]
    assert boxes[2, :2].tolist() == [height - expected_h[2], width - expected_w[2]]
    assert boxes[3, :2].tolist() == [0, width - expected_w[3]]
    assert boxes[4, :2].tolist() == [height - expected_h[4], 0]
    assert (boxes[:, 0] + boxes[:, 2] <= height).all() and (boxes[:, 1] + boxes[:, 3] <= width).all()


def test_crop_without_resize_is_an_exact_crop():
    frames = coordinate_frames()
    boxes = torch.tensor([[5, 10, 20, 20], [0, 40, 20, 20]], dtype=torch.float64)
    out = crop_resize_normalise(frames, boxes, torch.zeros(2), 20, IDENTITY)
    expected0 = frames[0, :, 5:25, 10:30].permute(0, 3, 1, 2).float()
    expected1 = frames[1, :, 0:20, 40:60].permute(0, 3, 1, 2).float()
    torch.testing.assert_close(out[0], expected0)
    torch.testing.assert_close(out[1], expected1)


def test_flip_mirrors_the_crop():
    frames = coordinate_frames()
    boxes = torch.tensor([[5, 10, 20, 20], [5, 10, 20, 20]], dtype=torch.float64)
    out = crop_resize_normalise(frames, boxes, torch.tensor([0, 1]), 20, IDENTITY)
    torch.testing.assert_close(out[1], out[0].flip(-1))


def test_test_transform_is_resize_then_centre_crop():
    height, width, size = 80, 120, 56
    box = eval_boxes(1, height, width, size)[0]
    side = min(height, width) * 224 / 256
    assert box.tolist() == pytest.approx([(height - side) / 2, (width - side) / 2, side, side])


def test_output_shapes_dtypes_and_ranges():
    generator = torch.Generator().manual_seed(0)
    frames = torch.randint(0, 256, (4, 8, 80, 96, 3), dtype=torch.uint8)
    params = torch.stack([draw_train_params(generator, True) for _ in range(4)])
    for train_params in (params, None):
        out = augment_batch(frames, 64, TORCHVISION_NORM, train_params)
        assert out.shape == (4, 8, 3, 64, 64)
        assert out.dtype == torch.float32
        mean = torch.tensor(TORCHVISION_NORM.mean).view(3, 1, 1)
        std = torch.tensor(TORCHVISION_NORM.std).view(3, 1, 1)
        raw = out * std + mean  # back to [0, 1]
        assert raw.min() >= -1e-5 and raw.max() <= 1 + 1e-5


def test_all_frames_of_a_clip_share_one_crop():
    frames = coordinate_frames(batch=1, steps=4)
    params = torch.tensor([[1, 2, 3, 1]])
    out = augment_batch(frames, 16, IDENTITY, params)
    for t in range(1, 4):
        torch.testing.assert_close(out[0, t, :2], out[0, 0, :2])
        assert torch.allclose(out[0, t, 2], torch.full_like(out[0, t, 2], float(t)))


def test_bgr_caffe_normalisation():
    caffe = InputNorm((104.0, 117.0, 128.0), (1.0, 1.0, 1.0), 1.0, bgr=True)
    frames = torch.zeros(1, 1, 8, 8, 3, dtype=torch.uint8)
    frames[..., 0] = 200  # red
    out = augment_batch(frames, 8, caffe, None)
    assert torch.allclose(out[0, 0, 2], torch.full((8, 8), 200.0 - 128.0))  # red is last in BGR
    assert torch.allclose(out[0, 0, 0], torch.full((8, 8), -104.0))


def test_test_crops_one_three_and_ten():
    from datamodules.augment import eval_boxes, eval_view_boxes

    one, flips = eval_view_boxes(80, 120, 64, 1)
    assert torch.equal(one, eval_boxes(1, 80, 120, 64)) and flips.tolist() == [0]
    three, _ = eval_view_boxes(80, 120, 64, 3)
    assert three[:, 0].tolist() == [three[0, 0].item()] * 3  # all along the longer (horizontal) side
    assert three[0, 1] == 0 and three[2, 1] + three[2, 3] == 120
    ten, flips = eval_view_boxes(80, 120, 64, 10)
    assert len(ten) == 10 and flips.tolist() == [0] * 5 + [1] * 5
    assert torch.equal(ten[:5], ten[5:])
    corners = {(float(t), float(l)) for t, l in ten[1:5, :2]}
    side = 80 * 224 / 256
    assert corners == {(0.0, 0.0), (0.0, 120 - side), (80 - side, 0.0), (80 - side, 120 - side)}
    with pytest.raises(ValueError, match="1, 3 or 10"):
        eval_view_boxes(80, 120, 64, 5)
