"""Plant faults into a copy of a small generated synthetic dataset (used by tests/test_faults.py).

Every ``plant_*`` function edits a dataset folder in place (pass it a copy, see :func:`copy_dataset`)
and returns a :class:`Planted` saying which video it touched and which annotation line lists it, so
that a test can check that an error or a ``bad_videos.csv`` row points back to exactly that line.

The built-in dataset's loader maps a video id to ``<folder>/videos/<id>.mp4`` and reads the
Jester-style ``<id>;<class name>`` split files (no header: line ``n`` is the ``n``-th record).
"""
from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np

from datamodules.decoding.convert import frame_to_array
from datamodules.synthetic.generate import SyntheticConfig, encode_mp4, ensure_synthetic

#: 10 classes × (3 train, 1 validation, 1 test) clips of 16–20 frames at 64×64: seconds to generate.
TINY = SyntheticConfig(seed=3, clips_per_class=5, min_frames=16, max_frames=20, sizes=(64,))

SPLIT_FILES: dict[str, str] = {
    "train": "synthetic-train.csv",
    "val": "synthetic-validation.csv",
    "test": "synthetic-test.csv",
}
LABELS_FILE = "synthetic-labels.csv"


@dataclass(frozen=True)
class Planted:
    """A planted fault: the video it concerns and the annotation line that lists that video."""

    video_id: str
    path: Path
    split: str
    annotation: Path
    line: int

    @property
    def source(self) -> str:
        """``file:line`` as :class:`datamodules.records.VideoRecord` writes it."""
        return f"{self.annotation}:{self.line}"


# -- the dataset and its files -------------------------------------------------------------------
def make_tiny_dataset(parent: Path) -> Path:
    """Generate the tiny dataset under ``parent`` (once; later calls find it complete)."""
    return ensure_synthetic(parent, TINY, workers=2, progress=False)


def copy_dataset(source: Path, destination: Path) -> Path:
    """A private copy of a generated dataset folder, safe to damage."""
    return Path(shutil.copytree(source, destination))


def split_file(folder: Path, split: str) -> Path:
    if split not in SPLIT_FILES:
        raise ValueError(f"unknown split {split!r}; known: {', '.join(SPLIT_FILES)}")
    return Path(folder) / SPLIT_FILES[split]


def read_lines(path: Path) -> list[str]:
    """The lines of an annotation file without their line ends (blank lines kept)."""
    return path.read_bytes().decode("utf-8").splitlines()


def write_lines(path: Path, lines: list[str], line_end: str = "\n") -> None:
    path.write_bytes("".join(line + line_end for line in lines).encode("utf-8"))


def video_file(folder: Path, video_id: str) -> Path:
    return Path(folder) / "videos" / f"{video_id}.mp4"


def pick(folder: Path, split: str, position: int = 0) -> Planted:
    """The video on the ``position``-th line (0-based) of a split file, as a :class:`Planted`."""
    annotation = split_file(folder, split)
    lines = read_lines(annotation)
    if not 0 <= position < len(lines) or not lines[position].strip():
        raise IndexError(f"{annotation} has no record on line {position + 1}")
    video_id = lines[position].split(";")[0].strip()
    return Planted(video_id, video_file(folder, video_id), split, annotation, position + 1)


def first_training_batch(folder: Path, seed: int, batch_size: int) -> list[int]:
    """0-based train-file lines of the clips in a one-process run's first training batch (epoch 0).

    Faults planted there are read by the first training step, so a run can stop after one batch.
    """
    from datamodules.clip_dataset import EpochKeyedSampler

    size = sum(1 for line in read_lines(split_file(folder, "train")) if line.strip())
    sampler = EpochKeyedSampler(size, shuffle=True, seed=seed, pad=True)
    sampler.set_epoch(0)
    return [index for _, index in list(sampler)[:batch_size]]


def labels_by_id(folder: Path, split: str) -> dict[str, str]:
    """Video id → class name of every record of a split file."""
    pairs = (line.split(";") for line in read_lines(split_file(folder, split)) if line.strip())
    return {video_id.strip(): label.strip() for video_id, label in pairs}


# -- unreadable videos ---------------------------------------------------------------------------
def plant_zero_byte(folder: Path, split: str = "train", position: int = 0) -> Planted:
    planted = pick(folder, split, position)
    planted.path.write_bytes(b"")
    return planted


