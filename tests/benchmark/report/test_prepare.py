import argparse
import shutil
from pathlib import Path

import pytest

from benchmark.report.prepare import REPORT_NAME, SHORT, annotation_files, prepare_dataset, write_report
from benchmark.cli.prepare import add_prepare_parser
from datamodules.datasets import get_dataset
from datamodules.synthetic.generate import SyntheticConfig, clip_rng, encode_mp4, ensure_synthetic, load_manifest, render_clip
from datamodules.decoding.index import CANNOT_OPEN, MISSING, ZERO_BYTE, apply_index, load_index

# 3 clips per class: 10 train, 10 validation, 10 test videos of 10 to 12 frames (the protocol has 8 segments)
SMALL = SyntheticConfig(seed=4, clips_per_class=3, min_frames=10, max_frames=12, sizes=(32,))


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    return ensure_synthetic(tmp_path_factory.mktemp("generated"), SMALL, workers=1, progress=False)


@pytest.fixture
def root(generated, tmp_path) -> Path:
    copy = tmp_path / "dataset"
    shutil.copytree(generated, copy)
    return copy


def first_ids(root: Path, split: str, count: int) -> list[str]:
    lines = (root / f"synthetic-{split}.csv").read_text().splitlines()
    return [line.split(";")[0] for line in lines[:count]]


