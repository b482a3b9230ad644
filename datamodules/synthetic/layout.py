"""The built-in ``synthetic`` dataset's classes and its files on disk.

Light on purpose (no numpy): the dataset table reads the class count from here without generating
anything.
"""
from __future__ import annotations

DATASET_VERSION: int = 1

#: Forward motion first, its exact time-reverse second.
REVERSED_PAIRS: tuple[tuple[str, str], ...] = (
    ("Moving Left", "Moving Right"),
    ("Moving Up", "Moving Down"),
    ("Growing", "Shrinking"),
    ("Rotating Clockwise", "Rotating Anticlockwise"),
    ("Appearing", "Vanishing"),
)

CLASS_NAMES: tuple[str, ...] = tuple(name for pair in REVERSED_PAIRS for name in pair)

#: The classes a horizontal mirror turns into each other; every other class is mirror-symmetric
#: (up/down, growing/shrinking and appearing/vanishing look the same mirrored).
MIRRORED_PAIRS: tuple[tuple[str, str], ...] = (
    ("Moving Left", "Moving Right"),
    ("Rotating Clockwise", "Rotating Anticlockwise"),
)

SPLITS: tuple[str, ...] = ("train", "validation", "test")

PREFIX = "synthetic"
MANIFEST_NAME = "manifest.json"
VIDEO_DIR = "videos"
LABELS_FILE = f"{PREFIX}-labels.csv"


def split_file(split: str) -> str:
    """The ``<id>;<label>`` list of one of :data:`SPLITS`."""
    return f"{PREFIX}-{split}.csv"
