"""The datasets the harness knows: one line per dataset, each an adapter's ``SPEC``.

A dataset is one module in :mod:`datamodules.adapters` (its reader and its facts, see
:class:`datamodules.dataset_spec.DatasetSpec`) plus its line here.
"""
from __future__ import annotations

from datamodules.adapters import ccv, hmdb51, jester, kinetics400, ssv2, synthetic, ucf11, ucf101, ucfsports
from datamodules.dataset_spec import DatasetSpec, DatasetSplits, TrainingProtocol

__all__ = ["DATASETS", "DatasetSpec", "DatasetSplits", "TrainingProtocol", "get_dataset", "table"]


def table(*specs: DatasetSpec) -> dict[str, DatasetSpec]:
    """Specs by name; a name may appear once."""
    named: dict[str, DatasetSpec] = {}
    for spec in specs:
        if spec.name in named:
            raise ValueError(f"dataset {spec.name!r} is listed twice")
        named[spec.name] = spec
    return named


DATASETS: dict[str, DatasetSpec] = table(
    synthetic.SPEC,
    ucf101.SPEC,
    hmdb51.SPEC,
    jester.SPEC,
    ssv2.SPEC,
    kinetics400.SPEC,
    ccv.SPEC,
    ucf11.SPEC,
    ucfsports.SPEC,
)


def get_dataset(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(sorted(DATASETS))}")
    return DATASETS[name]
