import cv2
import numpy as np
import pytest
import torch

from datamodules.flow.extract import compute_flow, quantise_flow
from datamodules.clip_transform import ClipTransform
from datamodules.flow.augment import flow_to_input
from datamodules.flow.extract import DEFAULT_BOUND
from datamodules.modality import Modality

BOUND = 20.0


def augment_flow_batch(stacks, segments, input_size, train_params, bound=DEFAULT_BOUND):
    """A flow ClipTransform's training view (with ``train_params``) or centre test view."""
    transform = ClipTransform(Modality.FLOW, input_size, segments, None, bound)
    return transform.test(stacks) if train_params is None else transform.train(stacks, train_params)
STEP = 2 * BOUND / 255


def uniform(x: float, y: float, batch: int = 1, size: int = 8) -> torch.Tensor:
    """Quantised (B, 1, 2, S, S) stacks of a uniform flow field (x, y) in pixels."""
    q = quantise_flow(np.array([x, y], np.float32), BOUND)
    return torch.from_numpy(q).view(1, 1, 2, 1, 1).expand(batch, 1, 2, size, size).clone()


def test_flipped_rightward_flow_becomes_leftward():
    q = uniform(5.0, 2.0, batch=2)
    out = flow_to_input(q, BOUND, torch.tensor([True, False]), centre=False)
    assert out.dtype == torch.float32 and out.shape == q.shape
    assert torch.allclose(out[0, 0, 0], torch.full((8, 8), -5.0), atol=STEP / 2)  # x negated
    assert torch.allclose(out[0, 0, 1], torch.full((8, 8), 2.0), atol=STEP / 2)  # y unchanged
    assert torch.allclose(out[1, 0, 0], torch.full((8, 8), 5.0), atol=STEP / 2)  # not flipped
    assert torch.allclose(out[1, 0, 1], torch.full((8, 8), 2.0), atol=STEP / 2)


def test_every_flow_map_is_zero_centred():
    generator = torch.Generator().manual_seed(0)
    q = torch.randint(0, 256, (2, 3, 6, 10, 10), generator=generator, dtype=torch.uint8)
    flipped = torch.tensor([True, False])
    out = flow_to_input(q, BOUND, flipped)
    assert out.mean(dim=(-2, -1)).abs().max() < 1e-4
    raw = flow_to_input(q, BOUND, flipped, centre=False)
    assert torch.allclose(out, raw - raw.mean(dim=(-2, -1), keepdim=True))
    assert raw.std() > 5  # centring removed the mean only
    assert torch.allclose(out.std(dim=(-2, -1)), raw.std(dim=(-2, -1)))


def test_channel_order_is_x_y_per_pair_and_segments_stay_apart():
    """Pair k of a clip has an x ramp along the width and a y ramp along the height of slope k + 1."""
    segments, length, height, width, size = 2, 3, 40, 40, 16
    cols = torch.arange(width).float().view(1, width) - width / 2
    rows = torch.arange(height).float().view(height, 1) - height / 2
    pairs = []
    for k in range(segments * length):
        x = (128 + (k + 1) * 0.5 * cols).expand(height, width)
        y = (128 - (k + 1) * 0.5 * rows).expand(height, width)
        pairs.append(torch.stack([x, y], dim=-1))
    stacks = torch.stack(pairs).round().clamp(0, 255).to(torch.uint8).unsqueeze(0)
    out = augment_flow_batch(stacks, segments, size, None, BOUND)
    assert out.shape == (1, segments, 2 * length, size, size)
    x_slope = (out[0, :, 0::2, :, -3] - out[0, :, 0::2, :, 2]).mean(dim=-1)  # (T, L)
    y_slope = (out[0, :, 1::2, -3, :] - out[0, :, 1::2, 2, :]).mean(dim=-1)
    ratio = (x_slope / x_slope[0, 0]).flatten()
    assert torch.allclose(ratio, torch.arange(1.0, segments * length + 1), rtol=0.05)
    assert torch.allclose(y_slope / x_slope, torch.full_like(y_slope, -1.0), rtol=0.05)


def test_non_flow_input_is_refused():
    with pytest.raises(ValueError, match="2 channels"):
        augment_flow_batch(torch.zeros(1, 2, 8, 8, 3, dtype=torch.uint8), 1, 8, None)
    with pytest.raises(ValueError, match="even channel count"):
        flow_to_input(torch.zeros(1, 1, 3, 4, 4), BOUND, torch.tensor([False]))


def texture(size: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.random((size, size)).astype(np.float32) * 255, (0, 0), 1.5)
    return cv2.normalize(noise, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)


def object_moving_right(size: int = 64, shift: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Two gray frames: a textured square on a static textured background, moving right by ``shift``."""
    background = texture(size, 1) // 2
    patch = texture(20, 2) // 2 + 128
    frames = []
    for left in (18, 18 + shift):
        frame = background.copy()
        frame[22:42, left : left + 20] = patch
        frames.append(frame)
    return frames[0], frames[1]


def as_stack(flow: np.ndarray) -> torch.Tensor:
    """A one-pair clip (1, 1, H, W, 2) of quantised flow."""
    return torch.from_numpy(quantise_flow(flow, BOUND)).unsqueeze(0).unsqueeze(0)


def test_flip_and_negate_equals_the_flow_of_the_mirrored_video():
    first, second = object_moving_right()
    flow = compute_flow(first, second, "dis")
    mirrored = compute_flow(np.ascontiguousarray(first[:, ::-1]), np.ascontiguousarray(second[:, ::-1]), "dis")
    full_frame = torch.tensor([[0, 0, 0, 1]])  # scale 1.0 x 1.0, centre: the whole (square) frame, flipped
    no_flip = torch.tensor([[0, 0, 0, 0]])
    flipped = augment_flow_batch(as_stack(flow), 1, 64, full_frame, BOUND)[0, 0]
    reference = augment_flow_batch(as_stack(mirrored), 1, 64, no_flip, BOUND)[0, 0]
    unflipped = augment_flow_batch(as_stack(flow), 1, 64, no_flip, BOUND)[0, 0]
    # the object moves left in both, relative to the (static) background
    obj, bg = (slice(26, 38), slice(26, 36)), (slice(2, 14), slice(2, 14))
    for out in (flipped, reference):
        assert out[0][obj].mean() - out[0][bg].mean() == pytest.approx(-3.0, abs=0.5)
    assert unflipped[0][obj].mean() - unflipped[0][bg].mean() == pytest.approx(3.0, abs=0.5)
    inner = (slice(None), slice(4, -4), slice(4, -4))
    assert (flipped - reference)[inner].abs().mean() < 0.1
    assert (unflipped - reference)[inner].abs().mean() > 0.5  # without the flip they differ