def plant_truncated(folder: Path, split: str = "train", position: int = 0) -> Planted:
    """Keep the first half of the file's bytes (its index, written at the end, is lost)."""
    planted = pick(folder, split, position)
    data = planted.path.read_bytes()
    planted.path.write_bytes(data[: len(data) // 2])
    return planted


def plant_text_file(folder: Path, split: str = "train", position: int = 0) -> Planted:
    planted = pick(folder, split, position)
    planted.path.write_text("this is a text file, not an H.264 video\n")
    return planted


def plant_missing(folder: Path, split: str = "train", position: int = 0) -> Planted:
    planted = pick(folder, split, position)
    planted.path.unlink()
    return planted


UNREADABLE: dict[str, Callable[[Path, str, int], Planted]] = {
    "zero_byte": plant_zero_byte,
    "truncated": plant_truncated,
    "text_as_mp4": plant_text_file,
    "missing": plant_missing,
}


# -- readable but unusual videos -----------------------------------------------------------------
def decode_all(path: Path) -> np.ndarray:
    """Every frame of a video as (T, H, W, 3) uint8 RGB (PyAV, independent of the reader under test)."""
    with av.open(str(path)) as container:
        return np.stack([frame_to_array(frame) for frame in container.decode(video=0)])


def video_info(path: Path) -> tuple[int, int, int, float]:
    """(frames, height, width, frames per second) of a video, as PyAV reads them."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(video=0))
        return frames, stream.height, stream.width, float(stream.average_rate)


def plant_one_frame(folder: Path, split: str = "train", position: int = 0) -> Planted:
    """Re-encode the video with its first frame only."""
    planted = pick(folder, split, position)
    encode_mp4(decode_all(planted.path)[:1], planted.path, TINY.fps)
    return planted


def plant_other_format(
    folder: Path, split: str = "train", position: int = 0, size: tuple[int, int] = (120, 160), fps: int = 30
) -> Planted:
    """Re-encode the video at another ``(height, width)`` and frame rate (same frames, resized)."""
    planted = pick(folder, split, position)
    height, width = size
    frames = np.stack(
        [cv2.resize(frame, (width, height), interpolation=cv2.INTER_LINEAR) for frame in decode_all(planted.path)]
    )
    encode_mp4(frames, planted.path, fps)
    return planted


def plant_unusual_name(folder: Path, split: str = "train", position: int = 0, name: str = "clip ü 名") -> Planted:
    """Rename a video (and its id on its annotation line) to ``name``: spaces and non-ASCII characters."""
    planted = pick(folder, split, position)
    target = video_file(folder, name)
    planted.path.rename(target)
    lines = read_lines(planted.annotation)
    _, label = lines[planted.line - 1].split(";")
    lines[planted.line - 1] = f"{name};{label}"
    write_lines(planted.annotation, lines)
    return Planted(name, target, split, planted.annotation, planted.line)


# -- annotation files ----------------------------------------------------------------------------
def plant_bad_line(folder: Path, split: str, kind: str, position: int = 1) -> Planted:
    """Replace line ``position + 1`` of a split file by a malformed one; ``kind`` is one of :data:`BAD_LINES`."""
    planted = pick(folder, split, position)
    lines = read_lines(planted.annotation)
    video_id, label = lines[position].split(";")
    first_id = lines[0].split(";")[0] if position else lines[1].split(";")[0]
    lines[position] = {
        "extra_column": f"{video_id};{label};{label}",
        "missing_column": video_id,
        "unknown_label": f"{video_id};Moving Sideways",
        "duplicate_id": f"{first_id};{label}",
        "empty_id": f" ;{label}",
    }[kind]
    write_lines(planted.annotation, lines)
    return planted


BAD_LINES: tuple[str, ...] = ("extra_column", "missing_column", "unknown_label", "duplicate_id", "empty_id")


def plant_duplicate_class(folder: Path) -> Planted:
    """Append a second copy of the first class name to the labels file."""
    labels = Path(folder) / LABELS_FILE
    lines = read_lines(labels)
    write_lines(labels, [*lines, lines[0]])
    return Planted("", labels, "labels", labels, len(lines) + 1)


def add_blank_lines(folder: Path, split: str) -> None:
    """Blank and whitespace-only lines at the start, in the middle and at the end of a split file."""
    annotation = split_file(folder, split)
    lines = read_lines(annotation)
    middle = len(lines) // 2
    write_lines(annotation, ["", *lines[:middle], "   ", "", *lines[middle:], "", "\t"])


def use_crlf(folder: Path) -> None:
    """Rewrite the labels file and every split file with Windows (CRLF) line ends."""
    for name in (LABELS_FILE, *SPLIT_FILES.values()):
        path = Path(folder) / name
        write_lines(path, read_lines(path), "\r\n")


def empty_split(folder: Path, split: str = "test") -> Path:
    """Make a split file empty (0 bytes); its videos stay on disk."""
    annotation = split_file(folder, split)
    annotation.write_bytes(b"")
    return annotation
