import argparse
import json
import shutil
from pathlib import Path

import pytest

from benchmark.cli.flow import add_flow_parser
from datamodules.flow.extract import FLOW_JSON, JPEG_QUALITY
from datamodules.synthetic.generate import SyntheticConfig, ensure_synthetic, load_manifest

FLOW_TINY = SyntheticConfig(
    seed=4, clips_per_class=1, split_fractions=(0.6, 0.2, 0.2), min_frames=5, max_frames=7, sizes=(64,)
)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A tiny generated synthetic dataset: one short clip per class."""
    return ensure_synthetic(tmp_path_factory.mktemp("flow_synthetic"), FLOW_TINY, workers=1, progress=False)


@pytest.fixture
def dataset(generated: Path, tmp_path: Path) -> Path:
    """A private copy, so that a test may break a video of it."""
    return Path(shutil.copytree(generated, tmp_path / "data"))


def stbench_flow(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="stbench")
    add_flow_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["flow", *argv])
    return args.handler(args)


def test_flow_layout_resume_and_storage(dataset: Path, capsys):
    manifest = load_manifest(dataset)
    frames = {entry["id"]: entry["num_frames"] for entry in manifest["files"]}
    assert stbench_flow(["synthetic", "--root", str(dataset), "--method", "dis", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "method: dis" in out
    assert f"videos: {len(frames)} extracted, 0 already done (skipped), 0 failed" in out
    flow_root = dataset / "flow"
    assert sorted(p.name for p in flow_root.iterdir()) == sorted(frames)
    total = 0
    for video_id, num_frames in frames.items():
        folder = flow_root / video_id
        info = json.loads((folder / FLOW_JSON).read_text())
        pairs = num_frames - 1
        assert info["num_pairs"] == pairs and info["method"] == "dis" and info["bound"] == 20.0
        assert info["size"] == [80, 80] and info["jpeg_quality"] == JPEG_QUALITY  # the dataset's decode size
        expected = {f"{c}_{i:05d}.jpg" for c in "xy" for i in range(1, pairs + 1)} | {FLOW_JSON}
        assert {p.name for p in folder.iterdir()} == expected
        total += info["bytes"]
    assert f"{total / len(frames) / 1024:.1f} KiB per video" in out

    assert stbench_flow(["synthetic", "--root", str(dataset), "--no-progress", "--method", "dis"]) == 0
    again = capsys.readouterr().out
    assert f"videos: 0 extracted, {len(frames)} already done (skipped), 0 failed" in again
    assert f"{total / len(frames) / 1024:.1f} KiB per video" in again


def test_unreadable_video_is_listed_as_failed(dataset: Path, tmp_path: Path, capsys):
    broken_id = load_manifest(dataset)["files"][0]["id"]
    (dataset / "videos" / f"{broken_id}.mp4").write_bytes(b"\x00garbage")
    flow_root = tmp_path / "elsewhere"
    argv = ["synthetic", "--root", str(dataset), "--flow-root", str(flow_root), "--method", "farneback",
            "--size", "32", "40", "--no-progress"]  # fmt: skip
    assert stbench_flow(argv) == 1
    out = capsys.readouterr().out
    assert "1 failed" in out
    failed = [line for line in out.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 1
    assert failed[0].startswith(f"FAILED {broken_id} (") and f"{broken_id}.mp4: cannot open video" in failed[0]
    assert not (flow_root / broken_id).exists()
    others = [p for p in flow_root.iterdir() if p.is_dir()]
    assert others and all(json.loads((p / FLOW_JSON).read_text())["size"] == [32, 40] for p in others)
