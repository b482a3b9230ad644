"""Batched, on-device transform of quantised flow stacks into the temporal stream's input.

Order of operations for a batch of stacks, uint8 (B, T * L, H, W, 2) as read by
:func:`datamodules.flow.reader.read_flow_stack`:

1. the shared crop / resize / horizontal flip of :func:`datamodules.augment.crop_resize_normalise`
   on the quantised values (bilinear resampling commutes with the affine dequantisation, so
   cropping before dequantising changes nothing); the flip mirrors the images only;
2. :func:`flow_to_input`: dequantise to pixels, negate the x component of flipped clips (a
   mirrored video moves the other way horizontally; y is unchanged), then subtract from every
   flow map its own spatial mean (zero-centring, per input and channel).

The result is float (B, T, 2L, S, S) with channels ``x_1, y_1, x_2, y_2, ...``: even channels
are horizontal, odd vertical. Values are in pixels of the extraction size (``bound`` at most).
"""
from __future__ import annotations

import torch

from datamodules.augment import crop_resize_normalise
from datamodules.flow.extract import DEFAULT_BOUND


def flow_to_input(q: torch.Tensor, bound: float, flipped: torch.Tensor, centre: bool = True) -> torch.Tensor:
    """Quantised (B, T, 2L, S, S) (uint8, or float after resampling) → zero-centred flow in pixels.

    ``flipped`` (B,) bool marks clips whose images were mirrored: their x channels are negated.
    ``centre=False`` skips the mean subtraction.
    """
    if q.dim() != 5 or q.shape[2] % 2:
        raise ValueError(f"expected (B, T, 2L, S, S) with an even channel count, got {tuple(q.shape)}")
    if not bound > 0:
        raise ValueError(f"the flow bound must be positive, got {bound}")
    flow = q.float() * (2.0 * bound / 255.0) - bound
    sign = 1.0 - 2.0 * flipped.to(device=flow.device, dtype=flow.dtype)  # -1 for flipped clips
    channel_sign = torch.ones(q.shape[2], device=flow.device, dtype=flow.dtype)
    channel_sign = channel_sign.view(1, -1).repeat(q.shape[0], 1)
    channel_sign[:, 0::2] = sign.view(-1, 1)  # x channels of each clip
    flow = flow * channel_sign.view(q.shape[0], 1, q.shape[2], 1, 1)
    if centre:
        flow = flow - flow.mean(dim=(-2, -1), keepdim=True)
    return flow


def flow_view(
    stacks: torch.Tensor,
    boxes: torch.Tensor,
    flips: torch.Tensor,
    segments: int,
    input_size: int,
    bound: float = DEFAULT_BOUND,
) -> torch.Tensor:
    """uint8 (B, T * L, H, W, 2) → float (B, T, 2L, S, S): each clip cropped to its box (B, 4),
    resized, mirrored where ``flips`` (B,) is set, dequantised with x negated on mirrored clips,
    and zero-centred."""
    batch, frames, height, width, channels = stacks.shape
    if channels != 2:
        raise ValueError(f"flow stacks need 2 channels (x, y) last, got shape {tuple(stacks.shape)}")
    if frames % segments:
        raise ValueError(f"{frames} flow pairs per clip do not split into {segments} segments")
    cropped = crop_resize_normalise(stacks, boxes, flips, input_size, None)  # (B, T*L, 2, S, S)
    length = frames // segments
    q = cropped.reshape(batch, segments, length * 2, input_size, input_size)  # x_1, y_1, x_2, y_2, ...
    return flow_to_input(q, bound, flips.bool())
