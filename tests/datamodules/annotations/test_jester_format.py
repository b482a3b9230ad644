from pathlib import Path

import pytest

from datamodules.annotations.jester_format import read_label_names, read_labelled_split
from datamodules.records import AnnotationError


def locate(video_id: str) -> Path:
    return Path("videos") / video_id


def test_real_jester_files_parse_with_official_counts(reference_dir):
    folder = reference_dir / "annotations" / "jester"
    names = read_label_names(folder / "jester-v1-labels.csv")
    assert len(names) == 27 and names[0] == "Swiping Left" and names[-1] == "Doing other things"
    index = {name: i for i, name in enumerate(names)}
    validation = read_labelled_split(folder / "jester-v1-validation.csv", index, locate)
    assert len(validation) == 14787
    assert {r.label for r in validation} == set(range(27))
    assert validation[0].source == f"{folder / 'jester-v1-validation.csv'}:1"


def write(tmp_path: Path, text: str, name: str = "split.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


INDEX = {"Swiping Left": 0, "Swiping Right": 1}


def test_crlf_and_blank_lines_are_accepted(tmp_path):
    path = write(tmp_path, "1;Swiping Left\r\n\r\n2;Swiping Right\r\n")
    records = read_labelled_split(path, INDEX, locate)
    assert [(r.video_id, r.label) for r in records] == [("1", 0), ("2", 1)]
    assert records[1].source.endswith("split.csv:3")


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("1;Swiping Left\n2;Swiping Right;x\n", 2, "expected '<video_id>;<label>'"),
        ("1;Swiping Left\n2\n", 2, "expected '<video_id>;<label>'"),
        ("1;Swiping Up\n", 1, "unknown label 'Swiping Up'"),
        ("1;Swiping Left\n\n1;Swiping Right\n", 3, "duplicate video id '1'"),
        (";Swiping Left\n", 1, "empty video id"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path, text, line, message):
    path = write(tmp_path, text)
    with pytest.raises(AnnotationError, match=message) as caught:
        read_labelled_split(path, INDEX, locate)
    assert caught.value.line_number == line
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_label_file_errors(tmp_path):
    with pytest.raises(AnnotationError, match="labels.csv:3: class 'A' already listed on line 1"):
        read_label_names(write(tmp_path, "A\nB\nA\n", "labels.csv"))
    with pytest.raises(AnnotationError, match="no class names"):
        read_label_names(write(tmp_path, "\n\n", "empty.csv"))
    with pytest.raises(FileNotFoundError, match="nowhere.csv"):
        read_label_names(tmp_path / "nowhere.csv")
