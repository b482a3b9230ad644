"""End to end on a real dataset's layout: UCF-101 split 1 from the official list files, tiny videos."""
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark.cli import main
from datamodules.synthetic import encode_mp4

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


@pytest.fixture(scope="module")
def ucf101_root(reference_dir, tmp_path_factory) -> Path:
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


@pytest.mark.slow
def test_stbench_run_on_ucf101_layout_trains_and_tests_every_listed_video(ucf101_root, tmp_path):
    results = tmp_path / "results"
    code = main(
        [
            "run", "--dataset", "ucf101", "--split", "1", "--root", str(ucf101_root),
            "--backbone", "smallcnn", "--head", "tsn", "--segments", "2", "--input-size", "32",
            "--epochs", "1", "--batch-size", "16", "--optimizer", "adam", "--lr", "1e-3", "--lr-steps",
            "--workers", "0", "--no-progress", "--results-dir", str(results), "--work-dir", str(tmp_path / "runs"),
        ]
    )  # fmt: skip
    assert code == 0
    row = pd.read_csv(results / "leaderboard.csv").iloc[0]
    assert row["status"] == "finished" and row["dataset"] == "ucf101" and str(row["split"]) == "1"
    assert row["n_test_expected"] == row["n_test_evaluated"] == 101  # one test video per class
    confusion = pd.read_csv(results / "runs" / row["run_id"] / "confusion.csv", index_col=0)
    assert len(confusion) == 101 and "HandstandPushups" in confusion.index
    assert confusion.loc["HandstandPushups", "support"] == 1  # its videos are named v_HandStandPushups_*
    assert list((ucf101_root / "HandstandPushups").glob("v_HandStandPushups_*"))
