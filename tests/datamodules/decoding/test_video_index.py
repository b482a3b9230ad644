import json
import os
import threading
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from datamodules.decoding import index as video_index
from datamodules.records import VideoRecord
from datamodules.synthetic.generate import clip_rng, encode_mp4, render_clip
from datamodules.decoding.index import (
    CANNOT_DECODE,
    CANNOT_OPEN,
    MISSING,
    NO_FRAMES,
    ZERO_BYTE,
    apply_index,
    build_index,
    load_index,
    probe,
)

TEMPLATE = "{:05d}.jpg"
LENGTHS = {"a": 10, "b": 13, "c": 11}


def write_video(path: Path, num_frames: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    encode_mp4(render_clip("Moving Left", clip_rng(1, num_frames), num_frames, 32), path, fps=12)


def write_frame_folder(folder: Path, num_frames: int) -> None:
    folder.mkdir(parents=True)
    for number in range(1, num_frames + 1):
        cv2.imwrite(str(folder / TEMPLATE.format(number)), np.full((16, 16, 3), 10 * number, np.uint8))


def damage_tail(path: Path) -> None:
    """Zero the second half of the coded frames, keeping the size and the index (moov) at the end."""
    data = bytearray(path.read_bytes())
    start, end = data.find(b"mdat") + 4, data.find(b"moov") - 4
    middle = (start + end) // 2
    data[middle:end] = bytes(end - middle)
    path.write_bytes(bytes(data))


@pytest.fixture
def dataset(tmp_path) -> tuple[Path, list[VideoRecord], Path]:
    """A root with three good videos, one frame folder and one bad entry of every kind, and its list file."""
    root = tmp_path / "root"
    for name, length in LENGTHS.items():
        write_video(root / "videos" / f"{name}.mp4", length)
    write_frame_folder(root / "frames" / "f", 7)
    (root / "videos" / "zero.mp4").write_bytes(b"")
    (root / "videos" / "text.mp4").write_text("not a video\n")
    write_video(root / "videos" / "cut.mp4", 12)
    data = (root / "videos" / "cut.mp4").read_bytes()
    (root / "videos" / "cut.mp4").write_bytes(data[: len(data) // 2])
    write_video(root / "videos" / "tail.mp4", 30)
    damage_tail(root / "videos" / "tail.mp4")
    (root / "frames" / "empty").mkdir()
    names = [*LENGTHS, "zero", "text", "cut", "tail", "gone"]
    records = [VideoRecord(n, root / "videos" / f"{n}.mp4", i, f"list.txt:{i + 1}") for i, n in enumerate(names)]
    for folder in ("f", "empty", "absent"):
        records.append(VideoRecord(folder, root / "frames" / folder, 0, f"list.txt:{len(records) + 1}",
                                   frame_template=TEMPLATE))  # fmt: skip
    annotations = tmp_path / "list.txt"
    annotations.write_text("\n".join(r.video_id for r in records) + "\n")
    return root, records, annotations


def test_probe_counts_frames_and_names_every_problem(dataset):
    root, records, _ = dataset
    results = {record.video_id: probe(record) for record in records}
    assert {n: results[n].num_frames for n in LENGTHS} == LENGTHS
    assert results["f"].num_frames == 7 and results["f"].ok
    kinds = {name: result.problem for name, result in results.items() if not result.ok}
    assert kinds == {
        "zero": ZERO_BYTE,
        "text": CANNOT_OPEN,
        "cut": CANNOT_OPEN,  # cut at half its bytes: the mp4 index at the end is gone
        "tail": CANNOT_DECODE,  # opens and lists its frames, but the last one does not decode
        "gone": MISSING,
        "empty": NO_FRAMES,
        "absent": MISSING,
    }
    assert results["tail"].num_frames == 30
    assert "last frame (29)" in results["tail"].detail
    assert str(root) not in results["text"].detail  # the path is named once, by the report, not in every detail


def test_build_writes_an_index_that_load_and_apply_use(dataset, tmp_path):
    root, records, annotations = dataset
    index = build_index(records, root, [annotations], workers=2, progress=False, cache_dir=tmp_path / "cache")
    assert index.probed == len(records)
    assert index.file.parent == tmp_path / "cache" and index.file.is_file()
    assert [p.name for p in index.file.parent.iterdir() if p.name.endswith(".tmp")] == []

    loaded = load_index(root, [annotations], cache_dir=tmp_path / "cache")
    assert loaded is not None and dict(loaded.entries) == dict(index.entries)
    filled = apply_index(records, loaded)
    assert [r.video_id for r in filled] == [r.video_id for r in records]
    counts = {r.video_id: r.num_frames for r in filled}
    assert {n: counts[n] for n in LENGTHS} == LENGTHS and counts["f"] == 7
    assert counts["zero"] is None and counts["tail"] is None
    usable = apply_index(records, loaded, drop_unusable=True)
    assert [r.video_id for r in usable] == [*LENGTHS, "f"]


def test_second_build_probes_nothing_and_a_changed_video_alone_is_probed_again(dataset, tmp_path, monkeypatch):
    root, records, annotations = dataset
    cache = tmp_path / "cache"
    first = build_index(records, root, [annotations], workers=1, progress=False, cache_dir=cache)
    probed: list[str] = []
    real_probe = video_index.probe
    monkeypatch.setattr(video_index, "probe", lambda record: probed.append(record.video_id) or real_probe(record))

    again = build_index(records, root, [annotations], workers=1, progress=False, cache_dir=cache)
    assert again.probed == 0 and probed == [] and again.file == first.file

    write_video(root / "videos" / "zero.mp4", 9)  # the broken file was fixed
    fixed = build_index(records, root, [annotations], workers=1, progress=False, cache_dir=cache)
    assert probed == ["zero"] and fixed.probed == 1
    assert fixed.lookup(root / "videos" / "zero.mp4").num_frames == 9


def test_an_annotation_change_gives_a_new_index(dataset, tmp_path):
    root, records, annotations = dataset
    cache = tmp_path / "cache"
    first = build_index(records, root, [annotations], workers=1, progress=False, cache_dir=cache)
    annotations.write_text(annotations.read_text() + "another\n")
    assert load_index(root, [annotations], cache_dir=cache) is None
    second = build_index(records, root, [annotations], workers=1, progress=False, cache_dir=cache)
    assert second.key != first.key and second.file != first.file and second.probed == len(records)


def test_relative_and_absolute_roots_share_the_index(dataset, tmp_path, monkeypatch):
    root, records, annotations = dataset
    cache = tmp_path / "cache"
    build_index(records, root, [annotations], workers=1, progress=False, cache_dir=cache)
    monkeypatch.chdir(root.parent)
    relative = [replace(r, path=Path(os.path.relpath(r.path, root.parent))) for r in records]
    index = load_index(Path("root"), [annotations], cache_dir=cache)
    assert index is not None
    assert apply_index(relative, index)[0].num_frames == LENGTHS["a"]


def test_an_unreadable_index_file_is_rebuilt(dataset, tmp_path):
    root, records, annotations = dataset
    index = build_index(records[:3], root, [annotations], workers=1, progress=False, cache_dir=tmp_path)
    index.file.write_text("{ truncated")
    assert load_index(root, [annotations], cache_dir=tmp_path) is None
    rebuilt = build_index(records[:3], root, [annotations], workers=1, progress=False, cache_dir=tmp_path)
    assert rebuilt.probed == 3
    assert json.loads(index.file.read_text())["key"] == rebuilt.key


def test_concurrent_builds_probe_each_video_once(dataset, tmp_path, monkeypatch):
    root, records, annotations = dataset
    calls: list[str] = []
    real_probe = video_index.probe
    monkeypatch.setattr(video_index, "probe", lambda record: calls.append(record.video_id) or real_probe(record))
    results = []

    def build():
        results.append(build_index(records, root, [annotations], workers=1, progress=False, cache_dir=tmp_path))

    threads = [threading.Thread(target=build) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(calls) == sorted(r.video_id for r in records)
    assert sorted(r.probed for r in results) == [0, len(records)]
