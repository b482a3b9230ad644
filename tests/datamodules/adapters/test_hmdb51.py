from pathlib import Path

import pytest

from datamodules.adapters import hmdb51
from datamodules.records import AnnotationError


@pytest.fixture(scope="module")
def real_root(reference_dir, tmp_path_factory) -> Path:
    import shutil

    root = tmp_path_factory.mktemp("hmdb51")
    shutil.copytree(reference_dir / "annotations" / "hmdb51", root / "annotations")
    return root


@pytest.mark.parametrize("split", ["1", "2", "3"])
def test_official_splits_have_the_official_counts(real_root, split):
    splits = hmdb51.load(real_root, split)
    assert len(splits.class_names) == 51 and splits.class_names == sorted(splits.class_names)
    assert (len(splits.train), len(splits.test)) == (3570, 1530)
    assert splits.val is splits.test
    assert not {r.path for r in splits.train} & {r.path for r in splits.test}


def test_records_point_at_the_class_folder_and_annotation_line(real_root):
    first = hmdb51.load(real_root, "1").train[0]
    split_file = real_root / "annotations" / "testTrainMulti_7030_splits" / "brush_hair_test_split1.txt"
    assert first.path == real_root / "brush_hair" / "April_09_brush_hair_u_nm_np1_ba_goo_0.avi"
    assert first.label == 0 and first.source == f"{split_file}:1"


def write_split(folder: Path, name: str, text: str, split: int = 1) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}_test_split{split}.txt"
    path.write_text(text)
    return path


def test_trailing_spaces_crlf_and_unused_videos(tmp_path):
    write_split(tmp_path, "wave", "a.avi 1 \r\nb.avi 2 \r\n\r\nc.avi 0 \r\n")
    write_split(tmp_path, "clap", "d.avi 2 \n")
    splits = hmdb51.load(tmp_path / "videos", "1", annotations=tmp_path)
    assert splits.class_names == ["clap", "wave"]
    assert [(r.video_id, r.label) for r in splits.train] == [("a", 1)]
    assert [(r.video_id, r.label) for r in splits.test] == [("d", 0), ("b", 1)]
    assert splits.train[0].path == tmp_path / "videos" / "wave" / "a.avi"


@pytest.mark.parametrize(
    "text, line, reason",
    [
        ("a.avi 1 \nb.avi 3 \n", 2, "split id must be 0, 1 or 2"),
        ("a.avi\n", 1, "expected"),
        ("a.avi 1\n\na.avi 2\n", 3, "already listed"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path, text, line, reason):
    path = write_split(tmp_path, "wave", text)
    with pytest.raises(AnnotationError, match=reason) as caught:
        hmdb51.load(tmp_path, "1", annotations=tmp_path)
    assert str(caught.value).startswith(f"{path}:{line}:")


def test_class_list_must_match_the_split_files(tmp_path):
    splits_folder = tmp_path / "testTrainMulti_7030_splits"
    write_split(splits_folder, "wave", "a.avi 1\n")
    (tmp_path / "class_list.txt").write_text("wave\nclap")
    with pytest.raises(AnnotationError, match=r"class_list.txt:2: class 'clap' has no split file"):
        hmdb51.load(tmp_path, "1")


def test_unknown_split_lists_the_valid_ones(tmp_path):
    with pytest.raises(ValueError, match="valid: 1, 2, 3"):
        hmdb51.load(tmp_path, "0")
