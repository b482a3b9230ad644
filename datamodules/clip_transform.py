"""How decoded uint8 clips become network input, in one object owned by the datamodule.

A :class:`ClipTransform` knows the run's modality, input size, segment count, the backbone's
input normalisation and the flow's quantisation bound, and turns a batch after its transfer to
the device into what the network takes:

* training batches (they carry their clips' crop/flip draws, ``augment``): the multi-scale crop
  and flip of :mod:`datamodules.augment`;
* test batches of one view: the centre crop;
* test batches of several views (``test_clips`` temporal clips × ``test_crops`` crops): the
  frames stay uint8 and the batch gets ``views``, a :class:`ClipViews` that yields one view's
  input at a time, so memory stays that of a one-view batch.

Every view, whatever its box and flip, goes through :meth:`ClipTransform.view`: RGB is cropped,
resized, flipped and normalised; a flow stack is cropped, resized and mirrored on its quantised
values, then dequantised with its x channels negated on mirrored views and each map zero-centred.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch

from backbones.base import InputNorm
from datamodules.augment import crop_resize_normalise, eval_boxes, eval_view_boxes, train_boxes
from datamodules.flow.augment import flow_view
from datamodules.flow.extract import DEFAULT_BOUND
from datamodules.modality import Modality


@dataclass(frozen=True)
class ClipTransform:
    modality: Modality
    input_size: int
    segments: int
    input_norm: InputNorm | None
    flow_bound: float = DEFAULT_BOUND
    test_clips: int = 1
    test_crops: int = 1

    @property
    def multi_view(self) -> bool:
        return self.test_clips * self.test_crops > 1

    def view(self, frames: torch.Tensor, boxes: torch.Tensor, flips: torch.Tensor) -> torch.Tensor:
        """One view of uint8 clips (B, T·L, H, W, C): per-clip box (B, 4) and flip (B,) → (B, T, C', S, S)."""
        if self.modality is Modality.FLOW:
            return flow_view(frames, boxes, flips, self.segments, self.input_size, self.flow_bound)
        return crop_resize_normalise(frames, boxes, flips, self.input_size, self.input_norm)

    def train(self, frames: torch.Tensor, draws: torch.Tensor) -> torch.Tensor:
        """The training view of each clip from its crop/flip draw (B, 4) (:func:`datamodules.augment.draw_train_params`)."""
        height, width = frames.shape[2:4]
        return self.view(frames, train_boxes(draws, height, width), draws[:, 3])

    def test(self, frames: torch.Tensor) -> torch.Tensor:
        """The centre test view of each clip."""
        batch, _, height, width, _ = frames.shape
        flips = torch.zeros(batch, dtype=torch.bool) if self.modality is Modality.FLOW else torch.zeros(batch)
        return self.view(frames, eval_boxes(batch, height, width, self.input_size), flips)

    def views(self, frames: torch.Tensor) -> ClipViews:
        """The test views of uint8 clips (B, V·T·L, H, W, C) holding ``test_clips`` clips each."""
        return ClipViews(self, frames)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        """A batch after its transfer to the device → the network's input in ``frames`` (or ``views``)."""
        if "frames" not in batch:
            return batch  # every clip of the batch was unreadable and skipped
        draws = batch.get("augment")
        if draws is not None:
            batch["frames"] = self.train(batch["frames"], draws)
        elif self.multi_view:
            batch["views"] = self.views(batch["frames"])
        else:
            batch["frames"] = self.test(batch["frames"])
        return batch


class ClipViews:
    """The test views of a batch, computed one at a time by :meth:`inputs` (not stored)."""

    def __init__(self, transform: ClipTransform, frames: torch.Tensor) -> None:
        self.transform = transform
        self.frames = frames

    @property
    def count(self) -> int:
        return self.transform.test_clips * self.transform.test_crops

    def inputs(self) -> Iterator[torch.Tensor]:
        """Each view's network input: every crop of the first temporal clip, then of the next, …"""
        frames, transform = self.frames, self.transform
        batch, total, height, width, _ = frames.shape
        per_clip = total // transform.test_clips
        boxes, flips = eval_view_boxes(height, width, transform.input_size, transform.test_crops)
        for clip in range(transform.test_clips):
            clip_frames = frames[:, clip * per_clip : (clip + 1) * per_clip]
            for box, flip in zip(boxes, flips):
                yield transform.view(clip_frames, box.expand(batch, 4), flip.expand(batch))


@dataclass(frozen=True)
class TwoStreamTransform:
    """RGB frames and the flow stacks of the same clips (deep fusion): one crop box and flip per
    clip, drawn once, for both streams; one test view."""

    rgb: ClipTransform
    flow: ClipTransform

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        if "frames" not in batch:
            return batch
        rgb, flow = batch["frames"]["rgb"], batch["frames"]["flow"]
        if rgb.shape[:1] != flow.shape[:1] or rgb.shape[2:4] != flow.shape[2:4]:
            raise ValueError(f"rgb {tuple(rgb.shape)} and flow {tuple(flow.shape)} differ in batch or frame size")
        draws = batch.get("augment")
        if draws is None:
            batch["frames"] = {"rgb": self.rgb.test(rgb), "flow": self.flow.test(flow)}
        else:
            batch["frames"] = {"rgb": self.rgb.train(rgb, draws), "flow": self.flow.train(flow, draws)}
        return batch
