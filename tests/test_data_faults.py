"""Data fidelity faults, each planted and given the behaviour and message it now gets.

* frame folders: a missing JPEG in the middle is an error naming the folder, the annotation line and
  the missing file (skipped and counted under ``skip``), and ``prepare`` lists it; a truncated JPEG
  fails when read, a corrupt one that OpenCV still decodes is found by ``prepare --deep``;
* a video damaged mid-file passes the default ``prepare`` but not ``--deep``, and a run then refuses
  it under both policies; an MPEG-1 ``.mpg`` is reported as decoded in order;
* filesystem errors (no permission, a symbolic-link loop, a folder where a file is expected) become
  :class:`VideoReadError` naming the path, the annotation line and the cause, under both policies;
* misleading cases: a header-only AVI says "no frames", an annotation path that is a folder or a
  link loop says so instead of "not found".
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from benchmark.report.prepare import format_report, prepare_dataset
from datamodules.adapters import jester
from datamodules.clip_dataset import ClipDataset
from datamodules.decoding.index import (
    CORRUPT_JPEG,
    DAMAGED,
    FRAME_GAP,
    annotation_files,
    apply_index,
    build_index,
)
from datamodules.decoding.video import VideoReadError, read_clip
from datamodules.records import AnnotationError, VideoRecord
from tests.datamodules.decoding.codec_clips import CLIPS, encode, frame_index, jpeg_folder

LABELS = "".join(f"{name}\n" for name in ["Swiping Left", "Swiping Right", *(f"Gesture {i}" for i in range(25))])
FRAMES = 19


def jester_root(root: Path) -> Path:
    """A Jester root: four 19-frame folders, two per split, each frame showing its index."""
    (root / "annotations").mkdir(parents=True)
    (root / "annotations" / "jester-v1-labels.csv").write_text(LABELS)
    (root / "annotations" / "jester-v1-train.csv").write_text("101;Swiping Left\n102;Swiping Right\n")
    (root / "annotations" / "jester-v1-validation.csv").write_text("201;Swiping Left\n202;Swiping Right\n")
    for video_id in ("101", "102", "201", "202"):
        jpeg_folder(root / video_id, FRAMES)
    return root


def dataset(records: list[VideoRecord], policy: str = "fail") -> ClipDataset:
    return ClipDataset(records, 8, "test", None, seed=0, on_bad_video=policy)


def assert_refused(records: list[VideoRecord], position: int, *mentions: str) -> None:
    """Reading record ``position`` fails naming each of ``mentions`` under ``fail`` and is skipped under ``skip``."""
    with pytest.raises(VideoReadError) as raised:
        dataset(records)[position]
    message = str(raised.value)
    for text in (*mentions, records[position].source):
        assert text in message, message
    item = dataset(records, "skip")[position]
    assert "frames" not in item and item["failed"] == message


@pytest.fixture
def root(tmp_path) -> Path:
    return jester_root(tmp_path / "jester")


def test_a_gap_in_a_frame_folder_is_an_error_naming_folder_line_and_missing_file(root, tmp_path):
    (root / "102" / "00010.jpg").unlink()
    records = jester.load(root, "default").train
    assert_refused(records, 1, str(root / "102"), "00010.jpg missing", "jester-v1-train.csv:2")
    report = prepare_dataset("jester", root, workers=1, progress=False, cache_dir=tmp_path / "index")
    (problem,) = report.errors
    assert (problem.file, problem.kind, problem.source) == ("102", FRAME_GAP, records[1].source)
    assert "00010.jpg missing (18 frames present up to 00019.jpg)" in problem.detail


def test_a_truncated_jpeg_fails_when_read_and_a_corrupt_one_is_found_by_deep_prepare(root, tmp_path):
    truncated, corrupt = root / "201" / "00004.jpg", root / "202" / "00008.jpg"
    truncated.write_bytes(truncated.read_bytes()[:200])
    noise = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)  # a textured frame
    cv2.imwrite(str(corrupt), noise)
    damaged_copy(corrupt, corrupt, length=40)  # OpenCV still decodes it (a warning on stderr, no error)
    assert cv2.imread(str(corrupt)) is not None
    records = jester.load(root, "default").test
    assert_refused([records[0]], 0, "00004.jpg: cannot decode frame image")  # the test draw reads frame 3
    default = prepare_dataset("jester", root, workers=1, progress=False, cache_dir=tmp_path / "index")
    assert default.errors == ()  # the last frames decode: only decoding every frame finds these
    deep = prepare_dataset("jester", root, workers=2, progress=False, cache_dir=tmp_path / "index", deep=True)
    kinds = {p.file: (p.kind, p.detail) for p in deep.errors}
    assert kinds["201"][0] == kinds["202"][0] == CORRUPT_JPEG
    assert "1 of 19 frames: 00004.jpg (Truncated File Read)" in kinds["201"][1]
    assert "1 of 19 frames: 00008.jpg (Corrupt JPEG data: " in kinds["202"][1]


def damaged_copy(source: Path, target: Path, length: int = 300) -> Path:
    """``source`` with ``length`` bytes in its middle replaced by random ones, written to ``target``."""
    data = bytearray(source.read_bytes())
    middle = len(data) // 2
    data[middle : middle + length] = np.random.default_rng(0).integers(0, 256, length, dtype=np.uint8).tobytes()
    target.write_bytes(bytes(data))
    return target


def video_records(folder: Path, names: list[str]) -> tuple[list[VideoRecord], Path]:
    annotation = folder / "list.txt"
    annotation.write_text("".join(f"{name}\n" for name in names))
    return [VideoRecord(n, folder / n, 0, f"{annotation}:{i + 1}") for i, n in enumerate(names)], annotation


@pytest.mark.parametrize("name", ["mpeg1_ps_gop12", "mpeg2_ps_gop15_b2"])
def test_mid_file_damage_passes_the_default_probe_but_not_the_deep_one_and_is_then_refused(tmp_path, name):
    clip = next(c for c in CLIPS if c.name == name)
    good = encode(clip, tmp_path)
    bad = damaged_copy(good, tmp_path / f"damaged{clip.suffix}")
    records, annotation = video_records(tmp_path, [good.name, bad.name])
    frames, _ = read_clip(bad, lambda n: list(range(n)))  # decodes, with the damage concealed
    assert [frame_index(f) for f in frames.numpy()] != list(range(len(frames)))
    default = build_index(records, tmp_path, [annotation], workers=1, progress=False, cache_dir=tmp_path / "i")
    assert all(entry.ok for entry in default.entries.values())
    assert default.lookup(good).note.startswith("decoded in order with PyAV: MPEG-")
    deep = build_index(records, tmp_path, [annotation], workers=1, progress=False, cache_dir=tmp_path / "i", deep=True)
    entry = deep.lookup(bad)
    assert entry.problem == DAMAGED and "the decoder reports errors at" in entry.detail, entry
    assert deep.lookup(good).ok and deep.probed == 2
    assert_refused(apply_index(records, deep), 1, str(bad), "damaged frames: the decoder reports errors")


def test_a_damaged_h264_file_fails_where_it_is_read_and_deep_prepare_says_where_decoding_stops(tmp_path):
    good = encode(next(c for c in CLIPS if c.name == "h264_b3"), tmp_path)
    bad = damaged_copy(good, tmp_path / "damaged.mp4")
    records, annotation = video_records(tmp_path, [bad.name])
    with pytest.raises(VideoReadError, match="damaged.mp4: cannot decode frames"):
        read_clip(bad, lambda n: list(range(n)))
    deep = build_index(records, tmp_path, [annotation], workers=1, progress=False, cache_dir=tmp_path / "i", deep=True)
    entry = deep.lookup(bad)
    assert entry.problem == DAMAGED and "decoding stops at frame" in entry.detail, entry


def test_prepare_reports_a_ucf11_mpg_tree_as_decoded_in_order(tmp_path):
    """The release that got "22 usable, 0 problems" while reading wrong frames: now each is decoded in order."""
    clip = encode(next(c for c in CLIPS if c.name == "mpeg1_ps_gop12"), tmp_path)
    root = tmp_path / "UCF11"
    for label in range(11):
        for group in (1, 2):
            folder = root / f"class{label:02d}" / f"v_c{label}_{group:02d}"
            folder.mkdir(parents=True)
            shutil.copy(clip, folder / f"v_c{label}_{group:02d}_01.mpg")
    report = prepare_dataset("ucf11", root, "logo1", workers=2, progress=False, cache_dir=tmp_path / "index")
    assert (report.videos, report.usable, report.errors) == (22, 22, ())
    assert report.decoding == (("MPEG-1 in mpeg-ps: decord's seek is not frame-exact", 22),)
    assert "decoded in order with PyAV: 22 videos (MPEG-1 in mpeg-ps" in format_report(report)
    assert {s.frames_min for s in report.splits} == {60}


def unreadable(monkeypatch, folder: Path) -> None:
    """``folder`` cannot be listed (as without read permission; the tests run as root, which chmod does not stop)."""
    real = os.listdir

    def listdir(path="."):
        if Path(path) == folder:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "listdir", listdir)


def test_an_unreadable_frame_folder_is_a_read_error_under_both_policies(root, monkeypatch):
    records = jester.load(root, "default").train
    unreadable(monkeypatch, root / "101")
    assert_refused(records, 0, str(root / "101"), "cannot list the frame folder: permission denied")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a folder whatever its permissions")
def test_a_folder_without_read_permission_is_a_read_error(root):
    (root / "101").chmod(0)
    try:
        assert_refused(jester.load(root, "default").train, 0, "permission denied")
    finally:
        (root / "101").chmod(0o755)


def test_link_loops_and_folders_where_files_belong_say_so(root, tmp_path):
    (tmp_path / "loop.mp4").symlink_to(tmp_path / "loop.mp4")
    (tmp_path / "folder.mp4").mkdir()
    os.rename(root / "102", root / "elsewhere")
    (root / "102").symlink_to(root / "102")  # a frame folder that is a link loop
    records, _ = video_records(tmp_path, ["loop.mp4", "folder.mp4"])
    assert_refused(records, 0, "loop.mp4: symbolic link loop")
    assert_refused(records, 1, "folder.mp4: is a folder, expected a file")
    assert_refused(jester.load(root, "default").train, 1, "102: frame folder: symbolic link loop")


def test_a_header_only_avi_has_no_frames(tmp_path):
    path = tmp_path / "header.avi"
    container = av.open(str(path), "w")
    stream = container.add_stream("mpeg4", rate=25)
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    container.start_encoding()  # the header is written, no frame ever is
    container.close()
    for size in (None, (80, 80)):
        with pytest.raises(VideoReadError, match=r"header.avi: no frames \(the container lists none\)"):
            read_clip(path, lambda n: [0], size)


@pytest.mark.parametrize("fault", ["folder", "loop"])
def test_an_annotation_path_that_is_a_folder_or_a_link_loop_says_so(root, fault):
    labels = root / "annotations" / "jester-v1-train.csv"
    labels.unlink()
    if fault == "folder":
        labels.mkdir()
    else:
        labels.symlink_to(labels)
    reason = "is a folder, expected a file" if fault == "folder" else "symbolic link loop"
    with pytest.raises(AnnotationError, match=f"jester-v1-train.csv: cannot read the annotation file: {reason}"):
        jester.load(root, "default")


def test_byte_order_marks_are_dropped_from_jester_files(root):
    for name in ("jester-v1-labels.csv", "jester-v1-train.csv"):
        path = root / "annotations" / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    splits = jester.load(root, "default")
    assert splits.class_names[:2] == ["Swiping Left", "Swiping Right"] and len(splits.class_names) == 27
    assert [r.video_id for r in splits.train] == ["101", "102"] and splits.train[0].path == root / "101"
    assert annotation_files(splits.train)  # sources still name the file and line
