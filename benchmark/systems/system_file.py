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
One file may cover several datasets (the hybrid's): then ``splits`` maps each dataset to its splits
and ``shared`` leaves ``dataset`` out (:func:`load_hybrid_file`). A file that is not a system file
is a :class:`~benchmark.run.config_file.ConfigFileError` naming the file and line.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmark.run.config import RunConfig, resolve_config
from benchmark.run.config_file import ConfigDocument, ConfigFileError, read_config_file, run_settings, section
from benchmark.run.setting_rules import check_cell, shown
from benchmark.systems.hybrid_settings import HybridSettings
from benchmark.systems.score_fusion import METHODS

__all__ = ["ConfigFileError", "StreamPair", "SystemFile", "load_hybrid_file", "load_system_file", "stream_config"]
REQUIRED = ("system", "spatial", "temporal")
SYSTEMS = ("two_stream", "hybrid")
FUSION_METHODS = METHODS  # the default when a file names none


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
    """One stream's RunConfig: the shared settings, the stream's own over them, and the split
    (the settings checked already, see :func:`benchmark.run.config_file.run_settings`)."""
    values = {**shared, **own, "split": split}
    dataset = values.pop("dataset", "synthetic")
    config = resolve_config(dataset, **values)
    check_cell(config)
    return config


def _document(path: str | Path) -> ConfigDocument:
    document = read_config_file(path)
    missing = [key for key in REQUIRED if key not in document.data]
    if missing:
        raise document.error((), f"a system file needs {sorted(REQUIRED)}; missing {missing}")
    if document.data["system"] not in SYSTEMS:
        found = shown(document.data["system"])
        raise document.error(("system",), f"'system' must name the system: one of {', '.join(SYSTEMS)}, found {found}")
    return document


def _system_settings(document: ConfigDocument) -> dict[str, Any]:
    """The ``settings`` mapping; a hybrid's are checked here as :class:`HybridSettings`."""
    settings = section(document, "settings")
    if document.data["system"] == "hybrid":
        try:
            HybridSettings.from_dict(settings)
        except ValueError as error:
            raise document.error(("settings",), str(error)) from None
    return settings


def _text_list(document: ConfigDocument, where: tuple[str, ...], value: Any) -> list[str]:
    """A list (or one value) of names; YAML numbers (splits "1", "2") become their text."""
    values = value if isinstance(value, list) else [value]
    for item in values:
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            raise document.error(where, f"'{where[-1]}' must list names, found {item!r}"[:200])
    return [str(item) for item in values]


def _pairs(document: ConfigDocument, shared: dict[str, Any], splits: list[str]) -> tuple[StreamPair, ...]:
    spatial = run_settings(document, section(document, "spatial"), ("spatial",))
    temporal = run_settings(document, section(document, "temporal"), ("temporal",))
    for own, name in ((spatial, "spatial"), (temporal, "temporal")):
        if "split" in own or "split" in shared:
            raise document.error((name,), "the split comes from 'splits', not from the streams' settings")
    try:
        return tuple(
            StreamPair(
                split,
                stream_config(document.path, shared, spatial, split),
                stream_config(document.path, shared, temporal, split),
            )
            for split in splits
        )
    except ValueError as error:  # a combination RunConfig refuses
        raise document.error(("spatial",), str(error)) from None


def load_system_file(path: str | Path) -> SystemFile:
    """The one system a system file describes (``splits`` a list of splits)."""
    document = _document(path)
    shared = run_settings(document, section(document, "shared"), ("shared",))
    splits = _text_list(document, ("splits",), document.data.get("splits", ["default"]))
    fusion = _text_list(document, ("fusion",), document.data.get("fusion", list(FUSION_METHODS)))
    unknown = [method for method in fusion if method not in METHODS]
    if unknown:
        raise document.error(("fusion",), f"unknown fusion method {unknown[0]!r}; valid: {', '.join(METHODS)}"[:300])
    return SystemFile(
        name=str(document.data.get("name", document.path.stem)),
        system=document.data["system"],
        pairs=_pairs(document, shared, splits),
        fusion=tuple(fusion),
        settings=_system_settings(document),
    )


def load_hybrid_file(path: str | Path) -> list[SystemFile]:
    """The systems of a file: one, or one per dataset when ``splits`` maps datasets to their splits."""
    document = _document(path)
    splits = document.data.get("splits")
    if not isinstance(splits, dict):
        return [load_system_file(path)]
    shared = run_settings(document, section(document, "shared"), ("shared",))
    if "dataset" in shared:
        reason = "'splits' maps datasets to splits, so 'shared' must not name a dataset"
        raise document.error(("shared", "dataset"), reason)
    systems = []
    for dataset, names in splits.items():
        where = ("splits", str(dataset))
        common = {**shared, **run_settings(document, {"dataset": dataset}, where)}
        pairs = _pairs(document, common, _text_list(document, where, names))
        name = f"{document.data.get('name', document.path.stem)}:{dataset}"
        systems.append(SystemFile(name, document.data["system"], pairs, (), _system_settings(document)))
    return systems
