from pathlib import Path

import pytest

from datamodules.adapters import ccv
from datamodules.records import AnnotationError


def test_official_files_have_the_official_counts(official, tmp_path):
    root = official("ccv", tmp_path / "ccv")  # the release puts the files at the dataset root
    splits = ccv.load(root, "default")
    assert len(splits.class_names) == 20 and splits.class_names[0] == "Basketball"
    assert (len(splits.train), len(splits.test)) == (4659, 4658)
    assert splits.val is splits.test
    assert (ccv.count_unlabelled(splits.train), ccv.count_unlabelled(splits.test)) == (1009, 987)
    assert max(len(r.labels) for r in splits.train) == 3
    assert {i for r in splits.train for i in r.labels} == set(range(20))
    first = splits.train[0]  # 1MdlncaU5JE: Basketball only
    assert (first.labels, first.label) == ((0,), -1)
    assert first.path == root / "videos" / "1MdlncaU5JE.mp4"
    assert first.source == f"{root / 'trainVidID.txt'}:1"


def write(
    folder: Path, train_ids: str, train_labels: str, test_ids: str = "t1\n", test_labels: str = "0 0 0 \n"
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "categoryName.txt").write_text("Cat\nDog\nBird\n")
    (folder / "trainVidID.txt").write_text(train_ids)
    (folder / "trainLabel.txt").write_text(train_labels)
    (folder / "testVidID.txt").write_text(test_ids)
    (folder / "testLabel.txt").write_text(test_labels)
    return folder


def test_label_sets_including_empty_ones(tmp_path):
    write(tmp_path / "annotations", "a\r\nb\r\nc\r\n", "1 0 1 \r\n0 0 0 \r\n0 1 0 \r\n")
    splits = ccv.load(tmp_path, "default")
    assert [r.labels for r in splits.train] == [(0, 2), (), (1,)]
    assert ccv.count_unlabelled(splits.train) == 1 and ccv.count_unlabelled(splits.test) == 1


@pytest.mark.parametrize(
    "ids, labels, where, reason",
    [
        ("a\nb\n", "1 0 0 \n0 1 \n", "trainLabel.txt:2", "expected 3 0/1 values, got 2"),
        ("a\nb\n", "1 0 0 \n0 2 0 \n", "trainLabel.txt:2", "must be 0 or 1"),
        ("a\nb\n", "1 0 0 \n", "trainLabel.txt:1", "2 ids but trainLabel.txt has 1 label rows"),
        ("a\na\n", "1 0 0 \n0 1 0 \n", "trainVidID.txt:2", "duplicate video id"),
        ("a\nt1\n", "1 0 0 \n0 1 0 \n", "testVidID.txt:1", "also in the train list"),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path, ids, labels, where, reason):
    write(tmp_path, ids, labels)
    with pytest.raises(AnnotationError, match=reason) as caught:
        ccv.load(tmp_path, "default")
    assert str(caught.value).startswith(f"{tmp_path / where}:")
