from pathlib import Path

import pytest

from datamodules.adapters import ucf101
from datamodules.records import AnnotationError

OFFICIAL_COUNTS = {"1": (9537, 3783), "2": (9586, 3734), "3": (9624, 3696)}


@pytest.fixture
def real_root(official, tmp_path) -> Path:
    root = tmp_path / "UCF-101"
    official("ucf101/ucfTrainTestlist", root / "ucfTrainTestlist")
    return root


@pytest.mark.parametrize("split", ["1", "2", "3"])
def test_official_splits_have_the_official_counts(real_root, split):
    splits = ucf101.load(real_root, split)
    assert len(splits.class_names) == 101
    assert (len(splits.train), len(splits.test)) == OFFICIAL_COUNTS[split]
    assert splits.val is splits.test
    assert not {r.path for r in splits.train} & {r.path for r in splits.test}
    assert {r.label for r in splits.train} == set(range(101)) == {r.label for r in splits.test}


def test_records_point_at_the_class_folder_and_annotation_line(real_root):
    first = ucf101.load(real_root, "1").test[0]
    assert first.path == real_root / "ApplyEyeMakeup" / "v_ApplyEyeMakeup_g01_c01.avi"
    assert first.video_id == "v_ApplyEyeMakeup_g01_c01" and first.label == 0
    assert first.source == f"{real_root / 'ucfTrainTestlist' / 'testlist01.txt'}:1"


def test_handstand_pushups_videos_get_class_37_whatever_the_folder_case(real_root):
    (real_root / "HandStandPushups").mkdir()  # the case some extracted copies use on disk
    splits = ucf101.load(real_root, "1")
    assert splits.class_names[36] == "HandstandPushups"
    handstand = [r for r in splits.train + splits.test if "HandStandPushups" in r.video_id]
    assert handstand and {r.label for r in handstand} == {36}
    assert {r.path.parent for r in handstand} == {real_root / "HandStandPushups"}


def write_lists(folder: Path, train: str, test: str, classes: str = "1 Archery\r\n2 HandstandPushups\r\n") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "classInd.txt").write_bytes(classes.encode())
    (folder / "trainlist01.txt").write_bytes(train.encode())
    (folder / "testlist01.txt").write_bytes(test.encode())
    return folder


def test_test_list_label_comes_from_the_folder_ignoring_case(tmp_path):
    folder = write_lists(
        tmp_path / "lists",
        "Archery/v_Archery_g08_c01.avi 1\r\n\r\n",
        "HandStandPushups/v_HandStandPushups_g01_c01.avi\r\nArchery/v_Archery_g01_c01.avi  \r\n",
    )
    splits = ucf101.load(tmp_path / "root", "1", annotations=folder)
    assert [r.label for r in splits.test] == [1, 0]
    assert splits.test[1].source.endswith("testlist01.txt:2")


def test_annotations_are_found_in_root_itself_or_root_annotations(tmp_path):
    for root, folder in ((tmp_path / "a", tmp_path / "a"), (tmp_path / "b", tmp_path / "b" / "annotations")):
        write_lists(folder, "Archery/v_Archery_g08_c01.avi 1\r\n", "Archery/v_Archery_g01_c01.avi\r\n")
        assert len(ucf101.load(root, "1").train) == 1
    with pytest.raises(FileNotFoundError, match="classInd.txt not found"):
        ucf101.load(tmp_path / "c", "1")


@pytest.mark.parametrize(
    "train, test, line, reason",
    [
        ("Archery/v_Archery_g08_c01.avi\r\n", "", "trainlist01.txt:1", "expected"),
        (
            "Archery/v_Archery_g08_c01.avi 1\r\nArchery/v_Archery_g08_c02.avi 3\r\n",
            "",
            "trainlist01.txt:2",
            "not a class index",
        ),
        ("Archery/v_Archery_g08_c01.avi 2\r\n", "", "trainlist01.txt:1", "does not match folder"),
        ("Bowling/v_Bowling_g08_c01.avi 1\r\n", "", "trainlist01.txt:1", "not in classInd"),
        (
            "Archery/v_Archery_g08_c01.avi 1\r\n\r\nArchery/v_Archery_g08_c01.avi 1\r\n",
            "",
            "trainlist01.txt:3",
            "already listed",
        ),
        (
            "Archery/v_Archery_g08_c01.avi 1\r\n",
            "Archery/v_Archery_g08_c01.avi\r\n",
            "testlist01.txt:1",
            "already listed",
        ),
        ("", "Archery/v_Archery_g01_c01.avi 1 extra\r\n", "testlist01.txt:1", "expected"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path, train, test, line, reason):
    folder = write_lists(tmp_path / "lists", train, test)
    with pytest.raises(AnnotationError, match=reason) as caught:
        ucf101.load(tmp_path, "1", annotations=folder)
    assert str(caught.value).startswith(f"{folder / line.split(':')[0]}:{line.split(':')[1]}:")


def test_class_index_must_run_in_order(tmp_path):
    folder = write_lists(tmp_path / "lists", "", "", classes="1 Archery\r\n3 Bowling\r\n")
    with pytest.raises(AnnotationError, match=r"classInd.txt:2: class index 3 out of order"):
        ucf101.load(tmp_path, "1", annotations=folder)


def test_unknown_split_lists_the_valid_ones(tmp_path):
    with pytest.raises(ValueError, match="valid: 1, 2, 3"):
        ucf101.load(tmp_path, "4")
