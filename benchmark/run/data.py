"""The datamodule of a run, built from its config and options in one place."""
from __future__ import annotations

from typing import Any

from backbones.base import InputNorm
from benchmark.run.config import RunConfig
from benchmark.run.options import RunOptions
from datamodules.datamodule import VideoDataModule
from datamodules.modality import Modality
from datamodules.rgb_flow_clips import RgbFlowDataModule


def datamodule_arguments(config: RunConfig, options: RunOptions) -> dict[str, Any]:
    """What every datamodule of a run takes: the data, its sampling and batching, and where it is."""
    return {
        "dataset": config.dataset,
        "num_segments": config.segments,
        "batch_size": config.batch_size,
        "input_size": config.input_size,
        "seed": config.seed,
        "root": options.data_root,
        "split": config.split,
        "num_workers": options.num_workers,
        "progress": options.progress,
        "on_bad_video": options.on_bad_video,
        "flow_root": options.flow_root,
        "holdout_fraction": config.holdout_fraction,
    }


def build_datamodule(config: RunConfig, options: RunOptions, input_norm: InputNorm) -> VideoDataModule:
    """Clips of one stream (RGB frames, or stacks of ``flow_length`` flow pairs) with the run's test views."""
    modality = Modality(config.modality)
    return VideoDataModule(
        **datamodule_arguments(config, options),
        input_norm=input_norm,
        test_views=config.test_clips,
        test_crops=config.test_crops,
        frames_per_segment=modality.frames_per_segment(config.flow_length),
        modality=modality,
    )


def build_two_stream_datamodule(config: RunConfig, options: RunOptions, input_norm: InputNorm) -> RgbFlowDataModule:
    """RGB frames and the ``flow_length`` flow pairs centred on each (the deep fusion network's input;
    flow from ``options.flow_root``, default ``<data root>/flow``)."""
    return RgbFlowDataModule(**datamodule_arguments(config, options), input_norm=input_norm, flow_length=config.flow_length)