def plant_problems(root: Path) -> dict[str, str]:
    """Break four videos (and shorten one) in place; returns their files and expected problem kinds."""
    missing, zero = first_ids(root, "train", 2)
    truncated, text = first_ids(root, "validation", 2)
    (short,) = first_ids(root, "test", 1)
    videos = root / "videos"
    (videos / f"{missing}.mp4").unlink()
    (videos / f"{zero}.mp4").write_bytes(b"")
    data = (videos / f"{truncated}.mp4").read_bytes()
    (videos / f"{truncated}.mp4").write_bytes(data[: len(data) // 2])
    (videos / f"{text}.mp4").write_text("this is a text file, not a video\n")
    encode_mp4(render_clip("Growing", clip_rng(0, 1), 5, 32), videos / f"{short}.mp4", fps=12)
    return {
        f"videos/{missing}.mp4": MISSING,
        f"videos/{zero}.mp4": ZERO_BYTE,
        f"videos/{truncated}.mp4": CANNOT_OPEN,
        f"videos/{text}.mp4": CANNOT_OPEN,
        f"videos/{short}.mp4": SHORT,
    }


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    add_prepare_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["prepare", *argv])
    return args.handler(args)


def test_every_planted_problem_is_listed_by_file(root, tmp_path):
    planted = plant_problems(root)
    report = prepare_dataset("synthetic", root, workers=2, progress=False, cache_dir=tmp_path / "cache")

    assert {p.file: p.kind for p in report.problems} == planted
    assert [p.kind for p in report.warnings] == [SHORT]
    assert "5 frames < 8 segments" in report.warnings[0].detail
    assert report.videos == 30 and report.usable == 26 and report.exit_code == 0
    by_split = {s.name: s for s in report.splits}
    assert [(s.records, s.usable, s.problems, s.warnings) for s in report.splits] == [
        (10, 8, 2, 0), (10, 8, 2, 0), (10, 10, 0, 1)]  # fmt: skip
    assert by_split["test"].frames_min == 5
    assert by_split["train"].frames_min >= 10 and by_split["train"].frames_max <= 12
    sources = {p.file: p.source for p in report.problems}
    assert all(src.startswith(str(root / "synthetic-")) for src in sources.values())

    assert report.report_file == root / REPORT_NAME and report.report_note == ""
    text = report.report_file.read_text()
    for file, kind in planted.items():
        assert f"| `{file}` | {kind} |" in text
    assert "| test | 10 | 10 | 0 | 1 | 5 |" in text


def test_the_index_is_written_and_usable_for_the_rest(root, tmp_path):
    plant_problems(root)
    report = prepare_dataset("synthetic", root, workers=1, progress=False, cache_dir=tmp_path / "cache")
    splits = get_dataset("synthetic").load(root, "default", False)
    records = splits.train + splits.val + splits.test
    index = load_index(root, annotation_files(records), cache_dir=tmp_path / "cache")
    assert index is not None and index.file == report.index_file

    usable = apply_index(records, index, drop_unusable=True)
    manifest = {Path(e["path"]).stem: e["num_frames"] for e in load_manifest(root)["files"]}
    short = Path(report.warnings[0].file).stem
    assert len(usable) == 26
    assert {r.video_id: r.num_frames for r in usable} == {
        r.video_id: 5 if r.video_id == short else manifest[r.video_id] for r in usable
    }


def test_second_run_uses_the_index_and_an_annotation_change_invalidates_it(root, tmp_path):
    cache = tmp_path / "cache"
    first = prepare_dataset("synthetic", root, workers=1, progress=False, cache_dir=cache)
    assert first.probed == 30 and first.problems == ()
    again = prepare_dataset("synthetic", root, workers=1, progress=False, cache_dir=cache)
    assert again.probed == 0 and again.index_file == first.index_file
    assert again.splits == first.splits

    train = root / "synthetic-train.csv"
    train.write_text("\n".join(train.read_text().splitlines()[:-1]) + "\n")
    changed = prepare_dataset("synthetic", root, workers=1, progress=False, cache_dir=cache)
    assert changed.index_file != first.index_file and changed.probed == 29
    assert changed.splits[0].records == 9


def test_exit_code_2_when_every_video_is_bad(root, tmp_path, capsys):
    for video in (root / "videos").glob("*.mp4"):
        video.write_bytes(b"")
    code = run_cli("synthetic", "--root", str(root), "--cache-dir", str(tmp_path / "cache"), "--no-progress")
    captured = capsys.readouterr()
    assert code == 2
    assert "0 usable, 30 problems" in captured.out and "no usable video" in captured.err


def test_cli_prints_a_summary_and_exits_0_with_problems(root, tmp_path, capsys):
    planted = plant_problems(root)
    report = tmp_path / "elsewhere" / "check.md"
    report.parent.mkdir()
    code = run_cli("synthetic", "--root", str(root), "--cache-dir", str(tmp_path / "cache"), "--no-progress",
                   "--workers", "2", "--report", str(report))  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "30 distinct videos, 26 usable, 4 problems, 1 warnings" in out
    for file in planted:
        assert file in out
    assert report.is_file() and not (root / REPORT_NAME).exists()
    assert f"report: {report}" in out


def test_report_falls_back_next_to_the_index_when_the_root_is_not_writable(root, tmp_path):
    (root / REPORT_NAME).mkdir()  # the default place cannot be written (as on a read-only mount, even as root)
    report = prepare_dataset("synthetic", root, workers=1, progress=False, cache_dir=tmp_path / "cache")
    assert report.report_file.parent == tmp_path / "cache" and report.report_file.is_file()
    assert str(report.report_file) in report.report_note and str(root / REPORT_NAME) in report.report_note
    assert f"- note: {report.report_note}" in report.report_file.read_text()

    blocked = tmp_path / "a-file"
    blocked.write_text("")
    with pytest.raises(OSError):
        write_report(report, blocked / REPORT_NAME, None)  # an explicitly asked-for place is not replaced


def test_a_stream_copy_cut_is_counted_by_its_shown_frames_and_said_to_be_decoded_in_order(root, tmp_path):
    """A cut after a key frame leaves pictures that an MP4 edit list hides: prepare counts the frames shown."""
    from tests.datamodules.decoding.edit_list_clips import shifted

    (cut,) = first_ids(root, "train", 1)
    video = root / "videos" / f"{cut}.mp4"
    manifest = {Path(e["path"]).stem: e["num_frames"] for e in load_manifest(root)["files"]}
    plain = video.rename(video.with_suffix(".plain"))
    shifted(plain, video, 3)
    plain.unlink()
    report = prepare_dataset("synthetic", root, workers=1, progress=False, cache_dir=tmp_path / "cache")
    assert report.usable == 30 and dict(report.decoding) == {"H.264 in mp4 with an edit list": 1}
    splits = get_dataset("synthetic").load(root, "default", False)
    index = load_index(root, annotation_files(splits.train + splits.val + splits.test), cache_dir=tmp_path / "cache")
    assert index.lookup(video).num_frames == manifest[cut] - 3
