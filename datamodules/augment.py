"""Batched clip augmentation that runs on the model's device, after the batch is moved there.

Random choices are drawn per clip in the data workers (``draw_train_params``) from the clip's own
generator, so a clip's augmentation depends only on (seed, epoch, index); the pixel work
(crop + resize + flip + normalisation) is one ``grid_sample`` over the whole batch.

Training: multi-scale crop. The crop's height and width are each the shorter side times one of
``SCALES`` (drawn independently, at most one scale step apart), placed at one of five fixed points
(centre and the four corners), then resized to ``input_size``; a horizontal flip with p = 0.5 where
the dataset's flip policy allows it. Test: resize the shorter side to ``input_size * 256 / 224``,
then a centre crop of ``input_size`` (done as one crop-and-resize of the equivalent centre box).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from backbones.base import InputNorm

SCALES: tuple[float, ...] = (1.0, 0.875, 0.75, 0.66)
POSITIONS: tuple[str, ...] = ("centre", "top_left", "top_right", "bottom_left", "bottom_right")
TEST_RESIZE_RATIO = 256 / 224
# All (height scale, width scale) index pairs at most one step apart.
SCALE_PAIRS: tuple[tuple[int, int], ...] = tuple(
    (i, j) for i in range(len(SCALES)) for j in range(len(SCALES)) if abs(i - j) <= 1
)


def draw_train_params(generator: torch.Generator | None, allow_flip: bool) -> torch.Tensor:
    """Random crop choice of one clip: int64 ``[scale_h_index, scale_w_index, position_index, flip]``."""
    pair = SCALE_PAIRS[int(torch.randint(len(SCALE_PAIRS), (1,), generator=generator))]
    position = int(torch.randint(len(POSITIONS), (1,), generator=generator))
    flip = int(allow_flip and float(torch.rand((1,), generator=generator)) < 0.5)
    return torch.tensor([pair[0], pair[1], position, flip], dtype=torch.int64)


def train_boxes(params: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Pixel boxes ``(top, left, box_height, box_width)`` of shape (B, 4) from drawn params (B, 4)."""
    base = min(height, width)
    sides = torch.tensor([int(base * s) for s in SCALES], dtype=torch.float64)
    crop_h = sides[params[:, 0].cpu()]
    crop_w = sides[params[:, 1].cpu()]
    free_h = torch.div(height - crop_h, 1, rounding_mode="floor")
    free_w = torch.div(width - crop_w, 1, rounding_mode="floor")
    position = params[:, 2].cpu()
    # centre, top-left, top-right, bottom-left, bottom-right
    top_factor = torch.tensor([0.5, 0.0, 0.0, 1.0, 1.0], dtype=torch.float64)[position]
    left_factor = torch.tensor([0.5, 0.0, 1.0, 0.0, 1.0], dtype=torch.float64)[position]
    top = torch.floor(free_h * top_factor)
    left = torch.floor(free_w * left_factor)
    return torch.stack([top, left, crop_h, crop_w], dim=1)


def eval_boxes(batch: int, height: int, width: int, input_size: int) -> torch.Tensor:
    """The centre box that 'resize shorter side to input*256/224, centre crop input' reads from."""
    side = min(height, width) * input_size / (input_size * TEST_RESIZE_RATIO)
    box = torch.tensor([(height - side) / 2, (width - side) / 2, side, side], dtype=torch.float64)
    return box.expand(batch, 4).clone()


def eval_view_boxes(height: int, width: int, input_size: int, crops: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Boxes (V, 4) and flips (V,) of the test crops, after resizing the shorter side to input*256/224.

    ``crops=1``: the centre crop. ``crops=3``: three crops along the longer side (start, centre,
    end). ``crops=10``: the four corners and the centre, each also flipped (the two-stream protocol).
    """
    side = min(height, width) / TEST_RESIZE_RATIO
    free_h, free_w = height - side, width - side
    if crops == 1:
        places = [(0.5, 0.5)]
    elif crops == 3:
        places = [(0.0, 0.0), (0.5, 0.5), (1.0, 1.0)]
        places = [(0.5, f) if width >= height else (f, 0.5) for f, _ in places]
    elif crops == 10:
        places = [(0.5, 0.5), (0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)]
    else:
        raise ValueError(f"test crops must be 1, 3 or 10, got {crops}")
    boxes = torch.tensor([[free_h * top, free_w * left, side, side] for top, left in places], dtype=torch.float64)
    flips = torch.zeros(len(places), dtype=torch.int64)
    if crops == 10:
        boxes = torch.cat([boxes, boxes])
        flips = torch.cat([flips, torch.ones_like(flips)])
    return boxes, flips


def crop_resize_normalise(
    frames: torch.Tensor,
    boxes: torch.Tensor,
    flips: torch.Tensor,
    input_size: int,
    norm: InputNorm | None,
) -> torch.Tensor:
    """uint8 (B, T, H, W, C) → float (B, T, C, S, S): per-clip box crop, resize, flip, normalise.

    ``norm=None`` keeps the resampled values (flow, whose own transform follows)."""
    batch, steps, height, width, channels = frames.shape
    device = frames.device
    boxes = boxes.to(device=device, dtype=torch.float32)
    top, left, box_h, box_w = boxes.unbind(dim=1)
    # Affine map from output coordinates in [-1, 1] to input coordinates in [-1, 1]
    # (align_corners=False, so -1 and 1 are the outer pixel edges).
    scale_x = box_w / width
    scale_y = box_h / height
    shift_x = (2 * left + box_w) / width - 1
    shift_y = (2 * top + box_h) / height - 1
    sign = 1.0 - 2.0 * flips.to(device=device, dtype=torch.float32)
    theta = torch.zeros(batch, 2, 3, device=device)
    theta[:, 0, 0] = scale_x * sign
    theta[:, 0, 2] = shift_x
    theta[:, 1, 1] = scale_y
    theta[:, 1, 2] = shift_y
    theta = theta.repeat_interleave(steps, dim=0)

    images = frames.reshape(batch * steps, height, width, channels).permute(0, 3, 1, 2).float()
    grid = F.affine_grid(theta, [batch * steps, channels, input_size, input_size], align_corners=False)
    out = F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)
    if norm is not None:
        out = norm.apply(out)
    return out.reshape(batch, steps, channels, input_size, input_size)
