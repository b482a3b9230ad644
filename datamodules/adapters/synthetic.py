"""The built-in ``synthetic`` dataset (one split: "default"), generated on first use.

``root`` is a generated dataset folder (one holding ``manifest.json``, e.g. a small one made for
tests) or the folder to generate into (None: the user cache, see
:func:`datamodules.synthetic.config.default_root`). The files follow the 20BN-Jester v1 layout:
``synthetic-labels.csv`` and ``<id>;<label>`` lists for train, validation and test (a labelled,
held-out test set); videos are ``videos/<id>.mp4``.

Training clips are flipped horizontally with label swapping, as on Something-Something: a mirrored
"Moving Left" clip is a "Moving Right" clip, a mirrored clockwise rotation an anticlockwise one
(:data:`~datamodules.synthetic.layout.MIRRORED_PAIRS`); the other classes are mirror-symmetric.
Trained from scratch on CPU: Adam reaches in 4 epochs what SGD needs far longer for.
"""
from __future__ import annotations

from pathlib import Path

from datamodules.annotations.jester_format import read_label_names, read_labelled_split
from datamodules.dataset_spec import DatasetSpec, DatasetSplits, TrainingProtocol
from datamodules.synthetic.layout import (
    CLASS_NAMES,
    LABELS_FILE,
    MANIFEST_NAME,
    MIRRORED_PAIRS,
    REVERSED_PAIRS,
    SPLITS,
    VIDEO_DIR,
    split_file,
)


def dataset_folder(root: Path | None, progress: bool = True) -> Path:
    """``root`` when it is a generated dataset folder, else the dataset generated under ``root``."""
    if root is not None and (Path(root) / MANIFEST_NAME).is_file():
        return Path(root)
    from datamodules.synthetic.generate import ensure_synthetic  # numpy and PyAV: only to generate

    return ensure_synthetic(root, progress=progress)


def load(folder: Path, split: str) -> DatasetSplits:
    """The train, validation and test records of the generated dataset in ``folder``."""
    if split not in ("default", ""):
        raise ValueError(f"the synthetic dataset has one split ('default'), got {split!r}")
    folder = Path(folder)
    names = read_label_names(folder / LABELS_FILE)
    index = {name: i for i, name in enumerate(names)}

    def locate(video_id: str) -> Path:
        return folder / VIDEO_DIR / f"{video_id}.mp4"

    parts = {part: read_labelled_split(folder / split_file(part), index, locate) for part in SPLITS}
    return DatasetSplits(names, parts["train"], parts["validation"], parts["test"], REVERSED_PAIRS)


def mirrored_labels(class_names: list[str]) -> tuple[int, ...]:
    """Class ``i`` of a mirrored clip: its partner in :data:`MIRRORED_PAIRS`, else itself."""
    partner = {a: b for pair in MIRRORED_PAIRS for a, b in (pair, pair[::-1])}
    index = {name: i for i, name in enumerate(class_names)}
    return tuple(index[partner.get(name, name)] for name in class_names)


SPEC = DatasetSpec(
    name="synthetic",
    num_classes=len(CLASS_NAMES),
    read=load,
    flip=True,
    flip_labels=mirrored_labels,
    decode_size=(80, 80),
    protocol=TrainingProtocol(
        segments=8, input_size=64, epochs=4, batch_size=16, lr=1e-3, lr_steps=(3,), optimizer="adam", weight_decay=1e-4
    ),
    generate=dataset_folder,
)
