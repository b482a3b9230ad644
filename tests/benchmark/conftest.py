import shutil
import zlib
from pathlib import Path

import numpy as np
import pytest

from datamodules.datasets import get_dataset
from datamodules.flow.extract import extract_dataset_flow
from datamodules.synthetic.generate import SyntheticConfig, encode_mp4, ensure_synthetic

TINY = SyntheticConfig(seed=3, clips_per_class=5, min_frames=16, max_frames=20, sizes=(64,))


@pytest.fixture(scope="session")
def tiny_synthetic(tmp_path_factory) -> Path:
    """A tiny generated dataset (3 / 1 / 1 clips per class) whose test list has an odd length (9)."""
    directory = ensure_synthetic(tmp_path_factory.mktemp("synthetic"), TINY, workers=2, progress=False)
    test_csv = directory / "synthetic-test.csv"
    lines = test_csv.read_text().splitlines()
    assert len(lines) == 10
    test_csv.write_text("\n".join(lines[:-1]) + "\n")
    return directory


CLIPS_PER_CLASS = {"trainlist01.txt": 2, "testlist01.txt": 1}


def _first_lines_per_class(path: Path, per_class: int) -> bytes:
    """The official file's own lines (CRLF kept), the first ``per_class`` of every class folder."""
    kept: list[bytes] = []
    counts: dict[bytes, int] = {}
    for line in path.read_bytes().splitlines(keepends=True):
        folder = line.split(b"/", 1)[0]
        if counts.get(folder, 0) < per_class:
            counts[folder] = counts.get(folder, 0) + 1
            kept.append(line)
    return b"".join(kept)


@pytest.fixture(scope="session")
def ucf101_tiny_root(reference_dir, tmp_path_factory) -> Path:
    """classInd.txt as distributed, split-1 lists cut to a few official lines per class, and a tiny
    H.264 video (class-coloured, 8 frames of 32×32) at every listed path."""
    root = tmp_path_factory.mktemp("ucf101")
    official = reference_dir / "annotations" / "ucf101" / "ucfTrainTestlist"
    annotations = root / "ucfTrainTestlist"
    annotations.mkdir()
    (annotations / "classInd.txt").write_bytes((official / "classInd.txt").read_bytes())
    rng = np.random.default_rng(0)
    for name, per_class in CLIPS_PER_CLASS.items():
        content = _first_lines_per_class(official / name, per_class)
        (annotations / name).write_bytes(content)
        for line in content.decode().splitlines():
            relative = line.split()[0]
            video = root / relative
            video.parent.mkdir(parents=True, exist_ok=True)
            shade = zlib.crc32(relative.split("/")[0].encode()) % 200 + 30
            frames = np.clip(shade + rng.integers(-20, 20, size=(8, 32, 32, 3)), 0, 255).astype(np.uint8)
            encode_mp4(frames, video, fps=25)
    return root


@pytest.fixture(scope="session")
def tiny_synthetic_flow(tiny_synthetic, tmp_path_factory) -> Path:
    """A copy of the tiny generated dataset with its optical flow in ``<copy>/flow`` (the default place)."""
    copy = tmp_path_factory.mktemp("with_flow") / tiny_synthetic.name
    shutil.copytree(tiny_synthetic, copy)
    splits = get_dataset("synthetic").load(copy, "default", False)
    records = {r.video_id: r for r in [*splits.train, *splits.val, *splits.test]}
    summary = extract_dataset_flow(list(records.values()), copy / "flow", "dis", 20.0, (64, 64), workers=1, progress=False)
    assert not summary.failed
    return copy
