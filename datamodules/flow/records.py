"""The temporal stream's view of a dataset: each record's flow folder instead of its video."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch

from datamodules.dataset_spec import DatasetSplits
from datamodules.datasets import get_dataset
from datamodules.flow.layout import flow_bound, flow_folder
from datamodules.flow.quantise import DEFAULT_BOUND
from datamodules.flow.reader import read_flow_stack
from datamodules.decoding.base import IndexSampler
from datamodules.records import VideoRecord


class FlowStackReader:
    """Reads ``length`` consecutive flow pairs per sampled start (a picklable record reader)."""

    def __init__(self, length: int) -> None:
        self.length = length

    def __call__(
        self, record: VideoRecord, sample: IndexSampler, size: tuple[int, int] | None
    ) -> tuple[torch.Tensor, int]:
        return read_flow_stack(record.path, sample, self.length, size)


def default_flow_root(dataset: str, root: Path | None) -> Path:
    """Where ``stbench flow`` writes by default: ``<root>/flow``; for a generated dataset, the
    ``flow`` folder inside the generated dataset's own folder (so it follows its version)."""
    return get_dataset(dataset).data_root(root) / "flow"


def flow_splits(splits: DatasetSplits, flow_root: Path) -> tuple[DatasetSplits, float]:
    """Splits whose records point at their flow folders, and the flow's quantisation bound.

    A missing flow folder is not checked here: it is an unreadable input like a missing video
    (the run's ``on_bad_video`` policy applies). The bound is read from the first extracted folder.
    """
    if not Path(flow_root).is_dir():
        raise FileNotFoundError(f"no optical flow at {flow_root}: run `stbench flow` first (or pass --flow-root)")

    def to_flow(records: list[VideoRecord]) -> list[VideoRecord]:
        return [replace(r, path=flow_folder(flow_root, r.video_id), frame_template=None, num_frames=None) for r in records]

    bound = DEFAULT_BOUND
    for record in [*splits.train, *splits.test]:
        found = flow_bound(flow_folder(flow_root, record.video_id))
        if found is not None:
            bound = found
            break
    return replace(splits, train=to_flow(splits.train), val=to_flow(splits.val), test=to_flow(splits.test)), bound
