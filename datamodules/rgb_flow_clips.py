"""Two-stream clips of the deep fusion network: T RGB frames and a stack of L flow pairs centred on each.

Frames: :func:`datamodules.sampling.intervals.deep_fusion_indices` (random start and interval in
training, the evenly spaced interval at test), drawn from the clip's own (seed, epoch, index)
generator like every :class:`ClipDataset` draw.

Flow stack of frame i (0-based; pair j is the flow from frame j to frame j + 1, see
:mod:`datamodules.flow.reader`): pairs ``i - L//2 .. i - L//2 + L - 1``. For even L these are the
L/2 pairs before frame i and the L/2 after it (i - L/2 .. i + L/2 - 1, spanning frames
i - L/2 .. i + L/2); an odd L has one more pair after the frame than before it. Pair indices
outside [0, num_pairs - 1] are clamped to the nearest end, so stacks at the first and last frames
repeat their end pair; ``num_pairs`` is the flow folder's own count (``flow.json``).

Both streams are read at the RGB frames' size (flow images extracted at another size are resized
to it; their values stay in the extraction's pixels), so one crop box and one flip, drawn once per
clip, apply to both on the device: the flip mirrors both images and negates the flow's x channels
(:func:`datamodules.flow.augment.flow_to_input`). A clip's ``frames`` is a dict: ``rgb`` uint8
(T, H, W, 3) and ``flow`` uint8 (T·L, H, W, 2), after the batch transform ``rgb`` float
(B, T, 3, S, S) and ``flow`` float (B, T, 2L, S, S).
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from datamodules.clip_transform import ClipTransform, TwoStreamTransform
from datamodules.clip_dataset import (
    BadVideoPolicy,
    ClipDataset,
    collate_clips,
)
from datamodules.datamodule import VideoDataModule
from datamodules.flow.extract import flow_folder
from datamodules.flow.reader import read_flow_stack
from datamodules.flow.records import flow_splits
from datamodules.sampling.intervals import deep_fusion_indices
from datamodules.decoding.video import IndexSampler, read_record
from datamodules.modality import Modality
from datamodules.records import VideoRecord
from datamodules.sampling.segments import SamplingMode

STREAMS = ("rgb", "flow")


def centred_pairs(frame_indices: Sequence[int], length: int, num_pairs: int) -> list[int]:
    """Flow pair indices of the stacks centred on ``frame_indices``, ``length`` per frame, clamped."""
    if length < 1:
        raise ValueError(f"the stack length must be >= 1, got {length}")
    if num_pairs < 1:
        raise ValueError(f"a flow folder needs at least one pair, got num_pairs={num_pairs}")
    first = -(length // 2)
    return [min(max(int(i) + first + k, 0), num_pairs - 1) for i in frame_indices for k in range(length)]


class RgbFlowReader:
    """Record reader of both streams (picklable): the sampled RGB frames and their flow stacks.

    Returns ``({"rgb": (T, H, W, 3), "flow": (T·L, H, W, 2)}, num_frames)``; the flow comes from
    ``<flow_root>/<video_id>``. A missing or broken flow folder is a ``VideoReadError`` like an
    unreadable video (the dataset's bad-video policy applies).
    """

    def __init__(self, flow_root: str | Path, length: int) -> None:
        if length < 1:
            raise ValueError(f"the flow stack length must be >= 1, got {length}")
        self.flow_root = Path(flow_root)
        self.length = length

    def __call__(
        self, record: VideoRecord, sample: IndexSampler, size: tuple[int, int] | None
    ) -> tuple[dict[str, torch.Tensor], int]:
        chosen: list[int] = []

        def sample_frames(num_frames: int) -> list[int]:
            chosen[:] = [int(i) for i in sample(num_frames)]
            return list(chosen)

        rgb, num_frames = read_record(record, sample_frames, size)
        height, width = int(rgb.shape[1]), int(rgb.shape[2])
        flow, _ = read_flow_stack(
            flow_folder(self.flow_root, record.video_id),
            lambda num_pairs: centred_pairs(chosen, self.length, num_pairs),
            self.length,
            (height, width),
        )
        return {"rgb": rgb, "flow": flow}, num_frames


class RgbFlowClipDataset(ClipDataset):
    """A :class:`ClipDataset` of two-stream clips (frame choice and stacks: see the module doc).

    One view per clip (no multi-view test); the crop/flip draw (``augment``), flip label map and
    bad-video policy are the parent's.
    """

    def __init__(
        self,
        records: Sequence[VideoRecord],
        num_segments: int,
        mode: SamplingMode,
        decode_size: tuple[int, int] | None,
        seed: int,
        flow_root: str | Path,
        flow_length: int,
        allow_flip: bool = False,
        on_bad_video: BadVideoPolicy = "fail",
        num_classes: int | None = None,
        multi_label: bool = False,
        flip_label_map: Sequence[int] | None = None,
    ) -> None:
        super().__init__(
            records,
            num_segments,
            mode,
            decode_size,
            seed,
            allow_flip=allow_flip,
            on_bad_video=on_bad_video,
            num_classes=num_classes,
            multi_label=multi_label,
            flip_label_map=flip_label_map,
            reader=RgbFlowReader(flow_root, flow_length),
        )

    def _indices(self, generator: torch.Generator) -> IndexSampler:
        return lambda num_frames: deep_fusion_indices(num_frames, self.num_segments, self.mode, generator)


def collate_two_stream(items: list[dict[str, Any]]) -> dict[str, Any]:
    """:func:`collate_clips` of two-stream items: each stream's frames are collated as a clip's
    frames would be; ``frames`` becomes ``{"rgb": (B, T, H, W, 3), "flow": (B, T·L, H, W, 2)}``."""
    streams = {
        name: collate_clips([{**item, "frames": item["frames"][name]} if "frames" in item else item for item in items])
        for name in STREAMS
    }
    batch = streams["rgb"]
    if "frames" in batch:
        batch["frames"] = {name: streams[name]["frames"] for name in STREAMS}
    return batch


class RgbFlowDataModule(VideoDataModule):
    """A :class:`VideoDataModule` of two-stream clips; the flow is read from ``flow_root``
    (default ``<root>/flow``, as written by ``stbench flow``)."""

    def __init__(self, *args: Any, flow_length: int, **kwargs: Any) -> None:
        """The arguments of :class:`VideoDataModule`, plus ``flow_length``: the flow pairs centred
        on each sampled frame."""
        super().__init__(*args, **kwargs)
        self.flow_length = flow_length

    def setup(self, stage: str | None = None) -> None:
        """The RGB splits; checks that the flow root exists and reads its quantisation bound."""
        if self.splits is not None:
            return
        super().setup(stage)
        try:
            _, self.flow_bound = flow_splits(self.splits, self._flow_root())
        except BaseException:
            self.splits = None
            raise

    def clip_dataset(self, records: list, mode: str) -> RgbFlowClipDataset:
        return RgbFlowClipDataset(
            records,
            self.num_segments,
            "train" if mode == "train" else "test",
            self.spec.decode_size,
            self.seed,
            self._flow_root(),
            self.flow_length,
            allow_flip=self.spec.flip,
            on_bad_video=self.on_bad_video,
            num_classes=self.spec.num_classes,
            multi_label=self.spec.multi_label,
            flip_label_map=self.splits.flip_label_map or self.spec.flip_label_map,
        )

    collate = staticmethod(collate_two_stream)

    def clip_transform(self, stage: str = "fit") -> TwoStreamTransform:
        """One crop box and flip per clip for both streams (one test view)."""
        rgb = ClipTransform(Modality.RGB, self.input_size, self.num_segments, self.input_norm)
        flow = ClipTransform(Modality.FLOW, self.input_size, self.num_segments, None, self.flow_bound)
        return TwoStreamTransform(rgb, flow)
