"""Sweep files of the multi-stream systems: the streams' settings, the splits, the fusion methods.

::

    name: two_stream_synthetic
    system: two_stream
    splits: [default]              # e.g. ["1", "2", "3"] for UCF-101 / HMDB-51 (reports average them)
    shared:                        # RunConfig fields of both streams
      dataset: synthetic
      holdout_fraction: 0.2
    spatial: {modality: rgb, head: tsn}
    temporal: {modality: flow, head: tsn, flow_length: 5}
    fusion: [average, weighted_average, linear_svm]

Unset RunConfig fields come from the dataset's protocol (:func:`benchmark.run.config.resolve_config`).
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from benchmark.run.config import RunConfig, resolve_config


@dataclass(frozen=True)
class StreamPair:
    split: str
    spatial: RunConfig
    temporal: RunConfig


@dataclass(frozen=True)
class SystemFile:
    name: str
    system: str
    pairs: tuple[StreamPair, ...]
    fusion: tuple[str, ...]
    settings: dict[str, Any]  # system-specific extra settings (e.g. the hybrid's)


def stream_config(path: Path, shared: dict[str, Any], own: dict[str, Any], split: str) -> RunConfig:
    """One stream's RunConfig: the shared settings, the stream's own over them, and the split."""
    values = {**shared, **own, "split": split}
    known = {f.name for f in fields(RunConfig)}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"{path}: unknown run settings {sorted(unknown)}")
    dataset = values.pop("dataset", "synthetic")
    return resolve_config(dataset, **values)


def load_system_file(path: str | Path) -> SystemFile:
    path = Path(path)
    document = yaml.safe_load(path.read_text())
    required = {"system", "spatial", "temporal"}
    if not isinstance(document, dict) or not required <= set(document):
        raise ValueError(f"{path}: a system file needs {sorted(required)}")
    shared = document.get("shared") or {}
    splits = [str(split) for split in document.get("splits", ["default"])]
    pairs = tuple(
        StreamPair(
            split,
            stream_config(path, shared, document["spatial"], split),
            stream_config(path, shared, document["temporal"], split),
        )
        for split in splits
    )
    return SystemFile(
        name=document.get("name", path.stem),
        system=document["system"],
        pairs=pairs,
        fusion=tuple(document.get("fusion", ["average", "weighted_average", "linear_svm"])),
        settings=document.get("settings") or {},
    )


def load_hybrid_file(path: str | Path) -> list[SystemFile]:
    """The system file's systems: one, or one per dataset when ``splits`` is a mapping."""
    path = Path(path)
    document = yaml.safe_load(path.read_text())
    if not isinstance(document, dict) or not isinstance(document.get("splits"), dict):
        return [load_system_file(path)]
    required = {"system", "spatial", "temporal"}
    if not required <= set(document):
        raise ValueError(f"{path}: a system file needs {sorted(required)}")
    shared: dict[str, Any] = document.get("shared") or {}
    if "dataset" in shared:
        raise ValueError(f"{path}: 'splits' maps datasets to splits, so 'shared' must not name a dataset")
    systems = []
    for dataset, splits in document["splits"].items():
        common = {**shared, "dataset": dataset}
        pairs = tuple(
            StreamPair(
                str(split),
                stream_config(path, common, document["spatial"], str(split)),
                stream_config(path, common, document["temporal"], str(split)),
            )
            for split in (splits if isinstance(splits, list) else [splits])
        )
        name = f"{document.get('name', path.stem)}:{dataset}"
        systems.append(SystemFile(name, document["system"], pairs, (), document.get("settings") or {}))
    return systems
