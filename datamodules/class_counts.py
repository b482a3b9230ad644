"""Number of classes of every dataset the harness knows of, without any data on disk.

Used where only the model's shape matters (complexity counts); loading a dataset goes through
``datamodules.datasets`` instead.
"""
from __future__ import annotations

from datamodules.synthetic.generate import CLASS_NAMES as _SYNTHETIC_CLASS_NAMES

NUM_CLASSES: dict[str, int] = {
    "jester": 27,
    "ssv2": 174,
    "ucf101": 101,
    "hmdb51": 51,
    "kinetics400": 400,
    "ccv": 20,
    "ucf11": 11,
    "ucfsports": 10,
    "synthetic": len(_SYNTHETIC_CLASS_NAMES),
}


def num_classes(dataset: str) -> int:
    """K of ``dataset``; raises KeyError naming the known datasets."""
    if dataset not in NUM_CLASSES:
        raise KeyError(f"unknown dataset {dataset!r}; known: {', '.join(sorted(NUM_CLASSES))}")
    return NUM_CLASSES[dataset]
