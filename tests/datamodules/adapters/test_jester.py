from pathlib import Path

import pytest

from datamodules.adapters import jester
from datamodules.records import AnnotationError


def test_official_files_have_the_official_counts(official, tmp_path):
    root = tmp_path / "jester"
    official("jester", root / "annotations")
    splits = jester.load(root, "default")
    assert len(splits.class_names) == 27
    assert (len(splits.train), len(splits.test)) == (118562, 14787)
    assert splits.val is splits.test
    first = splits.test[0]
    assert first.path == root / first.video_id and first.is_frame_folder
    assert first.frame_template == "{:05d}.jpg" and first.first_frame == 1
    assert first.source == f"{root / 'annotations' / 'jester-v1-validation.csv'}:1"


def write(folder: Path, train: str, validation: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "jester-v1-labels.csv").write_text("Swiping Left\nSwiping Right\n")
    (folder / "jester-v1-train.csv").write_text(train)
    (folder / "jester-v1-validation.csv").write_text(validation)
    return folder


def test_frame_naming_is_configurable(tmp_path):
    write(tmp_path, "1;Swiping Left\r\n", "2;Swiping Right\r\n")
    splits = jester.load(tmp_path, "default", frame_template="img_{:04d}.jpg", first_frame=0)
    assert [(r.frame_template, r.first_frame, r.label) for r in splits.train + splits.test] == [
        ("img_{:04d}.jpg", 0, 0),
        ("img_{:04d}.jpg", 0, 1),
    ]


@pytest.mark.parametrize(
    "train, validation, where, reason",
    [
        ("1;Swiping Left\n2;Thumb Up\n", "", "jester-v1-train.csv:2", "unknown label"),
        ("1;Swiping Left;x\n", "", "jester-v1-train.csv:1", "expected"),
        ("1;Swiping Left\n", "\n1;Swiping Right\n", "jester-v1-validation.csv:2", "also in the train list"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path, train, validation, where, reason):
    write(tmp_path, train, validation)
    with pytest.raises(AnnotationError, match=reason) as caught:
        jester.load(tmp_path, "default")
    assert str(caught.value).startswith(f"{tmp_path / where}:")


def test_unknown_split_lists_the_valid_ones(tmp_path):
    with pytest.raises(ValueError, match="valid: default"):
        jester.load(tmp_path, "1")
