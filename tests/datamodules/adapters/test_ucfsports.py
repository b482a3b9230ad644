import os
from pathlib import Path

import pytest

from datamodules.adapters import ucfsports


def touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY))


def make_tree(root: Path, sequences: int = 5) -> Path:
    for folder in ucfsports.FOLDER_CLASSES:
        for n in range(1, sequences + 1):
            touch(root / folder / f"{n:03d}" / f"{folder}-{n}.avi")
            touch(root / folder / f"{n:03d}" / "frame_0001.jpg")
        (root / folder / "001" / "gt").mkdir()
    return root


def test_thirteen_folders_make_ten_classes(tmp_path):
    records = ucfsports.scan(make_tree(tmp_path))
    assert len(ucfsports.CLASS_NAMES) == 10 and len(ucfsports.FOLDER_CLASSES) == 13
    assert len(records) == 13 * 5
    golf = ucfsports.CLASS_NAMES.index("Golf")
    assert {r.video_id.split("/")[0] for r in records if r.label == golf} == {
        "Golf-Swing-Back",
        "Golf-Swing-Front",
        "Golf-Swing-Side",
    }
    assert {r.label for r in records} == set(range(10))
    assert records[0].path == tmp_path / "Diving-Side" / "001" / "Diving-Side-1.avi"


def test_random_split_is_seeded_and_stratified(tmp_path):
    make_tree(tmp_path)
    first, again, other = (ucfsports.load(tmp_path, s) for s in ("random0", "random0", "random3"))
    assert [r.path for r in first.test] == [r.path for r in again.test] != [r.path for r in other.test]
    assert not {r.path for r in first.train} & {r.path for r in first.test}
    assert len(first.train) + len(first.test) == 65 and first.val is first.test
    assert {r.label for r in first.train} == {r.label for r in first.test} == set(range(10))
    assert first.class_names == list(ucfsports.CLASS_NAMES)


def test_unknown_folder_and_missing_video_are_errors(tmp_path):
    touch(tmp_path / "Bowling" / "001" / "a.avi")
    with pytest.raises(ValueError, match="unknown UCF Sports folder .*Bowling"):
        ucfsports.scan(tmp_path)
    other = tmp_path / "other"
    touch(other / "Lifting" / "001" / "frame.jpg")
    with pytest.raises(FileNotFoundError, match=r"expected one .avi in .*Lifting/001"):
        ucfsports.scan(other)


def test_unknown_split_lists_the_valid_ones(tmp_path):
    with pytest.raises(ValueError, match="valid: random<seed>"):
        ucfsports.load(tmp_path, "1")
