"""End to end: multi-view testing, and a multi-label dataset (CCV layout) scored by mAP."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark.run.config import resolve_config
from benchmark.run.runner import RunOptions, run
from datamodules.synthetic.generate import encode_mp4


def _options(root: Path, tmp_path: Path) -> RunOptions:
    return RunOptions(
        data_root=str(root),
        results_dir=str(tmp_path / "results"),
        work_dir=str(tmp_path / "runs"),
        accelerator="cpu",
        num_workers=0,
        progress=False,
    )


@pytest.mark.slow
def test_multi_view_testing_counts_each_video_once_and_records_its_views(tiny_synthetic, tmp_path):
    single = resolve_config("synthetic", head="tsn", epochs=1, batch_size=4, segments=2)
    views = resolve_config("synthetic", head="tsn", epochs=1, batch_size=4, segments=2, test_clips=2, test_crops=10)
    assert views.run_id != single.run_id
    row = run(views, _options(tiny_synthetic, tmp_path))
    assert row["test_views"] == 20
    assert row["n_test_expected"] == row["n_test_evaluated"] == 9
    assert 0.0 <= row["top1"] <= 1.0 and row["test_clips_per_s"] > 0


@pytest.fixture(scope="module")
def ccv_root(reference_dir, tmp_path_factory) -> Path:
    """The official CCV files cut to their first lines (unlabelled rows included), tiny videos."""
    root = tmp_path_factory.mktemp("ccv")
    official = reference_dir / "annotations" / "ccv"
    (root / "categoryName.txt").write_bytes((official / "categoryName.txt").read_bytes())
    rng = np.random.default_rng(0)
    for part, count in (("train", 40), ("test", 24)):
        ids = (official / f"{part}VidID.txt").read_text().splitlines(keepends=True)[:count]
        labels = (official / f"{part}Label.txt").read_text().splitlines(keepends=True)[:count]
        (root / f"{part}VidID.txt").write_text("".join(ids))
        (root / f"{part}Label.txt").write_text("".join(labels))
        for video_id in ids:
            frames = rng.integers(0, 255, size=(6, 32, 32, 3), dtype=np.uint8)
            (root / "videos").mkdir(exist_ok=True)
            encode_mp4(frames, root / "videos" / f"{video_id.strip()}.mp4", fps=25)
    return root


@pytest.mark.slow
def test_multi_label_run_reports_map_and_keeps_unlabelled_test_videos(ccv_root, tmp_path):
    from datamodules.adapters.ccv import count_unlabelled, load

    splits = load(ccv_root, "default")
    unlabelled = count_unlabelled(splits.test)
    assert unlabelled > 0  # the official rows with no label are part of the test set
    config = resolve_config(
        "ccv", head="tsn", backbone="smallcnn", epochs=1, batch_size=8, segments=2, input_size=32,
        optimizer="adam", lr=1e-3, lr_steps=[],
    )  # fmt: skip
    row = run(config, _options(ccv_root, tmp_path))
    assert row["status"] == "finished"
    assert row["n_test_expected"] == row["n_test_evaluated"] == 24
    assert 0.0 < row["map"] <= 1.0
    assert np.isnan(row["top1"])  # single-label accuracy does not apply
    saved = pd.read_csv(tmp_path / "results" / "leaderboard.csv").iloc[0]
    assert saved["map"] == pytest.approx(row["map"])
